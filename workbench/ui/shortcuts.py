"""Keyboard shortcuts for the Review page, as an ``st.components.v2`` component.

The component listens for keys on the whole page (v2 components are not in an iframe):

=================  ====================================
j or ↓ / k or ↑    next / previous sentence
a / r              accept / reject the selected sentence
e                  edit the selected sentence (puts the cursor in its box)
p                  play the selected sentence's evidence
Ctrl+S (Cmd+S)     save (the browser's "save page" is suppressed)
?                  show or hide this key help (in the page, no rerun)
=================  ====================================

Keys are ignored while the reviewer types in a text box, a select or another editable control,
except Ctrl+S (which first leaves the text box, so that what was typed is kept). Each key press
is sent to Python as the trigger ``action``; :func:`shortcuts` runs the matching callable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

from workbench.ui import sentence_actions as actions
from workbench.ui.review_context import ReviewContext

SHORTCUTS_KEY = "review-shortcuts"
ACTIONS = ("next", "previous", "accept", "reject", "play", "save", "edit")
HINT = "Keyboard: j/k next · a accept · e edit · r reject · p play · Ctrl+S save · ? help"
HELP_ROWS = (
    ("j  or  ↓", "next sentence"),
    ("k  or  ↑", "previous sentence"),
    ("a", "accept the selected sentence"),
    ("e", "edit the selected sentence"),
    ("r", "reject the selected sentence"),
    ("p", "play the selected sentence's evidence"),
    ("Ctrl+S  /  ⌘S", "save"),
    ("?", "show or hide this help"),
)

_CSS = """
.ks-help { position: fixed; right: 24px; bottom: 24px; z-index: 1000; background: white;
  color: #222; border: 1px solid #bbb; border-radius: 8px; padding: 12px 16px;
  box-shadow: 0 4px 16px rgba(0, 0, 0, 0.2); font-size: 0.9rem; }
.ks-help[hidden] { display: none; }
.ks-help table { border-collapse: collapse; }
.ks-help td { padding: 2px 10px 2px 0; }
.ks-help kbd { font-family: monospace; background: #f3f3f3; border: 1px solid #ccc;
  border-radius: 3px; padding: 0 4px; }
"""

_HTML = "<div class='ks-help' role='dialog' aria-label='Keyboard shortcuts' hidden></div>"

# Listen on window in the capture phase, before Streamlit's own key handlers ("r" reruns the
# app, "c" clears caches), and stop the keys used here. State lives on the help element, which
# Streamlit keeps while the component is mounted (it calls this function again on new data).
_JS = """
const KEYS = { j: 'next', ArrowDown: 'next', k: 'previous', ArrowUp: 'previous',
               a: 'accept', r: 'reject', p: 'play', e: 'edit' };

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const help = parentElement.querySelector('.ks-help');
  if (!help.__keys) {
    const title = help.appendChild(document.createElement('b'));
    title.textContent = 'Keyboard shortcuts';
    const table = help.appendChild(document.createElement('table'));
    for (const [keys, what] of data.help) {
      const row = table.insertRow();
      row.insertCell().appendChild(document.createElement('kbd')).textContent = keys;
      row.insertCell().textContent = what;
    }
    const s = { trigger: setTriggerValue };
    s.onKey = (e) => {
      if (e.defaultPrevented || e.isComposing) return;
      const target = e.composedPath()[0] || e.target;
      if ((e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 's') {
        e.preventDefault();
        e.stopImmediatePropagation();
        if (e.repeat) return;
        // Leaving the text box commits what was typed before the save is asked for.
        if (isEditable(target) && target.blur) target.blur();
        setTimeout(() => s.trigger('action', 'save'), 0);
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey || isEditable(target)) return;
      if (e.key === '?') {
        e.preventDefault();
        help.hidden = !help.hidden;
        return;
      }
      if (e.key === 'Escape' && !help.hidden) { help.hidden = true; return; }
      const action = KEYS[e.key];
      if (!action) return;
      e.preventDefault();
      e.stopImmediatePropagation();
      // The selected sentence's box is open already: put the cursor in it.
      const box = action === 'edit' && document.querySelector('[class*="st-key-sent-"] textarea');
      if (box) box.focus();
      else if (!e.repeat) s.trigger('action', action);
    };
    window.addEventListener('keydown', s.onKey, true);
    s.destroy = () => window.removeEventListener('keydown', s.onKey, true);
    help.__keys = s;
  }
  help.__keys.trigger = setTriggerValue;
  return help.__keys.destroy;
}

