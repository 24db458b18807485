"""Encryption at rest: no patient text or audio readable in the data directory, keys that
do not fit are refused clearly, `scribe rekey` rotates keys, backups restore checked."""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from pipelines.types import Entity
from tests.conftest import REPO, make_draft, make_transcript
from workbench import audio_store, keys
from workbench import store as st
from workbench.backup import BackupError, backup, restore, verify
from workbench.ingest import EncounterMeta, ingest_file
from workbench.rekey import RekeyError, rekey
from workbench.store.autosave import put_autosave

CLIP = REPO / "tests" / "fixtures" / "asr_short" / "audio.ogg"
PATIENT = "Dana Ravensworth"
# Raw audio that must not appear: the container magic and a stretch of the original bytes.
AUDIO_MARKERS = (b"OggS", b"RIFF", CLIP.read_bytes()[4096:4160])


def _use_key(monkeypatch: pytest.MonkeyPatch, key: bytes | None) -> None:
    monkeypatch.delenv("SCRIBE_KEY_FILE", raising=False)
    if key is None:
        monkeypatch.delenv("SCRIBE_KEY", raising=False)
    else:
        monkeypatch.setenv("SCRIBE_KEY", keys.encode_key(key))


def _every_file(data: Path) -> dict[str, bytes]:
    """Every file under the data directory (database, log, lock, audio, scratch), as bytes."""
    return {
        str(p.relative_to(data)): p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file()
    }


def _found(files: dict[str, bytes], needles: list[bytes]) -> list[tuple[str, bytes]]:
    return [(name, n) for name, blob in files.items() for n in needles if n in blob]


def _simple_store(data: Path, key: bytes | None) -> tuple[st.Store, str]:
    """A store with one ingested encounter (the ASR fixture clip), a transcript and draft."""
    store = st.open_store(data, key=key)
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    result = ingest_file(store, data, CLIP, "dr-a", EncounterMeta(patient_label=PATIENT))
    transcript = make_transcript(
        [
            ("clinician", "Tell me about the zebrafinch wheeze."),
            ("patient", "The zebrafinch wheeze started on Tuesday."),
        ]
    )
    version = st.save_transcript(store, result.encounter_id, transcript, "dr-a")
    st.save_draft(store, result.encounter_id, make_draft(transcript), version, "dr-a")
    return store, result.encounter_id


def _leave_log(store: st.Store, encounter_id: str) -> None:
    """An activity-only commit: it stays in the write-ahead log (not folded on close)."""
    event = st.new_event(
        "dr-a",
        encounter_id,
        "sentence.viewed",
        object_type="sentence",
        object_id="s0",
        after={"text": "zebrafinch viewed"},
    )
    st.append_event(store, event)
    assert (store.path.with_name(store.path.name + ".wal")).exists()


# -- the grep test -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("encrypted", [True, False], ids=["with-key", "without-key"])
def test_no_transcript_phrase_or_patient_name_is_readable_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    from workbench.jobs import Engine, process_encounter

    key = keys.generate_key() if encrypted else None
    _use_key(monkeypatch, key)
    data = tmp_path / "data"
    store = st.open_store(data)
    assert store.encrypted is encrypted
    meta = EncounterMeta(title="Headache visit", patient_label=PATIENT, clinician="dr-a")
    enc = ingest_file(store, data, CLIP, "dr-a", meta).encounter_id
    process_encounter(store, data, Engine(store=store), enc, "dr-a")

    # A reviewer's work: an edit, an autosave of a pending edit, a signature.
    note = st.get_note(store, enc)
    first = note.draft.sentences[0]
    edited = replace(first, text=first.text + " Reviewed with Dana.")
    version = st.save_note(store, enc, note.version, (edited, *note.draft.sentences[1:]), "dr-a")
    pending = replace(edited, text=edited.text + " Pending quokka remark.")
    put_autosave(store, enc, version, "dr-a", (pending, *note.draft.sentences[1:]))
    state = st.signoff_state(store, enc, version)
    st.accept_sentences(store, enc, version, [b.sentence_id for b in state.blockers], "dr-a")
    st.sign_note(store, enc, version, "dr-a")

    _, transcript = st.get_transcript(store, enc)
    phrases = [s.text for s in transcript.segments if len(s.text) > 12]
    phrases += [s.text for s in st.get_note(store, enc).draft.sentences if len(s.text) > 12]
    assert len(phrases) >= 4, "the pipeline produced transcript and note text to look for"
    needles = [p.encode() for p in phrases] + [
        PATIENT.encode(),
        b"Pending quokka remark",
        b"Reviewed with Dana",
    ]
    files = _every_file(data)
    assert any(name.endswith(".wal") for name in files) or "scribe.duckdb" in files
    leaks = _found(files, needles) + _found(files, list(AUDIO_MARKERS))
    if encrypted:
        assert leaks == [], f"readable on disk: {[(n, b[:30]) for n, b in leaks]}"
        assert (
            audio_store.read_audio(data / st.get_audio(store, transcript.input_sha256).stored_path)
            == CLIP.read_bytes()
        )
    else:  # the same check finds the text when nothing is encrypted (it can fail)
        assert {n for n, _ in leaks} >= {"scribe.duckdb"}
        assert any(b"OggS" == needle for _, needle in leaks)


