"""Hostile input: mutated audio, upload names, import files and form values.

Every case must end in success or in one of the project's own errors with a message a
person can read (never a bare KeyError, ValueError, AttributeError, duckdb or PyAV error),
the process must not crash, and nothing may be written outside the data directory: each
test runs in a sandbox whose HOME, TMPDIR and SCRIBE_HOME are inside ``tmp_path``, and the
sandbox's files outside ``data/`` are compared before and after (the NLP cache, built from
the shipped term lists and never from input, stays where it is). The data directory may
hold only the database, content-addressed audio and an empty scratch folder.

No import accepts archives (models are trained in place, not unpacked), so archive cases
are uploads: a zip or tar named like audio is refused as audio and never unpacked.

Seeds are fixed, so a failure repeats. The case count per family and in total is printed
(run with ``-s``) and the total is checked to be at least 1,000.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import random
import re
import tarfile
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipelines.audio import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, AudioError, probe_audio
from pipelines.drafting.prompts import PromptError, PromptSpec, load_prompt
from pipelines.drafting.templates import TEMPLATES_DIR, TemplateError, load_template
from pipelines.schema import LABELS_PATH, SchemaError, load_label_schema
from pipelines.transcript_edit import SegmentFix, apply_fix
from pipelines.types import Entity, NoteSentence
from tests import fuzz_inputs as fz
from tests.conftest import APP, CLIP, make_draft, make_transcript, sign_in
from workbench import store as st
from workbench.dictation import decode_bytes
from workbench.ingest import (
    MAX_NAME_BYTES,
    EncounterMeta,
    InvalidUpload,
    clean_meta,
    ingest_bytes,
    safe_upload_name,
)
from workbench.review_time import BadHeartbeat, reported_seconds
from workbench.settings import setting
from workbench.store.limits import MAX_SENTENCE_CHARS
from workbench.ui.worklist_state import query_from_params

COUNTS: Counter[str] = Counter()
MIN_TOTAL = 1000
MAX_MESSAGE_CHARS = 600
FORMATS = ("wav", "ogg", "mp3", "flac", "m4a", "webm")
SUFFIXES = (".wav", ".WAV", ".mp3", ".ogg")
BROKEN = (b"R", b"not audio\n" * 100, fz.sine_wav(440)[:44], fz.sine_wav(0), bytes(range(256)) * 8)
_STORED_AUDIO = re.compile(r"audio/[0-9a-f]{2}/[0-9a-f]{64}\.(?:wav|wave|mp3|m4a|mp4|ogg|oga|"
                           r"opus|webm|mka|mkv|flac)")  # fmt: skip
_DATA_TOP = re.compile(r"scribe\.duckdb(?:\.[a-z]+)?|audio|tmp")


# -- the sandbox -------------------------------------------------------------------------


@dataclass
class Sandbox:
    root: Path
    data: Path
    store: st.Store


def _tree(root: Path, data: Path) -> dict[str, str]:
    """Every file under ``root`` outside ``data``, by content hash (folders hold no data:
    the Streamlit test harness makes empty scratch folders in TMPDIR)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file() and data not in (path, *path.parents)
    }


def _check_data_dir(data: Path) -> None:
    """The data directory holds the database, stored audio and an empty scratch folder."""
    for path in data.iterdir():
        assert _DATA_TOP.fullmatch(path.name), f"unexpected {path.name!r} in the data dir"
    for path in (data / "audio").rglob("*") if (data / "audio").exists() else ():
        if path.is_file():
            rel = str(path.relative_to(data))
            assert _STORED_AUDIO.fullmatch(rel), f"unexpected stored file {rel!r}"
    leftovers = [p for p in (data / "tmp").rglob("*") if p.is_file()] if (
        data / "tmp").exists() else []  # fmt: skip
    assert not leftovers, f"scratch files left behind: {leftovers[:3]}"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    root = tmp_path / "box"
    home, tmp, data = root / "home", root / "tmp", root / "data"
    for folder in (home, tmp):
        folder.mkdir(parents=True)
    # The NLP cache (vocabulary indexes built from the shipped term lists, never from input)
    # stays where it is: rebuilding it in the sandbox would take minutes.
    monkeypatch.setenv("SCRIBE_CACHE", str(Path(setting("SCRIBE_CACHE")).expanduser()))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("SCRIBE_HOME", str(data))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # tempfile caches its folder
    store = st.open_store(data)
    st.ensure_user(store, "dr-f", "Dr F", "clinician")
    before = _tree(root, data)
    cwd_before = sorted(os.listdir(Path.cwd()))
    yield Sandbox(root, data, store)
    assert _tree(root, data) == before, "something was written outside the data directory"
    assert sorted(os.listdir(Path.cwd())) == cwd_before
    _check_data_dir(data)


