"""Evaluation sets: recordings with reference turns.

- ``fareez``: ``fareez-osce-interviews`` — ``Audio Recordings/NAME.mp3`` with
  ``Clean Transcripts/NAME.txt`` ("D: ..." / "P: ..." lines).
- ``synthetic-aci``: ACI-Bench dialogues (``data/challenge_data/*.csv``, ``[doctor]`` /
  ``[patient]`` lines) voiced with :func:`pipelines.synth.synthesize_dialogue` (default
  :class:`SynthOptions`), cached as ``CACHE/synthetic-aci/<encounter_id>-<hash>.ogg`` where
  the hash covers the synth options and the dialogue text.
- a folder: ``NAME.{wav,mp3,ogg,opus,flac,m4a,webm}`` beside ``NAME.txt`` whose lines are
  ``D:``/``P:``, ``DOCTOR:``/``CLINICIAN:``/``PATIENT:`` or ``[doctor]``/``[patient]``; lines
  without a prefix continue the previous turn; blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

AUDIO_SUFFIXES: tuple[str, ...] = (".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a", ".webm")
ACI_SPLITS: dict[str, str] = {
    "train": "train.csv",
    "valid": "valid.csv",
    "test1": "clinicalnlp_taskB_test1.csv",
    "test2": "clinicalnlp_taskC_test2.csv",
}
_ROLE_PREFIX = re.compile(
    r"^\s*(?:\[(doctor|patient|clinician|patient_guest)\]|(d|p|dr|doctor|clinician|patient)\s*:)"
    r"\s*(.*)$",
    re.IGNORECASE,
)
_ROLES = {
    "d": "clinician",
    "dr": "clinician",
    "doctor": "clinician",
    "clinician": "clinician",
    "p": "patient",
    "patient": "patient",
    "patient_guest": "unknown",
}  # ACI-Bench: someone with the patient (a parent)


@dataclass(frozen=True)
class EvalItem:
    """One recording and what was said in it, turn by turn (role, text)."""

    item_id: str
    audio: Path
    turns: tuple[tuple[str, str], ...]

    @property
    def reference(self) -> str:
        return " ".join(text for _, text in self.turns)


def parse_reference(text: str) -> tuple[tuple[str, str], ...]:
    """Reference turns from a "D:/P:", "CLINICIAN:/PATIENT:" or "[doctor]/[patient]" text."""
    turns: list[list[str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _ROLE_PREFIX.match(line)
        if match:
            role = _ROLES[(match.group(1) or match.group(2)).lower()]
            turns.append([role, match.group(3).strip()])
        elif turns:
            turns[-1][1] = f"{turns[-1][1]} {line}".strip()
        else:
            turns.append(["unknown", line])
    return tuple((role, body) for role, body in turns if body)


def folder_items(folder: Path, limit: int | None = None) -> list[EvalItem]:
    """Every ``NAME.<audio>`` in ``folder`` that has a ``NAME.txt`` reference, by name."""
    items = []
    for audio in sorted(Path(folder).iterdir()):
        ref = audio.with_suffix(".txt")
        if audio.suffix.lower() in AUDIO_SUFFIXES and ref.is_file():
            items.append(EvalItem(audio.stem, audio, parse_reference(ref.read_text("utf-8"))))
    return items[:limit] if limit else items


def fareez_items(root: Path, limit: int | None = None) -> list[EvalItem]:
    """The fareez OSCE recordings that have a clean transcript (CAR0001 today)."""
    items = []
    for audio in sorted((Path(root) / "Audio Recordings").iterdir()):
        ref = Path(root) / "Clean Transcripts" / f"{audio.stem}.txt"
        if audio.suffix.lower() in AUDIO_SUFFIXES and ref.is_file():
            text = ref.read_text("utf-8", errors="replace")
            items.append(EvalItem(audio.stem, audio, parse_reference(text)))
    return items[:limit] if limit else items


def default_cache_dir() -> Path:
    """``$SCRIBE_CACHE`` or ``~/.cache/scribe-workbench``."""
    return Path(os.environ.get("SCRIBE_CACHE") or Path.home() / ".cache" / "scribe-workbench")


def aci_dialogues(root: Path, split: str = "test1") -> Iterator[tuple[str, str]]:
    """(encounter_id, dialogue) rows of an ACI-Bench split."""
    if split not in ACI_SPLITS:
        raise ValueError(f"unknown ACI-Bench split {split!r}; use one of {sorted(ACI_SPLITS)}")
    path = Path(root) / "data" / "challenge_data" / ACI_SPLITS[split]
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            yield row["encounter_id"], row["dialogue"]


def synthetic_aci_items(
    root: Path,
    split: str = "test1",
    limit: int | None = 10,
    cache_dir: Path | None = None,
    synth_options=None,
) -> list[EvalItem]:
    """ACI-Bench dialogues voiced by two synthetic voices, synthesised once and cached."""
    from pipelines.synth import SynthOptions, Turn, synthesize_dialogue

    options = synth_options or SynthOptions()
    folder = (cache_dir or default_cache_dir()) / "synthetic-aci"
    items = []
    for encounter_id, dialogue in aci_dialogues(root, split):
        if limit and len(items) >= limit:
            break
        turns = tuple(
            (role, _speakable(text))
            for role, text in parse_reference(dialogue)
            if role != "unknown" and _speakable(text)
        )
        key = hashlib.sha256(
            json.dumps([asdict(options), turns], sort_keys=True).encode()
        ).hexdigest()[:12]
        audio = folder / f"{encounter_id}-{key}.ogg"
        if not audio.is_file():
            tmp = audio.with_name(f".{audio.stem}.tmp.ogg")
            synthesize_dialogue([Turn(r, t) for r, t in turns], tmp, options)
            tmp.replace(audio)  # atomic: an interrupted run never leaves a half file
        items.append(EvalItem(encounter_id, audio, turns))
    return items


def _speakable(text: str) -> str:
    # espeak-ng would read markup aloud; ACI-Bench has none today, but be safe.
    return " ".join(re.sub(r"<[^>]*>", " ", text).split())
