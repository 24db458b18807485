"""Run the clinical NLP over gold documents and score it, by split and overall.

Each document line is one utterance: its role prefix (``[doctor]``, ``D:`` ...) becomes the
segment's speaker and is cut off, as the production pipeline sees a transcript of speaker-labelled
segments (so answers in the next turn count, see ``pipelines.nlp.dialogue``), and entity offsets
are mapped back to the document.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from spacy.language import Language

from pipelines.nlp.extract import extract_entities
from pipelines.nlp_eval.gold import FLAGS, GoldDocument, GoldEntity, gold_text
from pipelines.nlp_eval.scoring import Tally
from pipelines.types import Segment, Speaker, Transcript

_PREFIX = re.compile(r"^\s*(?:\[(doctor|patient)\]|([DP])[:;])\s*", re.IGNORECASE)


def utterances(text: str) -> list[tuple[int, str, Speaker]]:
    """(document offset, text, speaker) of every non-empty line, without its role prefix."""
    out: list[tuple[int, str, Speaker]] = []
    offset = 0
    for line in text.split("\n"):
        prefix = _PREFIX.match(line)
        cut = prefix.end() if prefix else 0
        role = (prefix.group(1) or prefix.group(2) or "").lower()[:1] if prefix else ""
        speaker: Speaker = {"d": "clinician", "p": "patient"}.get(role, "unknown")
        body = line[cut:]
        if body.strip():
            out.append((offset + cut, body, speaker))
        offset += len(line) + 1
    return out


def predict(nlp: Language, text: str) -> list[GoldEntity]:
    """The pipeline's entities of a document, with document offsets and context flags."""
    lines = utterances(text)
    segments = tuple(
        Segment(idx=i, start=float(i), end=float(i + 1), text=body, speaker=speaker)
        for i, (_, body, speaker) in enumerate(lines)
    )
    transcript = Transcript(segments=segments, language="en", duration_s=float(len(lines)),
                            model="gold-text")
    return [
        GoldEntity(
            lines[ent.segment_idx][0] + ent.start,
            lines[ent.segment_idx][0] + ent.end,
            ent.label,
            **{flag: bool(getattr(ent, flag)) for flag in FLAGS},
        )
        for ent in extract_entities(nlp, transcript)
    ]


def evaluate(
    nlp: Language,
    docs: list[GoldDocument],
    datasets_root: Path,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict:
    """Score ``nlp`` on ``docs``: the overall report plus ``by_split`` and throughput."""
    overall, by_split = Tally(), {}
    words, seconds = 0, 0.0
    for n, doc in enumerate(docs):
        if progress:
            progress(n, len(docs), doc.doc_id)
        text = gold_text(doc, datasets_root)
        started = time.perf_counter()
        predicted = predict(nlp, text)
        seconds += time.perf_counter() - started
        words += len(text.split())
        gold = list(doc.entities)
        overall.add(gold, predicted)
        by_split.setdefault(doc.split, Tally()).add(gold, predicted)
    report = overall.report()
    report["words_per_second"] = round(words / seconds, 1) if seconds else None
    report["by_split"] = {split: tally.report() for split, tally in sorted(by_split.items())}
    return report
