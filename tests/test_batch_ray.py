"""``scribe process --engine ray`` on a local Ray cluster that this module starts.

Real models (faster-whisper tiny.en, the spaCy pipeline, the drafter) on demo encounters:
the Ray run gives the local engine's results, writes nothing the second time, survives a
worker killed mid-run, resumes after its driver is killed, and refuses a bad address.
Without a cluster: a stale step result never lands on newer work, actors get no secrets,
an encrypted store refuses another machine's cluster, and transcription is reproducible.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psutil
import pytest

from pipelines.drafting.llm import LlmOptions
from pipelines.types import Entity
from tests.conftest import REPO, make_draft, make_transcript
from workbench import steps as sp
from workbench import store as st
from workbench.batch_ray import RayUnavailable, StepWorker, connect, without_secrets
from workbench.demo import demo_encounters
from workbench.ingest import ingest_file
from workbench.jobs import Engine, PipelineOptions, recognise
from workbench.support import Findings

pytestmark = pytest.mark.slow
USER = "batch"
RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The module's clusters use a token of their own: Ray 2.60 turns token authentication on
# for `ray start` when ~/.ray/auth_token exists, but not for a driver given an address.
RAY_TOKEN = secrets.token_hex(32)


def _env() -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(REPO),
        SCRIBE_USER=USER,
        RAY_USAGE_STATS_ENABLED="0",
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=RAY_TOKEN,
    )


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A two-CPU Ray head of this module's own on loopback; its address.

    It runs in the foreground (``--block``) in a process group of its own, with its session
    files in a temporary folder, and that group is ended afterwards: ``ray stop`` would stop
    every Ray process of the user on this shared machine.
    """
    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths
    head = subprocess.Popen(
        [
            str(RAY),
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--disable-usage-stats",
            "--include-dashboard=false",
            "--temp-dir",
            str(temp),
            '--system-config={"automatic_object_spilling_enabled": false}',
        ],
        env=_env(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _answers(port):
            assert head.poll() is None and time.monotonic() < deadline, "no Ray head started"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


def _scribe(data: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "workbench.cli", "--data-dir", str(data), *args],
        env=_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=check,
    )


def _popen_ray(data: Path, address: str, *args: str) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "workbench.cli",
        "--data-dir",
        str(data),
        "process",
        "--all",
        "--engine",
        "ray",
        "--address",
        address,
        *args,
    ]
    return subprocess.Popen(
        cmd, env=_env(), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _ingest(data: Path, count: int) -> list[str]:
    """The first ``count`` demo encounters ingested (with their metadata) into ``data``."""
    store = st.open_store(data)
    st.ensure_user(store, USER, USER, "clinician")
    return [
        ingest_file(store, data, item.audio, USER, item.meta).encounter_id
        for item in demo_encounters()[:count]
    ]


def _snapshot(data: Path) -> dict[str, dict]:
    """Per encounter what a user checks: transcript, entities, note, support, events."""
    store = st.open_store(data)
    found = {}
    for summary in st.list_encounters(store):
        eid = summary.encounter.encounter_id
        if st.get_transcript(store, eid) is None:
            found[eid] = {"transcript_version": None}
            continue
        version, transcript = st.get_transcript(store, eid)
        note = st.get_note(store, eid)
        support = st.get_support(store, eid, note.version) if note else None
        found[eid] = {
            "transcript_version": version,
            "segments": [
                (
                    s.speaker,
                    s.text,
                    s.start,
                    s.end,
                    [(w.text, w.start, w.end, w.probability) for w in s.words],
                )
                for s in transcript.segments
            ],
            "entities": st.get_entities(store, eid, version),
            "note_versions": len(st.list_note_versions(store, eid)),
            "sentences": [(s.section, s.text) for s in note.draft.sentences] if note else None,
            "labels": [r.label for r in support.results] if support else None,
            "events": Counter(e.kind for e in st.list_events(store, eid)),
        }
    return found


def _event_count(data: Path) -> int:
    return st.status_counts(st.open_store(data))["events"]


@pytest.fixture(scope="module")
def local_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    data = tmp_path_factory.mktemp("local") / "data"
    _ingest(data, 2)
    _scribe(data, "process", "--all")
    return _snapshot(data)


@pytest.fixture(scope="module")
def ray_data(tmp_path_factory: pytest.TempPathFactory, cluster: str) -> Path:
    data = tmp_path_factory.mktemp("ray") / "data"
    _ingest(data, 2)
    done = _scribe(data, "process", "--all", "--engine", "ray", "--address", cluster)
    assert "2 processed, 0 up to date, 0 skipped, 0 failed" in " ".join(done.stderr.split())
    return data


def test_ray_gives_the_local_engines_results(ray_data: Path, local_run: dict) -> None:
    on_ray = _snapshot(ray_data)
    assert on_ray.keys() == local_run.keys() and len(on_ray) == 2
    for eid, local in local_run.items():
        assert local["segments"] and local["entities"] and local["sentences"]
        assert local["labels"] and len(local["labels"]) == len(local["sentences"])
        assert on_ray[eid] == local, eid  # text, words, timings, entities, note, labels, events


def test_a_second_ray_run_writes_nothing(ray_data: Path, cluster: str) -> None:
    before = _event_count(ray_data)
    again = _scribe(ray_data, "process", "--all", "--engine", "ray", "--address", cluster)
    assert "0 processed, 2 up to date" in " ".join(again.stderr.split())
    assert _event_count(ray_data) == before


def _step_workers() -> list[psutil.Process]:
    """Ray worker processes of our actors that are running a step right now."""
    busy = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if cmdline.startswith("ray::StepWorker.run"):
            busy.append(proc)
    return busy


def test_a_worker_killed_mid_run_still_processes_each_encounter_once(
    tmp_path: Path, cluster: str, local_run: dict
) -> None:
    data = tmp_path / "data"
    _ingest(data, 2)
    driver = _popen_ray(data, cluster)
    deadline = time.monotonic() + 120
    while not (busy := _step_workers()):
        assert driver.poll() is None and time.monotonic() < deadline, "no step ever ran"
        time.sleep(0.2)
    victim = busy[0].pid
    os.kill(victim, signal.SIGKILL)
    _, stderr = driver.communicate(timeout=600)
    assert driver.returncode == 0, stderr[-2000:]
    assert not psutil.pid_exists(victim) or psutil.Process(victim).status() == "zombie"
    # Every encounter once: one transcript, one note version, the local run's events.
    assert _snapshot(data) == local_run


def _checked(data: Path, ids: list[str]) -> bool:
    """Whether some encounter has a checked note (read while the driver writes)."""
    try:
        store = st.open_store(data)
        for eid in ids:
            note = st.get_note(store, eid)
            if note and st.get_support(store, eid, note.version):
                return True
    except st.StoreBusy:  # the driver holds the write lock: look again later
        pass
    return False


def test_a_killed_driver_resumes_without_redoing_finished_encounters(
    tmp_path: Path, cluster: str
) -> None:
    data = tmp_path / "data"
    ids = _ingest(data, 3)
    driver = _popen_ray(data, cluster, "--workers", "1")
    deadline = time.monotonic() + 300
    while not _checked(data, ids):  # kill once one encounter is done to its check
        assert driver.poll() is None and time.monotonic() < deadline, "nothing finished"
        time.sleep(0.5)
    driver.kill()
    driver.communicate(timeout=60)
    store = st.open_store(data)
    finished = {  # checked before the kill: nothing left to do for these
        eid: Counter(e.kind for e in st.list_events(store, eid))
        for eid in ids
        if (note := st.get_note(store, eid)) and st.get_support(store, eid, note.version)
    }
    assert len(finished) < len(ids), "killed too late to show a resume"

    again = _scribe(data, "process", "--all", "--engine", "ray", "--address", cluster)
    line = " ".join(again.stderr.split())
    assert f"{len(ids) - len(finished)} processed, {len(finished)} up to date" in line
    after = _snapshot(data)
    for eid in ids:
        assert after[eid]["transcript_version"] == 1 and after[eid]["note_versions"] == 1
        assert after[eid]["sentences"]
        # Every note checked, also one drafted just before the kill.
        assert after[eid]["labels"] and len(after[eid]["labels"]) == len(after[eid]["sentences"])
    for eid, events in finished.items():
        assert after[eid]["events"] == events  # not reprocessed


def test_a_bad_address_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _ingest(data, 1)
    before = _event_count(data)
    nowhere = f"127.0.0.1:{_free_port()}"
    started = time.monotonic()
    result = _scribe(data, "process", "--all", "--engine", "ray", "--address", nowhere, check=False)
    assert result.returncode == 1
    assert f"No Ray cluster answers at {nowhere}" in " ".join(result.stderr.split())
    assert time.monotonic() - started < 60
    assert _event_count(data) == before
    assert st.status_counts(st.open_store(data))["transcribed"] == 0
    malformed = _scribe(
        data, "process", "--all", "--engine", "ray", "--address", "nowhere", check=False
    )
    assert malformed.returncode == 1 and "is not HOST:PORT" in malformed.stderr


def test_a_step_that_fails_marks_its_encounter_failed_and_the_others_go_on(
    tmp_path: Path, cluster: str
) -> None:
    data = tmp_path / "data"
    good, broken = _ingest(data, 2)
    store = st.open_store(data)
    audio = st.get_audio(store, st.get_encounter(store, broken).audio_sha256)
    (data / audio.stored_path).write_bytes(b"not audio at all" * 100)  # damaged on disk
    result = _scribe(data, "process", "--all", "--engine", "ray", "--address", cluster, check=False)
    assert result.returncode == 1
    line = " ".join(result.stderr.split())
    assert f"{broken} failed: asr:" in line and "1 processed" in line and "1 failed" in line
    after = _snapshot(data)
    assert after[good]["labels"] and after[good]["note_versions"] == 1
    assert after[broken] == {"transcript_version": None}


def _visit(store: st.Store, eid: str) -> None:
    st.ensure_user(store, "dr-a", "Dr A", "clinician")
    st.add_encounter(store, st.EncounterRecord(eid, "Visit", clinician_id="dr-a"), "dr-a")


MACHINE = make_transcript([("clinician", "What brings you in?"), ("patient", "A cough, 3 days.")])
CORRECTED = make_transcript([("clinician", "What brings you in?"), ("patient", "A cough, 4 days.")])


def test_stale_results_never_land_on_a_clinicians_newer_work(store: st.Store) -> None:
    _visit(store, "enc-s")
    asr = sp.AsrJob("enc-s", b"", "0" * 64, ())
    assert sp.write(store, asr, MACHINE, USER)
    st.save_transcript(store, "enc-s", CORRECTED, "dr-a", kind="corrected", base_version=1)
    events = len(st.list_events(store, "enc-s"))
    # Results of steps planned before the correction (a batch's long queue) arrive now.
    assert not sp.write(store, asr, MACHINE, USER)
    assert not sp.write(store, sp.NlpJob("enc-s", 1, MACHINE), sp.FoundEntities((), "n"), USER)
    stale_draft = sp.DraftJob("enc-s", 1, MACHINE, (), None)
    assert not sp.write(store, stale_draft, make_draft(MACHINE), USER)
    version, newest = st.get_transcript(store, "enc-s")
    assert version == 2 and newest.text == CORRECTED.text
    assert st.entity_set_version(store, "enc-s") is None and st.get_note(store, "enc-s") is None
    assert len(st.list_events(store, "enc-s")) == events  # nothing written, no event

    data = store.path.parent
    nlp = sp.plan_next(store, data, "enc-s", USER)  # the corrected transcript's turn
    assert isinstance(nlp, sp.NlpJob) and nlp.transcript_version == 2
    assert sp.write(store, nlp, sp.FoundEntities((), "n"), USER)
    early = sp.plan_next(store, data, "enc-s", USER)
    assert isinstance(early, sp.DraftJob) and early.transcript_version == 2
    # An annotator adds an entity before the draft comes back: that draft is stale too.
    cough = Entity(1, 2, 7, "cough", "PROBLEM", source="human")
    st.add_entity(store, "enc-s", early.entity_set_version, cough, "dr-a")
    assert not sp.write(store, early, make_draft(CORRECTED), USER)
    assert st.get_note(store, "enc-s") is None
    draft = sp.plan_next(store, data, "enc-s", USER)
    assert isinstance(draft, sp.DraftJob) and "cough" in {e.text for e in draft.entities}
    assert sp.write(store, draft, make_draft(CORRECTED), USER)
    verify = sp.plan_next(store, data, "enc-s", USER)
    assert isinstance(verify, sp.VerifyJob) and verify.note_version == 1
    # The clinician edits the draft before the check and the second draft come back.
    note = st.get_note(store, "enc-s")
    edited = (replace(note.draft.sentences[0], text="Cough for four days."),)
    st.save_note(store, "enc-s", 1, edited + note.draft.sentences[1:], "dr-a")
    assert not sp.write(store, verify, Findings((), (), 0.0), USER)
    assert not sp.write(store, draft, make_draft(CORRECTED), USER)
    assert sp.plan_next(store, data, "enc-s", USER) is None  # edited notes: checked when viewed
    newest_note = st.get_note(store, "enc-s")
    assert newest_note.version == 2 and newest_note.draft.sentences[0].text.startswith("Cough")
    assert st.get_support(store, "enc-s", 1) is None and st.get_support(store, "enc-s", 2) is None


def test_a_draft_left_unchecked_by_a_killed_run_is_checked_on_the_next(store: st.Store) -> None:
    _visit(store, "enc-k")
    version = st.save_transcript(store, "enc-k", MACHINE, USER)
    st.save_entities(store, "enc-k", version, (), "n", USER)
    st.save_draft(store, "enc-k", make_draft(MACHINE), version, USER)  # then the run died
    job = sp.plan_next(store, store.path.parent, "enc-k", USER)
    assert isinstance(job, sp.VerifyJob) and job.note_version == 1
    assert sp.write(store, job, Findings((), (), 0.0), USER)
    assert st.get_support(store, "enc-k", 1) is not None
    assert sp.plan_next(store, store.path.parent, "enc-k", USER) is None


def test_actors_get_no_api_key_and_read_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    llm = LlmOptions(url="http://127.0.0.1:9/v1", api_key="driver-secret")
    sent = without_secrets(PipelineOptions(drafter="llm", llm=llm))
    assert b"driver-secret" not in pickle.dumps(sent)  # what Ray keeps of an actor's arguments
    monkeypatch.setenv("SCRIBE_LLM_API_KEY", "worker-secret")
    assert StepWorker(sent, None).engine.options.llm.api_key == "worker-secret"


def test_an_encrypted_store_refuses_a_cluster_on_another_machine() -> None:
    with pytest.raises(RayUnavailable, match="The store is encrypted"):
        connect("10.20.30.40:6379", encrypted=True)  # refused before any connection
    nowhere = f"127.0.0.1:{_free_port()}"  # loopback passes on to the usual checks
    with pytest.raises(RayUnavailable, match="No Ray cluster answers"):
        connect(nowhere, encrypted=True)


def test_the_local_cluster_never_spills_objects_to_disk(tmp_path: Path) -> None:
    check = (
        "import ray; from workbench.batch_ray import connect; connect(None, True); "
        "from ray._private import state; "
        "print(state.state.get_system_config()['automatic_object_spilling_enabled']); "
        "ray.shutdown()"
    )
    temp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))
    run = subprocess.Popen(
        [sys.executable, "-c", check],
        env=dict(_env(), RAY_TMPDIR=str(temp)),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = run.communicate(timeout=180)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # whatever Ray left behind
        shutil.rmtree(temp, ignore_errors=True)
    assert out.split()[-1:] == ["False"], err[-2000:]


def test_the_same_audio_gives_the_same_transcript_on_one_engine(tmp_path: Path) -> None:
    # cardiology-afib-followup: some windows fail the quality checks and are sampled again.
    audio = demo_encounters()[0].audio
    engine = Engine(PipelineOptions(reproducible_asr=True))
    first = recognise(engine, audio, tmp_path)
    again = recognise(engine, audio, tmp_path)
    assert first.segments and again.segments == first.segments
