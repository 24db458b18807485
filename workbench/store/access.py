"""Who may do what: the role x action policy, enforced inside the store functions.

The policy is data (``POLICY``): for each action, the roles that may take it and on which
encounters (``ANY``; ``OWN``: the clinician's own, ``encounters.clinician_id`` or, when that
is empty, ``created_by``, and those assigned to them in ``assignments`` (a covering
clinician); ``ASSIGNED``: assigned to the annotator in ``assignments``), and
the grant a role additionally needs. ``SYSTEM`` (the operator's CLI, background jobs) and
admins may do everything. Every store function that reads or changes encounter data calls
``require`` first; a refusal raises ``Forbidden`` and is written to the audit log.

Identified text (``text.phi``) is for the owning clinician, admins and annotators holding
the "phi" grant. Everyone else who may open an encounter reads its text through
``text_presenter``, the one place that de-identifies (``pipelines.deid``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from workbench.store.db import StoreError
from workbench.store.known_names import encounter_names

if TYPE_CHECKING:
    from pipelines.deid.spans import Deidentified
    from pipelines.types import Draft, Entity, Transcript
    from workbench.store.db import Store
    from workbench.store.records import EncounterRecord, EncounterSummary

ROLES: tuple[str, ...] = ("clinician", "annotator", "analyst", "admin")
ANY, OWN, ASSIGNED = "any", "own", "assigned"


@dataclass(frozen=True)
class Actor:
    """Who a store call acts for: a user id, one of ``ROLES`` (or "system") and grants."""

    user_id: str
    role: str
    grants: frozenset[str] = field(default_factory=frozenset)

    def cache_key(self) -> tuple[str, str, tuple[str, ...]]:
        """A stable, hashable key: cached reads must never be shared between actors."""
        return (self.user_id, self.role, tuple(sorted(self.grants)))


SYSTEM = Actor("system", "system")


class Forbidden(StoreError):
    """The actor's role does not allow this action on this object; nothing was done."""


@dataclass(frozen=True)
class Rule:
    """One cell of the policy: on which encounters, and with which extra grant."""

    scope: str  # ANY, OWN or ASSIGNED
    grant: str | None = None


# action -> role -> rule. A role missing from an action's row may not take it.
POLICY: dict[str, dict[str, Rule]] = {
    "encounter.list": {"clinician": Rule(OWN), "annotator": Rule(ASSIGNED), "admin": Rule(ANY)},
    "encounter.view": {
        "clinician": Rule(OWN),
        "annotator": Rule(ASSIGNED),
        "analyst": Rule(ANY),  # de-identified text only (no text.phi)
        "admin": Rule(ANY),
    },
    "encounter.create": {"clinician": Rule(ANY), "admin": Rule(ANY)},
    "transcript.edit": {"clinician": Rule(OWN), "admin": Rule(ANY)},
    "note.edit": {"clinician": Rule(OWN), "admin": Rule(ANY)},
    "note.sign": {"clinician": Rule(OWN), "admin": Rule(ANY)},
    "note.export": {"clinician": Rule(OWN), "admin": Rule(ANY)},
    "entity.edit": {"clinician": Rule(OWN), "annotator": Rule(ASSIGNED), "admin": Rule(ANY)},
    "code.decide": {"clinician": Rule(OWN), "admin": Rule(ANY)},
    "text.phi": {
        "clinician": Rule(OWN),
        "annotator": Rule(ASSIGNED, grant="phi"),
        "admin": Rule(ANY),
    },
    "training.export": {"admin": Rule(ANY)},
    "analytics.view": {"analyst": Rule(ANY), "admin": Rule(ANY)},
    # The encounters behind an analytics figure: analysts see aggregates only.
    "analytics.drilldown": {"admin": Rule(ANY)},
    "audit.view": {"admin": Rule(ANY)},
    "user.manage": {"admin": Rule(ANY)},
    # Annotation leads: admins, and annotators holding the "lead" grant.
    "task.assign": {"annotator": Rule(ANY, grant="lead"), "admin": Rule(ANY)},
    "annotation.review": {"annotator": Rule(ANY, grant="lead"), "admin": Rule(ANY)},
    "annotation.work": {"annotator": Rule(ASSIGNED), "admin": Rule(ANY)},
    "model.manage": {"admin": Rule(ANY)},
    "simulation.run": {"admin": Rule(ANY)},  # writes simulated encounters (scribe simulate)
}
ACTIONS: tuple[str, ...] = tuple(POLICY)

