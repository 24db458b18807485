"""Derive the analytics facts tables (migration 0023) from the raw tables, in SQL only.

A refresh recomputes the encounters whose raw rows changed: it fingerprints the candidate
encounters (how many events and the newest event time, how many note versions and
signatures) and recomputes those whose fingerprint differs from the one stored with their
facts: their rows in every facts table are deleted and re-inserted by INSERT ... SELECT, in
the caller's transaction. Candidates are the encounters without facts (new ones, and the
simulator's, whose events carry past times) and those with an event newer than the last
refresh's newest event less ``MARGIN`` (every change writes an event in its own
transaction); ``full`` fingerprints and recomputes every encounter. So a refresh with
nothing new reads one column of recent events, not the whole log. Facts of deleted
(purged) encounters are dropped. The measures are defined in ``workbench.store.analytics``.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from workbench.store.models import ENTITY_REVIEW_KINDS

DRAFTED = "note.drafted"
# A person working on the encounter: its first such event is when review began.
REVIEW_KINDS = (
    "review.active",
    "sentence.viewed",
    "sentence.accepted",
    "sentence.edited",
    "sentence.added",
    "sentence.deleted",
    "sentence.moved",
    "omission.added",
    "note.saved",
    "note.signed",
    *ENTITY_REVIEW_KINDS,  # the entity review actions' kinds, as the model store names them
    "transcript.word_corrected",
    "transcript.segment_corrected",
    "transcript.speaker_relabelled",
)
FACT_TABLES = (
    "analytics_encounters",
    "analytics_sections",
    "analytics_sentences",
    "analytics_entity_changes",
)

# Slack on the watermark: an event written a little before the last refresh's newest one
# (another process's clock, a transaction that began earlier) is looked at again.
MARGIN_MINUTES = 10

_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE an_candidates AS
SELECT encounter_id FROM encounters
WHERE $full OR $since IS NULL
   OR encounter_id NOT IN (SELECT encounter_id FROM analytics_encounters)
UNION
SELECT DISTINCT encounter_id FROM events
WHERE NOT $full AND encounter_id IS NOT NULL AND ts > $since
"""

_FINGERPRINT = """
CREATE OR REPLACE TEMP TABLE an_fp AS
SELECT e.encounter_id,
       coalesce(ev.n, 0) AS events_n, ev.max_ts AS events_max_ts,
       coalesce(sg.n, 0) AS signatures_n, coalesce(nt.n, 0) AS notes_n
FROM encounters e JOIN an_candidates USING (encounter_id)
LEFT JOIN (SELECT encounter_id, count(*) AS n, max(ts) AS max_ts FROM events
           WHERE encounter_id IN (SELECT encounter_id FROM an_candidates)
           GROUP BY encounter_id) ev USING (encounter_id)
LEFT JOIN (SELECT encounter_id, count(*) AS n FROM signatures
           WHERE encounter_id IN (SELECT encounter_id FROM an_candidates)
           GROUP BY encounter_id) sg USING (encounter_id)
LEFT JOIN (SELECT encounter_id, count(*) AS n FROM notes
           WHERE encounter_id IN (SELECT encounter_id FROM an_candidates)
           GROUP BY encounter_id) nt USING (encounter_id)
"""

_CHANGED = """
CREATE OR REPLACE TEMP TABLE an_changed AS
SELECT f.* FROM an_fp f LEFT JOIN analytics_encounters a USING (encounter_id)
WHERE $full OR a.encounter_id IS NULL OR a.events_n <> f.events_n
   OR a.events_max_ts IS DISTINCT FROM f.events_max_ts
   OR a.signatures_n <> f.signatures_n OR a.notes_n <> f.notes_n
"""

# Rows of recomputed encounters, and of encounters that no longer exist.
_STALE = (
    " WHERE encounter_id IN (SELECT encounter_id FROM an_changed)"
    " OR encounter_id NOT IN (SELECT encounter_id FROM encounters)"
)
_DELETE = tuple("DELETE FROM " + table + _STALE for table in FACT_TABLES)
_GONE = (
    "SELECT count(*) FROM analytics_encounters"
    " WHERE encounter_id NOT IN (SELECT encounter_id FROM encounters)"
)
_DELETE_ALL = tuple("DELETE FROM " + table for table in FACT_TABLES)

