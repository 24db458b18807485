-- 0020: inter-annotator agreement (issue 8), as views over annotation_tasks and annotations.
-- Nothing is stored: every figure is computed by DuckDB from the current annotation sets when
-- asked (workbench/store/agreement.py holds the definitions and the final aggregation).

-- One version per annotator, encounter and task kind: their latest submitted or reviewed task
-- (drafts and pairwise tasks are not compared). ``basis`` is what the labels point into: the
-- transcript version (spans, segments) or, for PDQI-9 ratings, the note version. Only versions
-- on the same basis are compared.
CREATE VIEW agreement_versions AS
SELECT encounter_id, kind AS task_kind, assignee AS annotator, task_id,
       CASE WHEN kind = 'quality' THEN note_version ELSE transcript_version END AS basis
FROM annotation_tasks
WHERE status IN ('submitted', 'reviewed') AND kind <> 'pairwise'
QUALIFY row_number() OVER (
    PARTITION BY encounter_id, kind, assignee
    ORDER BY coalesce(submitted_at, updated_at) DESC, task_id DESC
) = 1;

-- Every pair of annotators who labelled the same encounter, kind and basis (a < b by id).
CREATE VIEW agreement_pairs AS
SELECT a.encounter_id, a.task_kind, a.basis,
       a.annotator AS annotator_a, b.annotator AS annotator_b,
       a.task_id AS task_a, b.task_id AS task_b
FROM agreement_versions a
JOIN agreement_versions b
  ON b.encounter_id = a.encounter_id AND b.task_kind = a.task_kind
 AND b.basis IS NOT DISTINCT FROM a.basis AND a.annotator < b.annotator;

-- The human-confirmed labels of those versions: model suggestions nobody confirmed never count.
CREATE VIEW agreement_labels AS
SELECT v.encounter_id, v.task_kind, v.basis, v.annotator, n.kind, n.label, n.segment_idx,
       n.start_char, n.end_char, n.value
FROM agreement_versions v
JOIN annotations n ON n.task_id = v.task_id
WHERE n.origin IN ('human', 'confirmed');

-- Whitespace tokens (maximal runs of non-space characters, RE2 \S+) of the segments of the
-- transcripts that two or more entity versions point into, with character offsets as
-- Python counts them (code points). A token starts where a non-space follows a space or the
-- start of the text; row_number numbers the tokens of a segment from 0.
CREATE VIEW agreement_tokens AS
WITH chars AS (
    SELECT s.encounter_id, s.transcript_version, s.idx AS segment_idx, s.text,
           unnest(generate_series(1, length(s.text))) AS pos
    FROM segments s
    WHERE EXISTS (
        SELECT 1 FROM agreement_pairs p
        WHERE p.task_kind = 'entities' AND p.encounter_id = s.encounter_id
          AND p.basis = s.transcript_version
    )
), starts AS (
    SELECT encounter_id, transcript_version, segment_idx, pos - 1 AS start_char,
           regexp_extract(substr(text, pos), '^\S+') AS token
    FROM chars
    WHERE regexp_matches(substr(text, pos, 1), '\S')
      AND (pos = 1 OR regexp_matches(substr(text, pos - 1, 1), '\s'))
)
SELECT encounter_id, transcript_version, segment_idx,
       row_number() OVER (
           PARTITION BY encounter_id, transcript_version, segment_idx ORDER BY start_char
       ) - 1 AS token_no,
       start_char, start_char + length(token) AS end_char
FROM starts;

-- What each annotator said about each item, one category per item:
--   tokens            (entities)   every token: the label of a span overlapping it, else 'O'
--                                  (two labels on one token: the alphabetically first)
--   sections          (sections)   each labelled segment: its section label
--   transcript_checks (transcript) each checked segment: its check
--   questions         (entities)   each encounter-level question answered: the choice
--   ratings           (quality)    each PDQI-9 item rated: the score
-- ``subject`` names the question or PDQI item ('' otherwise).
CREATE VIEW agreement_items AS
SELECT v.encounter_id, v.task_kind, v.basis, v.annotator, 'tokens' AS measure, '' AS subject,
       t.segment_idx || ':' || t.token_no AS item, coalesce(min(s.label), 'O') AS category
FROM agreement_versions v
JOIN agreement_tokens t
  ON t.encounter_id = v.encounter_id AND t.transcript_version = v.basis
LEFT JOIN agreement_labels s
  ON s.encounter_id = v.encounter_id AND s.task_kind = v.task_kind
 AND s.annotator = v.annotator AND s.kind = 'span' AND s.segment_idx = t.segment_idx
 AND s.start_char < t.end_char AND t.start_char < s.end_char
