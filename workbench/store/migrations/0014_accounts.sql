-- 0014: accounts. Local sign-in (argon2 password hashes), lock-out after repeated failures,
-- disabling, an email to match an OpenID Connect sign-in, and extra grants (e.g. "phi").
-- Users created before this migration keep their role and get no password: they cannot
-- sign in until an admin sets one (`scribe user password ID`).

ALTER TABLE users ADD COLUMN password_hash TEXT;
ALTER TABLE users ADD COLUMN disabled BOOLEAN DEFAULT false;
ALTER TABLE users ADD COLUMN failed_logins INTEGER DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until TIMESTAMP;
ALTER TABLE users ADD COLUMN email TEXT;
-- A JSON list of grant names, sorted.
ALTER TABLE users ADD COLUMN grants TEXT DEFAULT '[]';
ALTER TABLE users ADD COLUMN updated_at TIMESTAMP;

UPDATE users SET disabled = false, failed_logins = 0, grants = '[]', updated_at = created_at;
