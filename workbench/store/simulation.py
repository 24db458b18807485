"""The simulator's bulk SQL (``workbench.simulate`` holds the spec and the distributions).

Every raw table is written in the shape the app writes it (``encounters``, ``transcripts``,
``entities``, ``notes``, ``signing``, ``support``, ``activity``, ``entity_edits``, the
corrections): the same columns, event kinds, ``object_id`` formats and before/after JSON keys.
Simplifications, documented: no audio and no ``words`` rows (the transcript reads with empty
word lists); all of a reviewer's entity corrections land in one new entity set version and
all sentence edits in one saved note version; a corrected transcript is one new version.

Randomness is ``hash('salt/key/tag')`` (``sim_u``: uniform in (0, 1); ``sim_z``: standard
normal by Box-Muller), salted by seed and run (one string: DuckDB's several-argument
``hash(a, b, c)`` gives strongly correlated low bits for different tags), so a spec gives
identical rows on any store, event ids included (the md5 of the event's key, whose encounter
id holds the run number, in uuid form). Each chunk of encounters is one transaction building
temporary tables and inserting from them: no Python loop per row, bounded memory, and a run
killed midway leaves whole encounters only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from workbench.store.access import require
from workbench.store.db import Store, quoted, utcnow
from workbench.store.events import insert_events, new_event
from workbench.store.ids import next_id, next_ids
from workbench.store.notes import ATTESTATION

if TYPE_CHECKING:
    from workbench.simulate import Clinician, SimulationSpec

RUN_EVENT = "simulation.run"
SOURCE = "simulated"
CHECKER = "verify.rules.v2"
HEARTBEAT_S = 15.0  # workbench.review_time.HEARTBEAT_S: one review.active event per 15 s

# Phrase banks. Segment text is PRE + TERM + POST, so an entity is the TERM's exact span and a
# misheard word (POST's last word) never moves it.
_PRE = {
    "clinician": (
        "So tell me more about the ",
        "Let's take a look at the ",
        "I'd like to order ",
        "We talked last time about ",
        "I'm going to write down ",
        "Any change with the ",
    ),
    "patient": (
        "I've been having trouble with ",
        "My other doctor mentioned ",
        "It's mostly the ",
        "Honestly I worry about ",
        "They told me to ask about ",
        "I keep thinking about ",
    ),
}
_POST = (  # (heard right, misheard: same number of words, one differs)
    (" since last week.", " since last weak."),
    (" and it gets worse at night.", " and it gets worse at knight."),
    (" for a while now.", " for a wild now."),
    (" most days.", " most daze."),
    (" after meals.", " after meal's."),
    (" when I walk.", " when I woke."),
    (" as we discussed.", " as we disgust."),
    (" right now.", " write now."),
)
_TERMS = {
    "PROBLEM": (
        "chest pain",
        "shortness of breath",
        "hypertension",
        "knee pain",
        "type 2 diabetes",
        "migraine",
        "low back pain",
        "a cough",
    ),
    "MEDICATION": (
        "metoprolol",
        "lisinopril",
        "ibuprofen",
        "metformin",
        "atorvastatin",
        "albuterol",
    ),
    "TEST": ("an ECG", "a chest x-ray", "an A1c", "a lipid panel", "an MRI"),
    "PROCEDURE": ("a knee injection", "physical therapy", "a stress test", "an echocardiogram"),
    "ANATOMY": ("left knee", "lower back", "right shoulder", "chest wall"),
    "VITAL": ("blood pressure of 142 over 88", "heart rate of 78", "oxygen saturation of 97"),
}
_SENTENCES = {
    "complaint": (
        "Follow-up of chronic conditions.",
        "Knee pain for two weeks.",
        "Chest discomfort on exertion.",
        "Medication review.",
    ),
    "history": (
        "The patient reports intermittent symptoms over the past month.",
        "Symptoms are worse at night and improve with rest.",
        "The patient denies fever or weight loss.",
        "The patient has tried ibuprofen with partial relief.",
        "There is a family history of heart disease.",
        "The patient walks daily and does not smoke.",
    ),
    "exam": (
        "Blood pressure is 142/88 and heart rate is 78.",
        "Lungs are clear bilaterally.",
        "There is mild tenderness over the medial joint line.",
        "Heart sounds are regular without murmur.",
        "Gait is normal.",
    ),
    "results": (
        "ECG shows normal sinus rhythm.",
        "A1c was 7.2 percent last month.",
        "X-ray shows mild degenerative change.",
    ),
    "meds": (
        "Continue metoprolol 25 mg twice daily.",
        "Lisinopril 10 mg once daily.",
        "Metformin 500 mg with meals.",
        "Ibuprofen as needed for pain.",
    ),
    "assessment": (
        "Hypertension, not at goal.",
        "Likely osteoarthritis of the left knee.",
        "Stable angina, symptoms controlled.",
        "Type 2 diabetes, improving.",
    ),
    "plan": (
        "Increase lisinopril to 20 mg daily.",
        "Refer to physical therapy.",
        "Order a lipid panel and an A1c.",
        "Return in three months.",
        "Start a home blood pressure log.",
    ),
}
_ADDITIONS = (
    "['Discussed with the patient.', 'Per patient report.', 'Reviewed today.',"
    " 'Will reassess at follow-up.']"
)
_SECTION_FACTOR = {
    "complaint": 0.6,
    "history": 1.0,
    "exam": 0.8,
    "results": 0.7,
    "meds": 1.1,
    "assessment": 1.5,
    "plan": 1.4,
}


def category(section: str) -> str:
    """The phrase bank (and edit factor) of a template section key."""
    for words, name in (
        (("assessment", "management"), "assessment"),
        (("plan", "next_steps"), "plan"),
        (("exam", "objective", "findings", "vitals", "what_we_found"), "exam"),
        (("medic",), "meds"),
        (("results", "imaging"), "results"),
        (("complaint", "reason", "why_you_came"), "complaint"),
    ):
        if any(w in section for w in words):
            return name
    return "history"


def require_run(store: Store) -> None:
    """Forbidden (audited) unless the actor may run the simulator (admins, the operator)."""
    require(store, "simulation.run")


def start_run(store: Store, spec: SimulationSpec, clinicians: Sequence[Clinician]) -> int:
    """Number this run, record it (``simulation_runs``) and create the simulated clinicians:
    role clinician, disabled, no password, so nobody can sign in as them."""
    from workbench.simulate import period

    start, _ = period(spec)
    with store.transaction() as con:
        run = next_id(con, "simulation_runs")
        con.execute(
            "INSERT INTO simulation_runs (run, seed, spec, encounters, started_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [run, spec.seed, spec.to_json(), spec.encounters, utcnow(), store.actor.user_id],
        )
        con.executemany(
            "INSERT INTO users (user_id, display_name, role, created_at, password_hash, disabled,"
            " failed_logins, locked_until, email, grants, updated_at)"
            " SELECT ?, ?, 'clinician', ?, NULL, true, 0, NULL, NULL, '[]', ?"
            " WHERE NOT EXISTS (SELECT 1 FROM users WHERE user_id = ?)",  # kept from a rerun
            [[c.user_id, c.display_name, start, start, c.user_id] for c in clinicians],
        )
    return int(run)


def finished_runs(store: Store) -> int:
    """How many simulation runs finished in this store."""
    with store.connect() as con:
        found = con.execute("SELECT count(*) FROM simulation_runs WHERE finished_at IS NOT NULL")
        return int(found.fetchone()[0])


def finish_run(store: Store, run: int, counts: dict[str, int], seconds: float) -> None:
    """Record the run's counts and one audited ``simulation.run`` event for the whole run."""
    with store.transaction() as con:
        con.execute(
            "UPDATE simulation_runs SET counts = ?, seconds = ?, finished_at = ? WHERE run = ?",
            [json.dumps(counts, sort_keys=True), round(seconds, 3), utcnow(), run],
        )
        insert_events(
            con,
            [
                new_event(
                    store.actor.user_id,
                    None,
                    RUN_EVENT,
                    object_type="simulation",
                    object_id=str(run),
                    after={"run": run, "counts": counts, "seconds": round(seconds, 3)},
                )
            ],
        )


