-- Late re-marking of held posts (listserv.confidential.thread.remark): the Message-IDs of each held post, so
-- that a thread turning confidential after a post was held finds it (its own id, or one it refers to).
--
-- Source of truth: held. held_ids is rebuilt from held.raw (listserv.confidential.thread indexes any held
-- row whose ids_indexed is 0, rows held before this migration included, before each re-marking round).

CREATE TABLE held_ids (
    message_id TEXT    NOT NULL,  -- a Message-ID without brackets: the held post's own, or one it refers to
    held_id    INTEGER NOT NULL REFERENCES held(id) ON DELETE CASCADE,  -- the held post
    own        INTEGER NOT NULL,  -- 1: the post's own Message-ID; 0: In-Reply-To, References or an id inside it
    PRIMARY KEY (message_id, held_id)  -- looked up by Message-ID: the ids of a thread that just turned confidential
) WITHOUT ROWID;
CREATE INDEX held_ids_by_held ON held_ids (held_id);

ALTER TABLE held ADD COLUMN ids_indexed INTEGER NOT NULL DEFAULT 0;
    -- 1 once held_ids lists the post's Message-IDs; 0: not read yet (the next re-marking reads its raw message)
CREATE INDEX held_unindexed ON held (id) WHERE ids_indexed = 0;