_OWNER = "SELECT coalesce(clinician_id, created_by) FROM encounters WHERE encounter_id = ?"
_ASSIGNED = "SELECT 1 FROM assignments WHERE encounter_id = ? AND user_id = ?"


def _refusal(store: Store, action: str, encounter_id: str | None) -> str | None:
    """Why the store's actor may not take ``action`` (None: it may)."""
    actor = store.actor
    if action not in POLICY:
        raise ValueError(f"Unknown action {action!r}; choose from {', '.join(ACTIONS)}")
    if actor == SYSTEM:
        return None
    rule = POLICY[action].get(actor.role)
    if rule is None:
        return f"the {actor.role} role does not allow {action}"
    if rule.grant is not None and rule.grant not in actor.grants:
        return f"{action} needs the {rule.grant!r} grant"
    if encounter_id is None or rule.scope == ANY:
        return None  # lists filter their rows by ``list_scope``
    with store.connect() as con:
        row = con.execute(_OWNER, [encounter_id]).fetchone()
        if row is None:  # no such encounter: the caller says so (NotFound), nothing to read
            return None
        if rule.scope == OWN:  # theirs, or assigned to them (a covering clinician)
            if row[0] == actor.user_id:
                return None
            if con.execute(_ASSIGNED, [encounter_id, actor.user_id]).fetchone() is None:
                return "the encounter is not theirs nor assigned to them"
            return None
        if con.execute(_ASSIGNED, [encounter_id, actor.user_id]).fetchone() is None:
            return "the encounter is not assigned to them"
    return None


def allowed(store: Store, action: str, encounter_id: str | None = None) -> bool:
    """Whether the store's actor may take ``action`` (on the encounter); audits nothing."""
    return _refusal(store, action, encounter_id) is None


def require(store: Store, action: str, encounter_id: str | None = None) -> None:
    """Raise ``Forbidden`` (and audit the refusal) unless the store's actor may take
    ``action`` on the encounter. Call it before opening the write transaction, so the
    refusal's audit row is not rolled back with it."""
    reason = _refusal(store, action, encounter_id)
    if reason is None:
        return
    from workbench.store.audit import record  # audit writes through the store

    record(
        store,
        action,
        "encounter" if encounter_id else None,
        encounter_id,
        "denied",
        {"reason": reason},
    )
    actor = store.actor
    where = f" on encounter {encounter_id}" if encounter_id else ""
    raise Forbidden(f"{actor.user_id} ({actor.role}) may not {action}{where}: {reason}")


def list_scope(store: Store, action: str = "encounter.list") -> tuple[str, str]:
    """(scope, user id) limiting which encounters a list shows the actor; ``Forbidden``
    when the actor may not list at all. SQL filters with ``VISIBLE`` and these values."""
    require(store, action)
    if store.actor == SYSTEM:
        return ANY, SYSTEM.user_id
    return POLICY[action][store.actor.role].scope, store.actor.user_id


# The rows of ``encounters`` (alias-free columns) a list may show, for $scope and $me.
VISIBLE = (
    "($scope::VARCHAR = 'any'"
    " OR ($scope::VARCHAR = 'own' AND coalesce(clinician_id, created_by) = $me::VARCHAR)"
    " OR ($scope::VARCHAR IN ('own', 'assigned') AND encounter_id IN"
    "     (SELECT encounter_id FROM assignments WHERE user_id = $me::VARCHAR)))"
)


