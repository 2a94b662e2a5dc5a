-- One-click unsubscribe (RFC 8058): the secret the per-member unsubscribe tokens are made with, and the
-- outbound messages whose copies are personalised per recipient at delivery.
--
-- Source of truth: the secret (made once, on first use; replacing it voids every unsubscribe link already
-- mailed, nothing else) and the flag.

CREATE TABLE unsubscribe_secret (
    id      INTEGER PRIMARY KEY CHECK (id = 1),  -- one row only
    secret  BLOB    NOT NULL,                    -- 32 random bytes: the HMAC key of the unsubscribe tokens
    made_at REAL    NOT NULL                     -- unix time it was made
);

ALTER TABLE outbound_messages ADD COLUMN personal INTEGER NOT NULL DEFAULT 0;
    -- 1: each copy gets its recipient's List-Unsubscribe (and List-Unsubscribe-Post) and its own DKIM
    -- signature at delivery, one transaction per recipient; content then lacks those two headers