def test_every_store_write_path_leaves_only_ciphertext(tmp_path: Path) -> None:
    """The fast check (no ASR): ingest, transcript, draft, activity and an unfolded log."""
    key = keys.generate_key()
    data = tmp_path / "data"
    store, enc = _simple_store(data, key)
    put_autosave(store, enc, 1, "dr-a", st.get_note(store, enc).draft.sentences)
    assert not (data / "scribe.duckdb.wal").exists(), "a content write is folded in on close"
    _leave_log(store, enc)
    files = _every_file(data)
    assert "scribe.duckdb.wal" in files
    assert files and not _found(files, [b"zebrafinch", PATIENT.encode(), *AUDIO_MARKERS])
    assert st.get_transcript(store, enc)[1].segments[0].text.startswith("Tell me")


def test_an_upload_is_checked_in_memory_and_stored_encrypted(tmp_path: Path) -> None:
    from pipelines.audio import AudioError
    from workbench.ingest import ingest_bytes

    data = tmp_path / "data"
    store = st.open_store(data, key=keys.generate_key())
    upload = CLIP.read_bytes()
    result = ingest_bytes(store, data, upload, "visit.ogg", "dr-a")
    with pytest.raises(AudioError, match="not a readable audio file"):
        ingest_bytes(store, data, b"these are not audio bytes" * 40, "notes.wav", "dr-a")
    assert not (data / "tmp").exists(), "no scratch copy of the upload"
    assert not _found(_every_file(data), list(AUDIO_MARKERS))
    audio = st.get_audio(store, st.get_encounter(store, result.encounter_id).audio_sha256)
    assert audio.original_name == "visit.ogg"
    assert audio_store.read_audio(data / audio.stored_path, store.key) == upload


@pytest.mark.parametrize("encrypted", [True, False], ids=["with-key", "without-key"])
def test_spill_files_of_a_big_query_are_encrypted(tmp_path: Path, encrypted: bool) -> None:
    """A query larger than memory spills to ``scribe.duckdb.tmp``; the files are read while
    its result is still being fetched (DuckDB deletes them afterwards)."""
    data = tmp_path / "data"
    store = st.open_store(data, key=keys.generate_key() if encrypted else None)
    with store.transaction() as con:
        con.execute(
            "CREATE TABLE big AS SELECT 'zebrafinch ' || i || repeat('x', 50) AS s, i"
            " FROM range(1500000) r(i)"
        )
    with store.connect() as con:
        con.execute("SET memory_limit = '40MB'")
        con.execute("SET threads = 1")
        # A grouping bigger than memory (its spilled rows hold the strings as they are).
        con.execute("SELECT s || i AS label, count(*) FROM big GROUP BY ALL")
        assert con.fetchmany(1)[0][0].startswith("zebrafinch")
        spilled = {p.name: p.read_bytes() for p in data.glob("scribe.duckdb.tmp/*")}
        con.fetchall()
    assert spilled, "the query spilled to disk"
    assert any(b"zebrafinch" in blob for blob in spilled.values()) is not encrypted