WHERE v.task_kind = 'entities'
GROUP BY v.encounter_id, v.task_kind, v.basis, v.annotator, t.segment_idx, t.token_no
UNION ALL
SELECT encounter_id, task_kind, basis, annotator,
       CASE kind WHEN 'section_label' THEN 'sections' ELSE 'transcript_checks' END, '',
       CAST(segment_idx AS TEXT), min(label)
FROM agreement_labels
WHERE kind IN ('section_label', 'transcript_check')
GROUP BY encounter_id, task_kind, basis, annotator, kind, segment_idx
UNION ALL
SELECT encounter_id, task_kind, basis, annotator,
       CASE kind WHEN 'rating' THEN 'ratings' ELSE 'questions' END, label, '',
       min(CASE kind WHEN 'rating' THEN value ->> 'score' ELSE value ->> 'choice' END)
FROM agreement_labels
WHERE kind IN ('encounter_label', 'rating')
GROUP BY encounter_id, task_kind, basis, annotator, kind, label;

-- Each item side by side for every pair of annotators of its encounter; an item only one of
-- the two labelled counts as '(none)' for the other.
CREATE VIEW agreement_item_pairs AS
SELECT p.encounter_id, p.task_kind, p.basis, p.annotator_a, p.annotator_b,
       i.measure, i.subject, i.item,
       coalesce(max(i.category) FILTER (WHERE i.annotator = p.annotator_a), '(none)')
           AS category_a,
       coalesce(max(i.category) FILTER (WHERE i.annotator = p.annotator_b), '(none)')
           AS category_b
FROM agreement_pairs p
JOIN agreement_items i
  ON i.encounter_id = p.encounter_id AND i.task_kind = p.task_kind
 AND i.basis IS NOT DISTINCT FROM p.basis AND i.annotator IN (p.annotator_a, p.annotator_b)
GROUP BY p.encounter_id, p.task_kind, p.basis, p.annotator_a, p.annotator_b,
         i.measure, i.subject, i.item;

-- Span matching per encounter, annotator pair and label: each distinct span of either
-- annotator, whether the other has the same span (exact: segment, start, end, label) and
-- whether the other has an overlapping span of the same label in the same segment (relaxed).
CREATE VIEW agreement_span_pairs AS
WITH spans AS (
    SELECT DISTINCT encounter_id, task_kind, basis, annotator, label, segment_idx,
           start_char, end_char
    FROM agreement_labels
    WHERE kind = 'span'
), sides AS (
    SELECT p.encounter_id, p.task_kind, p.basis, p.annotator_a, p.annotator_b, s.label,
           s.annotator = p.annotator_a AS is_a, s.segment_idx, s.start_char, s.end_char
    FROM agreement_pairs p
    JOIN spans s
      ON s.encounter_id = p.encounter_id AND s.task_kind = p.task_kind
     AND s.basis IS NOT DISTINCT FROM p.basis AND s.annotator IN (p.annotator_a, p.annotator_b)
), flagged AS (
    SELECT x.encounter_id, x.task_kind, x.basis, x.annotator_a, x.annotator_b, x.label,
           x.is_a, x.segment_idx, x.start_char, x.end_char,
           coalesce(bool_or(y.start_char = x.start_char AND y.end_char = x.end_char), false)
               AS exact,
           coalesce(bool_or(y.start_char < x.end_char AND x.start_char < y.end_char), false)
               AS overlap
    FROM sides x
    LEFT JOIN sides y
      ON y.encounter_id = x.encounter_id AND y.task_kind = x.task_kind
     AND y.basis IS NOT DISTINCT FROM x.basis AND y.annotator_a = x.annotator_a
     AND y.annotator_b = x.annotator_b AND y.is_a <> x.is_a AND y.label = x.label
     AND y.segment_idx = x.segment_idx
    GROUP BY x.encounter_id, x.task_kind, x.basis, x.annotator_a, x.annotator_b, x.label,
             x.is_a, x.segment_idx, x.start_char, x.end_char
)
SELECT encounter_id, task_kind, basis, annotator_a, annotator_b, label,
       count(*) FILTER (WHERE is_a) AS n_a,
       count(*) FILTER (WHERE NOT is_a) AS n_b,
       count(*) FILTER (WHERE is_a AND exact) AS tp,
       count(*) FILTER (WHERE is_a AND overlap) AS overlap_a,
       count(*) FILTER (WHERE NOT is_a AND overlap) AS overlap_b
FROM flagged
GROUP BY encounter_id, task_kind, basis, annotator_a, annotator_b, label;
