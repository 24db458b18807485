"""Win rates of draft versions from blind pairwise judgements, computed in DuckDB.

Counted: the "preference" annotation of every pairwise task that was submitted or reviewed
(a task returned to its annotator counts again once resubmitted). A judgement maps back to
versions through the task payload's ``variants`` (the drafts in the order shown, left then
right) and ``draft_variants``.

Win rate = (wins + ties / 2) / n: a tie is half a win for each side, so the two versions of a
pair always add up to 1 and ties do not inflate either. The 95% interval is Wilson's score
interval on that rate and n (with ties it is approximate: a tie counts as half a success).
Position bias: how often the draft shown on the left wins, with the same tie rule, over
every judgement; well away from 0.5 means reviewers favour a side, not a version.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.store.access import allowed, require
from workbench.store.db import Store

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile

# One row per judgement with the versions shown left and right.
_JUDGEMENTS = (
    "WITH judged AS ("
    "  SELECT t.task_id, json_extract_string(a.value, '$.choice') AS choice,"
    "   json_extract_string(t.payload, '$.variants[0]') AS left_id,"
    "   json_extract_string(t.payload, '$.variants[1]') AS right_id"
    "  FROM annotation_tasks t JOIN annotations a ON a.task_id = t.task_id"
    "  WHERE t.kind = 'pairwise' AND t.status IN ('submitted', 'reviewed')"
    "   AND a.kind = 'preference'),"
    " sides AS ("
    "  SELECT j.task_id, j.choice, l.model_version AS left_v, r.model_version AS right_v,"
    "   l.drafter AS left_d, r.drafter AS right_d"
    "  FROM judged j JOIN draft_variants l ON l.variant_id = j.left_id"
    "  JOIN draft_variants r ON r.variant_id = j.right_id"
    "  WHERE j.choice IN ('left', 'right', 'tie')),"
    # Each judgement once from each side: 1 a win, 0.5 a tie, 0 a loss.
    " per_side AS ("
    "  SELECT left_v AS version, left_d AS drafter, right_v AS other,"
    "   CASE choice WHEN 'left' THEN 1.0 WHEN 'tie' THEN 0.5 ELSE 0.0 END::DOUBLE AS score"
    "  FROM sides"
    "  UNION ALL"
    "  SELECT right_v, right_d, left_v,"
    "   CASE choice WHEN 'right' THEN 1.0 WHEN 'tie' THEN 0.5 ELSE 0.0 END::DOUBLE FROM sides),"
)
_COUNTS = (
    " count(*) AS n, count(*) FILTER (WHERE score = 1.0) AS wins,"
    " count(*) FILTER (WHERE score = 0.0) AS losses,"
    " count(*) FILTER (WHERE score = 0.5) AS ties, avg(score) AS p"
)
_RATES = (
    _JUDGEMENTS + " rates AS ("
    "  SELECT 'version' AS scope, version AS a, NULL AS b,"
    "   string_agg(DISTINCT drafter, ', ' ORDER BY drafter) AS drafter,"
    + _COUNTS
    + "  FROM per_side GROUP BY version"
    "  UNION ALL"
    "  SELECT 'pair', version, other, NULL,"
    + _COUNTS
    + "  FROM per_side WHERE version < other GROUP BY version, other"
    "  UNION ALL"
    "  SELECT 'position', 'left', 'right', NULL, count(*),"
    "   count(*) FILTER (WHERE choice = 'left'), count(*) FILTER (WHERE choice = 'right'),"
    "   count(*) FILTER (WHERE choice = 'tie'),"
    "   avg(CASE choice WHEN 'left' THEN 1.0 WHEN 'tie' THEN 0.5 ELSE 0.0 END::DOUBLE)"
    "  FROM sides)"
    # Wilson score interval: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n).
    " SELECT scope, a, b, drafter, n, wins, losses, ties, p,"
    "  (p + $z * $z / (2 * n) - $z * sqrt(p * (1 - p) / n + $z * $z / (4 * n * n)))"
    "   / (1 + $z * $z / n) AS low,"
    "  (p + $z * $z / (2 * n) + $z * sqrt(p * (1 - p) / n + $z * $z / (4 * n * n)))"
    "   / (1 + $z * $z / n) AS high"
    " FROM rates WHERE n > 0 ORDER BY scope, p DESC, a, b"
)


@dataclass(frozen=True)
class WinRate:
    """Wins, losses and ties of ``version`` (against ``against``, or against all others when
    None), its win rate (ties as half) and the 95% Wilson interval."""

    version: str
    against: str | None
    drafter: str | None
    n: int
    wins: int
    losses: int
    ties: int
    win_rate: float
    low: float
    high: float


@dataclass(frozen=True)
class Comparison:
    """Every version's overall rate, each pair's (``version`` < ``against``), and the left
    position's rate (``position.wins``: left won, ``losses``: right won)."""

    versions: tuple[WinRate, ...]
    pairs: tuple[WinRate, ...]
    position: WinRate | None


def win_rates(store: Store, z: float = Z95) -> Comparison:
    """Win rates per version and per pair of versions, and the position-bias check; for
    leads, admins and analysts (aggregates only, no text)."""
    if not allowed(store, "annotation.review"):
        require(store, "analytics.view")
    with store.connect() as con:
        rows = con.execute(_RATES, {"z": z}).fetchall()
    found: dict[str, list[WinRate]] = {"version": [], "pair": [], "position": []}
    for scope, a, b, drafter, n, wins, losses, ties, p, low, high in rows:
        found[scope].append(
            WinRate(a, b, drafter, n, wins, losses, ties, float(p), float(low), float(high))
        )
    position = found["position"][0] if found["position"] else None
    return Comparison(tuple(found["version"]), tuple(found["pair"]), position)


# -- plain conversions ---------------------------------------------------------------------

CSV_COLUMNS = ["scope", "version", "against", "drafter", "n", "wins", "losses", "ties",
               "win_rate", "ci_low", "ci_high"]  # fmt: skip


def comparison_rows(comparison: Comparison) -> list[dict[str, object]]:
    """One flat row per version ("version", against "all"), pair ("pair") and the position
    check ("position": version "left", against "right"): the page's tables and the CSV."""
    scoped = [
        *(("version", r) for r in comparison.versions),
        *(("pair", r) for r in comparison.pairs),
        *((("position", comparison.position),) if comparison.position else ()),
    ]
    return [
        {
            "scope": scope,
            "version": r.version,
            "against": r.against or "all",
            "drafter": r.drafter or "",
            "n": r.n,
            "wins": r.wins,
            "losses": r.losses,
            "ties": r.ties,
            "win_rate": round(r.win_rate, 4),
            "ci_low": round(r.low, 4),
            "ci_high": round(r.high, 4),
        }
        for scope, r in scoped
    ]


def comparison_csv(comparison: Comparison) -> str:
    """``comparison_rows`` as CSV text with a header line."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(comparison_rows(comparison))
    return buffer.getvalue()