# -- trained models ------------------------------------------------------------------------


def _visit_turns(i: int) -> list[tuple[str, str]]:
    """Encounter ``i`` of the learning-loop tests: three turns with the new term, three not."""
    from tests.test_training import OTHER_SENTENCES, TERM, TERM_SENTENCES

    term = [TERM_SENTENCES[(3 * i + k) % len(TERM_SENTENCES)].format(t=TERM) for k in range(3)]
    other = [OTHER_SENTENCES[(2 * i + k) % len(OTHER_SENTENCES)] for k in range(3)]
    texts = [term[0], other[0], term[1], other[1], term[2], other[2]]
    return [("patient" if k % 2 else "clinician", text) for k, text in enumerate(texts)]


def _processed_and_corrected(store: st.Store, engine, encounter_id: str, i: int) -> list[str]:
    """Process encounter ``i`` (NLP and draft), then review its entities as a clinician does:
    add the new term wherever the rules missed it, confirm the set. Returns its segment texts."""
    from tests.test_training import TERM
    from workbench.jobs import process_encounter

    transcript = make_transcript(_visit_turns(i))
    st.add_encounter(store, st.EncounterRecord(encounter_id, f"Visit {i}"), "dr-a")
    st.save_transcript(store, encounter_id, transcript, "dr-a")
    process_encounter(store, store.path.parent, engine, encounter_id, "dr-a")
    version = st.get_entity_set(store, encounter_id).version
    for seg in transcript.segments:
        if (at := seg.text.find(TERM)) >= 0:
            entity = Entity(seg.idx, at, at + len(TERM), TERM, "PROBLEM")
            version = st.add_entity(store, encounter_id, version, entity, "dr-a")
    st.confirm_entities(store, encounter_id, version, "dr-a")
    return [seg.text for seg in transcript.segments]


@pytest.mark.parametrize("encrypted", [True, False], ids=["with-key", "without-key"])
def test_a_model_trained_from_corrections_leaves_no_transcript_text_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    from pipelines.nlp import TrainOptions
    from tests.test_training import NEW_SENTENCE, TERM
    from workbench import model_store
    from workbench.jobs import Engine, process_encounter
    from workbench.learning import train_and_register

    key = keys.generate_key() if encrypted else None
    _use_key(monkeypatch, key)
    data = tmp_path / "data"
    store = st.open_store(data)
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    engine = Engine(store=store)
    phrases = []
    for i in range(10):
        phrases += _processed_and_corrected(store, engine, f"enc-{i:02d}", i)
        st.set_consent(store, f"enc-{i:02d}", True, "dr-a")  # training may use it
    options = TrainOptions(seed=3, max_epochs=12)
    record = train_and_register(store, data, "dr-a", options, engine.nlp_options(), activate=True)

    files = _every_file(data)
    stored = sorted(name for name in files if name.startswith("models/"))
    needles = [p.encode() for p in set(phrases)] + [TERM.encode()]
    leaks = _found(files, needles)
    if encrypted:
        assert stored == [f"{record.path}.enc"], "one sealed file, no staging folder"
        assert leaks == [], f"readable on disk: {[(n, b[:30]) for n, b in leaks]}"
        assert TERM.encode() in model_store.read_pack(data, record.path, key), "it is in there"
    else:  # the same check finds the model's vocabulary when nothing is encrypted
        assert f"{record.path}/meta.json" in stored
        assert any(name.startswith(record.path + "/") for name, _ in leaks)

    # A fresh engine loads the active model from disk (decrypting it in memory) and uses it.
    fresh = Engine(store=store)
    st.add_encounter(store, st.EncounterRecord("next", "New visit"), "dr-a")
    st.save_transcript(store, "next", make_transcript([("patient", NEW_SENTENCE)]), "dr-a")
    process_encounter(store, data, fresh, "next", "dr-a")
    found = [e for e in st.get_entities(store, "next") if e.text == TERM]
    assert [(e.label, e.attributes.get("model")) for e in found] == [("PROBLEM", record.model_id)]
    if encrypted:  # processing with the decrypted model wrote nothing readable either
        assert not _found(_every_file(data), needles)
    with pytest.raises(model_store.ModelStoreError, match="SCRIBE_KEY" if key else "rekey"):
        model_store.load_model(data, record.path, None if key else keys.generate_key())


