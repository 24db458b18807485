"""Who is the clinician: lexical cues over what each voice says."""

from __future__ import annotations

import re

import numpy as np

_CLINICIAN_CUES = re.compile(
    r"\b(you|your|you're|you've|we'll|we|let's|i'll|recommend|prescribe|prescribing|exam|"
    r"examine|take a look|how long|any|tell me|sounds like|follow up|come back|order|"
    r"start you|increase|decrease|doctor|dr)\b",
    re.IGNORECASE,
)
_PATIENT_CUES = re.compile(r"\b(i|i'm|i've|my|me|mine|doc|doctor's)\b", re.IGNORECASE)


def lexical_score(text: str) -> float:
    """Positive when the words sound like the clinician, negative like the patient."""
    words = max(len(text.split()), 1)
    questions = text.count("?")
    clinician = len(_CLINICIAN_CUES.findall(text)) + 2 * questions
    patient = len(_PATIENT_CUES.findall(text))
    return (clinician - patient) / words**0.5


def clinician_voice(texts: list[str], voices: list[int], first_bonus: float = 0.5) -> int:
    """Which voice (0/1) is the clinician: the one whose words score higher.

    The first speaker usually greets and asks what brings the patient in: a small prior
    that breaks ties towards the clinician.
    """
    scores = [0.0, 0.0]
    for text, voice in zip(texts, voices, strict=True):
        scores[voice] += lexical_score(text)
    if voices:
        scores[voices[0]] += first_bonus
    return int(np.argmax(scores))
