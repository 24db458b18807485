"""Draft a note for every encounter of a data CSV and score it beside baseline predictions.

Every system gets the same metrics on the same references in one run: ``rouge1``,
``rouge2``, ``rougeLsum`` (``rouge``: the paper's protocol), ``concept_f1`` (``concepts``),
``unsupported_rate`` and ``evidence_coverage`` (``support``, provisional). Our drafter runs
as production does: dialogue -> transcript -> clinical NLP entities -> ``draft_visit`` ->
rendered note; its sentences bring their own evidence links, baselines are aligned.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.drafting.learned import LearnedOptions, draft_visit
from pipelines.drafting.phrases import TERMS_PATH, PhraseMap, load_phrases
from pipelines.drafting.render import render_note
from pipelines.drafting.router import DrafterModel
from pipelines.note_eval.concepts import EntitiesFn, concept_scores
from pipelines.note_eval.data import NoteExample, dialogue_transcript
from pipelines.note_eval.rouge import mean_scores, rouge_per_note
from pipelines.note_eval.support import (
    SentenceCheck,
    check_sentences,
    note_sentences,
    support_summary,
)
from pipelines.types import Draft, Transcript

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Drafted:
    """Our note for one encounter: the draft, its text and its transcript."""

    encounter_id: str
    draft: Draft
    text: str
    transcript: Transcript
    seconds: float


def evidence_texts(draft: Draft, transcript: Transcript) -> list[tuple[str, list[str]]]:
    """(sentence text, the transcript text each of its evidence links points at)."""
    by_idx = {s.idx: s.text for s in transcript.segments}
    return [
        (s.text, [by_idx[e.segment_idx][e.start_char : e.end_char] for e in s.evidence])
        for s in draft.sentences
    ]


def draft_all(
    examples: Sequence[NoteExample],
    entities_of: EntitiesFn,
    options: LearnedOptions = LearnedOptions(),
    model: DrafterModel | None = None,
    phrases: PhraseMap | None = None,
    progress: Progress | None = None,
) -> list[Drafted]:
    """Our draft of every encounter (transcript from the dialogue, entities from the NLP)."""
    out = []
    for n, ex in enumerate(examples):
        if progress:
            progress(n, len(examples), ex.encounter_id)
        started = time.perf_counter()
        transcript = dialogue_transcript(ex.dialogue, ex.encounter_id)
        draft = draft_visit(transcript, entities_of(transcript), options, model, phrases)
        seconds = time.perf_counter() - started
        out.append(Drafted(ex.encounter_id, draft, render_note(draft), transcript, seconds))
        log.info("drafted %s in %.2f s", ex.encounter_id, seconds)
    return out


def score_system(
    examples: Sequence[NoteExample],
    notes: dict[str, str],
    checks: dict[str, list[SentenceCheck]],
    entities_of: EntitiesFn,
) -> dict[str, Any]:
    """The averaged metrics of one system's notes (a missing note scores as empty)."""
    references = [ex.note for ex in examples]
    predictions = [notes.get(ex.encounter_id, "") for ex in examples]
    result: dict[str, Any] = mean_scores(rouge_per_note(references, predictions))
    concepts = concept_scores(references, predictions, entities_of)
    result["concept_f1"] = round(sum(concepts) / max(len(concepts), 1), 2)
    every = [c for ex in examples for c in checks.get(ex.encounter_id, [])]
    summary = support_summary(every)
    result["unsupported_rate"] = round(summary["unsupported_rate"], 2)
    result["evidence_coverage"] = round(summary["evidence_coverage"], 2)
    result["sentences"] = summary["sentences"]
    result["notes"] = len(examples)
    missing = sum(1 for ex in examples if ex.encounter_id not in notes)
    if missing:
        result["missing_notes"] = missing
    return result


def evaluate_notes(
    examples: Sequence[NoteExample],
    baselines: dict[str, dict[str, str]],
    entities_of: EntitiesFn,
    options: LearnedOptions = LearnedOptions(),
    model: DrafterModel | None = None,
    phrases: PhraseMap | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[Drafted]]:
    """``{"ours": {...}, "baselines": {NAME: {...}}}`` and our drafts.

    The support check reads every system's sentences with the same wording knowledge (the
    mined phrase mappings and the curated noun forms, ``annotations/drafting``).
    """
    drafted = draft_all(examples, entities_of, options, model, phrases, progress)
    wording = (phrases or load_phrases()).merged(load_phrases(TERMS_PATH))
    transcripts = {d.encounter_id: d.transcript for d in drafted}
    ours_checks = {
        d.encounter_id: check_sentences(
            evidence_texts(d.draft, d.transcript), d.transcript, wording
        )
        for d in drafted
    }
    ours = score_system(
        examples, {d.encounter_id: d.text for d in drafted}, ours_checks, entities_of
    )
    seconds = [d.seconds for d in drafted]
    ours["seconds_per_note"] = round(sum(seconds) / max(len(seconds), 1), 3)
    ours["model_version"] = drafted[0].draft.model_version if drafted else ""
    scored: dict[str, Any] = {}
    for name, notes in baselines.items():
        checks = {
            ex.encounter_id: check_sentences(
                [(s, None) for s in note_sentences(notes.get(ex.encounter_id, ""))],
                transcripts[ex.encounter_id],
                wording,
            )
            for ex in examples
        }
        scored[name] = score_system(examples, notes, checks, entities_of)
    return {"ours": ours, "baselines": scored}, drafted


def save_predictions(path: Path, drafted: Sequence[Drafted]) -> None:
    """Write ``encounter_id, note, evidence``; evidence is JSON: per sentence its section,
    text and links (segment, character span, audio times, quoted transcript text)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["encounter_id", "note", "evidence"])
        for d in drafted:
            by_idx = {s.idx: s.text for s in d.transcript.segments}
            evidence = [
                {
                    "section": s.section,
                    "text": s.text,
                    "evidence": [
                        {
                            "segment": e.segment_idx,
                            "start_char": e.start_char,
                            "end_char": e.end_char,
                            "start_s": e.start_s,
                            "end_s": e.end_s,
                            "quote": by_idx[e.segment_idx][e.start_char : e.end_char],
                        }
                        for e in s.evidence
                    ],
                }
                for s in d.draft.sentences
            ]
            writer.writerow([d.encounter_id, d.text, json.dumps(evidence)])