def simulated_ids(store: Store, encounter_ids: Sequence[str]) -> set[str]:
    """Which of these encounters are simulated (``source = 'simulated'``)."""
    if not encounter_ids:
        return set()
    with store.connect() as con:
        rows = con.execute(
            "SELECT encounter_id FROM encounters WHERE source = ?"
            " AND list_contains(?, encounter_id)",
            [SOURCE, list(encounter_ids)],
        ).fetchall()
    return {r[0] for r in rows}


def write_chunk(
    store: Store,
    spec: SimulationSpec,
    run: int,
    clinicians: Sequence[Clinician],
    templates: dict[str, list[str]],
    lo: int,
    hi: int,
) -> dict[str, int]:
    """Simulate encounters ``lo``..``hi - 1`` of the run in one transaction; rows per table."""
    with store.transaction() as con:
        _lookups(con, spec, run, clinicians, templates)
        _build(con, spec, run, lo, hi)
        counts = _insert(con)
        for name in _TEMP:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return counts


_TEMP = (
    "sim_clin",
    "sim_types",
    "sim_sections",
    "sim_bank",
    "sim_terms",
    "sim_pre",
    "sim_post",
    "sim_labels",
    "sim_enc",
    "sim_seg",
    "sim_ent",
    "sim_sent",
    "sim_ev",
)


def _table(con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, list]) -> None:
    con.register("_sim_arrow", pa.table(columns))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _sim_arrow")
    finally:
        con.unregister("_sim_arrow")


def _cumulative(weights: Sequence[float]) -> tuple[list[float], list[float]]:
    total = sum(weights)
    lo, hi, acc = [], [], 0.0
    for w in weights:
        lo.append(acc / total)
        acc += w
        hi.append(acc / total)
    hi[-1] = 1.0 + 1e-9  # u < 1 always lands somewhere
    return lo, hi


