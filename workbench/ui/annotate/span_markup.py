"""HTML for the entity annotation panel: plain functions from data to escaped markup.

A label is drawn with a solid outline in its colour and its name after it; a model
suggestion with a dashed outline, a grey ground and "suggested" in its tag, so suggestions
never differ from labels by colour alone.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence

from pipelines.annotation_edit import context_of, is_label, is_rejected
from pipelines.types import Annotation, Segment, Transcript
from workbench.ui.components import CONTEXT_BADGES, fmt_time, segment_row

NO_COLOUR = "#444444"
SUGGESTION_BG = "#f3f3f3"
_NEGATED_BADGE = "no"


def span_tag(a: Annotation, colours: Mapping[str, str]) -> str:
    """The label name (and context badges) written after a span."""
    colour = colours.get(a.label or "", NO_COLOUR)
    badges = " ".join(_badge(f) for f in context_of(a))
    if is_label(a):
        text = f"{a.label} {badges}".strip()
        return f"<sup style='color:{colour};font-weight:600'>{html.escape(text)}</sup>"
    text = f"{a.label}? {badges} · suggested".replace("  ", " ")
    return f"<sup style='color:#555'>{html.escape(text)}</sup>"


def segment_html(text: str, spans: Sequence[Annotation], colours: Mapping[str, str]) -> str:
    """The segment's text with its labels and suggestions marked (rejected ones are not).
    Where spans overlap, each piece takes the innermost span's outline; every span's tag
    follows its last character."""
    marks = [
        a
        for a in spans
        if a.kind == "span"
        and not is_rejected(a)
        and a.start_char is not None
        and a.end_char is not None
        and 0 <= a.start_char < a.end_char <= len(text)
    ]
    cuts = sorted({0, len(text), *(a.start_char for a in marks), *(a.end_char for a in marks)})
    out: list[str] = []
    for lo, hi in itertools.pairwise(cuts):
        piece = html.escape(text[lo:hi])
        covering = [a for a in marks if a.start_char <= lo and hi <= a.end_char]
        if covering:
            inner = min(covering, key=lambda a: a.end_char - a.start_char)
            piece = f"<span {_mark_attrs(inner, colours)}>{piece}</span>"
        out.append(piece)
        out.extend(span_tag(a, colours) for a in marks if a.end_char == hi)
    return "".join(out)


def transcript_html(
    transcript: Transcript,
    by_segment: Mapping[int, Sequence[Annotation]],
    colours: Mapping[str, str],
    selected: int | None,
) -> str:
    """Every segment as one line (number, time, speaker, marked text); the selected one is
    outlined. One block of HTML: the whole transcript costs one element per rerun."""
    return "".join(
        segment_row(
            seg,
            f"<span style='color:#888;font-size:0.8em'>#{seg.idx + 1}</span> "
            + segment_html(seg.text, by_segment.get(seg.idx, ()), colours),
            selected=seg.idx == selected,
        )
        for seg in transcript.segments
    )


def span_line(a: Annotation, colours: Mapping[str, str]) -> str:
    """One span in the segment editor: label, words, context, and who stands behind it."""
    colour = colours.get(a.label or "", NO_COLOUR)
    flags = ", ".join(context_of(a))
    parts = [
        f"<b style='color:{colour}'>{html.escape(a.label or '')}</b>",
        f"“{html.escape(a.text or '')}”",
    ]
    if flags:
        parts.append(f"<i>({html.escape(flags)})</i>")
    parts.append(_origin(a))
    return " ".join(parts)


def relation_line(rel: Annotation, spans: Mapping[str, Annotation]) -> str:
    """A relation as plain text: MEDICATION “metformin” —has_dose→ DOSE “500 mg”."""
    ends = [spans.get(rel.value.get(k, "")) for k in ("from", "to")]
    words = [f"{e.label} “{e.text}”" if e else "(a removed span)" for e in ends]
    return f"{words[0]} —{rel.label}→ {words[1]}"


def span_option(a: Annotation, transcript: Transcript) -> str:
    """A span as a picker option: segment number, time, label and words."""
    seg: Segment | None = (
        transcript.segments[a.segment_idx]
        if a.segment_idx is not None and a.segment_idx < len(transcript.segments)
        else None
    )
    when = fmt_time(seg.start) if seg else "?"
    return f"#{(a.segment_idx or 0) + 1} {when} · {a.label} · {a.text}"


def legend(colours: Mapping[str, str]) -> str:
    """A one-line key: label colours, the suggestion style and the context badges."""
    items = [
        f"<span style='border:2px solid {c};border-radius:4px;padding:0 3px;color:{c}'>"
        f"{html.escape(name)}</span>"
        for name, c in colours.items()
    ]
    items.append(
        f"<span style='border:2px dashed #777;border-radius:4px;padding:0 3px;"
        f"background:{SUGGESTION_BG}'>dashed = model suggestion, not a label yet</span>"
    )
    items.append(
        " ".join(
            f"<sup>{html.escape(b)}</sup>&nbsp;{c}"
            for c, b in {"negated": _NEGATED_BADGE, **CONTEXT_BADGES}.items()
        )
    )
    return " &nbsp; ".join(items)


def _badge(flag: str) -> str:
    return _NEGATED_BADGE if flag == "negated" else CONTEXT_BADGES.get(flag, flag)


def _mark_attrs(a: Annotation, colours: Mapping[str, str]) -> str:
    colour = colours.get(a.label or "", NO_COLOUR)
    if is_label(a):
        title = f"{a.label}" + "".join(f" · {f}" for f in context_of(a))
        style = f"border:2px solid {colour};border-radius:4px;padding:0 2px;"
    else:
        title = f"{a.label}: suggested by {a.model_version or 'the model'}, not a label yet"
        style = (
            f"border:2px dashed {colour};border-radius:4px;padding:0 2px;"
            f"background:{SUGGESTION_BG};"
        )
    if "negated" in context_of(a):
        style += "text-decoration:line-through;"
    return f"title='{html.escape(title)}' style='{style}'"


def _origin(a: Annotation) -> str:
    model = html.escape(a.model_version or "the model")
    if is_rejected(a):
        return f"<span style='color:#666'>· rejected suggestion of {model}</span>"
    if a.origin == "suggestion":
        return (
            f"<span style='border:1px dashed #666;border-radius:8px;padding:0 6px;"
            f"font-size:0.85em'>suggested by {model}</span>"
        )
    if a.origin == "confirmed":
        return f"<span style='color:#1f4e79'>· accepted suggestion of {model}</span>"
    return "<span style='color:#1b6e3a'>· your label</span>"