# The machine draft (first note.drafted version), the first signature, active review time.
_BASE = """
CREATE OR REPLACE TEMP TABLE an_base AS
WITH drafted AS (
    SELECT ev.encounter_id, min(ev.note_version) AS version FROM events ev
    SEMI JOIN an_changed c ON c.encounter_id = ev.encounter_id
    WHERE ev.kind = 'note.drafted' GROUP BY ev.encounter_id
), first_note AS (
    SELECT n.encounter_id, min(n.version) AS version FROM notes n
    SEMI JOIN an_changed c ON c.encounter_id = n.encounter_id GROUP BY n.encounter_id
), newest_note AS (
    SELECT n.encounter_id, max(n.version) AS version FROM notes n
    SEMI JOIN an_changed c ON c.encounter_id = n.encounter_id GROUP BY n.encounter_id
), signed AS (
    SELECT s.encounter_id, arg_min(s.note_version, s.signed_at) AS version,
           min(s.signed_at) AS signed_at, arg_min(s.active_seconds, s.signed_at) AS active_seconds
    FROM signatures s SEMI JOIN an_changed c ON c.encounter_id = s.encounter_id
    GROUP BY s.encounter_id
)
SELECT c.encounter_id,
       coalesce(d.version, f.version) AS draft_version,
       s.version AS signed_version, s.signed_at, s.active_seconds,
       coalesce(s.version, nn.version) AS final_version
FROM an_changed c
LEFT JOIN drafted d USING (encounter_id)
LEFT JOIN first_note f USING (encounter_id)
LEFT JOIN newest_note nn USING (encounter_id)
LEFT JOIN signed s USING (encounter_id)
"""

# What the figures filter on, copied into every facts table so no figure needs a join.
_DIMS = """
CREATE OR REPLACE TEMP TABLE an_dims AS
SELECT c.encounter_id,
       coalesce(e.clinician_id, e.created_by, '(none)') AS clinician,
       coalesce(nullif(e.specialty, ''), '(none)') AS specialty,
       coalesce(n.template, '(none)') AS note_type,
       coalesce(n.model_version, '(none)') AS drafter_version,
       coalesce(e.source = 'simulated', false) AS simulated,
       e.created_at
FROM an_changed c
JOIN encounters e USING (encounter_id)
JOIN an_base b USING (encounter_id)
LEFT JOIN notes n ON n.encounter_id = b.encounter_id AND n.version = b.draft_version
"""
DIMS = "dm.clinician, dm.specialty, dm.note_type, dm.drafter_version, dm.simulated, dm.created_at"

