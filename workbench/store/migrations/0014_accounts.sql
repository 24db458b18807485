-- 0014: accounts. Local sign-in (argon2 password hashes), lock-out after repeated failures,
-- disabling, an email to match an OpenID Connect sign-in, and extra grants (e.g. "phi").
-- Users created before this migration keep their role and get no password: they cannot
-- sign in until an admin sets one (`scribe user password ID`).
--
-- No DEFAULTs: DuckDB 1.5 fails to commit a transaction that adds a column with a default
-- and then alters the table again, and cannot update a table in the transaction that altered
-- it. NULL therefore reads as: not disabled, no failures, no grants (workbench.store.users).

ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN disabled BOOLEAN;
ALTER TABLE users ADD COLUMN failed_logins INTEGER;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE users ADD COLUMN email TEXT;
ALTER TABLE users ADD COLUMN grants TEXT;  -- a JSON list of grant names, sorted
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;
