"""Who is acting on the store: the signed-in actor, and the error for a refused action.

Only the shared contract lives here on the auth branch (``Actor``, ``SYSTEM``,
``Forbidden``); the role policy (``require``) comes with access enforcement.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.store.db import StoreError


@dataclass(frozen=True)
class Actor:
    """A signed-in user (or the operator's ``SYSTEM``): id, role and extra grants."""

    user_id: str
    role: str
    grants: frozenset[str] = frozenset()


# The CLI run by the operator and background jobs act as this.
SYSTEM = Actor("system", "system")


class Forbidden(StoreError):
    """The actor's role does not allow this action; nothing was written."""
