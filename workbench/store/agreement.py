"""Inter-annotator agreement, computed in DuckDB (views of migration 0020) for leads.

What is compared. For each encounter and task kind, each annotator's latest submitted or
reviewed task is their version; only human-confirmed labels count (origin "human" or
"confirmed", never an unconfirmed model "suggestion"). Every pair of annotators whose versions
point into the same transcript version (PDQI-9: the same note version) is compared; with
three or more annotators each figure is the mean over the pairs. An encounter one annotator
labelled gives no pair and so no figure.

Span F1 (entities tasks), per label and overall. In a pair (A, B) with A's spans as the
reference: exact match needs the same segment, start, end and label; tp = spans both have,
fp = B's spans A lacks, fn = A's spans B lacks, F1 = 2tp / (2tp + fp + fn) (symmetric in A
and B). Relaxed match: a span counts as matched when the other annotator has a span of the
same label in the same segment overlapping it by at least one character; precision = B's
matched spans / B's spans, recall = A's matched spans / A's spans, F1 their harmonic mean.
Each figure is given two ways: ``f1``/``relaxed_f1`` from the counts summed over all
encounters and pairs (micro), and ``mean_f1``/``mean_relaxed_f1``, the mean over
(encounter, pair) units in which either annotator used the label (overall: any label).

Cohen's kappa, kappa = (p_o - p_e) / (1 - p_e), with p_o the share of items on which the
two agree and p_e = sum over categories of p_A(c) * p_B(c). Items:
- tokens (entities): every whitespace token (maximal run of non-space characters) of every
  segment; its category is the label of a span overlapping it, or "O" (a token under two
  labels takes the alphabetically first). ``category`` None is the multi-class kappa over
  all labels and O; a label's row is the binary kappa of that label against everything else.
- sections / transcript checks: each segment either annotator labelled; its section label or
  check ("(none)" for the one who left it unlabelled); multi-class and per label as above.
- questions (entities): each encounter-level question, one item per encounter; one
  multi-class kappa per question.
Items are pooled over encounters for each pair of annotators; the reported kappa is the mean
over annotator pairs (Light's kappa for three or more). A pair whose p_e is 1 (both gave one
and the same category to every item) has no kappa; such pairs are left out of the mean.

PDQI-9 ratings (quality), per item: exact agreement (share of encounters with the same score),
mean absolute difference of the scores, and a linearly weighted kappa
kappa_w = 1 - mean|a - b| / E|a - b|, E taken over the two annotators' score distributions as
if independent; each pooled over encounters for a pair, then averaged over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.store.access import require
from workbench.store.db import InvalidEdit, Store

AGREEMENT_KINDS: tuple[str, ...] = ("entities", "sections", "transcript", "quality")


@dataclass(frozen=True)
class SpanAgreement:
    """Span F1 for one label (``label`` None: all labels together)."""

    label: str | None
    units: int  # (encounter, annotator pair) units in which either used the label
    tp: int
    fp: int
    fn: int
    f1: float  # from the summed counts
    mean_f1: float  # mean over units
    relaxed_f1: float
    mean_relaxed_f1: float


@dataclass(frozen=True)
class KappaAgreement:
    """Cohen's kappa for one measure (``category`` None: multi-class; else that label vs rest)."""

    measure: str  # tokens, sections, transcript_checks, questions
    subject: str  # the question's name for questions, "" otherwise
    category: str | None
    annotator_pairs: int  # pairs compared
    items: int  # items compared, summed over pairs
    observed: float  # mean over pairs of the share of items agreed on
    kappa: float | None  # mean over pairs with a defined kappa; None if none


@dataclass(frozen=True)
class RatingAgreement:
    """Agreement on one PDQI-9 item."""

    item: str
    annotator_pairs: int
    ratings: int  # encounters rated by both, summed over pairs
    exact: float  # share with the same score
    mean_abs_diff: float
    weighted_kappa: float | None  # linear weights; None when undefined


@dataclass(frozen=True)
class AgreementReport:
    """Every agreement figure for one task kind (optionally one encounter)."""

    task_kind: str
    encounters: int  # encounters with two or more annotators
    pairs: int  # (encounter, annotator pair) units
    annotators: int  # distinct annotators in those pairs
    spans: tuple[SpanAgreement, ...]  # overall first, then per label
    kappas: tuple[KappaAgreement, ...]
    ratings: tuple[RatingAgreement, ...]


