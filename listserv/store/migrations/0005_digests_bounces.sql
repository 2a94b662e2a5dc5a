-- Digests, bounce processing (VERP) and the per-list marks of periodic work.
--
-- Source of truth: every table and column here. The digest queue holds the
-- posts owed to digest readers until an issue goes out; the issue log numbers
-- them; the bounce columns on members hold each member's decaying score.

CREATE TABLE digest_queue (
    id          INTEGER PRIMARY KEY,              -- arrival order: the order of the posts in the issue
    list_id     INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    archive_id  INTEGER,                          -- messages.id of the post (NULL when the list does not archive)
    sender      TEXT    NOT NULL DEFAULT '',      -- From: address, normalised, for the table of contents
    sender_name TEXT    NOT NULL DEFAULT '',      -- From: display name, for the table of contents
    subject     TEXT    NOT NULL DEFAULT '',      -- decoded Subject: without the list prefix
    content     BLOB    NOT NULL,                 -- the post as it appears in the digest (headers trimmed)
    queued_at   REAL    NOT NULL                  -- unix time the post was accepted
);
CREATE INDEX digest_queue_by_list ON digest_queue (list_id, id);

CREATE TABLE digest_issues (
    id                  INTEGER PRIMARY KEY,
    list_id             INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    volume              INTEGER NOT NULL,         -- one volume per calendar year (server's local time)
    issue               INTEGER NOT NULL,         -- 1, 2, ... within the volume
    posts               INTEGER NOT NULL,         -- how many posts the issue carried
    recipients          INTEGER NOT NULL,         -- how many digest members it was queued for
    outbound_message_id INTEGER,                  -- the queued copy (gone once delivered)
    sent_at             REAL    NOT NULL,         -- unix time the issue was queued for delivery
    UNIQUE (list_id, volume, issue)
);

ALTER TABLE members ADD COLUMN bounce_updated_at REAL;
    -- unix time bounce_score was last brought up to date (it decays from here); NULL: never bounced
ALTER TABLE members ADD COLUMN bounce_last_at REAL;
    -- unix time of the last bounce that counted (at most one counts per member per day)
ALTER TABLE members ADD COLUMN bounce_disabled_at REAL;
    -- unix time bounce processing set delivery to nomail; NULL: never disabled for bounces

ALTER TABLE outbound_messages ADD COLUMN verp INTEGER NOT NULL DEFAULT 0;
    -- 1: each recipient gets its own envelope sender NAME-bounces+LOCAL=DOMAIN@DOMAIN

ALTER TABLE delivery_failures ADD COLUMN counted INTEGER NOT NULL DEFAULT 0;
    -- 1: bounce processing has looked at this failure (counted it or judged it not the address's fault)
-- Failures recorded before bounce processing existed are not counted after the fact.
UPDATE delivery_failures SET counted = 1;
CREATE INDEX delivery_failures_uncounted ON delivery_failures (id) WHERE counted = 0;

CREATE TABLE list_marks (
    list_id INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    name    TEXT    NOT NULL,                     -- what happened: 'verp' (last VERP'd post), 'reminder' (last moderator reminder)
    at      REAL    NOT NULL,                     -- unix time it last happened
    PRIMARY KEY (list_id, name)
) WITHOUT ROWID;