def _lookups(con, spec, run, clinicians, templates) -> None:
    """The small tables the chunk draws from (a few hundred rows at most)."""
    from workbench.simulate import ENTITY_CONFUSION, ENTITY_MISS, SPECIALTIES

    salt = spec.seed * 1_000_003 + run
    con.execute(
        "CREATE OR REPLACE TEMP MACRO sim_u(a, b) AS"
        f" ((hash(concat('{salt}/', a, '/', b)) % 16777216)::DOUBLE + 0.5) / 16777216.0"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO sim_z(a, b) AS"
        " sqrt(-2 * ln(sim_u(a, b || '.r'))) * cos(2 * pi() * sim_u(a, b || '.a'))"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO sim_id(m) AS substr(m, 1, 8) || '-' || substr(m, 9, 4)"
        " || '-' || substr(m, 13, 4) || '-' || substr(m, 17, 4) || '-' || substr(m, 21, 12)"
    )
    lo, hi = _cumulative([c.weight for c in clinicians])
    _table(
        con,
        "sim_clin",
        {
            "cid": [c.user_id for c in clinicians],
            "cname": [c.display_name for c in clinicians],
            "specialty": [c.specialty for c in clinicians],
            "lo": lo,
            "hi": hi,
            "start_frac": [c.start_frac for c in clinicians],
            "speed": [c.speed for c in clinicians],
            "delay_hours": [c.delay_hours for c in clinicians],
            "wer_factor": [c.wer_factor for c in clinicians],
            "rubber": [c.rubber_stamp for c in clinicians],
        },
    )
    rows: dict[str, list] = {"specialty": [], "note_type": [], "lo": [], "hi": [], "wer_spec": []}
    for specialty in spec.specialties:
        types, weights, wer = SPECIALTIES[specialty]
        kept = [(t, w) for t, w in zip(types, weights, strict=True) if t in templates]
        t_lo, t_hi = _cumulative([w for _, w in kept])
        for (name, _), a, b in zip(kept, t_lo, t_hi, strict=True):
            for key, value in (
                ("specialty", specialty),
                ("note_type", name),
                ("lo", a),
                ("hi", b),
                ("wer_spec", wer),
            ):
                rows[key].append(value)
    _table(con, "sim_types", rows)
    sections: dict[str, list] = {
        k: []
        for k in (
            "note_type",
            "pos",
            "section",
            "n_sections",
            "sections_json",
            "category",
            "n_bank",
            "sec_f",
        )
    }
    for name, keys in templates.items():
        for pos, key in enumerate(keys):
            cat = category(key)
            for col, value in (
                ("note_type", name),
                ("pos", pos),
                ("section", key),
                ("n_sections", len(keys)),
                ("sections_json", json.dumps(keys)),
                ("category", cat),
                ("n_bank", len(_SENTENCES[cat])),
                ("sec_f", _SECTION_FACTOR[cat]),
            ):
                sections[col].append(value)
    _table(con, "sim_sections", sections)
    bank = [(cat, j, text) for cat, texts in _SENTENCES.items() for j, text in enumerate(texts)]
    _table(
        con,
        "sim_bank",
        {"category": [b[0] for b in bank], "j": [b[1] for b in bank], "text": [b[2] for b in bank]},
    )
    terms = [(label, t) for label, found in _TERMS.items() for t in found]
    _table(
        con,
        "sim_terms",
        {
            "j": list(range(len(terms))),
            "label": [t[0] for t in terms],
            "term": [t[1] for t in terms],
        },
    )
    pre = [(speaker, j, text) for speaker, texts in _PRE.items() for j, text in enumerate(texts)]
    _table(
        con,
        "sim_pre",
        {"speaker": [p[0] for p in pre], "j": [p[1] for p in pre], "pre": [p[2] for p in pre]},
    )
    _table(
        con,
        "sim_post",
        {"j": list(range(len(_POST))), "good": [p[0] for p in _POST], "bad": [p[1] for p in _POST]},
    )
    labels = sorted(ENTITY_CONFUSION)
    _table(
        con,
        "sim_labels",
        {
            "label": labels,
            "conf_label": [ENTITY_CONFUSION[x][0] for x in labels],
            "conf_p": [ENTITY_CONFUSION[x][1] for x in labels],
            "miss_p": [ENTITY_MISS[x] for x in labels],
        },
    )


def _rollout(versions: Sequence[tuple], tag: str, ramp: float, column: int) -> tuple[str, str]:
    """SQL picking a model version by rollout: (name expression, factor expression)."""
    pick = "CASE"
    for i in range(len(versions) - 1, 0, -1):
        start = float(versions[i][1])
        pick += f" WHEN t_frac >= {start!r} + {ramp!r} * sim_u(n, '{tag}') THEN {i}"
    pick += " ELSE 0 END"
    names = "[" + ", ".join("'" + v[0] + "'" for v in versions) + "]"
    factors = "[" + ", ".join(repr(float(v[column])) for v in versions) + "]"
    return f"{names}[{pick} + 1]", f"{factors}[{pick} + 1]"