def _small_model(model_id: str):
    """A model trained in memory on a few sentences with the term (seconds, not minutes)."""
    from pipelines.nlp import AnnotatedEncounter, TrainOptions, train_ner
    from tests.test_training import TERM, TERM_SENTENCES

    encounters = []
    for i in range(3):
        texts = [t.format(t=TERM) for t in TERM_SENTENCES[4 * i : 4 * i + 4]]
        ents = tuple(
            Entity(k, text.find(TERM), text.find(TERM) + len(TERM), TERM, "PROBLEM")
            for k, text in enumerate(texts)
        )
        encounters.append(AnnotatedEncounter(f"e{i}", tuple(enumerate(texts)), ents))
    options = TrainOptions(max_epochs=3, min_encounters=3, min_entities=4)
    return train_ner(encounters, None, options, model_id=model_id).model


def test_rekey_converts_trained_models_and_checks_them(tmp_path: Path) -> None:
    from pipelines.nlp.trained import pack_model
    from tests.test_training import TERM
    from workbench import model_store

    data = tmp_path / "data"
    _simple_store(data, None)
    model = _small_model("ner-1")
    original = pack_model(model)
    model_store.save_model(data, "models/ner-1", model, None)
    (data / "models" / ".ner-0.partial").mkdir()  # a crashed training's leftover
    assert any(TERM.encode() in blob for blob in _every_file(data / "models").values())

    key, new_key = keys.generate_key(), keys.generate_key()
    assert rekey(data, None, key).models == 1
    assert sorted(p.name for p in (data / "models").iterdir()) == ["ner-1.enc"]
    assert not _found(_every_file(data), [TERM.encode(), b"zebrafinch"])
    assert model_store.read_pack(data, "models/ner-1", key) == original

    assert rekey(data, key, new_key).models == 1
    assert model_store.read_pack(data, "models/ner-1", new_key) == original
    with pytest.raises(model_store.ModelStoreError, match="does not decrypt"):
        model_store.load_model(data, "models/ner-1", key)
    loaded = model_store.load_model(data, "models/ner-1", new_key)
    assert loaded.get_pipe("ner").labels == model.get_pipe("ner").labels

    assert not rekey(data, new_key, None).encrypted  # --decrypt: back to a plain folder
    assert (data / "models" / "ner-1" / "meta.json").is_file()
    assert model_store.read_pack(data, "models/ner-1", None) == original


def test_a_model_that_does_not_verify_stops_the_rekey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench import model_store

    data = tmp_path / "data"
    key = keys.generate_key()
    store, _ = _simple_store(data, key)
    before = _snapshot(store)
    model_store.save_model(data, "models/ner-1", _small_model("ner-1"), key)
    sealed = (data / "models" / "ner-1.enc").read_bytes()
    real_write = model_store.write_pack

    def write_damaged(data_dir, path, pack, new_key):
        return real_write(data_dir, path, pack[:-1] + bytes([pack[-1] ^ 1]), new_key)

    monkeypatch.setattr(model_store, "write_pack", write_damaged)
    with pytest.raises(RekeyError, match="ner-1: the re-encrypted copy does not read back"):
        rekey(data, key, keys.generate_key())
    assert (data / "models" / "ner-1.enc").read_bytes() == sealed
    assert _snapshot(st.open_store(data, key=key)) == before
    assert not (data / ".rekey-new").exists()

    # A model file copied over another model's name does not open either.
    (data / "models" / "ner-2.enc").write_bytes(sealed)
    with pytest.raises(model_store.ModelStoreError, match="renamed from another model"):
        model_store.load_model(data, "models/ner-2", key)


