"""Blind pairwise comparison of drafts: make draft variants and pairwise tasks (issue 8).

A lead names two versions to compare on some encounters and an annotator to judge them.
A version is either a source name (``VERSION_NAMES``):

- ``note``: the encounter's stored machine draft, as drafted (its own model version);
- ``signed``: the clinician-signed note, a reference (version ``clinician.signed``);
- ``rules``: a re-draft by the rule-based SOAP drafter (``pipelines.drafting.draft_note``);
- ``learned``: a re-draft by the trained drafter (``draft_visit``, in the stored draft's
  template);
- ``llm``: a re-draft by the configured LLM drafter (``SCRIBE_DRAFTER=llm``);

or the exact model version of a variant already stored for the encounter. Re-drafts read
the newest transcript and its entities; nothing is downloaded.

Each task shows the two drafts in a random order, drawn from ``seed`` and the encounter,
and stores that order in its payload (``variants``: left then right; ``order``: which of
the lead's A and B is shown first), so a judgement maps back to versions while the reviewer
sees only "Draft 1" and "Draft 2".
"""

from __future__ import annotations

import hashlib
import random
import secrets
from collections.abc import Sequence

from pipelines.types import Annotation, Draft, Entity, Transcript
from workbench.store.access import SYSTEM, require
from workbench.store.annotation_tasks import (
    ASSIGNEE_ROLES,
    create_task,
    save_annotations,
    submit_task,
    task_annotations,
)
from workbench.store.db import InvalidEdit, NotFound, Store
from workbench.store.draft_variants import (
    SIGNED_DRAFTER,
    SIGNED_VERSION,
    DraftVariant,
    add_variant,
    known_versions,
    list_variants,
    machine_draft,
    signed_note,
)
from workbench.store.records import AnnotationTask

REDRAFTERS: tuple[str, ...] = ("rules", "learned", "llm")
VERSION_NAMES: tuple[str, ...] = ("note", "signed", *REDRAFTERS)
PREFERENCE_ID = "preference"  # a pairwise task holds one judgement, always this id
# Which drafter wrote a stored draft, by its model version's prefix.
_DRAFTER_PREFIXES = (
    ("draft.soap-rules", "rules"),
    ("draft.learned", "learned"),
    ("draft.llm", "llm"),
)


class UnknownVersion(InvalidEdit):
    """A version that is neither a source name nor a stored variant's version."""


def create_pairwise_tasks(
    store: Store,
    encounter_ids: Sequence[str],
    a: str,
    b: str,
    annotator: str,
    seed: int | None = None,
) -> list[AnnotationTask]:
    """One blind pairwise task per encounter comparing versions ``a`` and ``b``, for
    ``annotator`` (``task.assign``: leads and admins). Everything is checked before any
    task is made: unknown encounters (``NotFound``), unknown or equal versions, an account
    that may not annotate, an encounter lacking a draft of either version (``InvalidEdit``).
    Without ``seed`` one is drawn and stored. Asking again for the same encounter, drafts
    and annotator returns the task made the first time."""
    a, b = a.strip(), b.strip()
    encounters = list(dict.fromkeys(e.strip() for e in encounter_ids if e.strip()))
    if not encounters:
        raise InvalidEdit("Name at least one encounter")
    if a == b:
        raise InvalidEdit(f"Versions A and B are the same ({a!r}): compare two different ones")
    require(store, "task.assign")
    _check_annotator(store, annotator)
    raw = store.as_actor(SYSTEM)
    missing = [e for e in encounters if not _exists(raw, e)]
    if missing:
        raise NotFound(f"No encounter {', '.join(missing)}")
    known = set(known_versions(store))
    for version in (a, b):
        if version not in VERSION_NAMES and version not in known:
            raise UnknownVersion(
                f"Unknown version {version!r}: use one of {', '.join(VERSION_NAMES)} or a"
                f" stored version ({', '.join(sorted(known)) or 'none stored yet'})"
            )
    pairs = []
    for encounter_id in encounters:
        first = ensure_variant(store, encounter_id, a)
        second = ensure_variant(store, encounter_id, b)
        if first.model_version == second.model_version:
            raise InvalidEdit(
                f"For {encounter_id}, {a!r} and {b!r} are the same version"
                f" ({first.model_version}): compare two different ones"
            )
        pairs.append((encounter_id, first, second))
    seed = secrets.randbelow(2**31) if seed is None else seed
    return [_task(store, enc, first, second, annotator, seed) for enc, first, second in pairs]


