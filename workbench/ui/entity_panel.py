"""The Review page's entity panel: every entity by segment, and a clinician's corrections.

Each action (add, remove, relabel, change code, toggle a context flag, edit attributes,
confirm) is one store call in a widget callback: a new entity set version plus its typed
event. Widget keys carry the set version and the entity's index, so after a change every
form starts from the new version; messages wait in session state for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from pipelines.entity_edit import CODE_SYSTEMS, FLAGS, ICD_SYSTEM, find_phrase
from pipelines.types import Entity, Transcript
from workbench import store as db
from workbench.store.records import EntitySet
from workbench.ui import components as ui
from workbench.ui import resources
from workbench.ui.entity_markup import entity_list, entity_option

PICK_KEY = "ent_pick"
ADD_SEGMENT_KEY = "ent_add_segment"
MESSAGE_KEY = "ent_message"
EDIT_ERRORS = (db.ConcurrentEdit, db.NoteLocked, db.InvalidEdit, db.NotFound)


@dataclass(frozen=True)
class Panel:
    """What the callbacks need: which set version is on screen, and who is editing."""

    encounter_id: str
    version: int
    transcript: Transcript
    entities: tuple[Entity, ...]
    user: str

    def key(self, index: int, name: str) -> str:
        return entity_key(self.version, index, name)


def entity_key(version: int, index: int, name: str) -> str:
    """The widget key of one entity's field (``name``) in one set version."""
    return f"ent-{version}-{index}-{name}"


def entity_panel(
    encounter_id: str, transcript: Transcript, entity_set: EntitySet | None, locked: bool
) -> None:
    """The 'Medical entities' expander: list, status, corrections and 'Confirm entities'."""
    count = len(entity_set.entities) if entity_set else 0
    with st.expander(f"Medical entities ({count})", key="ent_panel", icon=":material/label:"):
        _show_message()
        if entity_set is None:
            st.caption("No entities yet: they appear once the encounter is processed.")
            return
        panel = Panel(
            encounter_id,
            entity_set.version,
            transcript,
            entity_set.entities,
            resources.current_user(),
        )
        _status(panel, entity_set, locked)
        with st.container(height=320):
            st.markdown(
                entity_list(
                    transcript, entity_set.entities, resources.label_schema(), entity_set.confirmed
                )
                or "No entities.",
                unsafe_allow_html=True,
            )
        if locked:
            st.caption("The note is signed; entity corrections are closed.")
            return
        _editor(panel)
        _adder(panel)


def _status(panel: Panel, entity_set: EntitySet, locked: bool) -> None:
    text_col, button_col = st.columns([0.7, 0.3], vertical_alignment="center")
    if entity_set.confirmed:
        text_col.markdown(
            f":green-badge[:material/verified: confirmed] by "
            f"{entity_set.confirmed_by} at {entity_set.confirmed_at:%Y-%m-%d %H:%M}"
            " UTC"
        )
    else:
        text_col.markdown(
            ":orange-badge[:material/pending: not yet confirmed] Check the list, "
            "correct it, then confirm."
        )
    button_col.button(
        "Confirm entities",
        key="ent_confirm",
        type="primary",
        icon=":material/done_all:",
        on_click=_confirm,
        args=(panel,),
        disabled=locked or entity_set.confirmed,
    )