# -- keys that do not fit ------------------------------------------------------------------


def test_a_wrong_key_is_refused_clearly_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store, enc = _simple_store(data, keys.generate_key())
    _leave_log(store, enc)
    before = _every_file(data)
    assert "scribe.duckdb.wal" in before
    with pytest.raises(st.WrongKey, match=r"encrypted with another key.*scribe rekey"):
        st.open_store(data, key=keys.generate_key())
    with pytest.raises(st.WrongKey, match="is encrypted: set SCRIBE_KEY"):
        st.open_store(data, key=None)
    assert _every_file(data) == before


def test_a_key_with_a_plaintext_database_says_to_run_rekey(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _simple_store(data, None)
    with pytest.raises(st.WrongKey, match=r"not encrypted.*scribe rekey"):
        st.open_store(data, key=keys.generate_key())


def test_audio_copied_over_another_file_does_not_decrypt(tmp_path: Path) -> None:
    key = keys.generate_key()
    first, _ = audio_store.write_audio(tmp_path, b"first recording", "a" * 64, ".ogg", key)
    second, _ = audio_store.write_audio(tmp_path, b"second recording", "b" * 64, ".ogg", key)
    assert audio_store.read_audio(first, key) == b"first recording"
    second.write_bytes(first.read_bytes())  # swapped on disk
    with pytest.raises(audio_store.AudioStoreError, match="does not decrypt"):
        audio_store.read_audio(second, key)
    with pytest.raises(audio_store.AudioStoreError, match="set SCRIBE_KEY"):
        audio_store.read_audio(first, None)


def test_key_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = keys.generate_key()
    _use_key(monkeypatch, None)
    assert keys.load_key() is None
    monkeypatch.setenv("SCRIBE_KEY", key.hex())
    assert keys.load_key() == key
    monkeypatch.setenv("SCRIBE_KEY", "correct horse battery staple")
    with pytest.raises(keys.KeyProblem, match="passphrases are not accepted"):
        keys.load_key()
    path = tmp_path / "k"
    keys.write_key_file(path, key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("SCRIBE_KEY_FILE", str(path))
    with pytest.raises(keys.KeyProblem, match="Both"):
        keys.load_key()
    monkeypatch.delenv("SCRIBE_KEY")
    assert keys.load_key() == key
    with pytest.raises(keys.KeyProblem, match="already exists"):
        keys.write_key_file(path, key)
    assert keys.database_key(key) != keys.audio_key(key).hex(), "separate derived keys"


def test_a_key_file_others_can_read_is_used_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from typer.testing import CliRunner

    from workbench.cli import app

    printed = CliRunner().invoke(app, ["key", "generate"]).stdout.strip()
    path = tmp_path / "shared.key"
    path.write_text(printed + "\n")
    path.chmod(0o644)
    _use_key(monkeypatch, None)
    monkeypatch.setenv("SCRIBE_KEY_FILE", str(path))
    with caplog.at_level("WARNING", logger="workbench.keys"):
        assert keys.load_key() == keys.parse_key(printed, "test")
    assert "chmod 600" in caplog.text and printed not in caplog.text
    path.chmod(0o600)
    caplog.clear()
    keys.load_key()
    assert "chmod" not in caplog.text


# -- rekey ---------------------------------------------------------------------------------


def _snapshot(store: st.Store) -> dict:
    with store.connect() as con:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() "
                "WHERE database_name = current_database() "
                "ORDER BY 1"
            ).fetchall()
        ]
        rows = {n: sorted(map(repr, con.execute(f'SELECT * FROM "{n}"').fetchall())) for n in names}
        schema = con.execute(
            "SELECT index_name FROM duckdb_indexes() UNION ALL "
            "SELECT sequence_name || ':' || coalesce(last_value, 0) "
            "FROM duckdb_sequences() ORDER BY 1"
        ).fetchall()
        return {**rows, "(indexes and sequences)": schema}


