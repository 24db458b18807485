"""Scale data for the analytics benchmark and test until the simulator (``workbench.simulate``)
is on main: raw rows in the app's table and event shapes, written by bulk SQL (range() and
hash-based randomness, no Python loop per row). Deterministic by ``seed``.

Per encounter: one transcript (10 segments of 12 words), a first entity set (4 entities), a
machine draft (8 sentences over 4 sections, support labels), an edited version, a signature
for ~80% (with active seconds, looked_at), and events: encounter.created, transcript.asr,
note.drafted, note.verified, review.active beats (``beats`` of them: they set the event
count, 50 per encounter gives 5,000,000 events at 100,000 encounters), sentence.viewed,
sentence.accepted/edited/deleted, entity relabels and removals, transcript corrections,
note.saved and note.signed.
"""

from __future__ import annotations

from workbench import store as st

SECTIONS = '["Subjective", "Objective", "Assessment", "Plan"]'

# $n encounters, $k clinicians, $seed, $beats review.active events per encounter.
_SQL = [
    "CREATE OR REPLACE TEMP TABLE g AS SELECT i, 'gen-' || i AS eid,"
    " (hash(i, $seed) % 1000)::INTEGER AS r, 'clin-' || (hash(i, $seed, 1) % $k) AS clin,"
    " TIMESTAMP '2026-01-01' + to_minutes((i * 5)::BIGINT) AS t0,"
    " hash(i, $seed, 2) % 100 < 80 AS signed FROM range($n) r(i)",
    "INSERT INTO users (user_id, display_name, role, created_at)"
    " SELECT 'clin-' || j, 'Clinician ' || j, 'clinician', TIMESTAMP '2026-01-01'"
    " FROM range($k) r(j) ON CONFLICT DO NOTHING",
    "INSERT INTO encounters (encounter_id, title, specialty, visit_type, clinician, source,"
    " created_at, created_by, clinician_id) SELECT eid, 'Generated visit ' || i,"
    " ['Cardiology', 'Primary care', 'Pediatrics', 'Oncology'][1 + r % 4], 'follow-up', clin,"
    " CASE WHEN r % 10 < 7 THEN 'simulated' ELSE 'upload' END, t0, clin, clin FROM g",
    "INSERT INTO transcripts SELECT eid, 1, 'whisper-small', 'en', 300, NULL, NULL, t0, clin"
    " FROM g",
    "INSERT INTO segments SELECT eid, 1, s, s * 10, s * 10 + 9, 'patient',"
    " 'the patient reports a dry cough for three days with mild fever at night', -0.2, 0.01, 1.2"
    " FROM g, range(10) r(s)",
    "INSERT INTO entity_sets SELECT eid, 1, 1, 'nlp.gen', t0, 'pipeline' FROM g",
    "INSERT INTO entities SELECT eid, 1, x, x, 0, 5, 'cough',"
    " ['PROBLEM', 'MEDICATION', 'TEST', 'PROBLEM'][1 + x], false, false, false, false, false,"
    " NULL, NULL, NULL, '{}', 'machine' FROM g, range(4) r(x)",
    "INSERT INTO notes SELECT eid, v, CASE WHEN v = 2 THEN 1 END,"
    " CASE WHEN r % 3 = 0 THEN 'progress' ELSE 'soap' END, '" + SECTIONS + "',"
    " CASE WHEN i < $n / 2 THEN 'drafter.v1' ELSE 'drafter.v2' END, 1, NULL, NULL,"
    " t0 + to_minutes(v::BIGINT), CASE WHEN v = 1 THEN 'pipeline' ELSE clin END"
    " FROM g, range(1, 3) r(v)",
    # Sentence x of version 1; version 2 edits (hash < 15%), deletes (< 20%) or keeps it.
    "CREATE OR REPLACE TEMP TABLE gs AS SELECT g.*, x, 's' || x AS sid,"
    " ['Subjective', 'Objective', 'Assessment', 'Plan'][1 + x % 4] AS section,"
    " 'Generated sentence number ' || x || ' about the cough and the plan.' AS text,"
    " (hash(i, x, $seed, 3) % 100)::INTEGER AS h,"
    " CASE WHEN hash(i, x, $seed, 4) % 100 < 70 THEN 'supported'"
    "      WHEN hash(i, x, $seed, 4) % 100 < 90 THEN 'partly_supported' ELSE 'unsupported' END"
    " AS label FROM g, range(8) r(x)",
    "INSERT INTO note_sentences SELECT eid, 1, x, sid, section, text, 'machine' FROM gs",
    "INSERT INTO note_sentences SELECT eid, 2, x, sid, section,"
    " CASE WHEN h < 15 THEN text || ' Edited.' ELSE text END, 'machine' FROM gs WHERE h >= 5",
    "INSERT INTO support_checks (check_id, encounter_id, note_version, transcript_version,"
    " entity_set_version, checker_version, options, sentences, unsupported, partly_supported,"
    " omissions, seconds, created_at, created_by)"
    " SELECT 1000000 + i, eid, 1, 1, 1, 'support.gen', NULL, 8, 0, 0, 0, 0.1, t0, 'pipeline'"
    " FROM g",
    "INSERT INTO sentence_support SELECT 1000000 + i, x, sid, section, text, label, 0.5, '[]',"
    " '[]', '[]', false FROM gs",
    "INSERT INTO signatures SELECT eid, 2, clin, t0 + to_minutes((30 + r * 3)::BIGINT),"
    " 'attested', (r % 300)::DOUBLE, '[]', 8, 1 FROM g WHERE signed",
]