# Per encounter: first review event, active seconds (when the signature has none), ASR
# word errors found by transcript fixes.
_EVENT_MEASURES = """
CREATE OR REPLACE TEMP TABLE an_ev AS
WITH corrected AS (  -- encounters a person corrected the transcript of
    SELECT DISTINCT ev.encounter_id FROM events ev
    SEMI JOIN an_changed c ON c.encounter_id = ev.encounter_id
    WHERE ev.kind IN ('transcript.word_corrected', 'transcript.segment_corrected')
), versions AS (
    SELECT t.encounter_id, min(t.version) AS first, max(t.version) AS newest
    FROM transcripts t SEMI JOIN corrected c ON c.encounter_id = t.encounter_id
    GROUP BY t.encounter_id
), fixes AS (  -- each segment once: the machine's words against the newest words
    SELECT v.encounter_id,
           regexp_split_to_array(lower(trim(a.text)), '\\s+') AS a,
           regexp_split_to_array(lower(trim(b.text)), '\\s+') AS b
    FROM versions v
    JOIN segments a ON a.encounter_id = v.encounter_id AND a.transcript_version = v.first
    JOIN segments b ON b.encounter_id = v.encounter_id AND b.transcript_version = v.newest
                   AND b.idx = a.idx
    WHERE v.newest > v.first AND a.text IS DISTINCT FROM b.text
), tagged AS (
    -- each word with its occurrence number, so the set difference is a multiset difference
    SELECT encounter_id,
           list_transform(a, (w, i) -> w || '#' || len(list_filter(a[1:i], x -> x = w))) AS a,
           list_transform(b, (w, i) -> w || '#' || len(list_filter(b[1:i], x -> x = w))) AS b
    FROM fixes
), errors AS (
    SELECT encounter_id,
           sum(greatest(len(list_filter(a, x -> NOT list_contains(b, x))),
                        len(list_filter(b, x -> NOT list_contains(a, x))))) AS word_errors
    FROM tagged GROUP BY encounter_id
), active AS (
    SELECT ev.encounter_id, sum(CAST(ev.after->>'seconds' AS DOUBLE)) AS seconds
    FROM events ev JOIN an_base b ON b.encounter_id = ev.encounter_id
    WHERE ev.kind = 'review.active' AND (b.signed_at IS NULL OR ev.ts <= b.signed_at)
    GROUP BY ev.encounter_id
), review AS (
    SELECT ev.encounter_id, min(ev.ts) AS first_review_at FROM events ev
    SEMI JOIN an_changed c ON c.encounter_id = ev.encounter_id
    WHERE list_contains($review_kinds, ev.kind) GROUP BY ev.encounter_id
)
SELECT c.encounter_id, r.first_review_at, a.seconds AS active_seconds,
       coalesce(e.word_errors, 0) AS word_errors
FROM an_changed c
LEFT JOIN review r USING (encounter_id)
LEFT JOIN active a USING (encounter_id)
LEFT JOIN errors e USING (encounter_id)
"""

# The machine draft's sentences with the label of the newest support check of that version.
_DRAFT_SENTENCES = """
CREATE OR REPLACE TEMP TABLE an_draft AS
WITH checks AS (
    SELECT sc.encounter_id, max(sc.check_id) AS check_id FROM support_checks sc
    JOIN an_base b ON b.encounter_id = sc.encounter_id AND b.draft_version = sc.note_version
    GROUP BY sc.encounter_id
), labels AS (
    SELECT c.encounter_id, ss.sentence_id, any_value(ss.label) AS label
    FROM sentence_support ss JOIN checks c USING (check_id)
    GROUP BY c.encounter_id, ss.sentence_id
)
SELECT ns.encounter_id, ns.sentence_id, ns.section, ns.text,
       coalesce(l.label, 'unchecked') AS support_label
FROM note_sentences ns
JOIN an_base b ON b.encounter_id = ns.encounter_id AND b.draft_version = ns.note_version
LEFT JOIN labels l ON l.encounter_id = ns.encounter_id AND l.sentence_id = ns.sentence_id
"""

_SIGNED_SENTENCES = """
CREATE OR REPLACE TEMP TABLE an_signed AS
SELECT ns.encounter_id, ns.sentence_id, ns.section, ns.text
FROM note_sentences ns
JOIN an_base b ON b.encounter_id = ns.encounter_id AND b.signed_version = ns.note_version
"""

_INSERT_SENTENCES = (
    """
INSERT INTO analytics_sentences
WITH viewed AS (
    SELECT DISTINCT ev.encounter_id, ev.object_id AS sentence_id FROM events ev
    JOIN an_base b ON b.encounter_id = ev.encounter_id
    WHERE ev.kind = 'sentence.viewed' AND b.signed_at IS NOT NULL AND ev.ts <= b.signed_at
)
SELECT d.encounter_id, d.sentence_id, d.section, d.support_label,
       CASE WHEN s.sentence_id IS NULL THEN 'rejected'
            WHEN s.text = d.text THEN 'accepted' ELSE 'edited' END,
       v.sentence_id IS NOT NULL, """
    + DIMS
    + """
FROM an_draft d
JOIN an_base b ON b.encounter_id = d.encounter_id AND b.signed_version IS NOT NULL
JOIN an_dims dm ON dm.encounter_id = d.encounter_id
LEFT JOIN an_signed s ON s.encounter_id = d.encounter_id AND s.sentence_id = d.sentence_id
LEFT JOIN viewed v ON v.encounter_id = d.encounter_id AND v.sentence_id = d.sentence_id
"""
)