# -- outcomes ----------------------------------------------------------------------------

OURS: tuple[type[BaseException], ...] = (
    AudioError, st.StoreError, TemplateError, SchemaError, PromptError, BadHeartbeat,
)  # fmt: skip


def assert_clear(message: str, family: str) -> None:
    """A message a person can read: non-empty, short, printable, no traceback or repr soup."""
    assert message.strip(), f"{family}: empty error message"
    assert len(message) <= MAX_MESSAGE_CHARS, f"{family}: {len(message)}-character message"
    assert "Traceback" not in message and "object at 0x" not in message, message
    bad = [c for c in message if unicodedata.category(c) in ("Cc", "Cs") and c != "\n"]
    assert not bad, f"{family}: control characters in the message {message[:80]!r}"


def attempt(family: str, action: Callable[[], object], ours=OURS) -> tuple[object, str | None]:
    """Run one case: (result, None) on success, (None, message) for our clear error.

    Any other exception fails the test, naming the family and the exception type.
    """
    COUNTS[family] += 1
    try:
        return action(), None
    except ours as exc:
        assert_clear(str(exc), family)
        return None, str(exc)
    except Exception as exc:
        pytest.fail(f"{family} case {COUNTS[family]}: {type(exc).__name__} leaked: "
                    f"{str(exc)[:200]!r}")  # fmt: skip


# -- audio ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A one-second tone in every supported format (converted once by PyAV)."""
    import av

    folder = tmp_path_factory.mktemp("clips")
    wav = folder / "tone.wav"
    wav.write_bytes(fz.sine_wav(440))
    out = {"wav": wav.read_bytes(), "ogg": CLIP.read_bytes()}
    codecs = {"mp3": "mp3", "flac": "flac", "m4a": "aac", "webm": "libopus"}
    for fmt, codec in codecs.items():
        target = folder / f"tone.{fmt}"
        with av.open(str(wav)) as src, av.open(str(target), "w") as dst:
            rate = 48000 if codec == "libopus" else 16000
            stream = dst.add_stream(codec, rate=rate)
            stream.layout = "mono"
            resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
            for frame in src.decode(audio=0):
                frame.pts = None
                for f in resampler.resample(frame):
                    for packet in stream.encode(f):
                        dst.mux(packet)
            for packet in stream.encode(None):
                dst.mux(packet)
        out[fmt] = target.read_bytes()
    return out


def _probe_ok(info, family: str) -> None:
    """What an accepted file must satisfy: a plausible, speech-length recording."""
    assert MIN_SAMPLE_RATE <= info.sample_rate <= MAX_SAMPLE_RATE, family
    assert info.duration_s >= 0.5 and info.size_bytes > 0 and len(info.sha256) == 64


def test_mutated_audio_is_accepted_or_refused_clearly(
    sandbox: Sandbox, clips: dict[str, bytes], tmp_path: Path
) -> None:
    rng = random.Random(7)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    refused = Counter()
    for fmt in FORMATS:
        for i in range(60):
            kind, data = fz.mutate(rng, clips[fmt])
            # Half keep their suffix, half are mislabelled as another format.
            suffix = fmt if i % 2 else rng.choice(FORMATS)
            path = inputs / f"{fmt}-{i}.{suffix}"
            path.write_bytes(data)
            info, error = attempt("audio.mutated", lambda p=path: probe_audio(p))
            if error is None:
                _probe_ok(info, f"{fmt} {kind}")
            else:
                refused[kind] += 1
                assert error.startswith(path.name), error
    assert refused["random"] > 0 and refused["truncate"] > 0, refused


