"""Per-clinician custom vocabulary (terms that bias speech recognition), append-only."""

from __future__ import annotations

from workbench.store.db import Store, StoreError, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.ids import next_id
from workbench.store.limits import check_text

MAX_TERM_CHARS = 60


def add_term(store: Store, owner: str, term: str, actor: str) -> bool:
    """Add a term to ``owner``'s vocabulary; False if it is already there."""
    return _record(store, owner, term, "add", actor)


def remove_term(store: Store, owner: str, term: str, actor: str) -> bool:
    """Remove a term; False if it was not in the vocabulary."""
    return _record(store, owner, term, "remove", actor)


def list_terms(store: Store, owner: str) -> list[str]:
    """The owner's current terms, alphabetically."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT term FROM ("
            "  SELECT term, action, row_number() OVER (PARTITION BY lower(term)"
            "    ORDER BY seq DESC) AS newest FROM vocabulary WHERE owner = ?"
            ") WHERE newest = 1 AND action = 'add' ORDER BY lower(term)",
            [owner],
        ).fetchall()
    return [r[0] for r in rows]


def _record(store: Store, owner: str, term: str, action: str, actor: str) -> bool:
    term = " ".join(str(term).split())
    if not term or len(term) > MAX_TERM_CHARS:
        raise StoreError(f"A vocabulary term must be 1 to {MAX_TERM_CHARS} characters")
    check_text(term, "vocabulary term", MAX_TERM_CHARS)
    with store.transaction() as con:
        present = term.lower() in {t.lower() for t in list_terms(store, owner)}
        if (action == "add") == present:
            return False
        con.execute(
            "INSERT INTO vocabulary (seq, owner, term, action, ts, actor)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [next_id(con, "vocabulary"), owner, term, action, utcnow(), actor],
        )
        insert_events(
            con,
            [
                new_event(
                    actor,
                    None,
                    f"vocabulary.{action}",
                    object_type="vocabulary",
                    object_id=owner,
                    after={"term": term},
                )
            ],
        )
        return True