# -- identified or de-identified text ----------------------------------------------------


def text_presenter(store: Store, encounter_id: str) -> Callable[[str], str]:
    """How the actor reads this encounter's text: unchanged with ``text.phi``, otherwise
    de-identified by ``pipelines.deid`` (the only place it is called). ``Forbidden`` when
    de-identification is not available: identified text is never the fallback."""
    redact = phi_redactor(store, encounter_id)
    if redact is None:
        return _same

    def deidentified(text: str) -> str:
        return redact(text).text

    return deidentified


def phi_redactor(store: Store, encounter_id: str) -> Callable[[str], Deidentified] | None:
    """None when the actor reads this encounter's text as it is (``text.phi``); otherwise
    the de-identifier with the encounter's known names, which also returns the replaced
    spans (to map offsets between the two texts, ``pipelines.deid.spans``)."""
    if allowed(store, "text.phi", encounter_id):
        return None
    try:
        from pipelines.deid import deidentify
    except ImportError as exc:
        require(store, "text.phi", encounter_id)  # audits the refusal, then raises
        raise Forbidden("De-identification is not available") from exc
    # The same names every de-identified view and export redacts (one query for them all).
    names = encounter_names(store, encounter_id)

    def redact(text: str) -> Deidentified:
        return deidentify(text, names)

    return redact


def present_text(store: Store, text: str, encounter_id: str) -> str:
    """One text of the encounter as the actor may read it (see ``text_presenter``)."""
    return text_presenter(store, encounter_id)(text)


def _same(text: str) -> str:
    return text


def present_encounter(store: Store, encounter: EncounterRecord) -> EncounterRecord:
    """The encounter record as the actor may read it: without ``text.phi`` the title is
    de-identified and the patient label hidden."""
    show = text_presenter(store, encounter.encounter_id)
    if show is _same:
        return encounter
    return replace(
        encounter,
        title=show(encounter.title),
        patient_label=None if encounter.patient_label is None else "[NAME]",
    )


def present_summaries(store: Store, rows: list[EncounterSummary]) -> list[EncounterSummary]:
    """List rows as the actor may read them. When ``text.phi`` covers every row the actor
    may list (the same scope), nothing is looked up per row."""
    if _lists_identified(store.actor):
        return rows
    return [replace(r, encounter=present_encounter(store, r.encounter)) for r in rows]


def _lists_identified(actor: Actor) -> bool:
    if actor == SYSTEM:
        return True
    phi, listing = POLICY["text.phi"].get(actor.role), POLICY["encounter.list"].get(actor.role)
    if phi is None or listing is None or (phi.grant and phi.grant not in actor.grants):
        return False
    return phi.scope in (ANY, listing.scope)


def present_transcript(store: Store, encounter_id: str, transcript: Transcript) -> Transcript:
    """The transcript as the actor may read it; de-identified copies drop the words (their
    texts and timings would give the names back)."""
    show = text_presenter(store, encounter_id)
    if show is _same:
        return transcript
    segments = tuple(replace(s, text=show(s.text), words=()) for s in transcript.segments)
    return replace(transcript, segments=segments)


def present_draft(store: Store, encounter_id: str, draft: Draft) -> Draft:
    """The note's sentences as the actor may read them."""
    show = text_presenter(store, encounter_id)
    if show is _same:
        return draft
    return replace(draft, sentences=tuple(replace(s, text=show(s.text)) for s in draft.sentences))


def present_entities(
    store: Store, encounter_id: str, entities: tuple[Entity, ...]
) -> tuple[Entity, ...]:
    """Entities as the actor may read them (their covered text de-identified)."""
    show = text_presenter(store, encounter_id)
    if show is _same:
        return entities
    return tuple(replace(e, text=show(e.text)) for e in entities)
