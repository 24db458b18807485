-- 0010: what a signature attests to, recorded with it (issue 6, sign-off).
-- active_seconds: active review time of the encounter in this signing round (the sum of
--   review.active events since the previous signature; NULL for signatures made before).
-- looked_at: JSON list of the signed version's sentence ids a person viewed (played),
--   accepted, edited, added or moved in this round.
-- sentences: how many sentences the signed version has; flagged: how many of them needed
--   an explicit decision (unsupported, or resting on low-confidence words).
ALTER TABLE signatures ADD COLUMN active_seconds DOUBLE;
ALTER TABLE signatures ADD COLUMN looked_at JSON;
ALTER TABLE signatures ADD COLUMN sentences INTEGER;
ALTER TABLE signatures ADD COLUMN flagged INTEGER;
