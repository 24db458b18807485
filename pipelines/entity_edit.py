"""A person's corrections to medical entities: plain data in, corrected entities out.

Every function here checks its input and raises ``ValueError`` with a sentence a clinician
can act on; the store turns that into its own error. Anything a person adds or changes gets
``source="human"``, and ``carry_human_work`` keeps that work when the machine recomputes
entities after a transcript changed.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pipelines.schema import LabelSchema
from pipelines.transcript_edit import remap_span
from pipelines.types import Entity, Segment

# The context flags of an Entity, in display order.
FLAGS: tuple[str, ...] = ("negated", "historical", "family", "hypothetical", "uncertain")
ICD_SYSTEM = "ICD-10-CM"
# A clinician's own code or concept that no vocabulary has ("free code").
FREE_SYSTEM = "local"
CODE_SYSTEMS: tuple[str, ...] = (ICD_SYSTEM, "DrugBank", "MeSH", "MedlinePlus", FREE_SYSTEM)
# A remapped entity keeps its label only if its new words still resemble the old ones
# ("met for min" -> "metformin" is 0.9); a character alignment alone would move "500 mg"
# onto whatever replaced it.
MIN_REMAP_SIMILARITY = 0.6


@dataclass(frozen=True)
class EntityChange:
    """One change to an entity set, as an event kind with the entity before and after."""

    kind: str
    before: Entity | None
    after: Entity | None


def entity_dict(entity: Entity) -> dict[str, Any]:
    """The entity as a plain JSON-ready dict (the shape stored in events)."""
    return {
        "segment_idx": entity.segment_idx,
        "start": entity.start,
        "end": entity.end,
        "text": entity.text,
        "label": entity.label,
        "flags": {flag: bool(getattr(entity, flag)) for flag in FLAGS},
        "code": entity.code,
        "code_system": entity.code_system,
        "code_label": entity.code_label,
        "attributes": dict(entity.attributes),
        "source": entity.source,
    }


def entity_from_dict(data: Mapping[str, Any]) -> Entity:
    """The inverse of ``entity_dict``."""
    flags = data.get("flags") or {}
    return Entity(
        segment_idx=int(data["segment_idx"]),
        start=int(data["start"]),
        end=int(data["end"]),
        text=str(data["text"]),
        label=str(data["label"]),
        code=data.get("code"),
        code_system=data.get("code_system"),
        code_label=data.get("code_label"),
        attributes=dict(data.get("attributes") or {}),
        source=data.get("source", "machine"),
        **{flag: bool(flags.get(flag, False)) for flag in FLAGS},
    )


def find_phrase(text: str, phrase: str) -> list[tuple[int, int]]:
    """Character spans of every whole-word occurrence of ``phrase`` in ``text``.

    Case and runs of spaces are ignored, so a clinician can type the words as they hear them.
    """
    tokens = phrase.split()
    if not tokens:
        return []
    pattern = r"(?<!\w)" + r"\s+".join(re.escape(t) for t in tokens) + r"(?!\w)"
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, flags=re.IGNORECASE)]


def check_span(segment: Segment, start: int, end: int, text: str) -> None:
    """Raise ValueError unless ``[start, end)`` lies inside the segment and reads ``text``."""
    if not 0 <= start < end <= len(segment.text):
        raise ValueError(
            f"Characters {start}-{end} are outside segment {segment.idx}, "
            f"which has {len(segment.text)} characters."
        )
    found = segment.text[start:end]
    if found != text:
        raise ValueError(
            f"The span text “{text}” does not match segment {segment.idx}, "
            f"which reads “{found}” there."
        )
    if found != found.strip():
        raise ValueError("An entity cannot start or end with a space.")


def check_label(schema: LabelSchema, label: str) -> None:
    """Raise ValueError unless ``label`` is in the label schema."""
    if label not in schema.names:
        raise ValueError(f"Unknown label {label!r}: choose one of {', '.join(schema.names)}.")


def check_unique(entities: Sequence[Entity], candidate: Entity, skip: int | None = None) -> None:
    """Raise ValueError if another entity has the same span and label."""
    for i, e in enumerate(entities):
        if i != skip and (e.segment_idx, e.start, e.end, e.label) == (
            candidate.segment_idx,
            candidate.start,
            candidate.end,
            candidate.label,
        ):
            raise ValueError(
                f"“{candidate.text}” is already marked as {candidate.label} in this segment."
            )


def with_label(entity: Entity, label: str, schema: LabelSchema) -> Entity:
    """The entity relabelled; attributes the new label does not take are dropped."""
    check_label(schema, label)
    allowed = set(schema.get(label).attributes)
    attrs = dict(entity.attributes)
    for name in _schema_attributes(schema) - allowed:
        _drop_attribute(attrs, name)
    return replace(entity, label=label, attributes=attrs, source="human")


def with_code(
    entity: Entity, code: str | None, code_system: str | None, code_label: str | None
) -> Entity:
    """The entity with another concept code (already normalised by ``normalise_code``)."""
    return replace(
        entity, code=code, code_system=code_system, code_label=code_label, source="human"
    )


def normalise_code(
    code: str | None, code_system: str | None, code_label: str | None
) -> tuple[str | None, str | None, str | None]:
    """(code, system, label) cleaned and checked; all None clears the code.

    ICD-10-CM codes are checked against the classification (the dot is optional) and take
    its description as the label when none is given. Other systems are taken as typed;
    ``local`` is a clinician's free code, whose label defaults to the code itself.
    """
    code = (code or "").strip() or None
    code_system = (code_system or "").strip() or None
    code_label = " ".join((code_label or "").split()) or None
    if code is None:
        if code_label:
            raise ValueError("Give a code for this label, or clear the label to remove the code.")
        return None, None, None
    if code_system is None:
        raise ValueError(f"Choose the code system of {code}.")
    if code_system == ICD_SYSTEM:
        import simple_icd_10_cm as cm  # ~2 s to load the classification, so only when needed

        candidate = code.upper().replace(" ", "")
        if not cm.is_valid_item(candidate):
            raise ValueError(f"{code} is not an ICD-10-CM code.")
        candidate = cm.add_dot(candidate) if "." not in candidate else candidate
        return candidate, ICD_SYSTEM, code_label or cm.get_description(candidate)
    if code_system == FREE_SYSTEM:
        return code, FREE_SYSTEM, code_label or code
    return code, code_system, code_label


def with_flags(entity: Entity, flags: Mapping[str, bool]) -> Entity:
    """The entity with some context flags set or cleared."""
    unknown = sorted(set(flags) - set(FLAGS))
    if unknown:
        raise ValueError(f"Unknown context {', '.join(unknown)}: use {', '.join(FLAGS)}.")
    return replace(entity, source="human", **{k: bool(v) for k, v in flags.items()})


def with_attributes(entity: Entity, values: Mapping[str, Any], schema: LabelSchema) -> Entity:
    """The entity with some of its label's attributes set (an empty value removes one)."""
    allowed = schema.get(entity.label).attributes
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        takes = f"takes {', '.join(allowed)}" if allowed else "takes no attributes"
        raise ValueError(f"{entity.label} {takes}, not {', '.join(unknown)}.")
    attrs = dict(entity.attributes)
    for name, value in values.items():
        new = " ".join(str(value if value is not None else "").split())
        old = attrs.get(name)
        if new == ("" if old is None else str(old)):
            continue
        _drop_attribute(attrs, name)
        if new:
            attrs[name] = new
    return replace(entity, attributes=attrs, source="human")


