-- The core schema: lists, members, the inbound queue, held posts, the archive
-- and the outbound queue. Source of truth: every table here except none; the
-- full-text index arrives in a later migration and is rebuildable.

CREATE TABLE lists (
    id          INTEGER PRIMARY KEY,             -- stable list id
    address     TEXT    NOT NULL UNIQUE,         -- NAME@DOMAIN, normalised
    description TEXT    NOT NULL DEFAULT '',     -- one line, shown in List-Id and info
    settings    TEXT    NOT NULL DEFAULT '{}',   -- JSON object: overrides of listserv.lists.ListSettings
    created_at  REAL    NOT NULL                 -- unix time the list was created
);

CREATE TABLE members (
    id           INTEGER PRIMARY KEY,
    list_id      INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,                 -- normalised, case-folded
    name         TEXT    NOT NULL DEFAULT '',      -- display name
    role         TEXT    NOT NULL DEFAULT 'member' -- member | moderator | owner
                 CHECK (role IN ('member', 'moderator', 'owner')),
    delivery     TEXT    NOT NULL DEFAULT 'regular' -- regular | digest | nomail
                 CHECK (delivery IN ('regular', 'digest', 'nomail')),
    moderated    INTEGER NOT NULL DEFAULT 0,       -- 1: this member's posts are held for a moderator
    confidential INTEGER NOT NULL DEFAULT 1,       -- 1: entitled to receive and find confidential posts
    receive_own  INTEGER NOT NULL DEFAULT 1,       -- 1: gets a copy of their own posts
    bounce_score REAL    NOT NULL DEFAULT 0,       -- bounce score (bounce processing)
    created_at   REAL    NOT NULL,                 -- unix time the member joined
    UNIQUE (list_id, address)
);

CREATE TABLE inbound (
    id           INTEGER PRIMARY KEY,           -- arrival order; the pipeline works in this order
    received_at  REAL    NOT NULL,              -- unix time of the 250
    mail_from    TEXT    NOT NULL,              -- envelope sender, '' for the null sender
    rcpt_tos     TEXT    NOT NULL,              -- JSON list of the envelope recipients we accepted
    peer         TEXT    NOT NULL DEFAULT '',   -- the client's address, for the log
    raw          BLOB    NOT NULL,              -- the message exactly as received
    processed_at REAL,                          -- NULL until the pipeline committed every effect
    outcome      TEXT                           -- JSON object: recipient -> accepted|held|rejected|discarded|forwarded
);
CREATE INDEX inbound_pending ON inbound (id) WHERE processed_at IS NULL;

CREATE TABLE held (
    id              INTEGER PRIMARY KEY,          -- the id moderators use
    list_id         INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    inbound_id      INTEGER,                      -- the inbound row it came from
    role            TEXT    NOT NULL DEFAULT 'post', -- which list address it was sent to (addresses.ROLES)
    sender          TEXT    NOT NULL DEFAULT '',  -- From: address, normalised ('' if unusable)
    mail_from       TEXT    NOT NULL DEFAULT '',  -- envelope sender
    subject         TEXT    NOT NULL DEFAULT '',  -- decoded Subject:
    reasons         TEXT    NOT NULL,             -- JSON list of {"rule": ..., "text": ...}
    confidential    INTEGER NOT NULL DEFAULT 0,   -- 1: belongs to a confidential thread
    raw             BLOB    NOT NULL,             -- the message as received
    received_at     REAL    NOT NULL,             -- unix time it arrived
    decision        TEXT,                         -- NULL while waiting; approved | rejected | discarded
    decided_by      TEXT,                         -- who decided (--by or the OS user)
    decided_at      REAL,                         -- unix time of the decision
    decision_reason TEXT                          -- the reason given with a rejection
);
CREATE INDEX held_waiting ON held (list_id, id) WHERE decision IS NULL;

CREATE TABLE messages (
    id           INTEGER PRIMARY KEY,             -- archive number
    list_id      INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    message_id   TEXT    NOT NULL,                -- Message-ID without angle brackets
    date         REAL    NOT NULL,                -- Date: header as unix time, arrival time if missing
    received_at  REAL    NOT NULL,                -- unix time it was archived
    sender       TEXT    NOT NULL DEFAULT '',     -- From: address, normalised
    sender_name  TEXT    NOT NULL DEFAULT '',     -- From: display name
    subject      TEXT    NOT NULL DEFAULT '',     -- decoded Subject: without the list prefix
    in_reply_to  TEXT    NOT NULL DEFAULT '',     -- In-Reply-To Message-ID
    refs         TEXT    NOT NULL DEFAULT '',     -- References Message-IDs, space separated
    body_text    TEXT    NOT NULL DEFAULT '',     -- readable text extracted for display and search
    confidential INTEGER NOT NULL DEFAULT 0,      -- 1: belongs to a confidential thread
    inbound_id   INTEGER UNIQUE,                  -- the inbound row it came from (NULL when imported)
    raw          BLOB,                            -- the message as received (NULL when purged)
    UNIQUE (list_id, message_id)
);
CREATE INDEX messages_by_date ON messages (list_id, date);

CREATE TABLE outbound_messages (
    id         INTEGER PRIMARY KEY,
    list_id    INTEGER REFERENCES lists(id) ON DELETE SET NULL,
    archive_id INTEGER,                          -- messages.id of the post, NULL for notices
    mail_from  TEXT    NOT NULL,                 -- envelope sender, normally NAME-bounces@DOMAIN
    content    BLOB    NOT NULL,                 -- the bytes sent to every recipient
    created_at REAL    NOT NULL                  -- unix time it was queued
);

CREATE TABLE outbound (
    id                  INTEGER PRIMARY KEY,      -- one batch of recipients of one outbound message
    outbound_message_id INTEGER NOT NULL REFERENCES outbound_messages(id) ON DELETE CASCADE,
    recipients          TEXT    NOT NULL,         -- JSON list of addresses still to be delivered
    attempts            INTEGER NOT NULL DEFAULT 0, -- tries so far
    next_attempt_at     REAL    NOT NULL,         -- unix time of the next try
    last_error          TEXT    NOT NULL DEFAULT '', -- the last temporary failure, for `queue ls`
    created_at          REAL    NOT NULL          -- unix time the batch was queued
);
CREATE INDEX outbound_due ON outbound (next_attempt_at);

CREATE TABLE delivery_failures (
    id                  INTEGER PRIMARY KEY,
    list_id             INTEGER,                 -- the list the copy was for
    address             TEXT    NOT NULL,        -- the recipient that failed
    code                INTEGER NOT NULL,        -- SMTP reply code (0: never connected, gave up)
    error               TEXT    NOT NULL,        -- the reply text
    outbound_message_id INTEGER,                 -- what could not be delivered
    failed_at           REAL    NOT NULL         -- unix time of the permanent failure
);

CREATE TABLE audit (
    id      INTEGER PRIMARY KEY,
    at      REAL    NOT NULL,                    -- unix time
    actor   TEXT    NOT NULL,                    -- moderator address or OS user
    action  TEXT    NOT NULL,                    -- approve | reject | discard | ...
    list_id INTEGER,                             -- the list concerned
    object  TEXT    NOT NULL DEFAULT '',         -- what it acted on, e.g. 'held:12'
    detail  TEXT    NOT NULL DEFAULT ''          -- free text, never message content
);
