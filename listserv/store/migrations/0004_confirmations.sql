-- Confirmed subscription by email: the installation secret that signs
-- confirmation tokens, the tokens themselves, and subscriptions waiting for a
-- moderator. Source of truth: all three tables (nothing here is rebuildable;
-- losing `secrets` only invalidates the tokens still out).

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,             -- what the secret is for, e.g. 'confirm-hmac'
    value      BLOB NOT NULL,                -- random bytes from the OS CSPRNG (Python secrets), never shown
    created_at REAL NOT NULL                 -- unix time it was created (on first use)
);

CREATE TABLE confirmations (
    id           INTEGER PRIMARY KEY,
    list_id      INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    nonce        TEXT    NOT NULL UNIQUE,    -- random first half of the token: finds the row
    action       TEXT    NOT NULL            -- what confirming does
                 CHECK (action IN ('subscribe', 'unsubscribe')),
    address      TEXT    NOT NULL,           -- the address concerned, normalised: the token was mailed only here
    name         TEXT    NOT NULL DEFAULT '',-- display name to subscribe with (the requester's own, when for themselves)
    requested_by TEXT    NOT NULL DEFAULT '',-- From: address of the request ('' if unusable), for the audit
    created_at   REAL    NOT NULL,           -- unix time the token was issued
    expires_at   REAL    NOT NULL,           -- unix time (whole seconds) after which it is refused; signed
    used_at      REAL                        -- NULL until redeemed: a token works once
);
-- "is a confirmation for this address already out?" (resend throttle)
CREATE INDEX confirmations_open ON confirmations (list_id, action, address, created_at) WHERE used_at IS NULL;
CREATE INDEX confirmations_expiry ON confirmations (expires_at);

CREATE TABLE pending_members (
    id            INTEGER PRIMARY KEY,        -- one confirmed request to join
    list_id       INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address       TEXT    NOT NULL,           -- the applicant, normalised; confirmed by token
    name          TEXT    NOT NULL DEFAULT '',-- display name given with the request
    requested_at  REAL    NOT NULL,           -- unix time the subscribe request arrived
    confirmed_at  REAL    NOT NULL,           -- unix time the applicant confirmed (queued for a moderator)
    decision      TEXT                        -- NULL while waiting; approved | denied
                  CHECK (decision IS NULL OR decision IN ('approved', 'denied')),
    decided_by    TEXT,                       -- moderator (--by or the OS user)
    decided_at    REAL,                       -- unix time of the decision
    reason        TEXT    NOT NULL DEFAULT '' -- the reason given with a denial (told to the applicant)
);
-- at most one open request per address and list; decided rows stay as history
CREATE UNIQUE INDEX pending_members_waiting ON pending_members (list_id, address) WHERE decision IS NULL;