def _build(con: duckdb.DuckDBPyConnection, spec: SimulationSpec, run: int, lo: int, hi: int):
    """The chunk's encounters, segments, entities, sentences and events as temp tables."""
    from workbench.simulate import ASR_MODELS, DELETE_P, DRAFTERS, EDIT_P, NLP_VERSIONS, period

    start, end = period(spec)
    drafter, unsup = _rollout(DRAFTERS, "drafter", spec.rollout_ramp, 2)
    _, edit_f = _rollout(DRAFTERS, "drafter", spec.rollout_ramp, 3)
    asr, asr_f = _rollout(ASR_MODELS, "asr", spec.rollout_ramp, 2)
    nlp, nlp_f = _rollout(NLP_VERSIONS, "nlp", spec.rollout_ramp, 2)
    params = {
        "start": start,
        "end": end,
        "days": spec.days,
        "lo": lo,
        "hi": hi,
        "prefix": f"sim-{run}-",
    }
    # Encounters: clinician by volume weight, a day after the clinician's start, working hours.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_enc AS"
        " WITH b AS (SELECT n, $prefix || lpad(n::VARCHAR, 7, '0') AS eid,"
        "   sim_u(n, 'clin') AS uc FROM range($lo, $hi) r(n)),"
        " c AS (SELECT b.*, c.* EXCLUDE (lo, hi),"
        "   c.start_frac + (1 - c.start_frac) * sim_u(n, 'when') AS t_frac"
        "   FROM b JOIN sim_clin c ON b.uc >= c.lo AND b.uc < c.hi),"
        f" d AS (SELECT c.*, {drafter} AS drafter, {unsup} AS unsup, {edit_f} AS edit_f,"
        f"   {asr} AS asr, {asr_f} AS asr_f, {nlp} AS nlp, {nlp_f} AS nlp_f,"
        "   $start::TIMESTAMP + to_days(least(floor(t_frac * $days), $days - 1)::INT)"
        "     + to_microseconds(((8 * 3600 + sim_u(n, 'hour') * 10 * 3600) * 1e6)::BIGINT)"
        "     AS created_at,"
        "   12 + floor(sim_u(n, 'nseg') * 12)::INT AS n_seg,"
        "   12 + floor(sim_u(n, 'nsent') * 12)::INT AS n_sent,"
        "   CASE WHEN rubber THEN exp(ln(6.0) + 0.4 * sim_z(n, 'active'))"
        f"     ELSE greatest(20.0, {spec.review_seconds_median!r} * speed"
        "       * exp(0.5 * sim_z(n, 'active'))) END AS active_raw,"
        "   delay_hours * exp(0.8 * sim_z(n, 'delay')) AS delay_h"
        "   FROM c)"
        " SELECT d.* EXCLUDE (active_raw), t.note_type, t.wer_spec,"
        "   s.sections_json, s.n_sections,"
        "   greatest(1, ceil(active_raw / 15))::INT AS n_beats,"
        "   round(active_raw / greatest(1, ceil(active_raw / 15)), 1) AS beat_s,"
        "   created_at + to_microseconds((delay_h * 3600e6)::BIGINT) AS review_start,"
        "   active_raw * 1.4 + 20 AS wall,"
        "   (created_at + to_microseconds((delay_h * 3600e6)::BIGINT)"
        "     + to_microseconds(((active_raw * 1.4 + 20) * 1e6)::BIGINT) < $end"
        "     AND sim_u(n, 'reviews') < 0.985) AS reviewed,"
        f"   sim_u(n, 'signs') < {spec.sign_rate!r} AS signs,"
        f"   sim_u(n, 'fixes') < CASE WHEN rubber THEN 0.05 ELSE {spec.transcript_fix_p!r} END"
        "     AS fixes,"
        f"   sim_u(n, 'entrev') < CASE WHEN rubber THEN 0.05 ELSE {spec.entity_review_p!r} END"
        "     AS ent_review"
        " FROM d JOIN sim_types t ON t.specialty = d.specialty"
        "   AND sim_u(n, 'type') >= t.lo AND sim_u(n, 'type') < t.hi"
        " JOIN sim_sections s ON s.note_type = t.note_type AND s.pos = 0",
        params,
    )
    _derive(
        con,
        "sim_enc",
        "signed",
        "reviewed AND signs",
        fixes="reviewed AND fixes",
        ent_review="reviewed AND ent_review",
    )
    # Segments: PRE + TERM + POST, alternating speakers; some carry a misheard word.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_seg AS"
        " WITH s AS (SELECT eid, n, rubber, fixes, wer_factor, wer_spec, asr_f, nlp_f, ent_review,"
        "   unnest(range(n_seg)) AS idx FROM sim_enc),"
        " k AS (SELECT s.*, eid || '/' || idx AS key,"
        "   CASE WHEN idx % 2 = 0 THEN 'clinician' ELSE 'patient' END AS speaker FROM s)"
        " SELECT k.*, p.pre, t.term, t.label, q.good, q.bad,"
        f"   sim_u(key, 'err') < least(0.6, {spec.base_wer * 9!r} * wer_factor * wer_spec * asr_f)"
        "     AS err,"
        "   round(idx * 6.0 + sim_u(key, 'at') * 0.5, 2) AS start_s,"
        "   length(p.pre) AS t0, length(p.pre) + length(t.term) AS t1,"
        "   sim_u(key, 'miss') >= l.miss_p * nlp_f AS found,"
        "   CASE WHEN sim_u(key, 'conf') < l.conf_p * nlp_f THEN l.conf_label ELSE t.label END"
        "     AS model_label,"
        "   sim_u(key, 'spur') < 0.05 * nlp_f AS spurious,"
        "   strpos(p.pre, ' ') - 1 AS spur_end,"
        "   sim_u(key, 'human') AS uh"
        " FROM k JOIN sim_pre p ON p.speaker = k.speaker"
        "   AND p.j = floor(sim_u(key, 'pre') * 6)::INT"
        " JOIN sim_terms t ON t.j = floor(sim_u(key, 'term') * (SELECT count(*) FROM sim_terms))"
        "   ::INT"
        " JOIN sim_post q ON q.j = floor(sim_u(key, 'post') * (SELECT count(*) FROM sim_post))"
        "   ::INT"
        " JOIN sim_labels l ON l.label = t.label"
    )
    _derive(
        con,
        "sim_seg",
        "fixed",
        "err AND fixes",
        added="ent_review AND NOT found AND uh < 0.6",
        relabelled="ent_review AND found AND model_label <> label AND uh < 0.7",
        removed="ent_review AND spurious AND uh < 0.75",
    )
    # Per encounter: transcript corrected? entities changed? -> versions that exist.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_enc2 AS SELECT e.*,"
        "   coalesce(g.n_fixed, 0) AS n_fixed, coalesce(g.n_ent_changes, 0) AS n_ent_changes,"
        "   CASE WHEN coalesce(g.n_fixed, 0) > 0 THEN 2 ELSE 1 END AS final_tv"
        " FROM sim_enc e LEFT JOIN (SELECT eid, count(*) FILTER (fixed) AS n_fixed,"
        "   count(*) FILTER (added OR relabelled OR removed) AS n_ent_changes"
        "   FROM sim_seg GROUP BY eid) g ON g.eid = e.eid;"
        " DROP TABLE sim_enc; ALTER TABLE sim_enc2 RENAME TO sim_enc;"
    )
    # Sentences: spread over the template's sections in order; label by drafter quality.
    del_case = " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in DELETE_P.items())
    edit_case = " ".join(f"WHEN '{k}' THEN {v!r}" for k, v in EDIT_P.items())
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_sent AS"
        " WITH s AS (SELECT eid, n, note_type, n_sections, n_sent, n_seg, unsup, edit_f, rubber,"
        "   reviewed, unnest(range(n_sent)) AS k FROM sim_enc),"
        " t AS (SELECT s.*, eid || '#' || k AS key,"
        "   floor(k * n_sections / n_sent)::INT AS pos FROM s),"
        " l AS (SELECT t.*, x.section, x.category, x.sec_f, b.text,"
        "   sim_id(md5('sentence/' || key)) AS sentence_id,"
        "   CASE WHEN sim_u(key, 'label') < unsup THEN 'unsupported'"
        "     WHEN sim_u(key, 'label') < unsup * 2.5 THEN 'partly_supported'"
        "     ELSE 'supported' END AS label,"
        "   floor(sim_u(key, 'ev') * n_seg)::INT AS seg_idx"
        "   FROM t JOIN sim_sections x ON x.note_type = t.note_type AND x.pos = t.pos"
        "   JOIN sim_bank b ON b.category = x.category"
        "     AND b.j = floor(sim_u(key, 'text') * x.n_bank)::INT),"
        " p AS (SELECT l.*,"
        f"   (CASE label {del_case} END) * edit_f * sec_f"
        "     * CASE WHEN rubber THEN 0.1 ELSE 1 END AS p_del,"
        f"   (CASE label {edit_case} END) * edit_f * sec_f"
        "     * CASE WHEN rubber THEN 0.1 ELSE 1 END AS p_edit,"
        "   sim_u(key, 'outcome') AS uo FROM l)"
        " SELECT p.*,"
        "   round(CASE label WHEN 'supported' THEN 0.7 WHEN 'partly_supported' THEN 0.4"
        "     ELSE 0.1 END + 0.3 * sim_u(key, 'score'), 3) AS score,"
        "   CASE WHEN NOT reviewed THEN 'none' WHEN uo < p_del THEN 'deleted'"
        "     WHEN uo < p_del + p_edit THEN 'edited' ELSE 'kept' END AS outcome,"
        "   CASE WHEN sim_u(key, 'how') < 0.5"
        "     THEN rtrim(substr(text, 1, greatest(12, floor(length(text) * 0.6))::INT)) || '.'"
        f"     ELSE text || ' ' || {_ADDITIONS}[1 + floor(sim_u(key, 'add') * 4)::INT] END"
        "     AS edited_text,"
        "   sim_u(key, 'view') AS uv, sim_u(key, 'accept') AS ua"
        " FROM p"
    )
    _derive(
        con,
        "sim_sent",
        "accepted",
        "outcome = 'kept' AND (label = 'unsupported'"
        f" OR ua < CASE WHEN rubber THEN 0.9 ELSE {spec.accept_p!r} END)",
        viewed="reviewed AND CASE WHEN rubber THEN uv < 0.03 WHEN outcome = 'edited'"
        " THEN uv < 0.7 WHEN label <> 'supported' THEN uv < 0.85 ELSE uv < 0.2 END",
        # The sentence's place in the saved version (deleted ones leave no gap).
        final_idx="CASE WHEN outcome <> 'deleted' THEN (count(*) FILTER (outcome <> 'deleted')"
        " OVER (PARTITION BY eid ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))"
        " - 1 END",
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_enc2 AS SELECT e.*,"
        "   coalesce(g.n_changes, 0) AS n_changes, coalesce(g.n_final, e.n_sent) AS n_final,"
        "   CASE WHEN coalesce(g.n_changes, 0) > 0 OR e.n_fixed > 0 THEN 2 ELSE 1 END"
        "     AS final_nv,"
        "   CASE WHEN e.n_ent_changes > 0 OR e.n_fixed > 0 THEN 2 ELSE 1 END AS final_es,"
        "   e.review_start + to_microseconds((e.wall * 0.93e6)::BIGINT) AS save_ts,"
        "   e.review_start + to_microseconds((e.wall * 1e6)::BIGINT) AS sign_ts"
        " FROM sim_enc e LEFT JOIN (SELECT eid,"
        "   count(*) FILTER (outcome IN ('deleted', 'edited')) AS n_changes,"
        "   count(*) FILTER (outcome <> 'deleted') AS n_final FROM sim_sent GROUP BY eid) g"
        "   ON g.eid = e.eid;"
        " DROP TABLE sim_enc; ALTER TABLE sim_enc2 RENAME TO sim_enc;"
    )
    _build_entities(con)
    _build_events(con)