@pytest.mark.parametrize("old", ["plain", "key"])
def test_rekey_rotates_the_key_and_keeps_the_data(tmp_path: Path, old: str) -> None:
    data = tmp_path / "data"
    old_key = keys.generate_key() if old == "key" else None
    store, enc = _simple_store(data, old_key)
    _leave_log(store, enc)  # the log is part of the data to carry over
    before = _snapshot(store)
    new_key = keys.generate_key()
    result = rekey(data, old_key, new_key)
    assert result.audio_files == 1 and result.encrypted
    with pytest.raises(st.WrongKey):
        st.open_store(data, key=old_key)
    reopened = st.open_store(data, key=new_key)
    assert _snapshot(reopened) == before
    audio = st.get_audio(reopened, st.get_encounter(reopened, enc).audio_sha256)
    assert audio_store.read_audio(data / audio.stored_path, new_key) == CLIP.read_bytes()
    assert not _found(_every_file(data), [b"zebrafinch", b"OggS"])
    assert sorted(p.name for p in data.iterdir() if p.name.startswith(".")) == []

    back = rekey(data, new_key, None)  # --decrypt
    assert not back.encrypted
    assert _snapshot(st.open_store(data, key=None)) == before
    assert (data / audio.stored_path).read_bytes() == CLIP.read_bytes()


def _two_encounters(data: Path, key: bytes) -> tuple[st.Store, Path]:
    store, enc = _simple_store(data, key)
    sha = st.get_encounter(store, enc).audio_sha256
    second = REPO / "demo" / "encounters" / "primary-care-cough" / "audio.ogg"
    ingest_file(store, data, second, "dr-a")
    return store, data / st.get_audio(store, sha).stored_path


def test_a_rekey_that_fails_midway_leaves_the_old_data_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    old_key = keys.generate_key()
    store, audio = _two_encounters(data, old_key)
    before = _snapshot(store)
    real_encrypt, calls = audio_store.encrypt, []

    def encrypt_then_fail(*args):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_encrypt(*args)

    monkeypatch.setattr(audio_store, "encrypt", encrypt_then_fail)
    with pytest.raises(OSError, match="disk full"):
        rekey(data, old_key, keys.generate_key())
    assert _snapshot(st.open_store(data, key=old_key)) == before
    assert audio_store.read_audio(audio, old_key) == CLIP.read_bytes()
    assert not (data / ".rekey-new").exists()


