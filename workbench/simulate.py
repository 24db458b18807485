"""Simulated usage for demos and scale tests (``scribe simulate``).

``SimulationSpec`` holds every parameter and distribution; ``simulate`` writes the app's own
raw tables (``workbench.store.simulation``, bulk SQL) so analytics, pages and exports treat
simulated encounters like real ones, except that ``encounters.source = 'simulated'`` marks
them everywhere they show (and training exports skip them).

The distributions (what makes the demo plausible; all drawn deterministically from the seed):

- **Clinicians** (``clinicians``): each has one specialty, a volume weight (lognormal, so a
  few clinicians see most patients), a start day (staggered adoption over the first half of
  the period), a review speed (lognormal around 1), a delay before reviewing (lognormal,
  median ``review_delay_hours``) and an ASR error factor (lognormal: accents, microphones).
  ``rubber_stamp_share`` of them are *rubber stampers*: they sign in a few seconds (far below
  reading time), accept flagged sentences without opening them and rarely edit anything.
- **Encounters**: created on working hours of a uniform day after the clinician's start;
  note type follows the specialty (``SPECIALTIES``); 12-23 transcript segments, 12-23 note
  sentences spread over the template's sections (``annotations/note_templates/``).
- **Model versions** roll out over time (``DRAFTERS``, ``ASR_MODELS``, ``NLP_VERSIONS``: a
  version takes over from its start fraction of the period, ramping over ``rollout_ramp``).
  Newer drafters produce fewer unsupported sentences and fewer edits.
- **Review**: reviewed once the clinician's delay has passed (encounters near the end of the
  period are still waiting); ``sign_rate`` of reviewed ones are signed. Active review time is
  lognormal (sigma 0.5) around ``review_seconds_median`` times the clinician's speed (a
  ``review.active`` heartbeat per 15 s of it).
- **Sentence outcomes** depend on the support label and the drafter version: base delete
  and edit probabilities per label (``DELETE_P``, ``EDIT_P``; unsupported sentences are
  rejected or edited far more often), times the drafter's ``edit_factor`` and the section's
  factor (assessment and plan are edited most). Flagged (unsupported) sentences kept as they
  are are explicitly accepted (signing requires it); others are accepted explicitly at
  ``accept_p``. Normal reviewers open (play) most flagged sentences first.
- **ASR errors**: a segment carries one misheard word with probability
  ``base_wer`` x words x clinician factor x specialty factor x ASR model factor; clinicians
  who correct the transcript (``transcript_fix_p``) fix them, one
  ``transcript.word_corrected`` event each, in a corrected transcript version.
- **Entity corrections**, skewed to some labels (``ENTITY_CONFUSION``, ``ENTITY_MISS``): the
  NLP mislabels some mentions (TEST as PROCEDURE, PROBLEM as ANATOMY ...), misses some
  (added by people) and tags a few non-mentions (removed by people).
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from workbench.store import analytics
from workbench.store.analytics import READING_WPM
from workbench.store.db import Store

MAX_ENCOUNTERS = 2_000_000  # a bigger run would take hours and tens of GB: refuse it
MAX_DAYS = 3_650
CHUNK = 10_000  # encounters per transaction: bounded memory, a kill leaves whole encounters

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "annotations" / "note_templates"

# specialty -> (note types it uses, weights; ASR error factor: more jargon, more errors)
SPECIALTIES: dict[str, tuple[tuple[str, ...], tuple[float, ...], float]] = {
    "primary care": (("soap", "progress_note", "aci_visit"), (0.5, 0.3, 0.2), 1.0),
    "cardiology": (("cardiology_visit", "progress_note", "referral_letter"), (0.7, 0.2, 0.1), 1.4),
    "orthopedics": (("orthopedic_visit", "soap", "after_visit_summary"), (0.7, 0.2, 0.1), 1.2),
    "internal medicine": (("aci_visit", "progress_note", "soap"), (0.5, 0.3, 0.2), 1.1),
}

# (model version, start fraction of the period, quality factors)
DRAFTERS: tuple[tuple[str, float, float, float], ...] = (
    # name, start, unsupported share, edit factor
    ("draft.soap-rules.v2", 0.0, 0.14, 1.0),
    ("draft.learned.v1+sim-1", 0.35, 0.10, 0.8),
    ("draft.llm.v1+local:sim-8b", 0.7, 0.06, 0.6),
)
ASR_MODELS: tuple[tuple[str, float, float], ...] = (
    ("faster-whisper-1.1.1/small.en/int8", 0.0, 1.0),
    ("faster-whisper-1.1.1/medium.en/int8", 0.5, 0.7),
)
NLP_VERSIONS: tuple[tuple[str, float, float], ...] = (
    ("nlp.rules.v2", 0.0, 1.0),
    ("nlp.rules.v3", 0.4, 0.75),
)

# Support label -> base probability that a reviewer deletes / edits the sentence.
DELETE_P = {"supported": 0.02, "partly_supported": 0.07, "unsupported": 0.30}
EDIT_P = {"supported": 0.07, "partly_supported": 0.25, "unsupported": 0.40}
# Label -> (label the NLP confuses it with, probability), and probability it is missed.
ENTITY_CONFUSION = {
    "PROBLEM": ("ANATOMY", 0.06),
    "MEDICATION": ("PROBLEM", 0.02),
    "TEST": ("PROCEDURE", 0.18),
    "PROCEDURE": ("TEST", 0.12),
    "ANATOMY": ("PROBLEM", 0.05),
    "VITAL": ("TEST", 0.10),
}
ENTITY_MISS = {
    "PROBLEM": 0.04,
    "MEDICATION": 0.03,
    "TEST": 0.08,
    "PROCEDURE": 0.10,
    "ANATOMY": 0.12,
    "VITAL": 0.05,
}


class SimulationError(ValueError):
    """A simulation request that cannot run (bad size, days, ...); nothing was written."""


@dataclass(frozen=True)
class SimulationSpec:
    """What to simulate. Same spec (seed included) on an empty store -> identical rows."""

    encounters: int
    seed: int = 0
    days: int = 90
    end: date | None = None  # last simulated day (default: yesterday, UTC: nothing in the future)
    clinicians: int = 24
    rubber_stamp_share: float = 0.12
    specialties: tuple[str, ...] = tuple(SPECIALTIES)
    review_seconds_median: float = 330.0
    review_delay_hours: float = 4.0
    sign_rate: float = 0.96
    accept_p: float = 0.65
    transcript_fix_p: float = 0.55
    entity_review_p: float = 0.6
    base_wer: float = 0.012  # per word; x ~9 words per segment
    rollout_ramp: float = 0.08
    chunk: int = CHUNK
    note_types: tuple[str, ...] = field(default_factory=tuple)  # filled from the templates

    def validated(self) -> SimulationSpec:
        """This spec, checked (SimulationError says what is wrong) and with defaults filled."""
        if isinstance(self.encounters, bool) or not isinstance(self.encounters, int):
            raise SimulationError(f"--encounters must be a whole number, got {self.encounters!r}")
        if self.encounters <= 0:
            raise SimulationError(f"--encounters must be at least 1, got {self.encounters}")
        if self.encounters > MAX_ENCOUNTERS:
            raise SimulationError(
                f"--encounters {self.encounters:,} is over the cap of {MAX_ENCOUNTERS:,} per run;"
                " run it several times to append more"
            )
        if not 1 <= self.days <= MAX_DAYS:
            raise SimulationError(f"--days must be between 1 and {MAX_DAYS}, got {self.days}")
        if not 1 <= self.clinicians <= 1000:
            raise SimulationError(f"clinicians must be between 1 and 1000, got {self.clinicians}")
        unknown = [s for s in self.specialties if s not in SPECIALTIES]
        if unknown or not self.specialties:
            raise SimulationError(f"Unknown specialties {unknown}; known: {list(SPECIALTIES)}")
        if not 0 <= self.seed < 2**62:
            raise SimulationError(f"--seed must be between 0 and 2**62, got {self.seed}")
        if self.chunk < 1:
            raise SimulationError("chunk must be at least 1")
        templates = available_templates()
        if self.end is not None and self.end >= datetime.now(UTC).date():
            raise SimulationError(
                f"The last simulated day must be before today (UTC), got {self.end}: "
                "simulated work never happens in the future"
            )
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        return replace(self, end=self.end or yesterday, note_types=tuple(sorted(templates)))

    def to_json(self) -> str:
        """The spec as JSON (stored with the run)."""
        return json.dumps(asdict(self), sort_keys=True, default=str)


@dataclass(frozen=True)
class SimulationResult:
    """What a run wrote: its number, rows per table and how long it took."""

    run: int
    encounters: int
    counts: dict[str, int]
    seconds: float


@dataclass(frozen=True)
class Clinician:
    """One simulated clinician and their habits (see the module docstring)."""

    user_id: str
    display_name: str
    specialty: str
    weight: float
    start_frac: float
    speed: float
    delay_hours: float
    wer_factor: float
    rubber_stamp: bool


_SURNAMES = (
    "Abara",
    "Berg",
    "Castillo",
    "Dunn",
    "Eriksen",
    "Fofana",
    "Grant",
    "Haddad",
    "Ito",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Sato",
    "Tanaka",
    "Usman",
    "Varga",
    "Weber",
    "Xu",
    "Yilmaz",
    "Zamora",
)


def available_templates() -> dict[str, list[str]]:
    """Note type id -> its section keys, from ``annotations/note_templates/``."""
    found = {}
    for path in sorted(TEMPLATES_DIR.glob("*.json")):
        data = json.loads(path.read_text())
        found[data["id"]] = [s["key"] for s in data["sections"]]
    return found


def make_clinicians(spec: SimulationSpec) -> list[Clinician]:
    """The spec's clinicians (a few dozen rows: drawn in Python from the seed)."""
    rng = random.Random(f"clinicians/{spec.seed}")
    rubber = max(1, round(spec.clinicians * spec.rubber_stamp_share)) if spec.clinicians > 1 else 0
    stampers = set(rng.sample(range(spec.clinicians), rubber))
    out = []
    for i in range(spec.clinicians):
        surname = _SURNAMES[i % len(_SURNAMES)]
        suffix = "" if i < len(_SURNAMES) else f" {i // len(_SURNAMES) + 1}"
        out.append(
            Clinician(
                user_id=f"sim-{spec.seed}-clin-{i:03d}",
                display_name=f"Dr {surname}{suffix} (simulated)",
                specialty=spec.specialties[i % len(spec.specialties)],
                weight=rng.lognormvariate(0.0, 0.6),
                start_frac=0.0 if i < max(1, spec.clinicians // 3) else rng.uniform(0.0, 0.5),
                speed=rng.lognormvariate(0.0, 0.3),
                delay_hours=spec.review_delay_hours * rng.lognormvariate(0.0, 0.5),
                wer_factor=rng.lognormvariate(0.0, 0.35),
                rubber_stamp=i in stampers,
            )
        )
    return out


def simulate(store: Store, spec: SimulationSpec) -> SimulationResult:
    """Generate ``spec.encounters`` simulated encounters into ``store`` (appending: ids never
    collide with existing ones), one transaction per ``spec.chunk`` encounters, then one
    audited ``simulation.run`` event. Requires ``simulation.run`` (admins, the operator).
    Raises SimulationError for a bad spec, before anything is written."""
    from workbench.store import simulation as sim_sql

    spec = spec.validated()
    started = time.perf_counter()
    sim_sql.require_run(store)
    clinicians = make_clinicians(spec)
    templates = available_templates()
    run = sim_sql.start_run(store, spec, clinicians)
    counts: dict[str, int] = {}
    for lo in range(0, spec.encounters, spec.chunk):
        hi = min(spec.encounters, lo + spec.chunk)
        written = sim_sql.write_chunk(store, spec, run, clinicians, templates, lo, hi)
        for table, n in written.items():
            counts[table] = counts.get(table, 0) + n
    seconds = time.perf_counter() - started
    sim_sql.finish_run(store, run, counts, seconds)
    analytics.refresh(store)  # the Analytics page and notebooks see the new encounters at once
    return SimulationResult(run=run, encounters=spec.encounters, counts=counts, seconds=seconds)


def period(spec: SimulationSpec) -> tuple[datetime, datetime]:
    """The simulated period: [start, end) in naive UTC, ``days`` days ending with ``end``."""
    end = datetime.combine(spec.end, datetime.min.time()) + timedelta(days=1)
    return end - timedelta(days=spec.days), end


def reading_seconds(words: int) -> float:
    """How long skimming ``words`` takes at READING_WPM."""
    return words / READING_WPM * 60.0
