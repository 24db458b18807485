"""The Review page's activity heartbeat: a tiny ``st.components.v2`` component.

In the browser it listens for keydown, pointer, wheel and scroll events and for playing
audio; once a second it adds a second of *active* time when the tab is visible and there
was such activity within ``IDLE_CUTOFF_S``. At most every ``HEARTBEAT_S`` seconds, and only
with active time to report, it sends the trigger ``beat = {"active_s": seconds}``. The
component lives in a fragment, so a heartbeat reruns only the fragment, never the page. The
server side (``workbench.review_time.record_heartbeat``) turns it into a ``review.active``
event; nothing is stored in the browser beyond the running count.
"""

from __future__ import annotations

import logging

import streamlit as st

from workbench import review_time as rt
from workbench import store as db
from workbench.ui import login

log = logging.getLogger(__name__)

_JS = """
export default function (component) {
  const { data, setTriggerValue } = component;
  const everyMs = data.every_s * 1000, idleMs = data.idle_s * 1000;
  // One running count per page and encounter, kept across reruns (the function runs again
  // on each rerun; its cleanup removes the previous listeners and timer).
  const all = (window.__scribeActivity = window.__scribeActivity || {});
  const now0 = Date.now();
  const s = (all[data.encounter] = all[data.encounter] ||
             { activeMs: 0, lastInput: now0, lastTick: now0, lastSent: now0 });
  const touch = () => { s.lastInput = Date.now(); };
  const kinds = ["keydown", "pointerdown", "pointermove", "wheel", "scroll"];
  kinds.forEach((k) => document.addEventListener(k, touch, { capture: true, passive: true }));
  const audioPlaying = () =>
    Array.from(document.querySelectorAll("audio")).some((a) => !a.paused && !a.ended);
  const timer = setInterval(() => {
    const now = Date.now();
    if (audioPlaying()) s.lastInput = now;
    const visible = document.visibilityState === "visible";
    if (visible && now - s.lastInput < idleMs) s.activeMs += Math.min(now - s.lastTick, 2000);
    s.lastTick = now;
    if (s.activeMs > 0 && now - s.lastSent >= everyMs) {
      setTriggerValue("beat", { active_s: Math.round(s.activeMs / 100) / 10 });
      s.activeMs = 0;
      s.lastSent = now;
    }
  }, 1000);
  return () => {
    clearInterval(timer);
    kinds.forEach((k) => document.removeEventListener(k, touch, { capture: true }));
  };
}
"""

_heartbeat = st.components.v2.component("scribe_review_heartbeat", js=_JS)


@st.fragment
def heartbeat(store: db.Store, encounter_id: str, user: str, note_version: int) -> None:
    """Mount the heartbeat for this encounter and record any heartbeat it sent."""
    result = _heartbeat(
        key=f"heartbeat-{encounter_id}",
        data={"encounter": encounter_id, "every_s": rt.HEARTBEAT_S, "idle_s": rt.IDLE_CUTOFF_S},
        on_beat_change=lambda: None,
        height="content",
    )
    beat = getattr(result, "beat", None)
    if beat is None:
        return
    try:
        seconds = rt.record_heartbeat(store, encounter_id, user, beat, note_version)
    except rt.BadHeartbeat:
        log.warning("ignored a malformed heartbeat for %s", encounter_id)
        return
    login.note_activity()  # activity on the page counts against the idle timeout
    log.debug("review.active %s +%.1f s", encounter_id, seconds)