# Sentences paired by id within a section: equal text costs 0, an edited sentence its
# character Levenshtein distance, a removed or added one its length.
_INSERT_SECTIONS = (
    """
INSERT INTO analytics_sections
WITH d AS (
    SELECT d.encounter_id, d.section, d.sentence_id, d.text FROM an_draft d
    SEMI JOIN an_signed s ON s.encounter_id = d.encounter_id
), pairs AS (
    SELECT coalesce(d.encounter_id, s.encounter_id) AS encounter_id,
           coalesce(d.section, s.section) AS section, d.text AS a, s.text AS b
    FROM d FULL OUTER JOIN an_signed s
      ON s.encounter_id = d.encounter_id AND s.section = d.section
     AND s.sentence_id = d.sentence_id
), agg AS (
    SELECT encounter_id, section,
           greatest(coalesce(sum(length(a)) + count(a) - 1, 0), 0)::INTEGER AS draft_chars,
           greatest(coalesce(sum(length(b)) + count(b) - 1, 0), 0)::INTEGER AS signed_chars,
           sum(CASE WHEN a IS NULL THEN length(b) WHEN b IS NULL THEN length(a)
                    WHEN a = b THEN 0 ELSE levenshtein(a, b) END)::INTEGER AS distance
    FROM pairs GROUP BY encounter_id, section
)
SELECT encounter_id, section, draft_chars, signed_chars, distance,
       CASE WHEN greatest(draft_chars, signed_chars) = 0 THEN 0.0
            ELSE least(1.0, distance / greatest(draft_chars, signed_chars)) END, """
    + DIMS
    + """
FROM agg JOIN an_dims dm USING (encounter_id) WHERE greatest(draft_chars, signed_chars) > 0
"""
)

# The machine's entities (the newest NLP-written set on the newest set's transcript version)
# matched to the newest set's by span: each entity counted once, however many edits it went through.
_INSERT_ENTITY_CHANGES = (
    """
INSERT INTO analytics_entity_changes
WITH newest AS (
    SELECT es.encounter_id, max(es.version) AS version,
           arg_max(es.transcript_version, es.version) AS transcript_version
    FROM entity_sets es SEMI JOIN an_changed c ON c.encounter_id = es.encounter_id
    GROUP BY es.encounter_id
), extracted AS (  -- the sets the NLP pipeline wrote (people's edits write entity.* events)
    SELECT DISTINCT ev.object_id FROM events ev
    SEMI JOIN an_changed c ON c.encounter_id = ev.encounter_id
    WHERE ev.kind = 'entities.extracted'
), machine_set AS (  -- the newest machine set on that transcript version (else the first)
    SELECT es.encounter_id,
           coalesce(max(es.version) FILTER (WHERE x.object_id IS NOT NULL), min(es.version))
               AS version
    FROM entity_sets es
    JOIN newest n ON n.encounter_id = es.encounter_id
                 AND n.transcript_version = es.transcript_version
    LEFT JOIN extracted x ON x.object_id = es.encounter_id || '/entities/' || es.version
    GROUP BY es.encounter_id
), spans AS (
    SELECT 'machine' AS side, en.encounter_id, en.segment_idx, en.start_char, en.end_char,
           en.label FROM entities en
    JOIN machine_set s ON s.encounter_id = en.encounter_id AND s.version = en.set_version
    UNION ALL
    SELECT 'final', en.encounter_id, en.segment_idx, en.start_char, en.end_char, en.label
    FROM entities en
    JOIN newest n ON n.encounter_id = en.encounter_id AND n.version = en.set_version
), numbered AS (  -- two entities on one span pair up in label order, never cross
    SELECT *, row_number() OVER (PARTITION BY side, encounter_id, segment_idx, start_char,
                                 end_char ORDER BY label) AS k
    FROM spans
), m AS (SELECT * FROM numbered WHERE side = 'machine'),
f AS (SELECT * FROM numbered WHERE side = 'final')
SELECT x.*, """
    + DIMS
    + """ FROM (
    SELECT coalesce(m.encounter_id, f.encounter_id) AS encounter_id,
           coalesce(m.label, '(none)') AS model_label,
           coalesce(f.label, '(none)') AS final_label, count(*)::INTEGER AS n
    FROM m FULL OUTER JOIN f
      ON m.encounter_id = f.encounter_id AND m.segment_idx = f.segment_idx
     AND m.start_char = f.start_char AND m.end_char = f.end_char AND m.k = f.k
    GROUP BY ALL
) x JOIN an_dims dm USING (encounter_id)
"""
)

