-- 0023: analytics facts (issue 9), derived from the raw tables by workbench.store.analytics_refresh
-- and read by the figure queries of workbench.store.analytics. Nothing here is a source of
-- truth: `analytics.refresh(store, full=True)` rebuilds every row from the raw tables.
-- No primary keys or ART indexes: refresh deletes and re-inserts an encounter's rows in one
-- transaction (which DuckDB 1.5 indexes handle badly), and every figure is a columnar scan
-- and aggregate of one of these tables: each carries the encounter's filter columns, so no
-- figure joins (at 100,000 encounters a join of the 800,000 sentence rows to the encounters
-- cost ~200 ms of the page's 1 s).
-- No patient text is stored here: ids, labels, counts, timings and distances only.

-- One row per encounter with its per-encounter measures (sums, so figures aggregate them).
CREATE TABLE analytics_encounters (
    encounter_id      TEXT NOT NULL,
    clinician         TEXT NOT NULL,   -- owning clinician's user id
    specialty         TEXT NOT NULL,   -- '(none)' when unknown
    note_type         TEXT NOT NULL,   -- template of the machine draft; '(none)' without one
    drafter_version   TEXT NOT NULL,   -- model_version of the machine draft; '(none)'
    asr_model         TEXT,            -- model of the first transcript version
    nlp_version       TEXT,            -- model_version of the first entity set
    simulated         BOOLEAN NOT NULL,
    created_at        TIMESTAMP NOT NULL,
    first_review_at   TIMESTAMP,
    signed_at         TIMESTAMP,       -- the first signature
    draft_version     INTEGER,
    signed_version    INTEGER,
    active_seconds    DOUBLE,          -- active review time up to the first signature
    note_words        INTEGER,         -- words of the signed (else newest) note version
    sentences         INTEGER,         -- sentences of the machine draft
    flagged_sentences INTEGER,         -- of which labelled partly_supported/unsupported
    accepted          INTEGER,         -- draft sentences signed unchanged (signed notes)
    edited            INTEGER,         -- signed with other text
    rejected          INTEGER,         -- not in the signed note
    flagged_accepted  INTEGER,
    flagged_unopened_accepted INTEGER,
    sections          INTEGER,         -- sections with text in the draft or signed note
    sections_unchanged INTEGER,
    ned_sum           DOUBLE,          -- sum of the sections' ned (mean = ned_sum / sections)
    asr_words         INTEGER,         -- words of the first transcript version
    asr_word_errors   INTEGER,         -- word errors found by transcript corrections
    events_n          BIGINT NOT NULL, -- fingerprint of the raw rows this row was derived from
    events_max_ts     TIMESTAMP,
    signatures_n      INTEGER NOT NULL,
    notes_n           INTEGER NOT NULL,
    refreshed_at      TIMESTAMP NOT NULL
);

-- One row per (signed encounter, section): draft vs signed text of the section.
CREATE TABLE analytics_sections (
    encounter_id TEXT NOT NULL,
    section      TEXT NOT NULL,
    draft_chars  INTEGER NOT NULL,
    signed_chars INTEGER NOT NULL,
    distance     INTEGER NOT NULL,   -- sentence-aligned character edit distance
    ned          DOUBLE NOT NULL,    -- distance / the longer text, 0..1
    -- the encounter's filter columns (as in analytics_encounters): no figure needs a join
    clinician       TEXT NOT NULL,
    specialty       TEXT NOT NULL,
    note_type       TEXT NOT NULL,
    drafter_version TEXT NOT NULL,
    simulated       BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

-- One row per machine-drafted sentence of a signed encounter.
CREATE TABLE analytics_sentences (
    encounter_id  TEXT NOT NULL,
    sentence_id   TEXT NOT NULL,
    section       TEXT NOT NULL,
    support_label TEXT NOT NULL,     -- supported | partly_supported | unsupported | unchecked
    outcome       TEXT NOT NULL CHECK (outcome IN ('accepted', 'edited', 'rejected')),
    opened        BOOLEAN NOT NULL,  -- a sentence.viewed event before the signature
    -- the encounter's filter columns (as in analytics_encounters): no figure needs a join
    clinician       TEXT NOT NULL,
    specialty       TEXT NOT NULL,
    note_type       TEXT NOT NULL,
    drafter_version TEXT NOT NULL,
    simulated       BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

-- Entity label changes per encounter: machine label -> label a person left ('(none)': added
-- or removed); model_label = final_label counts the machine's entities nobody changed.
CREATE TABLE analytics_entity_changes (
    encounter_id TEXT NOT NULL,
    model_label  TEXT NOT NULL,
    final_label  TEXT NOT NULL,
    n            INTEGER NOT NULL,
    -- the encounter's filter columns (as in analytics_encounters): no figure needs a join
    clinician       TEXT NOT NULL,
    specialty       TEXT NOT NULL,
    note_type       TEXT NOT NULL,
    drafter_version TEXT NOT NULL,
    simulated       BOOLEAN NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

-- The refresh watermark: one row, replaced by every refresh.
CREATE TABLE analytics_state (
    name          TEXT PRIMARY KEY,
    refreshed_at  TIMESTAMP NOT NULL,
    events_max_ts TIMESTAMP,         -- newest event seen by that refresh
    encounters    INTEGER NOT NULL,  -- encounters recomputed by it
    seconds       DOUBLE NOT NULL,
    full_rebuild  BOOLEAN NOT NULL
);