def test_wav_headers_that_lie_are_refused_or_harmless(sandbox: Sandbox, tmp_path: Path) -> None:
    base = fz.sine_wav(440)
    path = tmp_path / "lie.wav"
    outcomes = {}
    for label, data in fz.wav_header_lies(base):
        path.write_bytes(data)
        info, error = attempt("audio.header", lambda: probe_audio(path))
        outcomes[label] = error or "ok"
        if error is None:
            _probe_ok(info, label)
            assert info.duration_s <= 2.0, f"{label}: a 1 s tone accepted as {info.duration_s} s"
    assert "sample rate of 3 Hz" in outcomes["sample_rate=3"]  # was accepted as 1.5 hours
    assert "too short" not in outcomes["data_size=2147483647"]
    assert "maximum is 4:00:00 h" in outcomes["data_size=2147483647"]


def _zip_bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.wav", b"\0" * 20_000_000)
        z.writestr("../../escape.wav", b"RIFF")
    return out.getvalue()


def _tar_traversal() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as t:
        data = fz.sine_wav(300)
        info = tarfile.TarInfo("../../../escape.wav")
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
    return out.getvalue()


def test_special_files_are_refused_with_the_reason(sandbox: Sandbox, tmp_path: Path) -> None:
    tone = fz.sine_wav(440)
    cases = {
        "empty.wav": (b"", "the file is empty"),
        "one.wav": (b"R", "not a readable audio file"),
        "header-only.wav": (tone[:44], "could not be decoded"),
        "text.mp3": (b"hello, this is not audio\n" * 40, "not a readable audio file"),
        "bomb.m4a": (_zip_bomb(), "not a readable audio file"),
        "bomb.zip": (_zip_bomb(), "not a readable audio file"),
        "escape.ogg": (_tar_traversal(), "not a readable audio file"),
        "silence.wav": (fz.sine_wav(0), "silent"),
        "short.wav": (fz.sine_wav(440, seconds=0.2), "too short"),
        "rate3.wav": (_rate(tone, 3), "sample rate of 3 Hz"),
        "json.flac": (b'{"not": "audio"}', "not a readable audio file"),
        "png.webm": (b"\x89PNG\r\n\x1a\n" + bytes(500), "not a(n| readable) audio file"),
        "elf.wav": (b"\x7fELF" + bytes(2000), "not a readable audio file"),
    }
    for name, (data, says) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        _, error = attempt("audio.special", lambda p=path: probe_audio(p))
        assert error is not None and re.search(says, error), (name, error)
    assert not (sandbox.root / "escape.wav").exists() and not (tmp_path / "escape.wav").exists()
    # A file whose content is another supported format than its name says is accepted.
    mislabelled = tmp_path / "really-ogg.wav"
    mislabelled.write_bytes(CLIP.read_bytes())
    info, error = attempt("audio.special", lambda: probe_audio(mislabelled))
    assert error is None and info.suffix == ".ogg" and "holds ogg audio" in info.notes[0]


def _rate(wav: bytes, rate: int) -> bytes:
    b = bytearray(wav)
    b[24:28] = rate.to_bytes(4, "little")
    return bytes(b)


# -- uploads through the full ingest -------------------------------------------------------


