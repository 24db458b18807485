"""HTML for the entity panel: one line per entity with its label, context, code, attributes
and who stands behind it. Plain functions from data to escaped markup."""

from __future__ import annotations

import html
from collections.abc import Sequence

from pipelines.entity_edit import FLAGS
from pipelines.schema import LabelSchema
from pipelines.types import Entity, Transcript
from workbench.ui.components import SPEAKER_STYLE, fmt_time

_CHIP = "border:1px solid {c};color:{c};border-radius:8px;padding:0 6px;font-size:0.8em;"
ORIGIN_CHIPS = {
    "human": ("clinician", "#1b6e3a"),
    "confirmed": ("machine · confirmed", "#1f4e79"),
    "machine": ("machine suggestion", "#6b6b6b"),
}


def chip(text: str, colour: str, dashed: bool = False) -> str:
    """A small bordered text badge."""
    style = _CHIP.format(c=colour) + ("border-style:dashed;" if dashed else "")
    return f"<span style='{style}'>{html.escape(text)}</span>"


def origin_chip(entity: Entity, confirmed: bool) -> str:
    """Who stands behind the entity: a clinician, a confirmed machine find, or the machine."""
    key = "human" if entity.source == "human" else ("confirmed" if confirmed else "machine")
    text, colour = ORIGIN_CHIPS[key]
    return chip(text, colour, dashed=key == "machine")


def entity_line(entity: Entity, schema: LabelSchema, confirmed: bool) -> str:
    """One entity: colour swatch and label name, its words, context, code and attributes."""
    spec = schema.get(entity.label) if entity.label in schema.names else None
    colour = spec.color if spec else "#444444"
    parts = [
        f"<span style='display:inline-block;width:0.75em;height:0.75em;background:{colour};"
        f"border-radius:2px'></span> <b style='color:{colour}'>{html.escape(entity.label)}</b>",
        f"“{html.escape(entity.text)}”",
    ]
    parts += [chip(flag, "#444444") for flag in FLAGS if getattr(entity, flag)]
    if entity.code or entity.code_label:
        code = " ".join(p for p in (entity.code_system, entity.code) if p)
        label = f" — {entity.code_label}" if entity.code_label else ""
        parts.append(f"<code>{html.escape(code)}</code>{html.escape(label)}")
    attrs = [
        f"{name} <b>{html.escape(str(entity.attributes[name]))}</b>"
        for name in (spec.attributes if spec else ())
        if entity.attributes.get(name) not in (None, "")
    ]
    if attrs:
        parts.append(" · ".join(attrs))
    parts.append(origin_chip(entity, confirmed))
    return f"<div style='margin:2px 0 4px 14px'>{' '.join(parts)}</div>"


def entity_list(
    transcript: Transcript, entities: Sequence[Entity], schema: LabelSchema, confirmed: bool
) -> str:
    """Every entity, grouped under its segment's time and speaker."""
    out: list[str] = []
    by_segment: dict[int, list[Entity]] = {}
    for entity in entities:
        by_segment.setdefault(entity.segment_idx, []).append(entity)
    for idx in sorted(by_segment):
        seg = transcript.segments[idx] if idx < len(transcript.segments) else None
        speaker = SPEAKER_STYLE.get(seg.speaker if seg else "unknown", SPEAKER_STYLE["unknown"])
        when = fmt_time(seg.start) if seg else "?"
        out.append(
            f"<div style='margin-top:6px;color:#555;font-size:0.85em'>"
            f"<span style='font-family:monospace'>{when}</span> {speaker[0]}</div>"
        )
        out.extend(entity_line(e, schema, confirmed) for e in by_segment[idx])
    return "".join(out)


def entity_option(entity: Entity, transcript: Transcript) -> str:
    """The entity as a picker option: time, words, label and context."""
    seg = transcript.segments[entity.segment_idx]
    flags = "".join(f" · {flag}" for flag in FLAGS if getattr(entity, flag))
    return f"{fmt_time(seg.start)} · {entity.text} · {entity.label}{flags}"
