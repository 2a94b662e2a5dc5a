-- Confidential threads: which Message-IDs belong to a confidential thread, and
-- what retention has purged (listserv.pipeline.confidential,
-- listserv.archive.access, listserv.archive.retention).
--
-- Source of truth: confidential_ids and the purged_at marks. confidential_ids
-- is kept for every confidential post the pipeline decided on (accepted, held,
-- rejected or discarded) and for every Message-ID such a post named, even when
-- the list stores no content (confidential_archive = none, archive off), so a
-- later reply is recognised. A row is never deleted while its list exists: a
-- thread never becomes non-confidential again.

CREATE TABLE confidential_ids (
    message_id TEXT    NOT NULL,   -- Message-ID without brackets: a confidential post, or one it named in In-Reply-To/References
    list_id    INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    date       REAL,               -- the post's Date: as unix time; NULL for an id that was only named by another post
    marked_at  REAL    NOT NULL,   -- unix time it was first known to be confidential
    PRIMARY KEY (message_id, list_id)  -- looked up by Message-ID across lists: a cross-posted reply is confidential everywhere
) WITHOUT ROWID;
CREATE INDEX confidential_ids_by_list ON confidential_ids (list_id);

ALTER TABLE messages ADD COLUMN purged_at REAL;
    -- unix time the stored text of this confidential post (raw, subject, body, search text,
    -- attachment names) was purged by confidential_retention_days; NULL: intact
ALTER TABLE held ADD COLUMN purged_at REAL;
    -- unix time the raw message and subject of this decided confidential held post were purged; NULL: intact

-- Retention finds the confidential posts still holding text without reading the archive.
CREATE INDEX messages_confidential_kept ON messages (list_id, received_at) WHERE confidential = 1 AND purged_at IS NULL;
CREATE INDEX held_confidential_kept ON held (list_id, received_at)
    WHERE confidential = 1 AND purged_at IS NULL AND decision IS NOT NULL;
-- A confidential post that arrives after replies naming it re-marks them: its direct replies are found here,
-- theirs in the next round (listserv.pipeline.confidential.remark).
-- Both are looked up across lists: a cross-posted copy of a confidential post is as confidential.
CREATE INDEX messages_by_in_reply_to ON messages (in_reply_to);
CREATE INDEX messages_by_message_id ON messages (message_id);
-- `listserv audit ls LIST`: newest first per list.
CREATE INDEX audit_by_list ON audit (list_id, id);
