"""Features of a transcript sentence for the section router: strings, one per active feature.

Words and word pairs of the tidied sentence, the speaker, whether it is a question and how
it was answered, the words of the question it answers, its place in the visit, its entity
labels and context, and the keyword cues. Everything comes from the transcript and the
entities, so training and drafting compute the same features.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from pipelines.drafting import cues
from pipelines.drafting.numbers import write_numbers
from pipelines.drafting.restate import tidy
from pipelines.drafting.sentences import answer_polarity, is_question
from pipelines.drafting.units import Unit

FEATURES_VERSION = "features.v2"
_WORD = re.compile(r"[a-z]+|\d+(?:\.\d+)?")
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("symptom", cues.SYMPTOM),
    ("medication", cues.MEDICATION),
    ("vital", cues.VITAL),
    ("exam", cues.EXAM),
    ("finding", cues.FINDING),
    ("impression", cues.IMPRESSION),
    ("diagnosis", cues.DIAGNOSIS),
    ("plan", cues.PLAN),
    ("test_order", cues.TEST_ORDER),
    ("follow_up", cues.FOLLOW_UP),
    ("directive", cues.DIRECTIVE),
    ("history", cues.HISTORY),
    ("narration", cues.NARRATION),
)


def _words(text: str) -> list[str]:
    # Digits become one shape token: "500" and "20" say the same thing to the router.
    return ["<num>" if w[0].isdigit() else w for w in _WORD.findall(write_numbers(text).lower())]


def unit_features(units: Sequence[Unit], k: int) -> list[str]:
    """The features of ``units[k]`` (its neighbours give the question/answer context)."""
    unit = units[k]
    words = _words(tidy(unit.text))
    feats = [f"w:{w}" for w in words]
    feats += [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    speaker = unit.speaker
    feats.append(f"spk:{speaker}")
    question = is_question(unit.text, speaker)
    if question:
        feats.append(f"q:{speaker}")
        nxt = units[k + 1] if k + 1 < len(units) else None
        if nxt is not None and nxt.speaker != speaker:
            polarity = answer_polarity(nxt.text)
            feats.append(f"ans:{'long' if polarity is None else 'yes' if polarity else 'no'}")
    prev = units[k - 1] if k > 0 else None
    if prev is not None and prev.speaker != speaker:
        if is_question(prev.text, prev.speaker):
            feats.append("answers_question")
            feats += [f"pq:{w}" for w in _words(tidy(prev.text))]
        polarity = answer_polarity(unit.text)
        if polarity is not None:
            feats.append(f"reply:{'yes' if polarity else 'no'}")
    n = len(units)
    feats.append(f"pos:{min(9, 10 * k // max(n, 1))}")
    feats.append(f"len:{min(len(words), 30) // 5}")
    turn_words = len(unit.turn.text.split())
    feats.append(f"turn:{min(turn_words, 120) // 20}")  # monologue (dictation) or exchange
    if any(w == "<num>" for w in words):
        feats.append("has_number")
    if question and k + 1 < len(units) and units[k + 1].speaker != speaker:
        feats += [f"na:{w}" for w in _words(tidy(units[k + 1].text))[:12]]
    for ent in unit.ents:
        feats.append(f"ent:{ent.label}")
        for flag in ("negated", "historical", "family", "hypothetical", "uncertain"):
            if getattr(ent, flag):
                feats.append(f"ent:{ent.label}:{flag}")
        for attr in ("dose", "frequency", "value"):
            if ent.attributes.get(attr):
                feats.append(f"attr:{ent.label}:{attr}")
    low = unit.low
    feats += [f"cue:{name}" for name, pattern in _CUES if pattern.search(low)]
    if re.search(r"\b(?:hey )?dragon\b", low):
        feats.append("dictation")
    return feats
