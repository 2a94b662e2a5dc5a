-- Full-text search over the archive.
--
-- Source of truth: the new messages columns (search_text, attachments,
-- thread_id) are filled once from the raw message and kept with it.
-- messages_fts is a REBUILDABLE INDEX, not data: it is an external-content
-- FTS5 table over messages, kept in step by the triggers below, and
-- `INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')`
-- (store.search_index.rebuild) recreates it from messages at any time.

ALTER TABLE messages ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
    -- body_text without quoted reply lines, "On ... wrote:" attributions and the
    -- signature (listserv.archive.search.searchable_text): what search indexes
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '';
    -- newline-separated file names of the attachments; listed, never indexed
ALTER TABLE messages ADD COLUMN thread_id INTEGER;
    -- the thread this post belongs to; filled by threading, NULL until then

CREATE INDEX messages_by_thread ON messages (thread_id, date);

-- Covering indexes for search (listserv/store/search_index.py): every filter a
-- search applies (list, confidentiality, date, thread, sender, attachments) is
-- read from the index alone, so checking a candidate never reads the large
-- messages row (raw, body_text). by_id serves candidates coming from the FTS
-- index, by_date serves newest-first scans of a list.
CREATE INDEX messages_search_by_id ON messages (id, list_id, confidential, date, thread_id, sender, attachments);
CREATE INDEX messages_search_by_date ON messages (list_id, date, confidential, thread_id, sender, attachments);
-- the few posts with attachments, for has:attachment
CREATE INDEX messages_with_attachments ON messages (list_id, date, confidential, thread_id, sender, attachments)
    WHERE attachments <> '';

-- Posts archived before this migration: SQL cannot strip quotes and
-- signatures, so they start with their whole body_text (before the triggers
-- exist); `archive reindex` (listserv.archive.search.reindex) recomputes it.
UPDATE messages SET search_text = body_text;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    subject,      -- messages.subject: the decoded subject without the list prefix
    sender_name,  -- messages.sender_name: the From: display name
    sender,       -- messages.sender: the From: address
    search_text,  -- messages.search_text: the post's own words (no quotes, no signature)
    content = 'messages',
    content_rowid = 'id',
    -- porter: English stemming (sentences finds sentence); unicode61 with
    -- remove_diacritics 2: case and accents folded (cafe finds café)
    tokenize = 'porter unicode61 remove_diacritics 2'
);

-- The standard external-content triggers: the 'delete' command must be given
-- the OLD values, exactly as they were indexed.
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, subject, sender_name, sender, search_text)
    VALUES (new.id, new.subject, new.sender_name, new.sender, new.search_text);
END;

CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, sender_name, sender, search_text)
    VALUES ('delete', old.id, old.subject, old.sender_name, old.sender, old.search_text);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF subject, sender_name, sender, search_text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, subject, sender_name, sender, search_text)
    VALUES ('delete', old.id, old.subject, old.sender_name, old.sender, old.search_text);
    INSERT INTO messages_fts (rowid, subject, sender_name, sender, search_text)
    VALUES (new.id, new.subject, new.sender_name, new.sender, new.search_text);
END;

-- Index the posts archived before this migration.
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