def shows_b_first(seed: int, encounter_id: str) -> bool:
    """Whether the task for this encounter shows version B on the left (a fair coin drawn
    from the seed and the encounter, so the order does not depend on the list's order)."""
    return random.Random(f"{seed}:{encounter_id}").random() < 0.5


def ensure_variant(store: Store, encounter_id: str, version: str) -> DraftVariant:
    """The encounter's variant of ``version`` (see the module docstring), made and stored
    now when it is a source name; InvalidEdit saying what is missing otherwise."""
    require(store, "task.assign", encounter_id)
    if version == "note":
        note = machine_draft(store, encounter_id)
        if note is None:
            raise InvalidEdit(f"Encounter {encounter_id} has no machine draft")
        return add_variant(
            store,
            encounter_id,
            note.draft,
            drafter=drafter_of(note.draft),
            source="note",
            note_version=note.version,
            transcript_version=note.transcript_version,
        )
    if version == "signed":
        note = signed_note(store, encounter_id)
        if note is None:
            raise InvalidEdit(f"Encounter {encounter_id} has no signed note")
        draft = Draft(
            note.draft.template,
            note.draft.sections,
            note.draft.sentences,
            SIGNED_VERSION,
            note.draft.input_sha256,
        )
        return add_variant(
            store,
            encounter_id,
            draft,
            drafter=SIGNED_DRAFTER,
            source="signed",
            note_version=note.version,
            transcript_version=note.transcript_version,
        )
    if version in REDRAFTERS:
        transcript_version, draft = redraft(store, encounter_id, version)
        return add_variant(
            store,
            encounter_id,
            draft,
            drafter=version,
            source="redraft",
            transcript_version=transcript_version,
        )
    stored = [v for v in list_variants(store, encounter_id) if v.model_version == version]
    if not stored:
        raise InvalidEdit(f"Encounter {encounter_id} has no draft of version {version!r}")
    return stored[-1]


def redraft(store: Store, encounter_id: str, drafter: str) -> tuple[int, Draft]:
    """(transcript version, draft) of the encounter's newest transcript by ``drafter``."""
    from pipelines.drafting import DraftOptions, LearnedOptions, draft_note, draft_visit
    from pipelines.drafting.router import load_model
    from workbench.settings import setting

    require(store, "task.assign", encounter_id)
    raw = store.as_actor(SYSTEM)
    found = _transcript(raw, encounter_id)
    if found is None:
        if not _exists(raw, encounter_id):
            raise NotFound(f"No encounter {encounter_id}")
        raise InvalidEdit(f"Encounter {encounter_id} has no transcript to draft from")
    version, transcript = found
    entities = _entities(raw, encounter_id, version)
    if drafter == "rules":
        return version, draft_note(transcript, entities, DraftOptions())
    if drafter == "learned":
        note = machine_draft(store, encounter_id)
        template = note.draft.template if note else setting("SCRIBE_NOTE_TEMPLATE")
        return version, draft_visit(
            transcript, entities, LearnedOptions(template=template), load_model()
        )
    if drafter == "llm":
        return version, _llm_draft(encounter_id, transcript, entities)
    raise InvalidEdit(f"Unknown drafter {drafter!r}: one of {', '.join(REDRAFTERS)}")


def current_preference(store: Store, task: AnnotationTask) -> dict | None:
    """The task's saved judgement ({"choice", "reason", "comment"}), or None."""
    for annotation in task_annotations(store, task.task_id):
        if annotation.kind == "preference":
            return dict(annotation.value)
    return None


