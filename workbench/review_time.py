"""Active review time: heartbeats from the Review page become ``review.active`` events.

The browser side (``workbench.ui.heartbeat``) counts a second as *active* while the tab is
visible and the reviewer typed, clicked, moved the pointer, scrolled or played audio within
the last ``IDLE_CUTOFF_S`` seconds; at most every ``HEARTBEAT_S`` seconds, and only when some
active time accumulated, it sends ``{"active_s": seconds}``. The server does not trust that
number blindly: it credits at most the time since the reviewer's previous heartbeat on this
encounter and at most ``MAX_BEAT_S`` per heartbeat, so a stuck or forged client cannot
inflate the total. Each heartbeat is one event: ``after = {"seconds": credited,
"since_last_s": seconds since the previous one (None for the first)}``. The total per
encounter is ``workbench.store.active_review_seconds``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime
from typing import Any

from workbench import store as db

HEARTBEAT_S = 15.0  # the browser sends at most one heartbeat this often
IDLE_CUTOFF_S = 60.0  # no input (and no audio playing) for this long: the reviewer is idle
MAX_BEAT_S = HEARTBEAT_S + 5.0  # one heartbeat never credits more (timer slack included)
ACTIVE = "review.active"


class BadHeartbeat(ValueError):
    """A heartbeat whose payload is not ``{"active_s": non-negative number}``."""


def reported_seconds(payload: Any) -> float:
    """The active seconds a heartbeat reports; raises BadHeartbeat for anything else."""
    value = payload.get("active_s") if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadHeartbeat(f"heartbeat without a number of active seconds: {payload!r}")
    if not math.isfinite(value) or value < 0:
        raise BadHeartbeat(f"heartbeat with impossible active seconds: {value!r}")
    return float(value)


def credited_seconds(reported: float, since_last_s: float | None) -> float:
    """What one heartbeat adds: the reported active time, capped by the time since the
    previous heartbeat (when known) and by ``MAX_BEAT_S``."""
    cap = MAX_BEAT_S if since_last_s is None else min(MAX_BEAT_S, max(0.0, since_last_s))
    return round(min(reported, cap), 1)


def record_heartbeat(
    store: db.Store,
    encounter_id: str,
    user_id: str,
    payload: Any,
    note_version: int | None = None,
    now: datetime | None = None,
) -> float:
    """Turn one heartbeat into a ``review.active`` event; returns the seconds credited.

    Nothing is written when nothing is credited (0 s). Raises BadHeartbeat for a bad
    payload (the page ignores it; it is a browser bug, not the reviewer's).
    """
    reported = reported_seconds(payload)
    event = db.new_event(
        user_id,
        encounter_id,
        ACTIVE,
        object_type="encounter",
        object_id=encounter_id,
        note_version=note_version,
    )
    now = now or event.ts
    previous = db.last_active(store, encounter_id, user_id)
    since_last = None if previous is None else (now - previous).total_seconds()
    seconds = credited_seconds(reported, since_last)
    if seconds <= 0:
        return 0.0
    after = {
        "seconds": seconds,
        "since_last_s": None if since_last is None else round(since_last, 1),
    }
    db.append_event(store, replace(event, ts=now, after=after))
    return seconds