def _derive(con: duckdb.DuckDBPyConnection, table: str, first: str, expr: str, **more: str):
    """Add computed columns to a temp table by rebuilding it (an ALTER TABLE ... ADD COLUMN
    plus UPDATE of several new columns in one transaction lost some of them in DuckDB 1.5).
    A column already in the table is replaced."""
    columns = {first: expr, **more}
    existing = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    replaced = [c for c in columns if c in existing]
    keep = f"* EXCLUDE ({', '.join(replaced)})" if replaced else "*"
    select = ", ".join(f"{sql} AS {name}" for name, sql in columns.items())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}_new AS SELECT {keep}, {select} FROM {table};"
        f" DROP TABLE {table}; ALTER TABLE {table}_new RENAME TO {table};"
    )


def _entity_json(prefix: str, label: str, source: str) -> str:
    """``pipelines.entity_edit.entity_dict`` as SQL over columns named ``{prefix}...``."""
    return (
        f"json_object('segment_idx', {prefix}segment_idx, 'start', {prefix}start_char,"
        f" 'end', {prefix}end_char, 'text', {prefix}text, 'label', {label},"
        " 'flags', json_object('negated', false, 'historical', false, 'family', false,"
        " 'hypothetical', false, 'uncertain', false), 'code', NULL, 'code_system', NULL,"
        f" 'code_label', NULL, 'attributes', json_object(), 'source', {source})"
    )


