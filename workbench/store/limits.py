"""Limits on text people type into the store (sentences, vocabulary terms).

Text comes from browser forms and may hold anything: a megabyte pasted by mistake,
NUL bytes, bidi overrides that make a note read differently from what is stored. These
checks refuse such text with a message a person can act on, before anything is written.
"""

from __future__ import annotations

import unicodedata

from workbench.store.db import InvalidEdit

MAX_SENTENCE_CHARS = 2000
# Tab and line breaks are typing; every other control character is not.
_ALLOWED_CONTROLS = frozenset("\t\n\r")
# Bidi overrides and isolates reorder what a reader sees without changing the stored text.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def readable(message: str, max_chars: int = 300) -> str:
    """An error message that quotes typed text, made safe to show: control characters
    become ``?`` and a long message is cut (the text itself may be a pasted megabyte)."""
    shown = "".join(
        "?" if unicodedata.category(c) in ("Cc", "Cs") or c in _BIDI else c for c in message
    )
    return shown if len(shown) <= max_chars else shown[: max_chars - 1] + "…"


def check_text(text: str, what: str, max_chars: int) -> str:
    """``text`` if a person may store it as ``what``; InvalidEdit saying why otherwise."""
    if not isinstance(text, str):
        raise InvalidEdit(f"The {what} must be text, not {type(text).__name__}")
    if len(text) > max_chars:
        raise InvalidEdit(
            f"The {what} is {len(text):,} characters long; the maximum is {max_chars:,}"
        )
    for char in text:
        if char in _BIDI or (
            unicodedata.category(char) in ("Cc", "Cs") and char not in _ALLOWED_CONTROLS
        ):
            raise InvalidEdit(
                f"The {what} contains an invisible control character (U+{ord(char):04X}); "
                "retype it without pasting"
            )
    return text
