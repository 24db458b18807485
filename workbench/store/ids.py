"""Numeric row ids (max + 1), the same way on a DuckDB file and on DuckLake.

DuckLake has no sequences (so no ``DEFAULT nextval``), and on either backend every write runs
under the store's one-writer lock (``Store.transaction``): reading the table's largest id and
inserting the next ones in the same transaction cannot race another writer. An id freed by
deleting the newest row (``purge`` drops an encounter's support checks) may be given again;
nothing keeps such an id once its rows are gone.
"""

from __future__ import annotations

import duckdb

# The tables numbered here and their id column; a fixed list, so the SQL is constant text.
_MAX_SQL = {
    "vocabulary": "SELECT coalesce(max(seq), 0) FROM vocabulary",
    "code_decisions": "SELECT coalesce(max(seq), 0) FROM code_decisions",
    "model_activations": "SELECT coalesce(max(seq), 0) FROM model_activations",
    "support_checks": "SELECT coalesce(max(check_id), 0) FROM support_checks",
    "clinician_styles": "SELECT coalesce(max(style_id), 0) FROM clinician_styles",
    "simulation_runs": "SELECT coalesce(max(run), 0) FROM simulation_runs",
}


def next_ids(con: duckdb.DuckDBPyConnection, table: str, count: int = 1) -> list[int]:
    """``count`` new ids for ``table`` (its largest id + 1 onwards), inside the caller's write
    transaction, which must insert them before it commits."""
    if table not in _MAX_SQL:
        raise ValueError(f"No id column known for table {table!r}")
    if count < 0:
        raise ValueError("count must not be negative")
    top = int(con.execute(_MAX_SQL[table]).fetchone()[0])
    return list(range(top + 1, top + 1 + count))


def next_id(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """One new id for ``table`` (see ``next_ids``)."""
    return next_ids(con, table, 1)[0]