def _build_entities(con: duckdb.DuckDBPyConnection) -> None:
    """Entity rows of set 1 (the NLP's) and, where people changed them or the transcript
    was corrected, set 2; ``kind`` says what a person did to each."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_ent AS"
        " WITH m AS ("
        "   SELECT s.eid, s.idx AS segment_idx, s.t0 AS start_char, s.t1 AS end_char,"
        "     s.term AS text, s.model_label, s.label AS true_label, s.found, s.added,"
        "     s.relabelled, false AS spur, false AS removed FROM sim_seg s WHERE found OR added"
        "   UNION ALL"
        "   SELECT s.eid, s.idx, 0, s.spur_end, substr(s.pre, 1, s.spur_end), 'PROBLEM',"
        "     NULL, true, false, false, true, s.removed FROM sim_seg s WHERE s.spurious)"
        " SELECT m.*, e.final_es,"
        "   CASE WHEN added THEN 'entity.added' WHEN relabelled THEN 'entity.relabelled'"
        "     WHEN removed THEN 'entity.removed' END AS kind,"
        "   CASE WHEN relabelled OR added THEN true_label ELSE model_label END AS final_label,"
        "   CASE WHEN added THEN 'human' ELSE 'machine' END AS source"
        " FROM m JOIN sim_enc e ON e.eid = m.eid"
    )


def _build_events(con: duckdb.DuckDBPyConnection) -> None:
    """Every event of the chunk, in the app's kinds and before/after shapes."""
    seg_obj = "e.eid || '/transcript/' || e.final_tv || '/segment/' || s.idx"
    note_obj = "e.eid || '/note/'"
    snap = "json_object('section', x.section, 'text', {}, 'origin', 'machine')"
    parts = [
        # Ingest and processing.
        "SELECT e.eid || '/created' AS key, e.created_at AS ts, e.cid AS user_id, e.eid,"
        " 'encounter.created' AS kind, 'encounter' AS object_type, e.eid AS object_id,"
        " NULL::JSON AS before, json_object('audio_sha256', NULL, 'source', 'simulated',"
        " 'clinician_id', e.cid) AS after, NULL::VARCHAR AS model_version,"
        " NULL::INT AS note_version"
        " FROM sim_enc e",
        "SELECT e.eid || '/asr', e.created_at + INTERVAL 90 SECOND, e.cid, e.eid,"
        " 'transcript.asr', 'transcript', e.eid || '/transcript/1', NULL,"
        " json_object('version', 1, 'segments', e.n_seg), e.asr, NULL FROM sim_enc e",
        "SELECT e.eid || '/nlp', e.created_at + INTERVAL 95 SECOND, e.cid, e.eid,"
        " 'entities.extracted', 'entity_set', e.eid || '/entities/1', NULL,"
        " json_object('version', 1, 'entities', (SELECT count(*) FROM sim_ent n"
        "   WHERE n.eid = e.eid AND (n.found OR n.spur)), 'transcript_version', 1), e.nlp, NULL"
        " FROM sim_enc e",
        "SELECT e.eid || '/draft', e.created_at + INTERVAL 100 SECOND, e.cid, e.eid,"
        f" 'note.drafted', 'note', {note_obj} || '1', NULL,"
        " json_object('version', 1, 'sentences', e.n_sent), e.drafter, 1 FROM sim_enc e",
        "SELECT e.eid || '/verify', e.created_at + INTERVAL 102 SECOND, e.cid, e.eid,"
        f" 'note.verified', 'note', {note_obj} || '1', NULL,"
        " json_object('check_id', c.check_id, 'sentences', c.sentences, 'unsupported',"
        " c.unsupported, 'partly_supported', c.partly_supported, 'omissions', 0),"
        f" '{CHECKER}', 1 FROM sim_enc e JOIN support_checks c ON c.encounter_id = e.eid",
        # Review activity: heartbeats, then what the reviewer opened and accepted.
        "SELECT e.eid || '/beat/' || b, e.review_start + to_microseconds(((b + 1) * e.wall"
        " / e.n_beats * 1e6)::BIGINT), e.cid, e.eid, 'review.active', 'encounter', e.eid,"
        " NULL, json_object('seconds', e.beat_s, 'since_last_s',"
        " CASE WHEN b = 0 THEN NULL ELSE round(e.wall / e.n_beats, 1) END), NULL, 1"
        " FROM (SELECT *, unnest(range(n_beats)) AS b FROM sim_enc WHERE reviewed) e",
        "SELECT x.key || '/viewed', e.review_start + to_microseconds((((x.k + 0.5) / x.n_sent"
        " * 0.85 + 0.04) * e.wall * 1e6)::BIGINT), e.cid, e.eid, 'sentence.viewed', 'sentence',"
        " x.sentence_id, NULL, NULL, NULL, 1 FROM sim_sent x JOIN sim_enc e ON e.eid = x.eid"
        " WHERE x.viewed",
        "SELECT x.key || '/accepted', e.review_start + to_microseconds((((x.k + 0.5) / x.n_sent"
        " * 0.85 + 0.05) * e.wall * 1e6)::BIGINT), e.cid, e.eid, 'sentence.accepted',"
        " 'sentence', x.sentence_id, NULL, NULL, NULL, 1"
        " FROM sim_sent x JOIN sim_enc e ON e.eid = x.eid WHERE x.accepted",
        # Transcript corrections: one event per misheard word, then the corrected version.
        "SELECT s.key || '/fix', e.review_start + to_microseconds(((0.02 + 0.2 * s.idx"
        " / e.n_seg) * e.wall * 1e6)::BIGINT), e.cid, e.eid, 'transcript.word_corrected',"
        f" 'segment', {seg_obj}, json_object('text', s.pre || s.term || s.bad),"
        " json_object('text', s.pre || s.term || s.good), e.asr, NULL"
        " FROM sim_seg s JOIN sim_enc e ON e.eid = s.eid WHERE s.fixed",
        "SELECT e.eid || '/corrected', e.review_start + to_microseconds((0.01 * e.wall * 1e6)"
        " ::BIGINT), e.cid, e.eid, 'transcript.corrected', 'transcript',"
        " e.eid || '/transcript/2', NULL, json_object('version', 2, 'segments', e.n_seg),"
        " e.asr, NULL FROM sim_enc e WHERE e.n_fixed > 0",
        "SELECT e.eid || '/reextracted', e.review_start + to_microseconds((0.23 * e.wall * 1e6)"
        " ::BIGINT), e.cid, e.eid, 'entities.extracted', 'entity_set', e.eid || '/entities/2',"
        " NULL, json_object('version', 2, 'entities', (SELECT count(*) FROM sim_ent n"
        "   WHERE n.eid = e.eid AND NOT n.removed AND (n.found OR n.added OR n.spur)),"
        " 'transcript_version', 2), e.nlp, NULL FROM sim_enc e WHERE e.n_fixed > 0",
        # Entity corrections.
        "SELECT e.eid || '/ent/' || n.segment_idx || '/' || n.start_char,"
        " e.review_start + to_microseconds(((0.3 + 0.2 * n.segment_idx / e.n_seg) * e.wall"
        " * 1e6)::BIGINT), e.cid, e.eid, n.kind, 'entity', e.eid || '/entities/2',"
        " CASE WHEN n.kind = 'entity.added' THEN NULL ELSE "
        + _entity_json("n.", "n.model_label", "'machine'")
        + " END, CASE WHEN n.kind = 'entity.removed' THEN NULL ELSE "
        + _entity_json("n.", "n.final_label", "n.source")
        + " END, e.nlp, NULL FROM sim_ent n JOIN sim_enc e ON e.eid = n.eid"
        " WHERE n.kind IS NOT NULL",
        # The saved version: one event per sentence change, then note.saved.
        "SELECT x.key || '/' || x.outcome, e.save_ts, e.cid, e.eid,"
        " 'sentence.' || x.outcome, 'sentence', x.sentence_id, "
        + snap.format("x.text")
        + ", CASE WHEN x.outcome = 'edited' THEN "
        + snap.format("x.edited_text")
        + " END, e.drafter, 2 FROM sim_sent x JOIN sim_enc e ON e.eid = x.eid"
        " WHERE x.outcome IN ('edited', 'deleted')",
        "SELECT e.eid || '/remapped', e.save_ts, e.cid, e.eid, 'note.evidence_remapped',"
        f" 'note', {note_obj} || '2', json_object('transcript_version', 1),"
        " json_object('transcript_version', 2), NULL, 2 FROM sim_enc e WHERE e.n_fixed > 0",
        "SELECT e.eid || '/saved', e.save_ts, e.cid, e.eid, 'note.saved', 'note',"
        f" {note_obj} || '2', json_object('version', 1),"
        " json_object('version', 2, 'changes', e.n_changes), e.drafter, 2"
        " FROM sim_enc e WHERE e.final_nv = 2",
        # The signature.
        "SELECT e.eid || '/signed', e.sign_ts, e.cid, e.eid, 'note.signed', 'note',"
        f" {note_obj} || e.final_nv, NULL, json_object('version', e.final_nv,"
        f" 'attestation', {quoted(ATTESTATION)}, 'active_seconds', round(e.n_beats * e.beat_s, 1),"
        " 'looked_at', g.looked_at, 'sentences', e.n_final, 'flagged', g.flagged,"
        " 'support_checked', true), NULL, e.final_nv"
        " FROM sim_enc e JOIN sim_signed g ON g.eid = e.eid WHERE e.signed",
    ]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE sim_signed AS SELECT eid,"
        "   to_json(coalesce(list(sentence_id ORDER BY k) FILTER (viewed OR accepted"
        "     OR outcome = 'edited'), [])) AS looked_at,"
        "   to_json(coalesce(list(sentence_id ORDER BY k) FILTER (outcome = 'kept'"
        "     AND label = 'unsupported'), [])) AS flagged,"
        "   count(*) FILTER (outcome = 'kept' AND label = 'unsupported') AS n_flagged"
        " FROM sim_sent WHERE outcome <> 'deleted' GROUP BY eid"
    )
    _insert_support(con)
    con.execute("CREATE OR REPLACE TEMP TABLE sim_ev AS " + " UNION ALL ".join(parts))