def _editor(panel: Panel) -> None:
    if not panel.entities:
        return
    st.markdown("**Correct an entity**")
    if st.session_state.get(PICK_KEY, 0) >= len(panel.entities):
        st.session_state[PICK_KEY] = 0
    i = st.selectbox(
        "Entity",
        range(len(panel.entities)),
        key=PICK_KEY,
        format_func=lambda j: entity_option(panel.entities[j], panel.transcript),
    )
    entity = panel.entities[i]
    for col, flag in zip(st.columns(len(FLAGS)), FLAGS, strict=True):
        col.checkbox(
            flag,
            value=getattr(entity, flag),
            key=panel.key(i, flag),
            on_change=_toggle,
            args=(panel, i, flag),
        )
    schema = resources.label_schema()
    label_col, code_col = st.columns([0.35, 0.65])
    with label_col.form(panel.key(i, "label-form")):
        st.selectbox(
            "Label",
            schema.names,
            key=panel.key(i, "label"),
            index=schema.names.index(entity.label) if entity.label in schema.names else 0,
        )
        st.form_submit_button(
            "Relabel", key=panel.key(i, "relabel"), on_click=_relabel, args=(panel, i)
        )
    systems = (
        CODE_SYSTEMS
        if entity.code_system in (None, *CODE_SYSTEMS)
        else (*CODE_SYSTEMS, entity.code_system)
    )
    system = entity.code_system or (ICD_SYSTEM if entity.label == "PROBLEM" else "local")
    with code_col.form(panel.key(i, "code-form")):
        code, sys_col = st.columns(2)
        code.text_input(
            "Code",
            value=entity.code or "",
            key=panel.key(i, "code"),
            placeholder="e.g. J45.909 (empty: no code)",
        )
        sys_col.selectbox(
            "Code system", systems, index=systems.index(system), key=panel.key(i, "system")
        )
        st.text_input(
            "Code label",
            value=entity.code_label or "",
            key=panel.key(i, "code-label"),
            help="Left as it was, a new ICD-10-CM code takes its own description.",
        )
        st.form_submit_button(
            "Save code", key=panel.key(i, "save-code"), on_click=_code, args=(panel, i)
        )
    names = schema.get(entity.label).attributes if entity.label in schema.names else ()
    if names:
        with st.form(panel.key(i, "attr-form")):
            for col, name in zip(st.columns(len(names)), names, strict=True):
                value = entity.attributes.get(name)
                col.text_input(
                    name,
                    value="" if value is None else str(value),
                    key=panel.key(i, f"attr-{name}"),
                )
            st.form_submit_button(
                "Save attributes",
                key=panel.key(i, "save-attrs"),
                on_click=_attributes,
                args=(panel, i, names),
            )
    st.button(
        "Remove this entity",
        key=panel.key(i, "remove"),
        icon=":material/delete:",
        on_click=_remove,
        args=(panel, i),
    )


def _adder(panel: Panel) -> None:
    st.markdown("**Add an entity**: pick the segment, type its words, choose the label.")
    segments = panel.transcript.segments
    if not segments:
        return
    idx = st.selectbox(
        "Segment",
        [s.idx for s in segments],
        key=ADD_SEGMENT_KEY,
        format_func=lambda j: (
            f"{ui.fmt_time(segments[j].start)} · {segments[j].speaker} · {segments[j].text[:70]}"
        ),
    )
    seg = segments[idx]
    schema = resources.label_schema()
    body = ui.highlight_segment(
        seg, panel.entities, resources.label_colours(), negated_colour=schema.negated.color
    )
    st.markdown(ui.segment_row(seg, body), unsafe_allow_html=True)
    v = panel.version
    with st.form(f"ent-add-{v}"):
        words, label, nth = st.columns([0.5, 0.3, 0.2])
        words.text_input(
            "Words", key=f"ent-add-words-{v}", placeholder="as they appear in the segment"
        )
        label.selectbox("Label", schema.names, key=f"ent-add-label-{v}")
        nth.number_input(
            "Occurrence",
            min_value=1,
            value=1,
            step=1,
            key=f"ent-add-nth-{v}",
            help="Which one, if the words appear more than once in the segment.",
        )
        st.form_submit_button(
            "Add entity", key=f"ent-add-submit-{v}", on_click=_add, args=(panel,), type="primary"
        )


def _show_message() -> None:
    message = st.session_state.pop(MESSAGE_KEY, None)
    if message is None:
        return
    kind, text = message
    if kind == "error":
        st.error(text, icon=":material/error:")
    else:
        st.success(text, icon=":material/check:")


