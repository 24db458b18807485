"""Keeps text typed into the draft's boxes that has not reached the server yet.

A Streamlit text box sends its text when it loses focus (or on Ctrl+Enter); a reload while
the cursor is still in it would lose what was typed since. This invisible component keeps
each keystroke's text in the browser's ``localStorage`` (per encounter, user and box), tries
to hand the text to the server when the page is left, and after a reload puts any text the
server never got back into its box and commits it, which autosaves it like any other edit.
An entry is dropped as soon as the server shows the same text. Nothing leaves the machine:
the copy lives in this browser profile until then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import streamlit as st

_JS = r"""
export default function ({ data, setTriggerValue }) {
  const prefix = `scribe-unsent:${data.scope}:`;
  const boxKey = (el) => {
    for (let node = el; node && node !== document.body; node = node.parentElement) {
      const cls = [...(node.classList || [])].find((c) => /^st-key-(sent|section)-/.test(c));
      if (cls) return cls.slice("st-key-".length);
    }
    return null;
  };
  if (!window.__scribeUnsentGuard) {
    window.__scribeUnsentGuard = { scope: data.scope, restored: new Set() };
    document.addEventListener("input", (event) => {
      const guard = window.__scribeUnsentGuard;
      if (event.target.tagName !== "TEXTAREA" || !guard.scope) return;
      const key = boxKey(event.target);
      if (key) localStorage.setItem(`scribe-unsent:${guard.scope}:${key}`, event.target.value);
    }, true);
    // Leaving the page: a focused box hands its text to the server first, if it still can.
    window.addEventListener("beforeunload", () => {
      const el = document.activeElement;
      if (el && el.tagName === "TEXTAREA") el.blur();
    });
  }
  const guard = window.__scribeUnsentGuard;
  guard.scope = data.scope;
  const setter = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, "value").set;
  const restore = (key, text, tries) => {
    const el = document.querySelector(`.st-key-${key} textarea`);
    if (!el) {
      // Only the selected sentence has a box: ask the server to open this one, then retry.
      if (tries === 10) setTriggerValue("open", key);
      if (tries > 0) setTimeout(() => restore(key, text, tries - 1), 300);
      return;
    }
    if (el.value === text) return;
    setter.call(el, text);
    el.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => { el.focus(); el.blur(); }, 50);
  };
  for (let i = localStorage.length - 1; i >= 0; i--) {
    const name = localStorage.key(i);
    if (!name || !name.startsWith(prefix)) continue;
    const key = name.slice(prefix.length);
    const text = localStorage.getItem(name);
    if (!(key in data.values) || data.values[key] === text) {
      localStorage.removeItem(name);  // the server has it, or the box is gone
    } else if (!guard.restored.has(name)) {
      // Only once per page load: later reruns must not touch a box the user is typing in.
      guard.restored.add(name);
      if (data.fresh) restore(key, text, 10);
    }
  }
}
"""

_guard = st.components.v2.component("scribe_unsent_guard", js=_JS)
GUARD_KEY = "unsent-guard"


def unsent_guard(
    scope: str, values: Mapping[str, str], fresh: bool, on_open: Callable[[str], None]
) -> None:
    """Mount the guard. ``scope`` names the encounter and user; ``values`` maps each text
    box's widget key to the text the server has; ``fresh`` is True on the first draw of a
    session (after a reload), the only time unsent text is put back. Boxes are drawn only
    when opened: ``on_open(widget_key)`` (a widget callback) opens the box that unsent text
    is for, before it is put back."""

    def _open() -> None:
        key = (st.session_state.get(GUARD_KEY) or {}).get("open")
        if isinstance(key, str) and key in values:
            on_open(key)

    _guard(
        data={"scope": scope, "values": dict(values), "fresh": fresh},
        key=GUARD_KEY,
        on_open_change=_open,
    )