def _insert_support(con: duckdb.DuckDBPyConnection) -> None:
    """The support check of each draft (its check id is needed by ``note.verified``); the
    checks are numbered from the next free ids (all reserved) in encounter order."""
    checks = con.execute(
        "SELECT count(*) FROM sim_enc e WHERE e.eid IN (SELECT eid FROM sim_sent)"
    ).fetchone()[0]
    if not checks:
        return
    con.execute(
        "INSERT INTO support_checks (check_id, encounter_id, note_version, transcript_version,"
        " entity_set_version, checker_version, options, sentences, unsupported,"
        " partly_supported, omissions, seconds, created_at, created_by)"
        " SELECT ? - 1 + row_number() OVER (ORDER BY e.n), e.eid, 1, 1, 1, ?, '{}', e.n_sent,"
        "   g.unsupported, g.partly, 0, 0.2, e.created_at + INTERVAL 102 SECOND, e.cid"
        " FROM sim_enc e JOIN (SELECT eid, count(*) FILTER (label = 'unsupported')"
        "   AS unsupported, count(*) FILTER (label = 'partly_supported') AS partly"
        "   FROM sim_sent GROUP BY eid) g ON g.eid = e.eid ORDER BY e.n",
        [next_ids(con, "support_checks", checks)[0], CHECKER],
    )
    con.execute(
        "INSERT INTO sentence_support (check_id, idx, sentence_id, section, text, label, score,"
        " reasons, evidence, concepts, linked)"
        " SELECT c.check_id, x.k, x.sentence_id, x.section, x.text, x.label, x.score,"
        '   CASE x.label WHEN \'supported\' THEN \'[["concepts", "supported",'
        '     "every concept is in the evidence"]]\''
        '   WHEN \'partly_supported\' THEN \'[["concepts", "partly",'
        '     "some concepts are not in the evidence"]]\''
        '   ELSE \'[["concepts", "unsupported", "no evidence in the transcript"]]\' END,'
        "   to_json([[s.idx, 0, s.t1, s.start_s, round(s.start_s + 5.5, 2)]]), '[]',"
        "   x.label <> 'unsupported'"
        " FROM sim_sent x JOIN support_checks c ON c.encounter_id = x.eid AND c.note_version = 1"
        " JOIN sim_seg s ON s.eid = x.eid AND s.idx = x.seg_idx"
    )


