-- The archive packed (issue 12): each post's raw bytes and search text in one zstd frame
-- (listserv.store.packing), the extracted body text no longer kept (it is read from raw when shown),
-- and the search index reading its text through the view messages_text.
--
-- Source of truth: messages.packed (the raw message, exactly as received) and archive_dictionaries.
-- messages_fts stays a REBUILDABLE INDEX: an external-content FTS5 table over the view messages_text,
-- whose search_text the SQL function archive_search_text unpacks (every connection of
-- listserv.store.connection has it; other programs can read messages but not search or change them).

CREATE TABLE archive_dictionaries (
    id         INTEGER PRIMARY KEY,   -- the zstd dictionary id, written in the header of every frame packed with it
    created_at REAL    NOT NULL,      -- unix time it was trained; the newest one packs new posts
    samples    INTEGER NOT NULL,      -- how many of the archive's posts it was trained on
    data       BLOB    NOT NULL       -- the dictionary, zstd format; never changed (old frames need it)
);

ALTER TABLE messages ADD COLUMN packed BLOB;
    -- one zstd frame: the raw message exactly as received, then search_text (UTF-8); NULL once purged
ALTER TABLE messages ADD COLUMN raw_length INTEGER;
    -- bytes of the raw message at the start of packed; NULL when no raw message is stored

-- The index is made again below, over the view (the triggers named the dropped columns).
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
DROP TABLE messages_fts;

-- python: pack_archive
-- (listserv.store.repack.pack_archive: trains a dictionary on the archive's posts and packs every row,
-- a progress line on stderr every 5,000 rows)

ALTER TABLE messages DROP COLUMN raw;
ALTER TABLE messages DROP COLUMN body_text;
ALTER TABLE messages DROP COLUMN search_text;

-- What the index reads: the indexed columns of each post, its search text unpacked.
CREATE VIEW messages_text AS
    SELECT id, subject, sender_name, sender, archive_search_text(packed, raw_length) AS search_text FROM messages;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject,      -- messages.subject: the decoded subject without the list prefix
    sender_name,  -- messages.sender_name: the From: display name
    sender,       -- messages.sender: the From: address
    search_text,  -- the post's own words (no quotes, no signature), packed in messages.packed
    content = 'messages_text',
    content_rowid = 'id',
    -- porter: English stemming (sentences finds sentence); unicode61 with
    -- remove_diacritics 2: case and accents folded (cafe finds café)
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- New posts are indexed by listserv.store.messages.add with the text it packs (no unpacking). A delete or a
-- change must give the FTS 'delete' command the OLD values exactly as indexed: unpacked from the old row.
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, sender_name, sender, search_text)
    VALUES ('delete', old.id, old.subject, old.sender_name, old.sender, archive_search_text(old.packed, old.raw_length));
END;

-- Packing a post again with another dictionary (listserv.store.repack) changes no indexed value: left alone.
CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, sender_name, sender, packed ON messages
WHEN old.subject IS NOT new.subject OR old.sender_name IS NOT new.sender_name OR old.sender IS NOT new.sender
    OR archive_search_text(old.packed, old.raw_length) IS NOT archive_search_text(new.packed, new.raw_length)
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, sender_name, sender, search_text)
    VALUES ('delete', old.id, old.subject, old.sender_name, old.sender, archive_search_text(old.packed, old.raw_length));
    INSERT INTO messages_fts (rowid, subject, sender_name, sender, search_text)
    VALUES (new.id, new.subject, new.sender_name, new.sender, archive_search_text(new.packed, new.raw_length));
END;

INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO messages_fts (messages_fts) VALUES ('optimize');
