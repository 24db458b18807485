"""``scribe process --engine ray``: Ray workers compute, this process (the driver) writes.

Each actor of a pool holds an :class:`~workbench.jobs.Engine` (models loaded once per
actor) and runs only ``workbench.steps.compute`` on plain dataclasses, so a cluster needs
no access to the store. The driver plans each encounter's next step from the store, keeps
every actor busy (``ray.wait``), and writes each result as it arrives with the same store
functions as the local engine: a killed driver loses at most the work in flight, and a
re-run skips every stored step. Actors restart and their tasks are retried when a worker
dies; a task that still fails marks its encounter failed and the others go on.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pipelines.drafting import is_loopback
from workbench import steps as sp
from workbench import store as st
from workbench.jobs import Engine, PipelineOptions

log = logging.getLogger(__name__)

ACTOR_RESTARTS = 3  # a worker process that dies is started again this many times
TASK_RETRIES = 3  # and the steps it was running are sent to it again
IN_FLIGHT_PER_ACTOR = 2  # one running, one queued: the actor never waits for the driver
CONNECT_TIMEOUT_S = 5.0
# Ray's object store spills objects to files in plaintext when it is full: not by its
# spilling, here. (A full store can still fall back to files in Ray's temp folder.)
NO_SPILLING = {"automatic_object_spilling_enabled": False}

# (encounter id, step label or outcome, fraction of the encounter done)
OnStep = Callable[[str, str, float], None]


class RayUnavailable(Exception):
    """The Ray cluster cannot be reached or started; the message says what to do."""


@dataclass
class BatchSummary:
    """What a batch run did: encounters processed, already up to date, skipped, failed."""

    processed: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    step_seconds: dict[str, float] = field(default_factory=dict)
    audio_seconds: float = 0.0
    seconds: float = 0.0
    workers: int = 0

    def line(self) -> str:
        """One summary line (ids and counts only)."""
        return (
            f"{len(self.processed)} processed, {len(self.up_to_date)} up to date, "
            f"{len(self.skipped)} skipped, {len(self.failed)} failed on {self.workers} Ray "
            f"workers in {self.seconds:.1f} s ({self.audio_seconds / 60:.1f} min of audio)"
        )


def connect(address: str | None, encrypted: bool = False) -> None:
    """Join the Ray cluster at ``address`` (HOST:PORT), or start a local one without it.

    Usage statistics off, no dashboard, worker logs not forwarded to this terminal (they
    hold ids and timings only and stay in Ray's session folder). An address that does not
    answer fails within seconds with :class:`RayUnavailable` (``ray.init`` would retry for
    minutes). Decrypted audio and transcripts pass through Ray's object store, which may
    spill to disk unencrypted: for an ``encrypted`` store another machine's cluster is
    refused, and the local cluster started here never spills (a full object store then
    makes a step fail instead; each actor holds at most ``IN_FLIGHT_PER_ACTOR`` jobs).
    """
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if address:
        if encrypted and not is_loopback(f"ray://{address}"):
            raise RayUnavailable(
                f"The store is encrypted, and a Ray cluster at {address} would carry decrypted "
                "audio and transcripts over the network and may spill them to its disks "
                "unencrypted. Use a cluster on this machine (127.0.0.1, started with "
                "spilling off, see README) or no --address."
            )
        _check_reachable(address)
    import ray

    if ray.is_initialized():
        return
    try:
        ray.init(
            # No --address: a new cluster on this machine, never one that `ray start` or
            # RAY_ADDRESS named (that would skip the checks above and the spilling setting).
            address=address or "local",
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
            # Only a cluster started here takes a system config (joining one keeps its own).
            _system_config=None if address else NO_SPILLING,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"at {address}" if address else "on this machine"
        raise RayUnavailable(f"Cannot use the Ray cluster {where}: {exc}") from None


def _check_reachable(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise RayUnavailable(f"Ray address {address!r} is not HOST:PORT (e.g. 127.0.0.1:6379)")
    try:
        with socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        raise RayUnavailable(
            f"No Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
            "`ray start --head --disable-usage-stats --include-dashboard=false` or fix --address"
        ) from None


def cluster_cpus() -> int:
    """CPUs of the connected cluster (the default number of workers)."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


class StepWorker:
    """A Ray actor's state: one Engine, models loaded on first use and kept.

    ``options`` come without secrets (Ray keeps an actor's arguments in its cluster
    metadata): the LLM drafter's API key is read from the worker's own environment.
    """

    def __init__(self, options: PipelineOptions, ner: tuple[str, bytes] | None) -> None:
        if options.llm is not None:
            from workbench.settings import setting

            llm = replace(options.llm, api_key=setting("SCRIBE_LLM_API_KEY"))
            options = replace(options, llm=llm)
        trained = None
        if ner is not None:
            from pipelines.nlp.trained import unpack_model

            trained = (ner[0], unpack_model(ner[1]))
        self.engine = Engine(options, trained_ner=trained)
        self.scratch = Path(tempfile.mkdtemp(prefix="scribe-ray-"))

    def pid(self) -> int:
        """The worker's process id (tests kill it)."""
        return os.getpid()

    def run(self, job: sp.Job) -> tuple[Any, float]:
        """One step's computation and its seconds."""
        return sp.timed_compute(self.engine, job, self.scratch)


def worker_ner(store: st.Store) -> tuple[str, bytes] | None:
    """The store's active NER model packed for the workers (decrypted in memory), or None."""
    path = Engine(store=store).active_ner_model()
    if path is None:
        return None
    from pipelines.nlp.trained import pack_model
    from workbench import model_store

    return path, pack_model(model_store.load_model(store.path.parent, path, store.key))


def without_secrets(options: PipelineOptions) -> PipelineOptions:
    """``options`` as an actor is given them: without the LLM API key."""
    if options.llm is None:
        return options
    return replace(options, llm=replace(options.llm, api_key=""))


def start_pool(options: PipelineOptions, ner: tuple[str, bytes] | None, workers: int) -> list:
    """``workers`` actors, one CPU each, restarted (with their tasks retried) if they die.

    Ray would set a one-CPU actor's ``OMP_NUM_THREADS`` to 1, and the thread count changes
    the ASR's floating-point sums (word probabilities, then words): the actors get the
    local engine's count (SCRIBE_ASR_THREADS, in ``options``), so their results are its
    results. The options go without the LLM API key (see ``StepWorker``).
    """
    import ray

    threads = str(options.asr.cpu_threads)
    actor = ray.remote(num_cpus=1, max_restarts=ACTOR_RESTARTS, max_task_retries=TASK_RETRIES)(
        StepWorker
    ).options(runtime_env={"env_vars": {"OMP_NUM_THREADS": threads}})
    return [actor.remote(without_secrets(options), ner) for _ in range(workers)]


def run_batch(
    store: st.Store,
    data_dir: Path,
    ids: list[str],
    user_id: str,
    pool: list,
    on_step: OnStep | None = None,
) -> BatchSummary:
    """Process ``ids`` on the actors of ``pool``, writing each result as it arrives."""
    import ray
    from ray.exceptions import ActorDiedError, RayError

    report = on_step or (lambda eid, label, fraction: None)
    summary = BatchSummary(workers=len(pool))
    started = time.perf_counter()
    done: dict[str, list[str]] = {eid: [] for eid in ids}
    # Encounters whose next step is not planned yet: a job (maybe decrypted audio) is made
    # only when an actor has room for it, so the driver never holds every encounter's audio.
    waiting: deque[str] = deque(ids)
    load = {i: 0 for i in range(len(pool))}
    in_flight: dict[Any, tuple[sp.Job, int]] = {}

    def plan(eid: str) -> sp.Job | None:
        """The encounter's next step, or None after recording why it ends."""
        try:
            job = sp.plan_next(store, data_dir, eid, user_id, audio_in_memory=True)
        except st.NotFound as exc:  # e.g. audio purged before it was transcribed
            summary.skipped[eid] = str(exc)
            report(eid, "skipped", 1.0)
            return None
        if job is None:
            (summary.processed if done[eid] else summary.up_to_date).append(eid)
            report(eid, ",".join(done[eid]) or "up to date", 1.0)
            return None
        report(eid, *sp.STEP_PROGRESS[job.step])
        return job

    while waiting or in_flight:
        while waiting and load and min(load.values()) < IN_FLIGHT_PER_ACTOR:
            job = plan(waiting.popleft())
            if job is not None:
                index = min(load, key=load.get)
                in_flight[pool[index].run.remote(job)] = (job, index)
                load[index] += 1
        if not in_flight:
            if waiting:  # no actor left to run the waiting steps
                for eid in waiting:
                    summary.failed[eid] = "no Ray worker left"
                    report(eid, "failed", 1.0)
            break
        (ref,), _ = ray.wait(list(in_flight), num_returns=1)
        job, index = in_flight.pop(ref)
        if index in load:  # not if the actor is gone for good
            load[index] -= 1
        eid = job.encounter_id
        try:
            result, seconds = ray.get(ref)
        except RayError as exc:
            log.warning("%s failed on a Ray worker at %s: %s", eid, job.step, type(exc).__name__)
            summary.failed[eid] = f"{job.step}: {type(exc).__name__}"
            report(eid, "failed", 1.0)
            if isinstance(exc, ActorDiedError):  # restarts used up: this actor is gone
                load.pop(index, None)
            continue
        summary.step_seconds[job.step] = summary.step_seconds.get(job.step, 0.0) + seconds
        try:
            written = sp.write(store, job, result, user_id)
        except st.StoreError as exc:  # e.g. the note was signed meanwhile
            summary.failed[eid] = f"{job.step}: {type(exc).__name__}"
            report(eid, "failed", 1.0)
            continue
        if written:
            done[eid].append(job.step)
            if isinstance(job, sp.AsrJob):
                summary.audio_seconds += result.duration_s
        else:  # stale: someone else's newer work is kept; plan again from what is stored
            log.info("%s: %s result is stale, not written", eid, job.step)
        waiting.appendleft(eid)  # an encounter under way goes first: results land sooner
    summary.seconds = time.perf_counter() - started
    return summary
