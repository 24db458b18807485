"""HTML pieces for the workbench pages: plain functions from data to escaped markup.

Everything shown from a transcript or note goes through ``html.escape``: clinical text
is data, never markup.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Mapping

from pipelines.types import Entity, Evidence, Segment
from pipelines.words import WordSpan, word_spans

SPEAKER_STYLE = {
    "clinician": ("Clinician", "#1f4e79"),
    "patient": ("Patient", "#7a3b00"),
    "unknown": ("Speaker", "#555555"),
}
EVIDENCE_BG = "#fff3b0"
# annotations/labels.json ("negated" block): negated entities are grey and struck through
# with a thin underline in their label colour; the other contexts keep their colour, get a
# dashed underline and one of these text badges, so no context relies on colour alone.
NEGATED_COLOUR = "#6B6B6B"
CONTEXT_BADGES = {"historical": "hx", "family": "fam", "hypothetical": "if", "uncertain": "?"}
# Words below this recogniser probability are marked for the reviewer to check.
LOW_CONFIDENCE = 0.5
LOW_CONFIDENCE_STYLE = "background:#ececec;text-decoration:underline dotted #888;"


def fmt_time(seconds: float) -> str:
    """m:ss for transcript timestamps."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def highlight_segment(
    segment: Segment,
    entities: Iterable[Entity],
    colours: Mapping[str, str],
    evidence: Iterable[Evidence] = (),
    low_confidence: float = LOW_CONFIDENCE,
    negated_colour: str = NEGATED_COLOUR,
    word_times: bool = False,
) -> str:
    """The segment's text as HTML: entities coloured by label (negated ones grey and struck
    through, other contexts with a dashed underline and a text badge), evidence spans of the
    selected sentence on a yellow ground, and words the recogniser was unsure of
    (probability below ``low_confidence``) dotted and greyed.

    With ``word_times`` every recognised word is also wrapped in
    ``<span class='w' data-w='SEG.WORD' data-t='START' data-e='END'>`` (WORD indexes
    ``segment.words``) so the transcript player can seek to it and follow playback."""
    text = segment.text
    spans = word_spans(segment) or ()
    unsure = [
        (w.start, w.end, w.word.probability) for w in spans if w.word.probability < low_confidence
    ]
    timed = _timed_words(segment, spans) if word_times else []
    marks: list[tuple[int, int, str, str]] = []
    for ent in entities:
        if ent.segment_idx != segment.idx or not 0 <= ent.start < ent.end <= len(text):
            continue
        marks.append((ent.start, ent.end, *_entity_mark(ent, colours, negated_colour)))
    ev_spans = [(e.start_char, e.end_char) for e in evidence if e.segment_idx == segment.idx]
    out: list[str] = []
    # Walk character boundaries so entity and evidence marks may overlap safely.
    cuts = sorted(
        {
            0,
            len(text),
            *[m[0] for m in marks],
            *[m[1] for m in marks],
            *[a for a, _ in ev_spans],
            *[b for _, b in ev_spans],
            *[u[0] for u in unsure],
            *[u[1] for u in unsure],
            *[w[0] for w in timed],
            *[w[1] for w in timed],
        }
    )
    next_word = 0  # words are in text order: walk them with the cuts (long segments stay linear)
    for a, b in itertools.pairwise(cuts):
        piece = html.escape(text[a:b])
        while next_word < len(timed) and timed[next_word][1] <= a:
            next_word += 1
        if next_word < len(timed) and timed[next_word][0] <= a:
            piece = timed[next_word][2] + piece + "</span>"
        doubt = next((u for u in unsure if u[0] <= a and b <= u[1]), None)
        if doubt:
            piece = (
                f"<span class='lowconf' title='recogniser unsure ({doubt[2]:.0%})' "
                f"style='{LOW_CONFIDENCE_STYLE}'>{piece}</span>"
            )
        ent = next((m for m in marks if m[0] <= a and b <= m[1]), None)
        if ent:
            piece = ent[2] + piece + "</span>"
        if any(s <= a and b <= e for s, e in ev_spans):
            piece = f"<mark style='background:{EVIDENCE_BG};padding:0'>{piece}</mark>"
        out.append(piece)
        if ent and b == ent[1] and ent[3] != "</span>":
            out.append(ent[3][len("</span>") :])
    return "".join(out)


