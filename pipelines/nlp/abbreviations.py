"""Spoken abbreviations that come without a long form nearby ("BP", "SOB", "CHF", "A1c").

scispaCy's ``AbbreviationDetector`` resolves an abbreviation defined in the same text
("chronic obstructive pulmonary disease (COPD)"); people rarely define what they say, so
``annotations/vocab/abbreviations.tsv`` lists the common ones with their long forms. The
linker looks a mention up by its long form, and finds an unmatched abbreviation in the text
only when it is written like one (capitals, or a capital and a digit): "SOB", not "sob".
"""

from __future__ import annotations

from pathlib import Path

from pipelines.nlp.vocab import VOCAB_DIR, read_tsv

ABBREVIATIONS_FILE = "abbreviations.tsv"


def load_abbreviations(vocab_dir: Path = VOCAB_DIR) -> dict[str, str]:
    """Lower-case abbreviation -> lower-case long form."""
    path = vocab_dir / ABBREVIATIONS_FILE
    out: dict[str, str] = {}
    for row in read_tsv(path):
        short, long = row["term"].lower(), " ".join(row["long_form"].lower().split())
        if not long:
            raise ValueError(f"{path.name}: abbreviation {short!r} has no long form")
        out[short] = long
    return out


def looks_like_abbreviation(text: str) -> bool:
    """"SOB", "HbA1c", "A1c", "HFrEF" yes; "sob", "Sob", "Bob" no."""
    if len(text) < 2 or not text[0].isalpha():
        return False
    uppers = sum(ch.isupper() for ch in text)
    return text.isupper() or uppers >= 2 or (uppers == 1 and text[0].isupper() and any(
        ch.isdigit() for ch in text))