def _run(done: str, action, *args) -> int | None:
    try:
        version = action(resources.session_store(), *args)
    except EDIT_ERRORS as exc:
        st.session_state[MESSAGE_KEY] = ("error", str(exc))
        return None
    st.session_state[MESSAGE_KEY] = ("success", done)
    return version


def _confirm(panel: Panel) -> None:
    _run("Entities confirmed.", db.confirm_entities, panel.encounter_id, panel.version, panel.user)


def _toggle(panel: Panel, i: int, flag: str) -> None:
    value = bool(st.session_state[panel.key(i, flag)])
    _run(
        f"“{panel.entities[i].text}” is {'now' if value else 'no longer'} {flag}.",
        db.set_entity_context,
        panel.encounter_id,
        panel.version,
        i,
        {flag: value},
        panel.user,
    )


def _relabel(panel: Panel, i: int) -> None:
    label = st.session_state[panel.key(i, "label")]
    _run(
        f"“{panel.entities[i].text}” is now {label}.",
        db.relabel_entity,
        panel.encounter_id,
        panel.version,
        i,
        label,
        panel.user,
    )


def _code(panel: Panel, i: int) -> None:
    entity = panel.entities[i]
    code = st.session_state[panel.key(i, "code")]
    system = st.session_state[panel.key(i, "system")]
    label = st.session_state[panel.key(i, "code-label")]
    if code.strip() != (entity.code or "") and label == (entity.code_label or ""):
        label = None  # the old code's label does not describe the new code
    _run(
        f"Code of “{entity.text}” saved.",
        db.change_entity_code,
        panel.encounter_id,
        panel.version,
        i,
        code,
        system if code.strip() else None,
        label,
        panel.user,
    )


def _attributes(panel: Panel, i: int, names: tuple[str, ...]) -> None:
    values = {name: st.session_state[panel.key(i, f"attr-{name}")] for name in names}
    _run(
        f"Attributes of “{panel.entities[i].text}” saved.",
        db.set_entity_attributes,
        panel.encounter_id,
        panel.version,
        i,
        values,
        panel.user,
    )


def _remove(panel: Panel, i: int) -> None:
    if (
        _run(
            f"Removed “{panel.entities[i].text}”.",
            db.remove_entity,
            panel.encounter_id,
            panel.version,
            i,
            panel.user,
        )
        is not None
    ):
        st.session_state[PICK_KEY] = max(0, min(i, len(panel.entities) - 2))


def _add(panel: Panel) -> None:
    v = panel.version
    seg = panel.transcript.segments[st.session_state[ADD_SEGMENT_KEY]]
    words = st.session_state[f"ent-add-words-{v}"].strip()
    nth = int(st.session_state[f"ent-add-nth-{v}"])
    spans = find_phrase(seg.text, words)
    if not words:
        st.session_state[MESSAGE_KEY] = ("error", "Type the words to mark.")
        return
    if len(spans) < nth:
        found = f"appears {len(spans)} time(s)" if spans else "does not appear"
        st.session_state[MESSAGE_KEY] = ("error", f"“{words}” {found} in this segment.")
        return
    start, end = spans[nth - 1]
    entity = Entity(
        seg.idx, start, end, seg.text[start:end], st.session_state[f"ent-add-label-{v}"]
    )
    version = _run(
        f"Added “{entity.text}” as {entity.label}.",
        db.add_entity,
        panel.encounter_id,
        v,
        entity,
        panel.user,
    )
    if version is not None:
        added = db.get_entity_set(resources.session_store(), panel.encounter_id, version)
        st.session_state[PICK_KEY] = next(
            (
                j
                for j, e in enumerate(added.entities)
                if (e.segment_idx, e.start, e.end, e.label) == (seg.idx, start, end, entity.label)
            ),
            0,
        )
