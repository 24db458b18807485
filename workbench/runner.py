"""A background runner for the UI: process encounters one at a time, report progress.

One worker thread per process, because one transcription already uses both cores.
Status lives in memory only (it is about this server's queue); results are in the store.
Submitting an encounter that is queued or running does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from workbench import store as st
from workbench.jobs import Engine, Progress, process_encounter
from workbench.store.jobs import record_queued, unfinished_jobs

log = logging.getLogger(__name__)

State = Literal["queued", "running", "done", "failed"]
Work = Callable[[str, str, Progress], object]


@dataclass(frozen=True)
class JobStatus:
    """Where one encounter's processing stands: step and fraction (0..1), or the error."""

    encounter_id: str
    state: State
    step: str = "waiting"
    fraction: float = 0.0
    error: str | None = None

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")


class Runner:
    """Runs ``work(encounter_id, user_id, progress)`` on one background thread."""

    def __init__(
        self, work: Work, workers: int = 1, on_submit: Callable[[str, str], None] | None = None
    ) -> None:
        self._work = work
        self._on_submit = on_submit
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scribe-job")
        self._lock = threading.Lock()
        self._status: dict[str, JobStatus] = {}

    def submit(self, encounter_id: str, user_id: str, remember: bool = True) -> bool:
        """Queue an encounter; False (and nothing queued) if it is already queued or running.
        ``on_submit`` (the store's record of the job) runs first unless ``remember`` is off."""
        with self._lock:
            current = self._status.get(encounter_id)
            if current is not None and current.active:
                return False
            self._status[encounter_id] = JobStatus(encounter_id, "queued")
        if remember and self._on_submit is not None:
            self._on_submit(encounter_id, user_id)
        self._pool.submit(self._run, encounter_id, user_id)
        return True

    def status(self, encounter_id: str) -> JobStatus | None:
        """The latest status, or None if this runner never saw the encounter."""
        with self._lock:
            return self._status.get(encounter_id)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=True)

    def _update(self, encounter_id: str, **changes: object) -> None:
        with self._lock:
            self._status[encounter_id] = replace(self._status[encounter_id], **changes)

    def _run(self, encounter_id: str, user_id: str) -> None:
        self._update(encounter_id, state="running", step="starting")

        def progress(step: str, fraction: float) -> None:
            self._update(encounter_id, step=step, fraction=max(0.0, min(1.0, fraction)))

        try:
            self._work(encounter_id, user_id, progress)
        except Exception as exc:  # any failure at all is reported to the page
            # The page gets a short message; the traceback (never locals) goes to the log.
            log.exception("processing %s failed (%s)", encounter_id, type(exc).__name__)
            self._update(encounter_id, state="failed", error=_explain(exc))
        else:
            self._update(encounter_id, state="done", step="done", fraction=1.0)


def encounter_runner(
    store: st.Store, data_dir: Path, engine: Engine | None = None, resume: bool = True
) -> Runner:
    """A runner that calls ``workbench.jobs.process_encounter`` for each submitted id.

    Each submission is remembered in the store (``job.queued``); with ``resume`` the runner
    starts by queueing the jobs an earlier server left unfinished (killed, restarted)."""
    shared = engine or Engine(store=store)

    def work(encounter_id: str, user_id: str, progress: Progress) -> object:
        return process_encounter(store, data_dir, shared, encounter_id, user_id, progress)

    def remember(encounter_id: str, user_id: str) -> None:
        record_queued(store, encounter_id, user_id)

    runner = Runner(work, on_submit=remember)
    if resume:
        for encounter_id, user_id in unfinished_jobs(store):
            log.info("resuming the unfinished job of %s", encounter_id)
            runner.submit(encounter_id, user_id, remember=False)
    return runner


def _explain(exc: Exception) -> str:
    from pipelines.audio import AudioError

    if isinstance(exc, AudioError | st.StoreError):
        return str(exc)  # these messages are written for people
    return f"Processing failed ({type(exc).__name__}); see the server log."
