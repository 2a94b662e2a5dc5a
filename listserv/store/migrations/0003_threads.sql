-- Threads and the Message-ID -> thread map (listserv.archive.threading).
--
-- Source of truth: both tables, never rebuilt from anything else. The map holds
-- every post the archive step saw, also when its content is not stored, and a
-- placeholder for every Message-ID such a post referenced and we have not seen,
-- so that a late parent, or a reply to a post we never got, lands in the right
-- thread. Confidential flags only ever go from 0 to 1: a merge ORs them.
--
-- messages.thread_id (0002_search.sql) names the thread of each archived post
-- and follows every merge. Posts archived before this migration have it NULL
-- until `listserv archive reindex` threads them.

CREATE TABLE threads (
    id           INTEGER PRIMARY KEY,            -- the thread number people see (thread:ID, `archive thread ID`)
    list_id      INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    subject      TEXT    NOT NULL DEFAULT '',    -- normalised subject of its first post (threading.normalised_subject), '' once the thread is confidential: what the subject fallback compares
    started      REAL    NOT NULL,               -- Date of its earliest post (unix time)
    last         REAL    NOT NULL,               -- Date of its latest post (unix time)
    messages     INTEGER NOT NULL DEFAULT 0,     -- posts seen in it, stored or not; placeholders are not counted
    confidential INTEGER NOT NULL DEFAULT 0,     -- 1: a post of it is confidential; never goes back to 0, merges OR it
    merged_into  INTEGER                         -- NULL for a live thread; else the live thread it was merged into, so an old number still finds its posts
);
-- The subject fallback: the latest live thread of a list with a given subject.
CREATE INDEX threads_by_subject ON threads (list_id, subject, last) WHERE merged_into IS NULL;
-- Redirects are re-pointed when their target is merged again, so they never chain.
CREATE INDEX threads_merged ON threads (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE thread_map (
    list_id           INTEGER NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    message_id        TEXT    NOT NULL,            -- Message-ID without angle brackets
    thread_id         INTEGER NOT NULL,            -- threads.id of a live thread (merges re-point these rows)
    seen              INTEGER NOT NULL DEFAULT 0,  -- 1: the post itself went through the archive step; 0: a placeholder, only referenced so far
    archive_id        INTEGER,                     -- messages.id when its content is stored; NULL for a placeholder or a post kept without content
    date              REAL,                        -- the post's Date (unix time); NULL for a placeholder
    confidential      INTEGER NOT NULL DEFAULT 0,  -- 1: the post is confidential, or a confidential post referenced it; never lowered
    joined_by_subject INTEGER NOT NULL DEFAULT 0,  -- 1: none of its references was known, it joined its thread by subject alone
    PRIMARY KEY (list_id, message_id)
) WITHOUT ROWID;
CREATE INDEX thread_map_by_thread ON thread_map (thread_id);