@pytest.mark.slow
def test_a_rekey_killed_midway_leaves_the_old_data_and_can_be_run_again(tmp_path: Path) -> None:
    """SIGKILL while the audio is being re-encrypted (slowed down so it is caught there)."""
    import signal
    import subprocess
    import sys
    import time

    data = tmp_path / "data"
    old_key, new_key = keys.generate_key(), keys.generate_key()
    store, audio = _two_encounters(data, old_key)
    before = _snapshot(store)
    marker = tmp_path / "encrypting"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from workbench import audio_store, rekey\n"
        "real = audio_store.encrypt\n"
        "def slow(*a):\n"
        "    Path(sys.argv[4]).touch()\n"
        "    time.sleep(60)\n"
        "    return real(*a)\n"
        "audio_store.encrypt = slow\n"
        "rekey.rekey(Path(sys.argv[1]), bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3]))\n"
    )
    args = [str(data), old_key.hex(), new_key.hex(), str(marker)]
    child = subprocess.Popen(
        [sys.executable, "-c", script, *args], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    deadline = time.monotonic() + 60
    while not marker.exists():  # the database is copied; the audio is being re-encrypted
        assert child.poll() is None and time.monotonic() < deadline, "not caught midway"
        time.sleep(0.05)
    assert (data / ".rekey-new" / "scribe.duckdb").exists()
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert _snapshot(st.open_store(data, key=old_key)) == before
    assert audio_store.read_audio(audio, old_key) == CLIP.read_bytes()
    rekey(data, old_key, new_key)  # a second run clears the leftovers and succeeds
    assert _snapshot(st.open_store(data, key=new_key)) == before
    assert not (data / ".rekey-new").exists()


def test_an_interrupted_swap_is_rolled_back_by_the_next_rekey(tmp_path: Path) -> None:
    from workbench import rekey as rk

    data = tmp_path / "data"
    old_key = keys.generate_key()
    store, _ = _simple_store(data, old_key)
    before = _snapshot(store)
    # Crash after the old files went aside and only the new database came in.
    aside = data / rk.ASIDE
    aside.mkdir()
    (aside / rk.SWAP_MARKER).write_text("swapping")
    os.replace(data / "scribe.duckdb", aside / "scribe.duckdb")
    os.replace(data / "audio", aside / "audio")
    (data / "scribe.duckdb").write_bytes(b"half-written new database")
    assert rk.recover(data)
    assert _snapshot(st.open_store(data, key=old_key)) == before
    assert not aside.exists()


def test_a_swap_that_fails_puts_the_old_files_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workbench import rekey as rk

    data = tmp_path / "data"
    old_key = keys.generate_key()
    store, audio = _two_encounters(data, old_key)
    before = _snapshot(store)
    real_replace = os.replace

    def replace_then_fail(src, dst):
        if Path(src) == data / rk.STAGING / "audio":  # the old files are aside, the new
            raise OSError("power cut")  # database is in place, the new audio is not
        return real_replace(src, dst)

    monkeypatch.setattr(rk.os, "replace", replace_then_fail)
    with pytest.raises(OSError, match="power cut"):
        rekey(data, old_key, keys.generate_key())
    monkeypatch.undo()
    assert _snapshot(st.open_store(data, key=old_key)) == before
    assert audio_store.read_audio(audio, old_key) == CLIP.read_bytes()
    assert not (data / rk.ASIDE).exists() and not (data / rk.STAGING).exists()


def test_rekey_with_the_wrong_current_key_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old_key = keys.generate_key()
    _simple_store(data, old_key)
    before = _every_file(data)
    with pytest.raises(RekeyError, match="does not open"):
        rekey(data, keys.generate_key(), keys.generate_key())
    after = _every_file(data)
    assert {k: v for k, v in after.items() if "lock" not in k} == {
        k: v for k, v in before.items() if "lock" not in k
    }


# -- backup and restore --------------------------------------------------------------------


def test_backup_and_restore_round_trip_stays_encrypted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = keys.generate_key()
    store, enc = _simple_store(data, key)
    _leave_log(store, enc)  # checkpointed into the snapshot
    before = _snapshot(store)
    made = backup(data, tmp_path / "b.tar", key)
    assert made.encrypted and made.files >= 2
    assert stat.S_IMODE(made.path.stat().st_mode) == 0o600
    with tarfile.open(tmp_path / "b.tar") as tar:  # which member, if one leaks
        leaks = [
            (m.name, needle)
            for m in tar.getmembers()
            if m.isfile()
            for needle in (b"zebrafinch", PATIENT.encode(), b"OggS")
            if needle in tar.extractfile(m).read()
        ]
    assert leaks == []
    raw = (tmp_path / "b.tar").read_bytes()
    assert b"zebrafinch" not in raw and PATIENT.encode() not in raw and b"OggS" not in raw
    assert "scribe.duckdb" in verify(tmp_path / "b.tar")["files"]
    restored = restore(tmp_path / "b.tar", tmp_path / "again")
    assert restored.encrypted
    assert _snapshot(st.open_store(tmp_path / "again", key=key)) == before


def test_restore_refuses_a_corrupted_or_truncated_backup_before_writing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _simple_store(data, None)
    good = backup(data, tmp_path / "b.tar", None).path
    blob = bytearray(good.read_bytes())
    at = blob.index(b"TRANSCRIPT") if b"TRANSCRIPT" in blob else len(blob) // 3
    blob[at] ^= 0xFF
    (tmp_path / "flipped.tar").write_bytes(bytes(blob))
    (tmp_path / "short.tar").write_bytes(good.read_bytes()[: len(blob) // 2])
    for bad, reason in (("flipped.tar", "corrupted|truncated"), ("short.tar", "truncated|not")):
        with pytest.raises(BackupError, match=reason):
            restore(tmp_path / bad, tmp_path / "target")
        assert not (tmp_path / "target").exists()
        assert not [p for p in tmp_path.iterdir() if "restoring" in p.name]


def test_restore_refuses_members_leaving_the_target(tmp_path: Path) -> None:
    for name in ("../escaped.txt", "/tmp/absolute.txt", "audio/../../up.txt"):
        evil = tmp_path / "evil.tar"
        with tarfile.open(evil, "w") as tar:
            info = tarfile.TarInfo(name)
            info.size = 4
            tar.addfile(info, io.BytesIO(b"evil"))
        with pytest.raises(BackupError, match="outside"):
            restore(evil, tmp_path / "target")
        assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "target").exists()


def test_restore_keeps_a_non_empty_directory_unless_forced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _simple_store(data, None)
    made = backup(data, tmp_path / "b.tar", None).path
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(BackupError, match="--force"):
        restore(made, other)
    assert (other / "notes.txt").read_text() == "keep me"
    restore(made, other, force=True)
    assert (other / "scribe.duckdb").exists() and not (other / "notes.txt").exists()
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("other.before-restore-")]
    assert len(kept) == 1 and (kept[0] / "notes.txt").read_text() == "keep me"
    digest = hashlib.sha256((data / "scribe.duckdb").read_bytes()).hexdigest()
    assert hashlib.sha256((other / "scribe.duckdb").read_bytes()).hexdigest() == digest


# -- what the app and the CLI say ----------------------------------------------------------


@pytest.mark.parametrize("encrypted", [False, True], ids=["no-key", "key"])
def test_the_sidebar_warns_when_data_is_unencrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    key = keys.generate_key() if encrypted else None
    _use_key(monkeypatch, key)
    _simple_store(tmp_path / "data", key)
    monkeypatch.setenv("SCRIBE_HOME", str(tmp_path / "data"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception, at.exception
    warnings = [w.value for w in at.sidebar.warning]
    assert (keys.UNENCRYPTED_WARNING in warnings) is not encrypted


def test_the_app_names_a_wrong_key_instead_of_crashing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from tests.conftest import APP

    _simple_store(tmp_path / "data", keys.generate_key())
    _use_key(monkeypatch, keys.generate_key())
    monkeypatch.setenv("SCRIBE_HOME", str(tmp_path / "data"))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("encrypted with another key" in e.value for e in at.error)


def test_cli_status_rekey_backup_restore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from workbench.cli import app

    runner = CliRunner()
    data = tmp_path / "data"
    _use_key(monkeypatch, None)
    _simple_store(data, None)
    out = runner.invoke(app, ["--data-dir", str(data), "status"])
    assert out.exit_code == 0 and "encrypted: no" in out.stdout
    key_file = tmp_path / "new.key"
    assert runner.invoke(app, ["key", "generate", "--out", str(key_file)]).exit_code == 0
    out = runner.invoke(app, ["--data-dir", str(data), "rekey", "--new-key-file", str(key_file)])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["--data-dir", str(data), "status"])
    assert out.exit_code == 1 and "is encrypted: set SCRIBE_KEY" in out.output
    monkeypatch.setenv("SCRIBE_KEY_FILE", str(key_file))
    out = runner.invoke(app, ["--data-dir", str(data), "status", "--json"])
    assert out.exit_code == 0 and '"encrypted": true' in out.stdout
    tar = tmp_path / "b.tar"
    assert runner.invoke(app, ["--data-dir", str(data), "backup", str(tar)]).exit_code == 0
    out = runner.invoke(app, ["restore", str(tar), "--data-dir", str(data)])
    assert out.exit_code == 1 and "--force" in out.output
    out = runner.invoke(app, ["restore", str(tar), "--data-dir", str(tmp_path / "copy")])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["--data-dir", str(tmp_path / "copy"), "status"])
    assert "encrypted: yes" in out.stdout and "encounters: 1" in out.stdout.replace("  ", "")
