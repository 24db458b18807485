"""The "Simulated" mark shown wherever a simulated encounter (``scribe simulate``) appears."""

from __future__ import annotations

from workbench.store.records import EncounterRecord

SIMULATED_SOURCE = "simulated"  # encounters.source of the simulator's encounters
BADGE = ":violet-badge[:material/science: Simulated]"


def simulated_badge(encounter: EncounterRecord) -> str:
    """Markdown for the badge (with a leading space), or "" for a real encounter."""
    return f" {BADGE}" if encounter.source == SIMULATED_SOURCE else ""