def _assert_clean_name(name: str) -> None:
    assert name and len(name.encode("utf-8")) <= MAX_NAME_BYTES, name[:40]
    assert "/" not in name and "\\" not in name and not name.startswith("."), name
    assert not [c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")], name
    assert not re.match(r"(?i)(con|prn|aux|nul|com\d|lpt\d)(\.|$)", name), name


def _names(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    return [*fz.HOSTILE_NAMES] + [
        fz.random_text(rng, 400) + rng.choice((".wav", "", ".WAV", ".exe", ".wav.", "/"))
        for _ in range(n - len(fz.HOSTILE_NAMES))
    ]


def test_hostile_upload_names_are_sanitised(sandbox: Sandbox) -> None:
    for name in _names(11, 400):
        clean, _ = attempt("upload.name", lambda n=name: safe_upload_name(n))
        _assert_clean_name(clean)
        assert clean == safe_upload_name(clean), "sanitising is idempotent"
    assert safe_upload_name("../../etc/passwd") == "passwd"
    assert safe_upload_name("\u202egnp.exe.wav") == "gnp.exe.wav"
    assert safe_upload_name("con.wav") == "_con.wav"
    assert safe_upload_name("x" * 10_000 + ".wav").endswith("x.wav")


def test_hostile_upload_names_through_the_full_ingest(sandbox: Sandbox) -> None:
    names = _names(12, 60)[::2]  # every other: the fixed hostile ones and random ones
    for i, name in enumerate(names):
        audio = fz.sine_wav(200 + 7 * i)  # distinct content: one encounter per name
        result, error = attempt(
            "upload.ingest", lambda a=audio, n=name: ingest_bytes(
                sandbox.store, sandbox.data, a, n, "dr-f"))  # fmt: skip
        assert error is None and result.created, (name[:40], error)
        stored = st.get_audio(sandbox.store, result.audio.sha256)
        encounter = st.get_encounter(sandbox.store, result.encounter_id)
        assert stored.original_name == safe_upload_name(name)
        _assert_clean_name(stored.original_name)
        assert encounter.title and len(encounter.title) <= MAX_NAME_BYTES
        assert (sandbox.data / stored.stored_path).resolve().is_relative_to(sandbox.data)
    assert len(st.list_encounters(sandbox.store)) == len(names)


def test_names_that_differ_only_by_case(sandbox: Sandbox) -> None:
    one, other = fz.sine_wav(500), fz.sine_wav(510)
    results = [
        attempt(
            "upload.case", lambda n=n, a=a: ingest_bytes(sandbox.store, sandbox.data, a, n, "dr-f")
        )[0]
        for n, a in (
            ("Visit.wav", one),
            ("visit.wav", other),
            ("VISIT.WAV", one),
            ("visit.wav", one),
        )
    ]
    assert [r.created for r in results] == [True, True, False, False]
    assert results[0].encounter_id == results[2].encounter_id != results[1].encounter_id
    names = {st.get_audio(sandbox.store, r.audio.sha256).original_name for r in results}
    assert names == {"Visit.wav", "visit.wav"}


def test_mutated_uploads_through_the_full_ingest(sandbox: Sandbox, clips: dict[str, bytes]) -> None:
    rng = random.Random(13)
    accepted = 0
    for i in range(40):
        fmt = FORMATS[i % len(FORMATS)]
        _, data = fz.mutate(rng, clips[fmt])
        name = rng.choice(fz.HOSTILE_NAMES[:12]) + f".{fmt}"
        result, error = attempt(
            "upload.audio", lambda d=data, n=name: ingest_bytes(
                sandbox.store, sandbox.data, d, n, "dr-f"))  # fmt: skip
        if error is None:
            accepted += result.created
            _assert_clean_name(st.get_audio(sandbox.store, result.audio.sha256).original_name)
    assert len(st.list_encounters(sandbox.store)) == accepted  # refused uploads left nothing


def test_hostile_encounter_details_are_cleaned_or_refused(sandbox: Sandbox) -> None:
    rng = random.Random(17)
    fields = ("title", "specialty", "visit_type", "clinician", "patient_label", "encounter_id")
    values = [*fz.HOSTILE_TEXT] + [fz.random_text(rng) for _ in range(130)]
    for i, value in enumerate(values):
        name = fields[i % len(fields)]
        meta, error = attempt("upload.meta", lambda v=value, n=name: clean_meta(
            EncounterMeta(**{n: v})))  # fmt: skip
        if error is not None:
            assert "maximum is 200" in error or "Encounter id" in error, error
            continue
        stored = getattr(meta, name)
        if stored is not None:
            assert not [c for c in stored if unicodedata.category(c) in ("Cc", "Cf", "Cs")]
            assert len(stored) <= 200 and stored == stored.strip()
    # A sample through the full ingest: refused details write nothing, clean ones are kept.
    for i, value in enumerate(fz.HOSTILE_TEXT[:12]):
        meta = EncounterMeta(title=value, encounter_id=value or None)
        result, error = attempt(
            "upload.meta",
            lambda m=meta, i=i: ingest_bytes(
                sandbox.store, sandbox.data, fz.sine_wav(900 + 5 * i), "v.wav", "dr-f", m
            ),
        )
        if error is None:
            assert st.get_encounter(sandbox.store, result.encounter_id).title
    assert issubclass(InvalidUpload, AudioError)  # the pages that catch AudioError show it


# -- import files --------------------------------------------------------------------------


def test_malformed_note_templates_are_refused_clearly(sandbox: Sandbox, tmp_path: Path) -> None:
    rng = random.Random(19)
    soap = json.loads((TEMPLATES_DIR / "soap.json").read_text())
    folder = tmp_path / "templates"
    folder.mkdir()
    accepted = 0
    for label, data in fz.json_mutations(rng, soap, 130):
        path = folder / "soap.json"
        path.write_bytes(data)
        template, error = attempt("import.template", lambda p=path: load_template(p))
        accepted += error is None
        if error is None:
            assert template.keys and template.id == "soap", label
    assert accepted < 130
    for name in ("../../etc/passwd", "/etc/passwd", "soap\x00", "x" * 5000, "SOAP"):
        _, error = attempt("import.template", lambda n=name: load_template(n, folder))
        assert (error is not None and "not found" in error) or "not valid" in error


def test_malformed_label_schemas_are_refused_clearly(sandbox: Sandbox, tmp_path: Path) -> None:
    rng = random.Random(23)
    labels = json.loads(LABELS_PATH.read_text())
    path = tmp_path / "labels.json"
    refused = 0
    for _, data in fz.json_mutations(rng, labels, 90):
        path.write_bytes(data)
        _, error = attempt("import.schema", lambda: load_label_schema(path))
        refused += error is not None
    assert refused > 20


def test_malformed_prompt_files_are_refused_clearly(sandbox: Sandbox, tmp_path: Path) -> None:
    rng = random.Random(29)
    prompt = load_prompt("soap").to_dict()
    folder = tmp_path / "prompts"
    folder.mkdir()
    refused = 0
    for _, data in fz.json_mutations(rng, prompt, 60):
        (folder / "soap.json").write_bytes(data)
        (folder / "default.json").write_bytes(data)
        spec, error = attempt("import.prompt", lambda: load_prompt("soap", folder))
        refused += error is not None
        if error is None:
            assert isinstance(spec, PromptSpec) and "$transcript" in spec.user
    assert refused > 20
    (folder / "default.json").write_text(json.dumps(prompt))
    for template_id in ("../default", "../../etc/passwd", "/etc/passwd", "a\x00b"):
        spec, _ = attempt("import.prompt", lambda t=template_id: load_prompt(t, folder))
        assert spec.id == "soap" and spec.to_dict() == prompt  # the default, not another file


def test_hostile_dictation_uploads_are_refused_clearly(
    sandbox: Sandbox, clips: dict[str, bytes]
) -> None:
    rng = random.Random(31)
    for i in range(40):
        _, data = fz.mutate(rng, clips[FORMATS[i % len(FORMATS)]])
        samples, error = attempt("import.dictation", lambda d=data: decode_bytes(d))
        if error is None:
            assert samples.dtype.name == "float32" and samples.ndim == 1
    _, error = attempt("import.dictation", lambda: decode_bytes(b""))
    assert error == "The dictation is empty."
    _, error = attempt("import.dictation", lambda: decode_bytes(_zip_bomb()))
    assert error is not None


# -- form values ---------------------------------------------------------------------------


def test_hostile_vocabulary_terms(sandbox: Sandbox) -> None:
    rng = random.Random(37)
    terms = [*fz.HOSTILE_TEXT] + [fz.random_text(rng, 80) for _ in range(60)]
    for term in terms:
        added, error = attempt("form.vocabulary", lambda t=term: st.add_term(
            sandbox.store, "dr-f", t, "dr-f"))  # fmt: skip
        if error is None:
            cleaned = " ".join(term.split())
            assert cleaned in st.list_terms(sandbox.store, "dr-f") or not added
    for term in st.list_terms(sandbox.store, "dr-f"):
        assert 0 < len(term) <= 60
        assert not [c for c in term if unicodedata.category(c) in ("Cc", "Cs")], term
    assert "'; DROP TABLE encounters; --" in st.list_terms(sandbox.store, "dr-f")
    assert st.list_encounters(sandbox.store) == []  # and the table is still there


def test_hostile_worklist_urls_never_break_the_list(sandbox: Sandbox) -> None:
    rng = random.Random(41)
    st.add_encounter(sandbox.store, st.EncounterRecord("enc-a", "Cough"), "dr-f")
    names = ("status", "clinician", "specialty", "from", "to", "q", "sort", "page")
    choices = (*fz.HOSTILE_TEXT, "2026-13-45", "99999999999999999999", "²", "0", "signed",
               "drafted", "oldest")  # fmt: skip
    for _ in range(90):
        params = {
            name: [rng.choice(choices)
                   if rng.random() < 0.7 else fz.random_text(rng, 50)
                   for _ in range(rng.randint(0, 3))]
            for name in names if rng.random() < 0.6
        }  # fmt: skip
        (query, problems), _ = attempt("form.worklist", lambda p=params: query_from_params(p))
        listed, error = attempt("form.worklist", lambda q=query: st.list_worklist(sandbox.store, q))
        assert error is None and listed[1] in (0, 1), error
        assert all(isinstance(p, str) and p for p in problems)
    query, _ = query_from_params({"q": ["'; DROP TABLE encounters; --"]})
    assert st.list_worklist(sandbox.store, query)[1] == 0
    assert [e.encounter.encounter_id for e in st.list_encounters(sandbox.store)] == ["enc-a"]


TURNS = [
    ("clinician", "What brings you in today?"),
    ("patient", "I have had a cough for three days."),
    ("clinician", "We will start amoxicillin 500 milligrams three times a day."),
]


@pytest.fixture
def drafted(sandbox: Sandbox) -> str:
    store = sandbox.store
    # dr-f made it; it is dr-test's, who reviews it (open_review).
    record = st.EncounterRecord("enc-f", "Fuzz visit", clinician_id="dr-test")
    st.add_encounter(store, record, "dr-f")
    transcript = make_transcript(TURNS)
    version = st.save_transcript(store, "enc-f", transcript, "dr-f")
    st.save_entities(store, "enc-f", version, (), "nlp.test", "dr-f")
    st.save_draft(store, "enc-f", make_draft(transcript), version, "dr-f")
    return "enc-f"


def test_hostile_entity_edits_are_refused_or_stored(sandbox: Sandbox, drafted: str) -> None:
    rng = random.Random(43)
    labels = ("PROBLEM", "MEDICATION", "TEST", "problem", "", "DROP TABLE", "😀", "x" * 5000)
    stored = 0
    for _ in range(90):
        seg = rng.choice((0, 1, 2, -1, 3, 2**31))
        text = TURNS[seg][1] if 0 <= seg < 3 else "cough"
        start = rng.choice((0, -5, 5, len(text), len(text) + 9, rng.randint(-3, len(text))))
        end = start + rng.choice((1, 5, 0, -3, 1000, rng.randint(0, 20)))
        words = text[start:end] if 0 <= start <= end else rng.choice(fz.HOSTILE_TEXT)
        if rng.random() < 0.2:
            words = rng.choice(fz.HOSTILE_TEXT)
        entity = Entity(
            seg,
            start,
            end,
            words,
            rng.choice(labels),
            code=rng.choice((None, None, "J45.909", "'; --", "\x00", "x" * 300)),
            code_system=rng.choice((None, "ICD-10-CM", "???")),
            attributes=rng.choice(({}, {}, {"dose": "\u202e"}, {"x": [1]})),
        )
        base = st.get_entity_set(sandbox.store, drafted).version
        _, error = attempt("form.entity", lambda e=entity, b=base: st.add_entity(
            sandbox.store, drafted, b, e, "dr-f"))  # fmt: skip
        stored += error is None
    for index in (-1, 99, 2**40):
        base = st.get_entity_set(sandbox.store, drafted).version
        _, error = attempt("form.entity", lambda i=index, b=base: st.remove_entity(
            sandbox.store, drafted, b, i, "dr-f"))  # fmt: skip
        assert error is not None and "has no entity" in error
    assert stored == len(st.get_entity_set(sandbox.store, drafted).entities)


def test_hostile_sentence_edits_are_refused_or_saved_exactly(
    sandbox: Sandbox, drafted: str
) -> None:
    rng = random.Random(47)
    texts = [*fz.HOSTILE_TEXT] + [fz.random_text(rng) for _ in range(30)]
    for text in texts:
        note = st.get_note(sandbox.store, drafted)
        first = note.draft.sentences[0]
        edited = NoteSentence(first.sentence_id, first.section, text, first.evidence, "human")
        added = NoteSentence(f"h-{rng.randrange(10**9)}", "Plan", text, (), "human")
        sentences = (edited, *note.draft.sentences[1:], added)
        version, error = attempt(
            "form.sentence",
            lambda s=sentences, v=note.version: st.save_note(sandbox.store, drafted, v, s, "dr-f"),
        )
        if error is None:
            saved = st.get_note(sandbox.store, drafted)
            assert saved.version == version and saved.draft.sentences[0].text == text
        else:
            assert st.get_note(sandbox.store, drafted).version == note.version  # nothing saved
            assert "sentence" in error, error
    long = "x" * (MAX_SENTENCE_CHARS + 1)
    note = st.get_note(sandbox.store, drafted)
    bad = (NoteSentence("s0", "Subjective", long, (), "human"),)
    _, error = attempt("form.sentence", lambda: st.save_note(
        sandbox.store, drafted, note.version, bad, "dr-f"))  # fmt: skip
    assert error is not None and "maximum is 2,000" in error
    _, error = attempt("form.sentence", lambda: st.save_note(
        sandbox.store, drafted, note.version, note.draft.sentences, "dr-f",
        sections=("Subjective", "Plan", "DROP TABLE")))  # fmt: skip
    assert error is not None and "section order" in error


def test_hostile_transcript_corrections_and_heartbeats(sandbox: Sandbox) -> None:
    rng = random.Random(53)
    segment = make_transcript(TURNS).segments[1]
    for text in [*fz.HOSTILE_TEXT[:20], *(fz.random_text(rng) for _ in range(20))]:
        speaker = rng.choice((None, "patient", "clinician", "<b>x</b>", ""))
        (fixed, _changes), _ = attempt("form.transcript", lambda t=text, s=speaker: apply_fix(
            segment, SegmentFix(1, t, s)))  # fmt: skip
        assert fixed.text == (" ".join(text.split()) or segment.text)
        assert all(w.start <= w.end for w in fixed.words)
    payloads = [{"active_s": v} for v in (math.nan, math.inf, -math.inf, -1, -0.0, 1e309, 5,
                                           "5", None, True, [1], 2**70)]  # fmt: skip
    payloads += [None, "active_s=5", 5, [], {"active": 5}, {"active_s": {"$gt": 0}}]
    for payload in payloads:
        seconds, error = attempt("form.heartbeat", lambda p=payload: reported_seconds(p))
        if error is None:
            assert math.isfinite(seconds) and seconds >= 0
    assert COUNTS["form.heartbeat"] >= 18


# -- the pages, driven with AppTest -----------------------------------------------------


def _sendable(text: str) -> bool:
    """A browser sends valid UTF-8: lone surrogates cannot cross the wire."""
    return not any(unicodedata.category(c) == "Cs" for c in text)


@pytest.fixture
def capture_page(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch):
    """The New encounter page with a stand-in job (processing is tested elsewhere)."""
    from streamlit.testing.v1 import AppTest

    from workbench import runner as runner_module

    monkeypatch.setenv("SCRIBE_USER", "dr-f")
    monkeypatch.setattr(runner_module, "encounter_runner",
                        lambda store, data_dir, engine=None: runner_module.Runner(
                            lambda encounter_id, user_id, progress: None))  # fmt: skip
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), sandbox.data, "dr-f")
    at.run()
    at.switch_page("views/capture.py").run()
    at.radio(key="capture_source").set_value("Upload").run()
    return at


