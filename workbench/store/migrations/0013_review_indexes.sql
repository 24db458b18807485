-- 0013: find one encounter's rows without scanning every encounter's. The primary keys start
-- with encounter_id but DuckDB only uses an index for equality on all of its columns, so the
-- Review page's reads (one transcript, entity set, note version, support check) scanned whole
-- tables: with 10,000 encounters the words table alone has about 10 million rows and reading
-- one transcript took about 80 ms; with these indexes about 35 ms (benchmarks/review.py).
-- The tables are append-only, so the indexes never see an update or delete.

CREATE INDEX words_encounter ON words (encounter_id);
CREATE INDEX segments_encounter ON segments (encounter_id);
CREATE INDEX entities_encounter ON entities (encounter_id);
CREATE INDEX note_sentences_encounter ON note_sentences (encounter_id);
CREATE INDEX evidence_encounter ON evidence (encounter_id);
CREATE INDEX sentence_support_check ON sentence_support (check_id);
CREATE INDEX omissions_check ON omissions (check_id);
