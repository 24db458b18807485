"""Speaker turns for a mono recording of two people in one room: clinician and patient.

v2 works below the Whisper segment, because on real recordings one segment often holds
the end of a question and the start of its answer:

1. units: every segment is cut at sentence ends and pauses (``units.py``); each cut
   carries a prior for a change of speaker (high after a question, low mid-sentence);
2. voices: MFCCs and pitch every 20 ms (``features.py``), averaged per unit, split into two
   voices by 2-means refined with a linear discriminant (``voices.py``);
3. smoothing: a two-state Viterbi pass over units weighs each unit's acoustic evidence
   against the prior cost of a change of speaker there;
4. roles: the voice whose words sound like the clinician (questions, "your", instructions,
   speaking first) is the clinician (``lexical.py``);
5. segments are split where the speaker changes; the words are never changed.

When the two voices are not separable (one speaker, or silence), each segment is
labelled from its words alone and nothing is split.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from pipelines.types import Speaker, Transcript

from .features import HOP_S, frame_features
from .lexical import clinician_voice, lexical_score
from .units import ChangePriors, group_units, rebuild_segments, split_units
from .voices import fit_voices, smooth, unit_features

__all__ = ["DIARIZER_VERSION", "DiarizeOptions", "assign_speakers", "lexical_score"]

DIARIZER_VERSION = "diarize.units-lda-viterbi.v2"


@dataclass(frozen=True)
class DiarizeOptions:
    """How speakers are found.

    min_separation: how far apart (in pooled standard deviations on the discriminant) the
        two voices must be to trust the acoustics; below it, words alone decide.
    priors: prior probability of a change of speaker before each word, by context.
    fit_cut_prior: boundaries at least this plausible cut the stretches the voices are
        fitted on (sentence ends, pauses, segment starts).
    full_evidence_s: units with this much speech count fully; shorter ones proportionally.
    max_word_llr: cap on one word's acoustic log-likelihood ratio.
    """

    min_separation: float = 1.5
    min_pitch_hz: float = 60.0
    max_pitch_hz: float = 400.0
    priors: ChangePriors = field(default_factory=ChangePriors)
    fit_cut_prior: float = 0.15
    full_evidence_s: float = 1.0
    max_word_llr: float = 4.0


def assign_speakers(
    transcript: Transcript, samples: np.ndarray, options: DiarizeOptions = DiarizeOptions()
) -> Transcript:
    """Return the transcript split into one-speaker segments, each clinician or patient.

    The output words are exactly the input words, in order; segments are re-indexed.
    """
    segments = transcript.segments
    if not segments:
        return transcript
    units = split_units(segments, options.priors)
    ff = frame_features(samples, options.min_pitch_hz, options.max_pitch_hz)
    # Fit the voices on sentence-sized stretches, then score every word with them.
    groups = group_units(units, options.fit_cut_prior)
    spans = [(units[a].start, units[b].end) for a, b in groups]
    x_fit, counts_fit = unit_features(ff, spans)
    voices = fit_voices(x_fit, counts_fit, options.full_evidence_s / HOP_S)
    if voices is None or voices.separation < options.min_separation:
        by_words: list[Speaker] = [
            "clinician" if lexical_score(s.text) > 0 else "patient" for s in segments
        ]
        labelled = tuple(replace(s, speaker=r) for s, r in zip(segments, by_words, strict=True))
        return transcript.with_segments(labelled)
    x, counts = unit_features(ff, [(u.start, u.end) for u in units])
    group_of = np.repeat(np.arange(len(groups)), [b - a + 1 for a, b in groups])
    word_labels = (voices.llr(x_fit, counts_fit) > 0).astype(int)[group_of]
    # No single word may outweigh the prior against changing speaker mid-sentence twice.
    cap = options.max_word_llr
    llr = np.clip(voices.recalibrated(x, counts, word_labels).llr(x, counts), -cap, cap)
    prior = np.array([u.change_prior for u in units])
    labels = smooth(llr, prior)
    texts = [u.text for u in units]
    clinician = clinician_voice(texts, labels.tolist())
    roles: list[Speaker] = ["clinician" if k == clinician else "patient" for k in labels]
    return transcript.with_segments(rebuild_segments(segments, units, roles))
