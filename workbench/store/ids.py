"""Numeric row ids, never given twice, the same way on a DuckDB file and on DuckLake.

DuckLake has no sequences (so no ``DEFAULT nextval``). Each numbered table's last id handed
out is a row of ``id_counters`` (migration 0025), advanced in the caller's write transaction,
which runs under the store's one-writer lock (``Store.transaction``) on either backend: two
writers cannot take the same id, and a rolled-back insert rolls its counter back with it.
An id whose rows were deleted (``purge`` drops an encounter's support checks) is not given
again, so an event naming an old id never points at a newer row.
"""

from __future__ import annotations

import duckdb

# The tables numbered here and their id column; a fixed list, so the SQL is constant text.
# The table's own largest id also counts: rows written before 0025 or by an older server.
_TOP_SQL = {
    table: f"SELECT greatest(coalesce(max({column}), 0),"
    " coalesce((SELECT max(last_id) FROM id_counters WHERE name = ?), 0)),"
    " (SELECT count(*) FROM id_counters WHERE name = ?)"
    f" FROM {table}"
    for table, column in {
        "vocabulary": "seq",
        "code_decisions": "seq",
        "model_activations": "seq",
        "support_checks": "check_id",
        "clinician_styles": "style_id",
        "simulation_runs": "run",
    }.items()
}


def next_ids(con: duckdb.DuckDBPyConnection, table: str, count: int = 1) -> list[int]:
    """``count`` new ids for ``table``, never given before, inside the caller's write
    transaction (which must insert them before it commits)."""
    if table not in _TOP_SQL:
        raise ValueError(f"No id column known for table {table!r}")
    if count < 0:
        raise ValueError("count must not be negative")
    top, rows = con.execute(_TOP_SQL[table], [table, table]).fetchone()
    top = int(top)
    if count == 0:
        return []
    if rows:
        con.execute("UPDATE id_counters SET last_id = ? WHERE name = ?", [top + count, table])
    else:
        con.execute("INSERT INTO id_counters (name, last_id) VALUES (?, ?)", [table, top + count])
    return list(range(top + 1, top + 1 + count))


def next_id(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """One new id for ``table`` (see ``next_ids``)."""
    return next_ids(con, table, 1)[0]