def save_preference(
    store: Store,
    task: AnnotationTask,
    choice: str | None,
    reason: str | None,
    comment: str = "",
    *,
    submit: bool = False,
) -> AnnotationTask:
    """Save the judgement as the task's one "preference" annotation (and hand it in when
    ``submit``); returns the task as it now is. A submission needs a reason, and "other"
    needs the comment to say it. InvalidEdit says what is missing; nothing is written."""
    comment = (comment or "").strip()
    if choice is None:
        raise InvalidEdit("Choose Draft 1, Draft 2 or a tie first")
    if submit and not reason:
        raise InvalidEdit("Say why (a reason) before submitting")
    if submit and reason == "other" and not comment:
        raise InvalidEdit("With the reason 'other', say why in the comment")
    annotation = Annotation(
        annotation_id=PREFERENCE_ID,
        kind="preference",
        value={"choice": choice, "reason": reason or None, "comment": comment or None},
        origin="human",
    )
    saved = save_annotations(store, task.task_id, [annotation], revision=task.revision)
    return submit_task(store, task.task_id, revision=saved.revision) if submit else saved


def drafter_of(draft: Draft) -> str:
    """The drafter a stored draft came from, by its model version (``note`` if unknown)."""
    for prefix, name in _DRAFTER_PREFIXES:
        if draft.model_version.startswith(prefix):
            return name
    return "note"


# -- internals -----------------------------------------------------------------------------


def _task(
    store: Store,
    encounter_id: str,
    first: DraftVariant,
    second: DraftVariant,
    annotator: str,
    seed: int,
) -> AnnotationTask:
    swapped = shows_b_first(seed, encounter_id)
    shown = [second, first] if swapped else [first, second]
    payload = {
        "variants": [v.variant_id for v in shown],  # left, right
        "order": ["b", "a"] if swapped else ["a", "b"],
        "seed": seed,
    }
    # The same encounter, drafts and annotator give the same task: a rerun adds nothing.
    key = "|".join([encounter_id, *sorted(v.variant_id for v in shown), annotator])
    task_id = "pw-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return create_task(store, encounter_id, "pairwise", annotator, payload=payload, task_id=task_id)


def _check_annotator(store: Store, annotator: str) -> None:
    from workbench.store.users import get_account

    account = get_account(store, annotator)
    if account is None or account.disabled or account.role not in ASSIGNEE_ROLES:
        raise InvalidEdit(f"{annotator} is not an enabled annotator or admin account")


def _exists(raw: Store, encounter_id: str) -> bool:
    from workbench.store.encounters import get_encounter

    return get_encounter(raw, encounter_id) is not None


def _transcript(raw: Store, encounter_id: str) -> tuple[int, Transcript] | None:
    from workbench.store.transcripts import get_transcript

    return get_transcript(raw, encounter_id)


def _entities(raw: Store, encounter_id: str, transcript_version: int) -> tuple[Entity, ...]:
    from workbench.store.entities import get_entity_set

    found = get_entity_set(raw, encounter_id, transcript_version=transcript_version)
    return tuple(found.entities) if found else ()


def _llm_draft(encounter_id: str, transcript: Transcript, entities: tuple[Entity, ...]) -> Draft:
    from pipelines.drafting import DraftOptions, LlmError, draft_with_llm
    from workbench.jobs import Engine, options_from_settings

    try:
        options = options_from_settings()
    except ValueError as exc:
        raise InvalidEdit(f"The llm drafter is not configured: {exc}") from None
    if options.llm is None:
        raise InvalidEdit(
            "The llm drafter is not configured: set SCRIBE_DRAFTER=llm and SCRIBE_LLM_URL"
            " or SCRIBE_LLM_GGUF"
        )
    engine = Engine(options)
    try:
        return draft_with_llm(
            transcript, entities, DraftOptions().template, options.llm, engine.llm
        )
    except LlmError as exc:
        # Not the rules fallback of `scribe process`: that draft would carry another version.
        raise InvalidEdit(
            f"The llm drafter failed for {encounter_id} ({exc.kind}); no variant was made"
        ) from None
