"""ASR scores: WER, medical WER, medical-term recall and speaker accuracy.

Protocol (the ``medwer`` 1.0.0 package): both sides are normalised with Whisper's
``EnglishTextNormalizer`` (pinned by medwer, number folding on); WER is token Levenshtein;
medical WER keeps only the phrases of medwer's fixed term list (greedy longest match, a
multi-word term is one unit) and scores what remains. Corpus numbers are micro-averages
(total edits / total reference words), as in ``medwer.Scorer``.

Our additions, on the same normalised tokens:

- medical-term recall: reference term units that the optimal alignment pairs with an
  identical hypothesis unit, over all reference term units;
- speaker accuracy: each reference turn and each hypothesis segment is normalised on its
  own, every token keeping its speaker; the two token streams are aligned (Levenshtein),
  and a reference token counts as right when it is aligned (match or substitution) to a
  hypothesis token of the same role. Deleted reference tokens count as wrong. Alignment
  rather than timestamps, so it also works for references without timings.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.types import Transcript


@dataclass(frozen=True)
class ItemScore:
    """Raw counts for one recording; sums of these give corpus rates."""

    item_id: str
    ref_words: int
    edits: int
    med_ref_terms: int
    med_edits: int
    med_hits: int
    speaker_words: int = 0
    speaker_correct: int = 0
    audio_s: float = 0.0
    asr_s: float = 0.0


@functools.lru_cache(maxsize=1)
def _protocol():
    from medwer import Scorer

    return Scorer()


def normalize(text: str) -> str:
    """Whisper English normalisation as pinned by medwer."""
    return _protocol().norm(text)


def medical_units(normalized: str) -> list[str]:
    """The medwer term-list units in normalised text ("chest_pain" for a phrase)."""
    scorer = _protocol()
    from medwer import keep_medical

    return keep_medical(normalized, scorer.entries, scorer.max_tokens).split()


def align(ref: Sequence[str], hyp: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """Optimal Levenshtein alignment as (ref index, hyp index) pairs; None is a gap.

    Ties prefer match/substitution, then deletion, then insertion.
    """
    n, m = len(ref), len(hyp)
    dist = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        dist[i][0] = i
    for j in range(m + 1):
        dist[0][j] = j
    for i in range(1, n + 1):
        row, prev, r = dist[i], dist[i - 1], ref[i - 1]
        for j in range(1, m + 1):
            row[j] = min(prev[j - 1] + (r != hyp[j - 1]), prev[j] + 1, row[j - 1] + 1)
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i or j:
        if i and j and dist[i][j] == dist[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and dist[i][j] == dist[i - 1][j] + 1:
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    pairs.reverse()
    return pairs


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Token Levenshtein distance (what WER counts)."""
    return sum(
        1 for r, h in align(ref, hyp) if r is None or h is None or ref[r] != hyp[h]
    )


def term_hits(ref_units: Sequence[str], hyp_units: Sequence[str]) -> int:
    """Reference term units aligned to an identical hypothesis unit."""
    return sum(
        1 for r, h in align(ref_units, hyp_units)
        if r is not None and h is not None and ref_units[r] == hyp_units[h]
    )


def speaker_counts(
    reference_turns: Sequence[tuple[str, str]], transcript: Transcript
) -> tuple[int, int]:
    """(reference tokens, tokens attributed to the right role); see the module docstring."""
    ref_tokens, ref_roles = _role_tokens(reference_turns)
    hyp_tokens, hyp_roles = _role_tokens([(s.speaker, s.text) for s in transcript.segments])
    correct = sum(
        1 for r, h in align(ref_tokens, hyp_tokens)
        if r is not None and h is not None and ref_roles[r] == hyp_roles[h]
    )
    return len(ref_tokens), correct


def _role_tokens(turns: Sequence[tuple[str, str]]) -> tuple[list[str], list[str]]:
    tokens: list[str] = []
    roles: list[str] = []
    for role, text in turns:
        words = normalize(text).split()
        tokens.extend(words)
        roles.extend([role] * len(words))
    return tokens, roles


def score_item(
    item_id: str,
    reference: str,
    hypothesis: str,
    *,
    audio_s: float = 0.0,
    asr_s: float = 0.0,
    speaker: tuple[int, int] = (0, 0),
) -> ItemScore:
    """Counts for one recording (raw reference and hypothesis text)."""
    ref, hyp = normalize(reference), normalize(hypothesis)
    ref_units, hyp_units = medical_units(ref), medical_units(hyp)
    return ItemScore(
        item_id=item_id,
        ref_words=len(ref.split()),
        edits=edit_distance(ref.split(), hyp.split()),
        med_ref_terms=len(ref_units),
        med_edits=edit_distance(ref_units, hyp_units),
        med_hits=term_hits(ref_units, hyp_units),
        speaker_words=speaker[0],
        speaker_correct=speaker[1],
        audio_s=audio_s,
        asr_s=asr_s,
    )


def summarize(items: Sequence[ItemScore]) -> dict[str, float | int | None]:
    """Micro-averaged corpus rates (None where a denominator is zero), rounded to 4 places."""

    def rate(num: float, den: float) -> float | None:
        return round(num / den, 4) if den else None

    total = {field: sum(getattr(i, field) for i in items) for field in (
        "ref_words", "edits", "med_ref_terms", "med_edits", "med_hits",
        "speaker_words", "speaker_correct", "audio_s", "asr_s")}
    return {
        "items": len(items),
        "ref_words": total["ref_words"],
        "medical_terms": total["med_ref_terms"],
        "audio_s": round(total["audio_s"], 1),
        "wer": rate(total["edits"], total["ref_words"]),
        "medical_wer": rate(total["med_edits"], total["med_ref_terms"]),
        "medical_term_recall": rate(total["med_hits"], total["med_ref_terms"]),
        "speaker_accuracy": rate(total["speaker_correct"], total["speaker_words"]),
        "rtf": rate(total["asr_s"], total["audio_s"]),
    }