# Events: (kind, encounter rows, ts, object_id, before, after, note_version).
_EVENTS = [
    ("encounter.created", "g", "t0", "eid", "NULL", "'{}'", "NULL"),
    ("transcript.asr", "g", "t0", "eid", "NULL", "'{}'", "NULL"),
    ("note.drafted", "g", "t0 + INTERVAL 1 MINUTE", "eid", "NULL", "'{}'", "1"),
    ("note.verified", "g", "t0 + INTERVAL 1 MINUTE", "eid", "NULL", "'{}'", "1"),
    ("note.saved", "g", "t0 + INTERVAL 2 MINUTE", "eid", "NULL", "'{}'", "2"),
    (
        "note.signed",
        "g WHERE signed",
        "t0 + to_minutes((30 + r * 3)::BIGINT)",
        "eid",
        "NULL",
        "'{}'",
        "2",
    ),
    ("sentence.viewed", "gs WHERE h % 2 = 0", "t0 + INTERVAL 3 MINUTE", "sid", "NULL", "NULL", "1"),
    ("sentence.accepted", "gs WHERE h >= 15", "t0 + INTERVAL 4 MINUTE", "sid", "NULL", "NULL", "1"),
    (
        "sentence.edited",
        "gs WHERE h BETWEEN 5 AND 14",
        "t0 + INTERVAL 2 MINUTE",
        "sid",
        "json_object('text', text)",
        "json_object('text', text || ' Edited.')",
        "2",
    ),
    (
        "sentence.deleted",
        "gs WHERE h < 5",
        "t0 + INTERVAL 2 MINUTE",
        "sid",
        "json_object('text', text)",
        "NULL",
        "2",
    ),
    (
        "entity.relabelled",
        "g WHERE r % 5 = 0",
        "t0 + INTERVAL 2 MINUTE",
        "eid",
        "json_object('label', 'PROBLEM')",
        "json_object('label', 'TEST')",
        "NULL",
    ),
    (
        "entity.removed",
        "g WHERE r % 7 = 0",
        "t0 + INTERVAL 2 MINUTE",
        "eid",
        "json_object('label', 'MEDICATION')",
        "NULL",
        "NULL",
    ),
    (
        "transcript.word_corrected",
        "g WHERE r % 4 = 0",
        "t0 + INTERVAL 2 MINUTE",
        "eid",
        "json_object('text', 'the patient reports a dry cough')",
        "json_object('text', 'the patient reports a wet cough')",
        "NULL",
    ),
]


def generate(
    store: st.Store, encounters: int, seed: int = 1, clinicians: int = 40, beats: int = 3
) -> None:
    """Write ``encounters`` generated encounters (see the module docstring) in one
    transaction."""
    params = {"n": encounters, "k": clinicians, "seed": seed}
    with store.transaction() as con:
        for sql in _SQL:
            con.execute(sql, {k: v for k, v in params.items() if "$" + k in sql})
        for kind, rows, ts, object_id, before, after, version in _EVENTS:
            con.execute(
                "INSERT INTO events SELECT uuid(), "
                + ts
                + ", clin, eid, '"
                + kind
                + "', NULL, "
                + object_id
                + ", "
                + before
                + ", "
                + after
                + ", NULL, "
                + version
                + " FROM "
                + rows
            )
        con.execute(
            "INSERT INTO events SELECT uuid(), t0 + to_seconds((10 + b)::BIGINT), clin, eid,"
            " 'review.active', 'encounter', eid, NULL, json_object('seconds', 15), NULL, NULL"
            " FROM g, range($beats) r(b)",
            {"beats": beats},
        )
        con.execute("DROP TABLE g")
        con.execute("DROP TABLE gs")