# Every query's ``{scope}`` becomes one of these two fixed filters (``_scoped``): a plain
# equality lets DuckDB push the encounter down into the views, three times faster on one
# encounter than ``$encounter IS NULL OR encounter_id = $encounter``.
_EVERY = "task_kind = $kind"
_ONE = "task_kind = $kind AND encounter_id = $encounter"
_COUNTS = """
WITH p AS (
    SELECT * FROM agreement_pairs
    WHERE {scope}
)
SELECT (SELECT count(DISTINCT encounter_id) FROM p), (SELECT count(*) FROM p),
       (SELECT count(DISTINCT annotator)
        FROM (SELECT annotator_a AS annotator FROM p UNION ALL SELECT annotator_b FROM p))
"""

# Per-unit figures first (one row per encounter, pair and label; the overall rows sum the
# labels: both matches require the same label, so the counts add up), then the aggregation.
_SPANS = """
WITH per_label AS (
    SELECT encounter_id, annotator_a, annotator_b, label, n_a, n_b, tp, overlap_a, overlap_b
    FROM agreement_span_pairs
    WHERE {scope}
), overall AS (
    SELECT encounter_id, annotator_a, annotator_b, NULL AS label, sum(n_a) AS n_a,
           sum(n_b) AS n_b, sum(tp) AS tp, sum(overlap_a) AS overlap_a,
           sum(overlap_b) AS overlap_b
    FROM per_label GROUP BY encounter_id, annotator_a, annotator_b
), units AS (
    SELECT *, 2 * tp / (n_a + n_b) AS f1,
           coalesce(2 * overlap_a * overlap_b
                    / nullif(overlap_a * n_b + overlap_b * n_a, 0), 0) AS relaxed_f1
    FROM (SELECT * FROM overall UNION ALL SELECT * FROM per_label)
)
SELECT label, count(*) AS units, sum(tp) AS tp, sum(n_b - tp) AS fp, sum(n_a - tp) AS fn,
       2 * sum(tp) / sum(n_a + n_b) AS f1, avg(f1) AS mean_f1,
       coalesce(2 * sum(overlap_a) * sum(overlap_b)
                / nullif(sum(overlap_a) * sum(n_b) + sum(overlap_b) * sum(n_a), 0), 0)
           AS relaxed_f1,
       avg(relaxed_f1) AS mean_relaxed_f1
FROM units
GROUP BY label
ORDER BY label NULLS FIRST
"""

# Kappa per annotator pair from integer counts, then the mean over pairs. With n items,
# ``agree`` of them agreed on and n_a(c), n_b(c) items each put in category c:
#   multi-class  kappa = (n * agree - sum_c n_a n_b) / (n^2 - sum_c n_a n_b)
#   binary c     kappa = 2 (n * n_ab - n_a n_b) / (n_a (n - n_b) + n_b (n - n_a))
# (n_ab: items both put in c), the usual 2x2 form of the same definition.
_KAPPAS = """
WITH ip AS (
    SELECT measure, subject, annotator_a, annotator_b, category_a, category_b
    FROM agreement_item_pairs
    WHERE {scope}
      AND measure <> 'ratings'
), totals AS (
    SELECT measure, subject, annotator_a, annotator_b, count(*) AS n,
           count(*) FILTER (WHERE category_a = category_b) AS agree
    FROM ip GROUP BY ALL
), margins AS (
    SELECT measure, subject, annotator_a, annotator_b, category,
           sum(in_a) AS n_a, sum(in_b) AS n_b, sum(in_both) AS n_ab
    FROM (
        SELECT measure, subject, annotator_a, annotator_b, category_a AS category, 1 AS in_a,
               0 AS in_b, CAST(category_a = category_b AS INTEGER) AS in_both
        FROM ip
        UNION ALL
        SELECT measure, subject, annotator_a, annotator_b, category_b, 0, 1, 0 FROM ip
    )
    GROUP BY ALL
), pair_kappas AS (
    SELECT t.measure, t.subject, NULL AS category, t.annotator_a, t.annotator_b, t.n,
           t.agree / t.n AS observed,
           (t.n * t.agree - sum(m.n_a * m.n_b))
               / nullif(t.n * t.n - sum(m.n_a * m.n_b), 0) AS kappa
    FROM totals t JOIN margins m USING (measure, subject, annotator_a, annotator_b)
    GROUP BY t.measure, t.subject, t.annotator_a, t.annotator_b, t.n, t.agree
    UNION ALL
    SELECT t.measure, t.subject, m.category, t.annotator_a, t.annotator_b, t.n,
           (t.n - m.n_a - m.n_b + 2 * m.n_ab) / t.n,
           2 * (t.n * m.n_ab - m.n_a * m.n_b)
               / nullif(m.n_a * (t.n - m.n_b) + m.n_b * (t.n - m.n_a), 0)
    FROM totals t JOIN margins m USING (measure, subject, annotator_a, annotator_b)
    -- per label, except "nothing labelled" and the choices of encounter questions
    WHERE m.category NOT IN ('O', '(none)') AND t.measure <> 'questions'
)
SELECT measure, subject, category, count(*), sum(n), avg(observed), avg(kappa)
FROM pair_kappas
GROUP BY measure, subject, category
ORDER BY measure, subject, category NULLS FIRST
"""

