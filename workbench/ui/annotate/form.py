"""A task panel's form: values kept in the session until saved, and the save and submit
buttons.

The values on screen live in a :class:`FormState` under a named session key (not only in the
widgets, which Streamlit forgets when they are not drawn), so nothing typed is lost: not when
the annotator leaves the page and comes back, not when a save is refused because the task was
saved elsewhere (``ConcurrentEdit``). Then the page says so and offers to save these values
over the newer version or to load it. A form nobody typed in follows the stored task.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from pipelines.types import Annotation
from workbench import store as db
from workbench.store import annotation_tasks as tasks
from workbench.store.access import Forbidden
from workbench.store.records import AnnotationTask

NOTICE_KEY = "annot-notice"  # (level, text) of the last save or submit, shown once
SAVE_KEY, SUBMIT_KEY = "annot_save", "annot_submit"
OVERWRITE_KEY, RELOAD_KEY = "annot_overwrite", "annot_reload"

ToAnnotations = Callable[[Mapping[str, Any]], list[Annotation]]


@dataclass
class FormState:
    """One task's form: the revision its values were loaded from (or last saved as), the
    values stored then, the values on screen, and a newer revision saved elsewhere while
    these were unsaved."""

    revision: int
    stored: dict[str, Any]
    values: dict[str, Any]
    conflict: int | None = None
    widgets: set[str] = field(default_factory=set)

    @property
    def dirty(self) -> bool:
        return self.values != self.stored


def form_key(task_id: str) -> str:
    return f"annot-form-{task_id}"


def widget_key(task_id: str, name: str) -> str:
    """The session key of the widget showing the form value ``name``."""
    return f"aw-{task_id}-{name}"


def open_form(task: AnnotationTask, stored: Mapping[str, Any]) -> FormState:
    """This task's form, with the widgets' latest values. A new form, or one nobody typed in
    while the task changed elsewhere, takes the stored values (and redraws its widgets);
    typed values stay, and the newer revision is noted as a conflict. Call it before drawing
    any of the form's widgets."""
    key = form_key(task.task_id)
    form = st.session_state.get(key)
    if form is not None:
        _sync(form, task.task_id)
    if form is None or (form.revision != task.revision and not form.dirty):
        form = FormState(task.revision, dict(stored), dict(stored))
        st.session_state[key] = form
        clear_widgets(task.task_id)
    elif form.revision != task.revision and form.conflict is None:
        form.conflict = task.revision
    return form


def bind(form: FormState, task_id: str, name: str) -> str:
    """The key to draw value ``name``'s widget with, seeded from the form's value."""
    key = widget_key(task_id, name)
    if key not in st.session_state:
        st.session_state[key] = form.values.get(name)
    form.widgets.add(name)
    return key


def current(task_id: str) -> FormState:
    """The task's form with its widgets' latest values (for callbacks, which run before the
    page draws the widgets again)."""
    form: FormState = st.session_state[form_key(task_id)]
    _sync(form, task_id)
    return form


def set_values(task_id: str, changes: Mapping[str, Any]) -> None:
    """Change form values from a callback (bulk actions); their widgets are redrawn."""
    current(task_id).values.update(changes)
    for name in changes:
        st.session_state.pop(widget_key(task_id, name), None)


def clear_widgets(task_id: str) -> None:
    """Forget the task's widget values, so the next draw seeds them from the form."""
    prefix = widget_key(task_id, "")
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith(prefix)]:
        del st.session_state[key]


def editable(store: db.Store, task: AnnotationTask) -> str | None:
    """Why the actor cannot change the task now (None: they can)."""
    return tasks.edit_refusal(store, task)


def show_notice() -> None:
    """The outcome of the last save or submit, once."""
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice is None:
        return
    level, text = notice
    {"success": st.success, "error": st.error}[level](text)


def actions(
    store: db.Store, task: AnnotationTask, form: FormState, to_annotations: ToAnnotations
) -> None:
    """Save draft and Submit for review (only while the actor may change the task), the
    conflict choices after a refused save, and whether there are unsaved changes."""
    show_notice()
    why_not = editable(store, task)
    if why_not:
        st.info(why_not, icon=":material/lock:")
        return
    args = (store, task.task_id, to_annotations)
    if form.conflict is not None:
        st.warning(
            f"This task was saved elsewhere (revision {form.conflict}) while you had unsaved"
            " changes. Your changes are kept on this page.",
            icon=":material/sync_problem:",
        )
        left, right = st.columns(2)
        left.button("Save mine over it", key=OVERWRITE_KEY, on_click=_save, args=(*args, True))
        right.button(
            "Load the saved version (drops mine)",
            key=RELOAD_KEY,
            on_click=_reload,
            args=(task.task_id,),
        )
    left, right, state = st.columns([1, 1, 2], vertical_alignment="center")
    left.button("Save draft", key=SAVE_KEY, icon=":material/save:", on_click=_save, args=args)
    right.button(
        "Submit for review",
        key=SUBMIT_KEY,
        type="primary",
        icon=":material/send:",
        on_click=_submit,
        args=args,
    )
    state.caption(
        f"Unsaved changes (revision {form.revision})"
        if form.dirty
        else f"Saved · revision {task.revision}"
    )


def _sync(form: FormState, task_id: str) -> None:
    """Copy the drawn widgets' values into the form (a callback runs before the page does)."""
    for name in form.widgets:
        key = widget_key(task_id, name)
        if key in st.session_state:
            form.values[name] = st.session_state[key]


def _notice(level: str, text: str) -> None:
    st.session_state[NOTICE_KEY] = (level, text)


def _save_values(
    store: db.Store, task_id: str, to_annotations: ToAnnotations, overwrite: bool
) -> AnnotationTask | None:
    form = current(task_id)
    revision = tasks.get_task(store, task_id).revision if overwrite else form.revision
    try:
        saved = tasks.save_annotations(
            store, task_id, to_annotations(form.values), revision=revision
        )
    except db.ConcurrentEdit as exc:
        form.conflict = tasks.get_task(store, task_id).revision
        _notice("error", f"{exc} Your changes are kept on this page.")
        return None
    except (db.InvalidEdit, db.NotFound, Forbidden) as exc:
        _notice("error", f"Not saved: {exc}")
        return None
    form.revision, form.stored, form.conflict = saved.revision, dict(form.values), None
    return saved


def _save(
    store: db.Store, task_id: str, to_annotations: ToAnnotations, overwrite: bool = False
) -> None:
    saved = _save_values(store, task_id, to_annotations, overwrite)
    if saved is not None:
        _notice("success", f"Draft saved (revision {saved.revision}).")


def _submit(store: db.Store, task_id: str, to_annotations: ToAnnotations) -> None:
    form = current(task_id)
    if form.dirty or form.conflict is not None:
        if _save_values(store, task_id, to_annotations, overwrite=False) is None:
            return
    try:
        submitted = tasks.submit_task(store, task_id, revision=form.revision)
    except db.ConcurrentEdit as exc:
        form.conflict = tasks.get_task(store, task_id).revision
        _notice("error", f"{exc} Your changes are kept on this page.")
        return
    except (db.InvalidEdit, db.NotFound, Forbidden) as exc:
        _notice("error", f"Not submitted: {exc}")
        return
    form.revision, form.stored = submitted.revision, dict(form.values)
    _notice("success", "Submitted for review.")


def _reload(task_id: str) -> None:
    st.session_state.pop(form_key(task_id), None)
    clear_widgets(task_id)