def test_capture_page_with_hostile_uploads(
    sandbox: Sandbox, capture_page, clips: dict[str, bytes]
) -> None:
    at = capture_page
    rng = random.Random(59)
    # A browser's file picker sends only the allowed suffixes (Streamlit refuses others
    # itself, see the next test), so each hostile name gets one.
    names = [n + rng.choice(SUFFIXES) for n in fz.HOSTILE_NAMES if _sendable(n) and "\0" not in n]
    created = 0
    for i, name in enumerate(names[:20]):
        good = i % 2 == 0
        data = fz.sine_wav(1500 + 11 * i) if good else rng.choice(BROKEN)
        title = rng.choice([t for t in fz.HOSTILE_TEXT if _sendable(t)])
        COUNTS["ui.capture"] += 1
        at.text_input(key="capture_title").input(title)
        at.file_uploader(key="capture_upload").upload(name or "x", data, "audio/wav")
        at.run()
        at.button(key="capture_create").click().run()
        assert not at.exception, (name[:40], at.exception)
        errors = [e.value for e in at.error]
        if errors:
            assert len(errors) == 1
            assert_clear(errors[0], "ui.capture")
        else:
            assert good, f"{name[:40]!r}: damaged audio accepted"
            created += 1
            encounter = st.get_encounter(sandbox.store, at.session_state["capture_encounter"])
            _assert_clean_name(st.get_audio(sandbox.store, encounter.audio_sha256).original_name)
        if good and len(" ".join(title.split())) > 200:
            assert errors, "a 200+ character title is refused"
    assert created == len(st.list_encounters(sandbox.store)) > 0


