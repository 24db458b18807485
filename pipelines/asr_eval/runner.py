"""Run the recogniser over an evaluation set and score it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from pipelines.asr import AsrOptions, transcribe
from pipelines.asr_eval.datasets import EvalItem
from pipelines.asr_eval.scoring import ItemScore, score_item, speaker_counts, summarize
from pipelines.audio import SAMPLE_RATE, load_samples
from pipelines.spelling import apply_spelling
from pipelines.term_repair import default_index, repair_transcript


@dataclass(frozen=True)
class EvalReport:
    """Corpus scores, per-item counts and the options that produced them."""

    dataset: str
    scores: dict[str, float | int | None]
    items: tuple[ItemScore, ...]
    options: dict = field(default_factory=dict)

    def to_json(self, per_item: bool = False) -> dict:
        out = {"dataset": self.dataset, **self.scores,
               "options": {k: v for k, v in self.options.items() if v not in (None, "")}}
        if per_item:
            out["per_item"] = [asdict(i) for i in self.items]
        return out


def evaluate(
    model,
    items: Sequence[EvalItem],
    options: AsrOptions = AsrOptions(),
    *,
    dataset: str = "",
    speakers: bool = False,
    repair: bool = True,
    spelling: Sequence[str] = (),
    terms: Sequence[str] = (),
    progress: Callable[[int, int, str], None] | None = None,
) -> EvalReport:
    """Transcribe every item and score it; ``speakers`` also runs the diariser.

    ``repair`` runs the medical term repair right after recognition, as processing does;
    ``terms`` (a clinician's vocabulary) extend the repair's terminology; ``spelling``
    applies preferred spellings after it, as a clinician's vocabulary does.
    RTF counts recognition (and repair) time only (decoding the file and loading the model
    are excluded), summed over items and divided by the summed audio duration.
    """
    scores: list[ItemScore] = []
    index = default_index().with_terms(terms) if repair else None
    for n, item in enumerate(items):
        if progress:
            progress(n, len(items), item.item_id)
        samples = load_samples(item.audio)
        started = time.perf_counter()
        transcript = transcribe(model, samples, options)
        if repair:
            transcript = repair_transcript(transcript, index)
        if spelling:
            transcript = apply_spelling(transcript, spelling)
        asr_s = time.perf_counter() - started
        counts = (0, 0)
        if speakers:
            from pipelines.diarize import assign_speakers

            counts = speaker_counts(item.turns, assign_speakers(transcript, samples))
        hypothesis = " ".join(s.text for s in transcript.segments)
        scores.append(score_item(item.item_id, item.reference, hypothesis,
                                 audio_s=len(samples) / SAMPLE_RATE, asr_s=asr_s,
                                 speaker=counts))
    if progress:
        progress(len(items), len(items), "")
    summary = summarize(scores)
    if not speakers:
        summary.pop("speaker_accuracy")
    used = {**asdict(options), "term_repair": repair, "spelling": list(spelling),
            "terms": list(terms)}
    return EvalReport(dataset, summary, tuple(scores), used)
