-- Moderation by replying to a held-post notice: its token is a confirmation token (listserv.confirm) of the
-- new action 'moderate', bound to one held post. SQLite cannot widen a CHECK in place, so the confirmations
-- table is rebuilt with the same rows; every token already out keeps working (its MAC does not change).
-- Source of truth, as before: every token still out.

CREATE TABLE confirmations_new (
    id           INTEGER PRIMARY KEY,
    list_id      INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    nonce        TEXT    NOT NULL UNIQUE,    -- random first half of the token: finds the row
    action       TEXT    NOT NULL            -- what confirming does; 'moderate': decide the held post held_id
                 CHECK (action IN ('subscribe', 'unsubscribe', 'moderate')),
    address      TEXT    NOT NULL,           -- the address concerned, normalised; '' for 'moderate' (any moderator)
    name         TEXT    NOT NULL DEFAULT '',-- display name to subscribe with (the requester's own, when for themselves)
    requested_by TEXT    NOT NULL DEFAULT '',-- From: address of the request ('' if unusable), for the audit
    created_at   REAL    NOT NULL,           -- unix time the token was issued
    expires_at   REAL    NOT NULL,           -- unix time (whole seconds) after which it is refused; signed
    used_at      REAL,                       -- NULL until redeemed: a token works once
    held_id      INTEGER REFERENCES held(id) ON DELETE CASCADE -- 'moderate': the held post it decides (signed); else NULL
);
INSERT INTO confirmations_new (id, list_id, nonce, action, address, name, requested_by, created_at, expires_at, used_at)
    SELECT id, list_id, nonce, action, address, name, requested_by, created_at, expires_at, used_at FROM confirmations;
DROP TABLE confirmations;
ALTER TABLE confirmations_new RENAME TO confirmations;
-- "is a confirmation for this address already out?" (resend throttle)
CREATE INDEX confirmations_open ON confirmations (list_id, action, address, created_at) WHERE used_at IS NULL;
CREATE INDEX confirmations_expiry ON confirmations (expires_at);
-- "has this held post a token already?" (the notice and every reminder name the same one)
CREATE INDEX confirmations_held ON confirmations (held_id) WHERE held_id IS NOT NULL;
