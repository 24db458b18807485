"""What a lead adjudicates (``annotation.review``): encounters with two or more submitted
versions of a task kind, those versions compared item by item (``pipelines.adjudication``),
a gold set merged from per-disagreement picks, and the history of gold choices.

A version is an annotator's latest submitted or reviewed task of the kind, as for the
agreement figures (view ``agreement_versions``). The gold itself is written by
``annotation_tasks.set_gold`` (append-only, with an ``annotation.adjudicated`` event).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pipelines.adjudication import Comparison, compare_versions, merge
from workbench.store.access import SYSTEM, require
from workbench.store.annotation_tasks import (
    annotation_from_dict,
    get_task,
    present_annotations,  # the one place annotations are de-identified for a reader
    set_gold,
    task_annotations,
)
from workbench.store.db import InvalidEdit, Store
from workbench.store.records import AnnotationTask, GoldChoice

_CONTESTED = """
WITH gold AS (
    SELECT encounter_id, kind, seq, method, chosen_by, chosen_at FROM annotation_gold
    QUALIFY row_number() OVER (PARTITION BY encounter_id, kind ORDER BY seq DESC) = 1
)
SELECT v.encounter_id, v.task_kind, list(v.task_id ORDER BY v.annotator),
       list(v.annotator ORDER BY v.annotator), g.seq, g.method, g.chosen_by, g.chosen_at
FROM agreement_versions v
LEFT JOIN gold g ON g.encounter_id = v.encounter_id AND g.kind = v.task_kind
WHERE $kind IS NULL OR v.task_kind = $kind
GROUP BY v.encounter_id, v.task_kind, g.seq, g.method, g.chosen_by, g.chosen_at
HAVING count(*) >= 2
ORDER BY g.seq IS NOT NULL, v.encounter_id, v.task_kind
"""
_VERSIONS = (
    "SELECT task_id FROM agreement_versions WHERE encounter_id = ? AND task_kind = ?"
    " ORDER BY annotator"
)
_HISTORY = (
    "SELECT encounter_id, kind, seq, method, chosen_task, annotations, chosen_by, chosen_at,"
    " reason FROM annotation_gold WHERE encounter_id = ? AND kind = ? ORDER BY seq DESC"
)


@dataclass(frozen=True)
class Contested:
    """An encounter and task kind with two or more versions, and its current gold if any."""

    encounter_id: str
    kind: str
    task_ids: tuple[str, ...]  # in annotator order
    annotators: tuple[str, ...]
    gold_seq: int | None
    gold_method: str | None
    gold_by: str | None
    gold_at: datetime | None


@dataclass(frozen=True)
class Adjudication:
    """The versions of one encounter and kind side by side. ``comparison`` is keyed by task
    id and holds the annotations as the reader may see them (de-identified without
    ``text.phi``); its disagreement keys are what ``merge_gold`` takes picks for."""

    encounter_id: str
    kind: str
    tasks: tuple[AnnotationTask, ...]
    comparison: Comparison


def contested(store: Store, kind: str | None = None) -> list[Contested]:
    """Encounters with two or more submitted versions (of ``kind``, or any kind but
    pairwise), those without a gold first."""
    require(store, "annotation.review")
    with store.connect() as con:
        rows = con.execute(_CONTESTED, {"kind": kind}).fetchall()
    return [Contested(r[0], r[1], tuple(r[2]), tuple(r[3]), *r[4:]) for r in rows]


def compare(store: Store, encounter_id: str, kind: str) -> Adjudication:
    """The encounter's versions of ``kind`` compared; fewer than two raise ``InvalidEdit``."""
    require(store, "annotation.review")
    tasks = _versions(store, encounter_id, kind)
    stored = _stored_comparison(store, tasks)
    shown = {
        (t.task_id, a.annotation_id): a for t in tasks for a in task_annotations(store, t.task_id)
    }
    return Adjudication(
        encounter_id, kind, tasks, stored.map(lambda v, a: shown.get((v, a.annotation_id), a))
    )


def merge_gold(
    store: Store,
    encounter_id: str,
    kind: str,
    picks: Mapping[str, int],
    *,
    reason: str | None = None,
) -> GoldChoice:
    """Record a merged gold: what every version agrees on plus, for each disagreement (by
    its key), the variant picked (an index into its variants). A missing pick raises
    ``InvalidEdit`` and records nothing."""
    require(store, "annotation.review")
    stored = _stored_comparison(store, _versions(store, encounter_id, kind))
    try:
        merged = merge(stored, picks)
    except ValueError as exc:
        raise InvalidEdit(str(exc)) from None
    return set_gold(store, encounter_id, kind, merged, method="merged", reason=reason)


def gold_history(store: Store, encounter_id: str, kind: str) -> list[GoldChoice]:
    """Every gold choice of the encounter and kind, newest (the current gold) first, with
    the annotations as the reader may see them."""
    require(store, "annotation.review")
    with store.connect() as con:
        rows = con.execute(_HISTORY, [encounter_id, kind]).fetchall()
    return [
        GoldChoice(
            *r[:5],
            tuple(
                present_annotations(
                    store, encounter_id, None, [annotation_from_dict(d) for d in json.loads(r[5])]
                )
            ),
            *r[6:],
        )
        for r in rows
    ]


def _versions(store: Store, encounter_id: str, kind: str) -> tuple[AnnotationTask, ...]:
    with store.connect() as con:
        ids = [r[0] for r in con.execute(_VERSIONS, [encounter_id, kind]).fetchall()]
    if len(ids) < 2:
        raise InvalidEdit(
            f"Encounter {encounter_id} has {len(ids)} submitted {kind} version(s): "
            "adjudication needs two or more"
        )
    return tuple(get_task(store, task_id) for task_id in ids)


def _stored_comparison(store: Store, tasks: tuple[AnnotationTask, ...]) -> Comparison:
    """Compared on the stored offsets, so a merge writes offsets into the stored text."""
    raw = store.as_actor(SYSTEM)
    return compare_versions({t.task_id: task_annotations(raw, t.task_id) for t in tasks})