def _schema_attributes(schema: LabelSchema) -> set[str]:
    return {name for spec in schema.labels for name in spec.attributes}


def _drop_attribute(attrs: dict[str, Any], name: str) -> None:
    # Derived keys (value_start, route_normalized) describe the old value, so they go too.
    for key in [k for k in attrs if k == name or k.startswith(name + "_")]:
        del attrs[key]


def remap_entity(entity: Entity, old: Segment, new: Segment) -> Entity | None:
    """The entity moved onto the same words of a corrected segment, or None if they are gone."""
    if old.text == new.text:
        return entity
    span = remap_span(old.text, new.text, entity.start, entity.end)
    if span is None:
        return None
    moved = new.text[span[0] : span[1]]
    similarity = difflib.SequenceMatcher(None, entity.text.casefold(), moved.casefold()).ratio()
    if similarity < MIN_REMAP_SIMILARITY:
        return None
    attrs = {
        k: v
        for k, v in entity.attributes.items()
        if not (k.endswith(("_start", "_end")) and isinstance(v, int))
    }
    return replace(entity, start=span[0], end=span[1], text=moved, attributes=attrs)


def carry_human_work(
    previous: Sequence[Entity],
    old_segments: Sequence[Segment],
    new_segments: Sequence[Segment],
    fresh: Sequence[Entity],
    recomputed: Collection[int],
    removed: Sequence[Entity] = (),
) -> tuple[tuple[Entity, ...], tuple[EntityChange, ...]]:
    """Merge a machine recompute of some segments with what people did before.

    ``previous`` is the entity set being replaced (on ``old_segments``), ``fresh`` the
    machine's entities for the ``recomputed`` segments of ``new_segments``. In segments not
    recomputed everything is kept. In recomputed ones, machine entities are replaced by
    ``fresh``; human entities move with their words (``entity.remapped``) or, when their words
    are gone, are dropped (``entity.dropped``). A fresh entity is left out when a person's
    entity covers the same characters, or when people removed the same words with the same
    label before (``removed``) and the previous set did not have it there.
    """
    old_by_idx = {s.idx: s for s in old_segments}
    new_by_idx = {s.idx: s for s in new_segments}
    kept: list[Entity] = []
    changes: list[EntityChange] = []
    had: set[tuple[int, int, int, str]] = set()
    for e in previous:
        if e.segment_idx not in recomputed:
            kept.append(e)
            continue
        old, new = old_by_idx.get(e.segment_idx), new_by_idx.get(e.segment_idx)
        moved = remap_entity(e, old, new) if old is not None and new is not None else None
        if moved is not None:
            had.add((moved.segment_idx, moved.start, moved.end, moved.label))
        if e.source != "human":
            continue
        if moved is None:
            changes.append(EntityChange("entity.dropped", e, None))
            continue
        if moved != e:
            changes.append(EntityChange("entity.remapped", e, moved))
        kept.append(moved)
    human_spans = {(e.segment_idx, e.start, e.end) for e in kept if e.source == "human"}
    removed_keys = {(e.segment_idx, e.text.casefold(), e.label) for e in removed}
    for e in fresh:
        if e.segment_idx not in recomputed or (e.segment_idx, e.start, e.end) in human_spans:
            continue
        if (e.segment_idx, e.text.casefold(), e.label) in removed_keys and (
            e.segment_idx,
            e.start,
            e.end,
            e.label,
        ) not in had:
            continue
        kept.append(e)
    return tuple(sorted(kept, key=entity_order)), tuple(changes)


def entity_order(entity: Entity) -> tuple[int, int, int, str]:
    """Sort key: transcript order, then longer spans first, then label."""
    return (entity.segment_idx, entity.start, -entity.end, entity.label)