# Linearly weighted kappa per pair: 1 - (sum|a-b| / n) / (sum_x,y n_a(x) n_b(y) |x-y| / n^2).
_RATINGS = """
WITH rp AS (
    SELECT subject, annotator_a, annotator_b,
           CAST(category_a AS INTEGER) AS a, CAST(category_b AS INTEGER) AS b
    FROM agreement_item_pairs
    WHERE {scope}
      AND measure = 'ratings'
      AND category_a <> '(none)' AND category_b <> '(none)'
), totals AS (
    SELECT subject, annotator_a, annotator_b, count(*) AS n,
           count(*) FILTER (WHERE a = b) AS same, sum(abs(a - b)) AS apart
    FROM rp GROUP BY ALL
), scores_a AS (
    SELECT subject, annotator_a, annotator_b, a AS score, count(*) AS k FROM rp GROUP BY ALL
), scores_b AS (
    SELECT subject, annotator_a, annotator_b, b AS score, count(*) AS k FROM rp GROUP BY ALL
), chance AS (
    SELECT x.subject, x.annotator_a, x.annotator_b,
           sum(x.k * y.k * abs(x.score - y.score)) AS apart_by_chance
    FROM scores_a x JOIN scores_b y USING (subject, annotator_a, annotator_b)
    GROUP BY ALL
)
SELECT subject, count(*), sum(n), avg(same / n), avg(apart / n),
       avg(1 - n * apart / nullif(apart_by_chance, 0))
FROM totals JOIN chance USING (subject, annotator_a, annotator_b)
GROUP BY subject
ORDER BY subject
"""


def agreement(store: Store, task_kind: str, *, encounter_id: str | None = None) -> AgreementReport:
    """Every agreement figure for ``task_kind`` (over all encounters, or one), for leads
    (``annotation.review``). Kinds without two annotators on an encounter give a report
    with zero pairs and empty tables."""
    require(store, "annotation.review")
    if task_kind not in AGREEMENT_KINDS:
        raise InvalidEdit(
            f"No agreement for {task_kind!r} tasks: one of {', '.join(AGREEMENT_KINDS)}"
        )
    params: dict[str, str] = {"kind": task_kind}
    if encounter_id is not None:
        params["encounter"] = encounter_id
    with store.connect() as con:
        encounters, pairs, annotators = con.execute(
            _scoped(_COUNTS, encounter_id), params
        ).fetchone()
        spans = con.execute(_scoped(_SPANS, encounter_id), params).fetchall()
        kappas = con.execute(_scoped(_KAPPAS, encounter_id), params).fetchall()
        ratings = con.execute(_scoped(_RATINGS, encounter_id), params).fetchall()
    return AgreementReport(
        task_kind,
        encounters,
        pairs,
        annotators,
        tuple(SpanAgreement(*r) for r in spans),
        tuple(KappaAgreement(*r) for r in kappas),
        tuple(RatingAgreement(*r) for r in ratings),
    )


def _scoped(sql: str, encounter_id: str | None) -> str:
    """The query with its ``{scope}`` filter: every encounter of the kind, or one."""
    return sql.replace("{scope}", _EVERY if encounter_id is None else _ONE)
