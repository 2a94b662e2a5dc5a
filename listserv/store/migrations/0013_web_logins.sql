-- Web logins (listserv.web): the single-use links mailed by /login and the sessions they open.
--
-- Source of truth: both tables, but nothing else depends on them; losing them only logs everyone out.
-- Tokens are stored as SHA-256 hashes, so a copy of the database opens no session and no link.

CREATE TABLE web_links (
    token_hash  TEXT    PRIMARY KEY,              -- hex SHA-256 of the token in the mailed link
    address     TEXT    NOT NULL,                 -- the member it logs in, normalised
    created_at  REAL    NOT NULL,                 -- unix time it was mailed
    expires_at  REAL    NOT NULL,                 -- unix time after which it opens nothing (15 minutes on)
    used_at     REAL                              -- unix time its button was pressed; NULL while unused
) WITHOUT ROWID;

CREATE TABLE web_sessions (
    token_hash  TEXT    PRIMARY KEY,              -- hex SHA-256 of the session cookie's value
    address     TEXT    NOT NULL,                 -- the member logged in, normalised
    csrf        TEXT    NOT NULL,                 -- the token every form of this session must send back
    created_at  REAL    NOT NULL,                 -- unix time of the login
    expires_at  REAL    NOT NULL                  -- unix time it ends ([web] session_days after the login)
) WITHOUT ROWID;
-- Removing a member ends all their sessions at once.
CREATE INDEX web_sessions_by_address ON web_sessions (address);
