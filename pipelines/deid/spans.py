"""The result types of de-identification and the rendering of a text with placeholders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PHI_LABELS: tuple[str, ...] = ("NAME", "DATE", "AGE", "PHONE", "ADDRESS", "ID", "EMAIL")

# When two detections overlap, the more specific label wins (an MRN that looks like a phone
# number is an ID; a date of birth inside an address-like run is a DATE).
_PRIORITY = {"EMAIL": 7, "ID": 6, "PHONE": 5, "ADDRESS": 4, "DATE": 3, "AGE": 2, "NAME": 1}


@dataclass(frozen=True)
class PhiSpan:
    """One piece of protected health information: ``text[start:end]`` of the original text."""

    start: int
    end: int
    label: str
    text: str

    @property
    def placeholder(self) -> str:
        """What replaces the span in the de-identified text, e.g. ``[NAME]``."""
        return f"[{self.label}]"


@dataclass(frozen=True)
class Deidentified:
    """A de-identified text and the spans of the original text that were replaced."""

    text: str
    spans: list[PhiSpan]


def merge_spans(spans: Iterable[PhiSpan]) -> list[PhiSpan]:
    """Sorted, non-overlapping spans: of overlapping ones the longer (then the more specific
    label) wins; touching spans of one label are kept apart so each keeps its placeholder."""
    ordered = sorted(spans, key=lambda s: (-(s.end - s.start), -_PRIORITY.get(s.label, 0), s.start))
    kept: list[PhiSpan] = []
    for span in ordered:
        if span.end <= span.start:
            continue
        if all(span.end <= k.start or span.start >= k.end for k in kept):
            kept.append(span)
    return sorted(kept, key=lambda s: s.start)


def render(text: str, spans: list[PhiSpan]) -> str:
    """``text`` with every (merged, sorted) span replaced by its placeholder."""
    parts: list[str] = []
    cursor = 0
    for span in spans:
        parts.append(text[cursor : span.start])
        parts.append(span.placeholder)
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)


def to_original(spans: list[PhiSpan], start: int, end: int) -> tuple[int, int] | None:
    """Offsets ``start..end`` of the rendered (de-identified) text as offsets of the original
    text; None when the range touches a placeholder (it would cover hidden text)."""
    shift = 0
    for span in spans:
        rendered_start = span.start + shift
        rendered_end = rendered_start + len(span.placeholder)
        if end <= rendered_start:
            break
        if start < rendered_end:
            return None
        shift += len(span.placeholder) - (span.end - span.start)
    return start - shift, end - shift


def to_rendered(spans: list[PhiSpan], start: int, end: int) -> tuple[int, int] | None:
    """Offsets of the original text as offsets of the rendered text; None when the range
    overlaps a replaced span."""
    shift = 0
    for span in spans:
        if end <= span.start:
            break
        if start < span.end:
            return None
        shift += len(span.placeholder) - (span.end - span.start)
    return start + shift, end + shift
