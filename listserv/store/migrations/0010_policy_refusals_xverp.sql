-- Refusals for policy reasons (DMARC, sender authentication, other 5.7.x):
-- never counted against the member; counted per author domain instead, so
-- the owners learn which senders' mail the big providers refuse.
--
-- Source of truth: this table (the daily report reads and marks it).

CREATE TABLE policy_refusals (
    list_id       INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    day           TEXT    NOT NULL,              -- server-local date (YYYY-MM-DD) the refusals came back
    author_domain TEXT    NOT NULL,              -- domain of the refused post's author, lower case; '' when unknown
    refusals      INTEGER NOT NULL DEFAULT 0,    -- copies refused for policy that day (delivery-time replies and DSNs)
    example       TEXT    NOT NULL DEFAULT '',   -- the first refusal's status and reply text, addresses masked
    reported_at   REAL,                          -- unix time the owners were told; NULL: not yet reported
    PRIMARY KEY (list_id, day, author_domain)
) WITHOUT ROWID;
CREATE INDEX policy_refusals_unreported ON policy_refusals (list_id) WHERE reported_at IS NULL;

ALTER TABLE outbound_messages ADD COLUMN xverp INTEGER NOT NULL DEFAULT 0;
    -- 1: VERP every copy when the smarthost offers XVERP (it then builds each envelope sender, one transaction per batch)