def test_capture_page_refuses_a_forged_suffix_before_our_code(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A forged request with another suffix or a NUL byte never reaches ingest: Streamlit
    refuses it while reading the widget (its own error on the page); nothing is written."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SCRIBE_USER", "dr-f")
    for name in ("../../etc/passwd", "visit.wav\0.exe", "visit.exe"):
        COUNTS["ui.capture"] += 1
        at = sign_in(AppTest.from_file(str(APP), default_timeout=60), sandbox.data, "dr-f")
        at.run()
        at.switch_page("views/capture.py").run()
        at.radio(key="capture_source").set_value("Upload").run()
        at.file_uploader(key="capture_upload").upload(name, fz.sine_wav(440), "audio/wav")
        at.run()
        (refusal,) = at.exception
        assert "extension" in refusal.value or "null bytes" in refusal.value
    assert st.list_encounters(sandbox.store) == []


def test_review_page_with_hostile_sentence_edits(
    sandbox: Sandbox, drafted: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import edit_sentence, open_review

    at = open_review(monkeypatch, sandbox.data, drafted)
    texts = [t for t in fz.HOSTILE_TEXT if _sendable(t) and t.strip()][:10]
    for text in texts:
        COUNTS["ui.review"] += 1
        boxes = [b for b in at.text_area if b.key and b.key.startswith("sent-")]
        box = boxes[0] if boxes else edit_sentence(at, "s0")
        box.input(text).run()
        before = st.get_note(sandbox.store, drafted).version
        at.button(key="save").click().run()
        assert not at.exception, (text[:40], at.exception)
        refused = [e.value for e in at.error]
        after = st.get_note(sandbox.store, drafted)
        cleaned = " ".join(text.split())
        if refused:
            assert_clear(refused[0], "ui.review")
            assert after.version == before and "sentence" in refused[0]
        else:
            assert after.version == before + 1
            assert after.draft.sentences[0].text == cleaned
    assert COUNTS["ui.review"] >= 10


def test_vocabulary_page_with_hostile_terms(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SCRIBE_USER", "dr-f")
    at = sign_in(AppTest.from_file(str(APP), default_timeout=60), sandbox.data, "dr-f")
    at.run()
    at.switch_page("views/vocabulary.py").run()
    terms = [t for t in fz.HOSTILE_TEXT if _sendable(t) and t.strip()][:20]
    for term in terms:
        COUNTS["ui.vocabulary"] += 1
        at.text_input(key="vocab_new").input(term)
        at.button(key="vocab_add").click().run()
        assert not at.exception, (term[:40], at.exception)
        errors = [e.value for e in at.error]
        if errors:
            assert_clear(errors[0], "ui.vocabulary")
            assert " ".join(term.split()) not in st.list_terms(sandbox.store, "dr-f")
        else:
            assert " ".join(term.split()) in st.list_terms(sandbox.store, "dr-f")


def test_zz_total_case_count() -> None:
    """Runs last in this file: the families above together make at least 1,000 cases."""
    if COUNTS["audio.mutated"] == 0:
        pytest.skip("run the whole file to count its cases")
    total = sum(COUNTS.values())
    print(f"\nfuzz cases: {total} " + json.dumps(dict(sorted(COUNTS.items()))))
    assert total >= MIN_TOTAL, COUNTS