_INSERT_ENCOUNTERS = """
INSERT INTO analytics_encounters
WITH words AS (
    SELECT ns.encounter_id,
           sum(len(regexp_split_to_array(trim(ns.text), '\\s+')))::INTEGER AS n
    FROM note_sentences ns
    JOIN an_base b ON b.encounter_id = ns.encounter_id AND b.final_version = ns.note_version
    WHERE trim(ns.text) <> '' GROUP BY ns.encounter_id
), transcript AS (
    SELECT t.encounter_id, arg_min(t.model, t.version) AS model, min(t.version) AS version
    FROM transcripts t SEMI JOIN an_changed c ON c.encounter_id = t.encounter_id
    GROUP BY t.encounter_id
), asr_words AS (
    SELECT sg.encounter_id,
           sum(len(regexp_split_to_array(trim(sg.text), '\\s+')))::INTEGER AS n
    FROM segments sg
    JOIN transcript t ON t.encounter_id = sg.encounter_id AND t.version = sg.transcript_version
    WHERE trim(sg.text) <> '' GROUP BY sg.encounter_id
), nlp AS (
    SELECT es.encounter_id, arg_min(es.model_version, es.version) AS version FROM entity_sets es
    SEMI JOIN an_changed c ON c.encounter_id = es.encounter_id GROUP BY es.encounter_id
), drafted AS (
    SELECT encounter_id, count(*) AS sentences,
           count(*) FILTER (WHERE support_label IN ('partly_supported', 'unsupported'))
               AS flagged
    FROM an_draft GROUP BY encounter_id
), outcomes AS (
    SELECT encounter_id,
           count(*) FILTER (WHERE outcome = 'accepted') AS accepted,
           count(*) FILTER (WHERE outcome = 'edited') AS edited,
           count(*) FILTER (WHERE outcome = 'rejected') AS rejected,
           count(*) FILTER (WHERE outcome = 'accepted'
                            AND support_label IN ('partly_supported', 'unsupported'))
               AS flagged_accepted,
           count(*) FILTER (WHERE outcome = 'accepted' AND NOT opened
                            AND support_label IN ('partly_supported', 'unsupported'))
               AS flagged_unopened_accepted
    FROM analytics_sentences SEMI JOIN an_changed USING (encounter_id)
    GROUP BY encounter_id
), sections AS (
    SELECT encounter_id, count(*) AS n, count(*) FILTER (WHERE distance = 0) AS unchanged,
           sum(ned) AS ned_sum
    FROM analytics_sections SEMI JOIN an_changed USING (encounter_id)
    GROUP BY encounter_id
)
SELECT dm.encounter_id, dm.clinician, dm.specialty, dm.note_type, dm.drafter_version,
       t.model, nlp.version, dm.simulated, dm.created_at, ev.first_review_at,
       b.signed_at, b.draft_version, b.signed_version,
       coalesce(b.active_seconds, ev.active_seconds),
       coalesce(w.n, 0), coalesce(d.sentences, 0), coalesce(d.flagged, 0),
       o.accepted, o.edited, o.rejected, o.flagged_accepted, o.flagged_unopened_accepted,
       coalesce(s.n, 0), coalesce(s.unchanged, 0), coalesce(s.ned_sum, 0.0),
       aw.n, CASE WHEN aw.n IS NULL THEN NULL ELSE ev.word_errors END,
       c.events_n, c.events_max_ts, c.signatures_n, c.notes_n, $now
FROM an_changed c
JOIN an_dims dm USING (encounter_id)
JOIN an_base b USING (encounter_id)
JOIN an_ev ev USING (encounter_id)
LEFT JOIN words w USING (encounter_id)
LEFT JOIN transcript t USING (encounter_id)
LEFT JOIN asr_words aw USING (encounter_id)
LEFT JOIN nlp USING (encounter_id)
LEFT JOIN drafted d USING (encounter_id)
LEFT JOIN outcomes o USING (encounter_id)
LEFT JOIN sections s USING (encounter_id)
"""

