"""``scribe process --engine ray`` on a local Ray cluster that this module starts.

Real models (faster-whisper tiny.en, the spaCy pipeline, the drafter) on demo encounters:
the Ray run gives the local engine's results, writes nothing the second time, survives a
worker killed mid-run, resumes after its driver is killed, and refuses a bad address.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO
from workbench import store as st
from workbench.demo import demo_encounters
from workbench.ingest import ingest_file

pytestmark = pytest.mark.slow
USER = "batch"
RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO), SCRIBE_USER=USER, RAY_USAGE_STATS_ENABLED="0")


@pytest.fixture(scope="module")
def cluster() -> str:
    """A two-CPU Ray head on loopback, stopped when the module is done; its address."""
    port = _free_port()
    subprocess.run(
        [
            str(RAY),
            "start",
            "--head",
            "--port",
            str(port),
            "--num-cpus",
            "2",
            "--disable-usage-stats",
            "--include-dashboard=false",
        ],
        env=_env(),
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([str(RAY), "stop"], env=_env(), capture_output=True, timeout=120)


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
    finished = {  # drafted before the kill: nothing left to do for these
        eid: Counter(e.kind for e in st.list_events(store, eid))
        for eid in ids
        if st.get_note(store, eid) is not None
    }
    assert len(finished) < len(ids), "killed too late to show a resume"

    again = _scribe(data, "process", "--all", "--engine", "ray", "--address", cluster)
    line = " ".join(again.stderr.split())
    assert f"{len(ids) - len(finished)} processed, {len(finished)} up to date" in line
    after = _snapshot(data)
    for eid in ids:
        assert after[eid]["transcript_version"] == 1 and after[eid]["note_versions"] == 1
        assert after[eid]["sentences"]
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
