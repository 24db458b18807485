"""Draft a note for every encounter of a data CSV and score it beside baseline predictions.

Every system gets the same metrics on the same references in one run: ``rouge1``,
``rouge2``, ``rougeLsum`` (``rouge``: the paper's protocol), ``concept_f1`` (``concepts``),
``unsupported_rate`` and ``evidence_coverage`` (the support check, ``pipelines.verify``).
Our drafter runs as production does: dialogue -> transcript -> clinical NLP entities ->
``draft_visit`` -> rendered note. The support check judges every system's sentences by the
same rules against the same transcript index: a baseline note is split by
``note_sentences`` and its sentences get their evidence by alignment; ours keep their
evidence links, which the check reads as one more place to look (it still checks them).
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

from spacy.language import Language

from pipelines.drafting.learned import LearnedOptions, draft_visit
from pipelines.drafting.phrases import PhraseMap
from pipelines.drafting.render import render_note
from pipelines.drafting.router import DrafterModel
from pipelines.nlp import extract_entities
from pipelines.note_eval.concepts import EntitiesFn, concept_scores
from pipelines.note_eval.data import NoteExample
from pipelines.note_eval.rouge import mean_scores, rouge_per_note
from pipelines.types import Draft, Entity, NoteSentence, SupportResult, Transcript
from pipelines.verify import (
    Lexicon,
    TranscriptIndex,
    VerifyOptions,
    dialogue_transcript,
    evidence_coverage,
    index_transcript,
    load_lexicon,
    note_sentences,
    unsupported_rate,
    verify_sentences,
)

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Drafted:
    """Our note for one encounter: the draft, its text, its transcript and entities, and
    the seconds the NLP and drafting took."""

    encounter_id: str
    draft: Draft
    text: str
    transcript: Transcript
    entities: tuple[Entity, ...]
    seconds: float


def draft_example(
    example: NoteExample,
    entities_of: EntitiesFn,
    options: LearnedOptions = LearnedOptions(),
    model: DrafterModel | None = None,
    phrases: PhraseMap | None = None,
) -> Drafted:
    """Our draft of one encounter, as production drafts it: transcript from the dialogue,
    entities from the NLP, ``draft_visit``."""
    started = time.perf_counter()
    transcript = dialogue_transcript(example.dialogue, example.encounter_id)
    entities = entities_of(transcript)
    draft = draft_visit(transcript, entities, options, model, phrases)
    seconds = time.perf_counter() - started
    log.info("drafted %s in %.2f s", example.encounter_id, seconds)
    return Drafted(example.encounter_id, draft, render_note(draft), transcript, entities, seconds)


def draft_all(
    examples: Sequence[NoteExample],
    entities_of: EntitiesFn,
    options: LearnedOptions = LearnedOptions(),
    model: DrafterModel | None = None,
    phrases: PhraseMap | None = None,
    progress: Progress | None = None,
) -> list[Drafted]:
    """Our draft of every encounter (``draft_example``)."""
    out = []
    for n, ex in enumerate(examples):
        if progress:
            progress(n, len(examples), f"drafting {ex.encounter_id}")
        out.append(draft_example(ex, entities_of, options, model, phrases))
    return out


def support_results(
    sentences: Sequence[NoteSentence],
    drafted: Drafted,
    nlp: Language | None,
    lexicon: Lexicon,
    index: TranscriptIndex | None = None,
    options: VerifyOptions = VerifyOptions(),
) -> tuple[SupportResult, ...]:
    """``verify_sentences`` of one system's sentences against the encounter's transcript.

    Pass ``index`` to reuse one transcript's index for every system's note.
    """
    if index is None:
        index = index_transcript(drafted.transcript, drafted.entities, lexicon, options.max_words)
    return verify_sentences(
        sentences, drafted.transcript, drafted.entities, nlp, options, lexicon, index
    )


def score_system(
    examples: Sequence[NoteExample],
    notes: dict[str, str],
    results: dict[str, Sequence[SupportResult]],
    entities_of: EntitiesFn,
) -> dict[str, Any]:
    """The averaged metrics of one system's notes (a missing note scores as empty);
    ``unsupported_rate`` and ``evidence_coverage`` are x 100 over all its sentences."""
    references = [ex.note for ex in examples]
    predictions = [notes.get(ex.encounter_id, "") for ex in examples]
    result: dict[str, Any] = mean_scores(rouge_per_note(references, predictions))
    concepts = concept_scores(references, predictions, entities_of)
    result["concept_f1"] = round(sum(concepts) / max(len(concepts), 1), 2)
    every = [r for ex in examples for r in results.get(ex.encounter_id, ())]
    result["unsupported_rate"] = round(100.0 * unsupported_rate(every), 2)
    result["evidence_coverage"] = round(100.0 * evidence_coverage(every), 2)
    result["sentences"] = len(every)
    result["notes"] = len(examples)
    missing = sum(1 for ex in examples if ex.encounter_id not in notes)
    if missing:
        result["missing_notes"] = missing
    return result


def evaluate_notes(
    examples: Sequence[NoteExample],
    baselines: dict[str, dict[str, str]],
    nlp: Language,
    options: LearnedOptions = LearnedOptions(),
    model: DrafterModel | None = None,
    phrases: PhraseMap | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, Any], list[Drafted]]:
    """``{"ours": {...}, "baselines": {NAME: {...}}}`` and our drafts.

    ``nlp`` (``pipelines.nlp.load_nlp``) finds the entities of transcripts, notes and note
    sentences. Every system's sentences are checked against the same transcript index.
    """

    def entities_of(transcript: Transcript) -> tuple[Entity, ...]:
        return extract_entities(nlp, transcript)

    drafted = draft_all(examples, entities_of, options, model, phrases, progress)
    lexicon = load_lexicon()
    ours_results: dict[str, tuple[SupportResult, ...]] = {}
    results: dict[str, dict[str, tuple[SupportResult, ...]]] = {name: {} for name in baselines}
    for n, d in enumerate(drafted):
        if progress:
            progress(n, len(drafted), f"checking {d.encounter_id}")
        index = index_transcript(d.transcript, d.entities, lexicon, VerifyOptions().max_words)
        ours_results[d.encounter_id] = support_results(d.draft.sentences, d, nlp, lexicon, index)
        for name, notes in baselines.items():
            sentences = note_sentences(notes.get(d.encounter_id, ""), lexicon)
            results[name][d.encounter_id] = support_results(sentences, d, nlp, lexicon, index)
    ours_notes = {d.encounter_id: d.text for d in drafted}
    ours = score_system(examples, ours_notes, ours_results, entities_of)
    seconds = [d.seconds for d in drafted]
    ours["seconds_per_note"] = round(sum(seconds) / max(len(seconds), 1), 3)
    ours["model_version"] = drafted[0].draft.model_version if drafted else ""
    scored = {
        name: score_system(examples, notes, results[name], entities_of)
        for name, notes in baselines.items()
    }
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