_STATE = """
MERGE INTO analytics_state AS t
USING (SELECT 'facts' AS name, $now AS refreshed_at, (SELECT max(ts) FROM events) AS events_max_ts,
              $n AS encounters, $seconds AS seconds, $full AS full_rebuild) AS s
USING (name)
WHEN MATCHED THEN UPDATE SET refreshed_at = s.refreshed_at, events_max_ts = s.events_max_ts,
    encounters = s.encounters, seconds = s.seconds, full_rebuild = s.full_rebuild
WHEN NOT MATCHED THEN INSERT BY NAME
"""

_DROP_TEMP = (
    "an_candidates",
    "an_fp",
    "an_changed",
    "an_base",
    "an_dims",
    "an_ev",
    "an_draft",
    "an_signed",
)


def rebuild(con: duckdb.DuckDBPyConnection, full: bool, now: datetime) -> int | None:
    """Recompute the facts of changed encounters (all with ``full``) inside the caller's
    transaction; returns how many encounters were recomputed, None when nothing changed
    (nothing was written; the watermark stays)."""
    # The watermark: the last refresh's newest event, or its own time if that is earlier
    # (an event stamped in the future must not hide the ones written after it).
    since = con.execute(
        "SELECT least(events_max_ts, refreshed_at) - to_minutes(CAST($m AS BIGINT))"
        " FROM analytics_state WHERE name = 'facts'",
        {"m": MARGIN_MINUTES},
    ).fetchone()
    con.execute(_CANDIDATES, {"full": full, "since": since[0] if since else None})
    con.execute(_FINGERPRINT)
    con.execute(_CHANGED, {"full": full})
    changed = con.execute("SELECT count(*) FROM an_changed").fetchone()[0]
    if full:
        for sql in _DELETE_ALL:
            con.execute(sql)
    elif changed or con.execute(_GONE).fetchone()[0]:  # each delete scans its whole table
        for sql in _DELETE:
            con.execute(sql)
    else:
        return None  # nothing changed: nothing written, so no commit to fold in
    if changed:
        con.execute(_BASE)
        con.execute(_DIMS)
        con.execute(_EVENT_MEASURES, {"review_kinds": list(REVIEW_KINDS)})
        for sql in (_DRAFT_SENTENCES, _SIGNED_SENTENCES):
            con.execute(sql)
        for sql in (_INSERT_SENTENCES, _INSERT_SECTIONS, _INSERT_ENTITY_CHANGES):
            con.execute(sql)
        con.execute(_INSERT_ENCOUNTERS, {"now": now})
    return changed


def record_state(
    con: duckdb.DuckDBPyConnection,
    now: datetime,
    encounters: int | None,
    seconds: float,
    full: bool,
) -> None:
    """Store the refresh watermark (unless ``rebuild`` found nothing to do: None), then drop
    the work tables."""
    if encounters is not None:
        con.execute(_STATE, {"now": now, "n": encounters, "seconds": seconds, "full": full})
    for name in _DROP_TEMP:
        con.execute("DROP TABLE IF EXISTS " + name)
