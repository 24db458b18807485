-- 0009: which assessed problem a code decision was made for. A code suggested for a problem of
-- the problem-oriented assessment and plan is accepted or rejected for that problem: the
-- problem's heading sentence id (stable across note edits) and its name as shown. Both are
-- NULL for decisions on the encounter-wide list (and for every row written before 0009).

ALTER TABLE code_decisions ADD COLUMN problem_sentence_id TEXT;
ALTER TABLE code_decisions ADD COLUMN problem TEXT;