def _insert(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Insert the chunk's temp tables into the app's tables; rows written per table."""
    counts: dict[str, int] = {}

    def run(table: str, sql: str, params: list | None = None) -> None:
        counts[table] = counts.get(table, 0) + con.execute(sql, params).fetchone()[0]

    run(
        "encounters",
        "INSERT INTO encounters (encounter_id, title, specialty, visit_type, clinician,"
        " patient_label, audio_sha256, source, created_at, created_by, clinician_id)"
        " SELECT eid, upper(specialty[1]) || specialty[2:] || ' visit (simulated ' || n || ')',"
        " specialty,"
        " CASE WHEN sim_u(n, 'visit') < 0.3 THEN 'new patient' ELSE 'follow-up' END,"
        " cname, 'SIM-' || lpad((hash(eid) % 1000000)::VARCHAR, 6, '0'), NULL, 'simulated',"
        " created_at, cid, cid FROM sim_enc ORDER BY n",
    )
    counts["support_checks"] = con.execute("SELECT count(*) FROM sim_enc").fetchone()[0]
    run(
        "transcripts",
        "INSERT INTO transcripts (encounter_id, version, model, language, duration_s,"
        " input_sha256, options, created_at, created_by)"
        " SELECT eid, v, asr, 'en', n_seg * 6.0 + 3, NULL, '{}', CASE WHEN v = 1"
        " THEN created_at + INTERVAL 90 SECOND ELSE review_start"
        " + to_microseconds((0.01 * wall * 1e6)::BIGINT) END, cid"
        " FROM (SELECT *, unnest(range(1, final_tv + 1)) AS v FROM sim_enc)",
    )
    run(
        "segments",
        "INSERT INTO segments (encounter_id, transcript_version, idx, start_s, end_s, speaker,"
        " text, avg_logprob, no_speech_prob, compression_ratio)"
        " SELECT s.eid, v, s.idx, s.start_s, round(s.start_s + 5.5, 2), s.speaker,"
        " s.pre || s.term || CASE WHEN s.err AND NOT (v = 2 AND s.fixed) THEN s.bad"
        " ELSE s.good END,"
        " round(-0.2 - 0.4 * sim_u(s.key, 'lp'), 3), round(0.05 * sim_u(s.key, 'ns'), 3), 1.4"
        " FROM (SELECT *, unnest(range(1, final_tv + 1)) AS v FROM sim_enc) e"
        " JOIN sim_seg s ON s.eid = e.eid",
    )
    run(
        "entity_sets",
        "INSERT INTO entity_sets (encounter_id, version, transcript_version, model_version,"
        " created_at, created_by)"
        " SELECT eid, v, CASE WHEN v = 1 THEN 1 ELSE final_tv END, nlp,"
        " CASE WHEN v = 1 THEN created_at + INTERVAL 95 SECOND ELSE review_start"
        " + to_microseconds((0.3 * wall * 1e6)::BIGINT) END, cid"
        " FROM (SELECT *, unnest(range(1, final_es + 1)) AS v FROM sim_enc)",
    )
    entity = (
        " n.segment_idx, n.start_char, n.end_char, n.text, {label}, false, false, false, false,"
        " false, NULL, NULL, NULL, '{{}}', {source}"
    )
    run(
        "entities",
        "INSERT INTO entities (encounter_id, set_version, idx, segment_idx, start_char, end_char,"
        " text, label, negated, historical, family, hypothetical, uncertain, code, code_system,"
        " code_label, attributes, source)"
        " SELECT n.eid, 1, row_number() OVER (PARTITION BY n.eid ORDER BY n.segment_idx,"
        " n.start_char) - 1,"
        + entity.format(label="n.model_label", source="'machine'")
        + " FROM sim_ent n WHERE n.found OR n.spur"
        " UNION ALL"
        " SELECT n.eid, 2, row_number() OVER (PARTITION BY n.eid ORDER BY n.segment_idx,"
        " n.start_char) - 1,"
        + entity.format(label="n.final_label", source="n.source")
        + " FROM sim_ent n WHERE n.final_es = 2 AND NOT n.removed AND (n.found OR n.added"
        " OR n.spur)",
    )
    run(
        "notes",
        "INSERT INTO notes (encounter_id, version, parent_version, template, sections,"
        " model_version, transcript_version, input_sha256, options, created_at, created_by)"
        " SELECT eid, v, CASE WHEN v = 2 THEN 1 END, note_type, sections_json, drafter,"
        " CASE WHEN v = 1 THEN 1 ELSE final_tv END, NULL, '{}',"
        " CASE WHEN v = 1 THEN created_at + INTERVAL 100 SECOND ELSE save_ts END, cid"
        " FROM (SELECT *, unnest(range(1, final_nv + 1)) AS v FROM sim_enc)",
    )
    run(
        "note_sentences",
        "INSERT INTO note_sentences (encounter_id, note_version, idx, sentence_id, section,"
        " text, origin)"
        " SELECT eid, 1, k, sentence_id, section, text, 'machine' FROM sim_sent"
        " UNION ALL"
        " SELECT x.eid, 2, x.final_idx, x.sentence_id, x.section,"
        " CASE WHEN x.outcome = 'edited' THEN x.edited_text ELSE x.text END, 'machine'"
        " FROM sim_sent x JOIN sim_enc e ON e.eid = x.eid"
        " WHERE e.final_nv = 2 AND x.outcome <> 'deleted'",
    )
    run(
        "evidence",
        "INSERT INTO evidence (encounter_id, note_version, sentence_idx, idx, segment_idx,"
        " start_char, end_char, start_s, end_s)"
        " SELECT x.eid, 1, x.k, 0, x.seg_idx, 0, s.t1, s.start_s, round(s.start_s + 5.5, 2)"
        " FROM sim_sent x JOIN sim_seg s ON s.eid = x.eid AND s.idx = x.seg_idx"
        " UNION ALL"
        " SELECT x.eid, 2, x.final_idx, 0, x.seg_idx, 0, s.t1, s.start_s,"
        " round(s.start_s + 5.5, 2)"
        " FROM sim_sent x JOIN sim_seg s ON s.eid = x.eid AND s.idx = x.seg_idx"
        " JOIN sim_enc e ON e.eid = x.eid WHERE e.final_nv = 2 AND x.outcome <> 'deleted'",
    )
    counts["sentence_support"] = con.execute("SELECT count(*) FROM sim_sent").fetchone()[0]
    run(
        "signatures",
        "INSERT INTO signatures (encounter_id, note_version, signed_by, signed_at, attestation,"
        " active_seconds, looked_at, sentences, flagged)"
        " SELECT e.eid, e.final_nv, e.cid, e.sign_ts, ?, round(e.n_beats * e.beat_s, 1),"
        " g.looked_at, e.n_final, g.n_flagged"
        " FROM sim_enc e JOIN sim_signed g ON g.eid = e.eid WHERE e.signed ORDER BY e.n",
        [ATTESTATION],
    )
    run(
        "events",
        "INSERT INTO events (event_id, ts, user_id, encounter_id, kind, object_type, object_id,"
        " before, after, model_version, note_version)"
        " SELECT sim_id(md5(key)), ts, user_id, eid, kind, object_type, object_id, before,"
        " after, model_version, note_version FROM sim_ev ORDER BY ts, key",
    )
    return counts