// Typing somewhere: text boxes, selects, editable content, and widgets that use keys
// themselves (select boxes, radios, sliders, menus).
function isEditable(el) {
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  if (tag === 'textarea' || tag === 'select' || el.isContentEditable) return true;
  if (tag === 'input') {
    const type = (el.type || 'text').toLowerCase();
    return !['button', 'checkbox', 'radio', 'submit', 'reset', 'file', 'range',
             'color', 'image'].includes(type);
  }
  return Boolean(el.closest && el.closest(
    '[role=combobox],[role=listbox],[role=slider],[role=radiogroup],[role=menu],[role=textbox]'));
}
"""

_component = st.components.v2.component("scribe_review_shortcuts", html=_HTML, css=_CSS, js=_JS)


def shortcuts(on_action: Mapping[str, Callable[[], None]], key: str = SHORTCUTS_KEY) -> str | None:
    """Mount the key listener; returns the action triggered by a key this rerun, if any.

    ``on_action`` maps action names (:data:`ACTIONS`) to callables run as a widget callback,
    i.e. before the page script reruns, so what they change shows on that rerun. An action
    with no callable is only returned.
    """
    unknown = set(on_action) - set(ACTIONS)
    if unknown:
        raise ValueError(f"Unknown shortcut actions {sorted(unknown)}; known: {ACTIONS}")

    def _run() -> None:
        action = st.session_state[key].get("action")
        handler = on_action.get(action) if isinstance(action, str) else None
        if handler is not None:
            handler()

    result = _component(
        key=key, data={"help": [list(row) for row in HELP_ROWS]}, on_action_change=_run
    )
    action = result.get("action")
    return action if action in ACTIONS else None


def shortcut_hint() -> None:
    """The one-line reminder of the keys, under the draft's heading."""
    st.caption(f":material/keyboard: {HINT}")


def review_shortcuts(ctx: ReviewContext) -> None:
    """The Review page's keys over one encounter: mount the listener and show the hint.

    They do what the buttons do (``sentence_actions``): next/previous move the selection in
    note order, play plays the selected sentence's evidence, accept records
    ``sentence.accepted``, reject removes the sentence (a saved version, undoable) and save
    saves the text edits.
    """
    shortcuts(
        {
            "next": lambda: actions.select_next(ctx, 1),
            "previous": lambda: actions.select_next(ctx, -1),
            "play": lambda: play_selected(ctx),
            "accept": lambda: _on_selected(ctx, actions.accept),
            "reject": lambda: _on_selected(ctx, actions.reject),
            "save": lambda: actions.save(ctx),
            "edit": lambda: edit_selected(ctx),
        }
    )
    shortcut_hint()


def play_selected(ctx: ReviewContext) -> None:
    """Play the selected sentence's evidence (the first sentence's when none is selected)."""
    selected = ctx.selected or ctx.sentence(actions.select_next(ctx, 1) or "")
    if selected is not None:
        ctx.play(selected.sentence_id)


def edit_selected(ctx: ReviewContext) -> None:
    """Open a sentence's box: with none selected, select the first sentence (only the
    selected sentence has a box; with one open, the browser puts the cursor in it instead)."""
    if ctx.selected is None:
        actions.select_next(ctx, 1)


def _on_selected(ctx: ReviewContext, action: Callable[[ReviewContext, str], None]) -> None:
    selected = ctx.selected
    if selected is None:
        st.toast("Select a sentence first (j / k)", icon=":material/info:")
        return
    action(ctx, selected.sentence_id)