def _timed_words(segment: Segment, spans: Iterable[WordSpan]) -> list[tuple[int, int, str]]:
    """Character span and opening tag of each recognised word, for the transcript player."""
    # Index by identity: the player reports the position in segment.words back to Python.
    position = {id(w): i for i, w in enumerate(segment.words)}
    return [
        (
            s.start,
            s.end,
            f"<span class='w' data-w='{segment.idx}.{position[id(s.word)]}' "
            f"data-t='{s.word.start:.2f}' data-e='{s.word.end:.2f}'>",
        )
        for s in spans
    ]


def _entity_mark(ent: Entity, colours: Mapping[str, str], negated_colour: str) -> tuple[str, str]:
    """Opening and closing markup of one entity (the closing part carries its badge)."""
    colour = colours.get(ent.label, "#444444")
    contexts = [name for name in CONTEXT_BADGES if getattr(ent, name)]
    title = (
        ("absent: " if ent.negated else "")
        + ent.label
        + (f" · {ent.code}" if ent.code else "")
        + "".join(f" · {c}" for c in contexts)
    )
    if ent.negated:
        style = (
            f"border-bottom:1px solid {colour};color:{negated_colour};text-decoration:line-through;"
        )
    else:
        line = "dashed" if contexts else "solid"
        style = f"border-bottom:3px {line} {colour};color:{colour};font-weight:600;"
    badge = (
        ""
        if not contexts
        else (
            f"<sup style='font-size:0.7em;color:{colour}'>"
            f"{html.escape(' '.join(CONTEXT_BADGES[c] for c in contexts))}</sup>"
        )
    )
    return f"<span title='{html.escape(title)}' style='{style}'>", f"</span>{badge}"


def segment_row(segment: Segment, body_html: str, selected: bool = False) -> str:
    """One transcript line: time, speaker badge, highlighted text."""
    label, colour = SPEAKER_STYLE.get(segment.speaker, SPEAKER_STYLE["unknown"])
    border = f"border-left:4px solid {EVIDENCE_BG if not selected else '#e0a800'};"
    return (
        f"<div style='margin:0 0 6px 0;padding:2px 8px;{border if selected else ''}'>"
        f"<span style='color:#666;font-family:monospace'>{fmt_time(segment.start)}</span> "
        f"<span style='background:{colour};color:white;border-radius:4px;padding:0 6px;"
        f"font-size:0.8em'>{label}</span> {body_html}</div>"
    )


def player_row(segment: Segment, body_html: str, selected: bool = False) -> str:
    """One transcript line for the transcript player: like :func:`segment_row`, but the time
    is a button that plays the segment (``data-t``) and the row carries ``data-seg``."""
    label, colour = SPEAKER_STYLE.get(segment.speaker, SPEAKER_STYLE["unknown"])
    return (
        f"<div class='seg{' cited' if selected else ''}' data-seg='{segment.idx}'>"
        f"<button type='button' class='ts' data-seg='{segment.idx}' "
        f"data-t='{segment.start:.2f}' title='Play from here'>{fmt_time(segment.start)}</button> "
        f"<span class='spk' style='background:{colour}'>{label}</span> {body_html}</div>"
    )


def legend(colours: Mapping[str, str], negated_colour: str = NEGATED_COLOUR) -> str:
    """A one-line key of entity colours, with the context styles."""
    items = [
        f"<span style='border-bottom:3px solid {c};color:{c};font-weight:600'>"
        f"{html.escape(label.title())}</span>"
        for label, c in colours.items()
    ]
    items.append(
        f"<span style='color:{negated_colour};text-decoration:line-through'>negated</span>"
    )
    items.append(
        " ".join(f"<sup>{html.escape(b)}</sup>&nbsp;{c}" for c, b in CONTEXT_BADGES.items())
    )
    items.append(f"<span style='{LOW_CONFIDENCE_STYLE}'>unsure word</span>")
    return " &nbsp; ".join(items)
