"""The full-text index of the archive (messages_fts) and the SQL of ranked and newest-first search over it.

Source of truth: messages. messages_fts is a rebuildable index: triggers keep it
in step with every insert, update and delete of messages (0002_search.sql), and
rebuild() makes it again from messages at any time (`archive reindex`).

How a search stays fast at 100,000 posts (measured in bench/search.py):
- bm25() walks the whole doclist of every phrase once per statement to count
  documents, then costs a few microseconds for each row it scores. Ranking is
  therefore ONE FTS scan, newest rowid first, that scores only the newest
  RANK_WINDOW matches passing the filters (every match when fewer match): a
  word found in half the archive is ranked among its recent posts; a narrower
  query is ranked over all its matches. Never `rowid IN (...)` with bm25():
  FTS5 re-runs the document count for every value.
- A date range, thread or has:attachment first finds the span of archive ids
  it lets through (_bounds), so the scan starts and stops there.
- Every search is ONE statement, one round trip to aiosqlite's database
  thread: the span above, and the count that chooses the newest-first plan,
  are CTEs of the statement that also scores and makes the snippets. On a
  busy machine each extra hand-off between threads costs more than the
  SQL it carries.
- Filters (list, confidentiality, dates, thread, sender, attachments) are read
  from covering indexes (0002_search.sql), never from the large messages rows,
  and the join order is fixed with CROSS JOIN and INDEXED BY: left to itself
  the planner sometimes scans the whole archive once per match.
- Newest first is exact: a query with few matches sorts them all; a common
  one walks posts by date and tests each against the index (PROBE decides).
- snippet() runs for the returned page only.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from listserv.store import dictionaries, messages, packing
from listserv.store.rows import change, many, one

RANK_WINDOW = 300  # newest matching posts ranked by bm25 when a query matches more
ATTACHMENT_WINDOW = 100  # the same for has:attachment, whose few posts are spread over the whole archive
BOUNDS_CAP = 20000  # a narrowing filter that lets more posts through than this does not bound the scan
PROBE = 4000  # date order: fewer matches than this are sorted; more: walk the date index
MAX_ID = 2**63 - 1
SNIPPET = ("**", "**", "…", 12)  # match start/end markers, ellipsis, tokens per snippet
BM25 = "bm25(f.messages_fts, 10.0, 2.0, 2.0, 1.0)"  # weights: subject, sender_name, sender, search_text
_BY_ID = "messages AS m INDEXED BY messages_search_by_id"
_BY_DATE = "messages AS m INDEXED BY messages_search_by_date"
_BY_THREAD = "messages AS m INDEXED BY messages_by_thread"
_WITH_ATTACHMENTS = "messages AS m INDEXED BY messages_with_attachments"
_RESULT = "m.id, m.message_id, m.thread_id, m.date, m.sender, m.sender_name, m.subject"


@dataclass(frozen=True)
class Filters:
    """Conditions on the archive row, all of which must hold; values only, the SQL is fixed here."""

    list_id: int
    include_confidential: bool = False  # False: posts with messages.confidential = 1 never match
    senders: tuple[str, ...] = ()  # LIKE patterns on messages.sender, backslash escapes
    after: float | None = None  # unix time: date >= after
    before: float | None = None  # unix time: date < before
    thread_id: int | None = None
    has_attachment: bool = False
    exclude: str | None = None  # FTS5 expression: posts matching it are left out (filter-only queries)

    def where(self) -> tuple[str, list]:
        """The WHERE conditions on alias m and their parameters (every column is in both covering indexes)."""
        terms, params = ["m.list_id = ?"], [self.list_id]
        if not self.include_confidential:
            terms.append("m.confidential = 0")
        for pattern in self.senders:
            terms.append("m.sender LIKE ? ESCAPE '\\'")
            params.append(pattern)
        for sql, value in (("m.date >= ?", self.after), ("m.date < ?", self.before), ("m.thread_id = ?", self.thread_id)):
            if value is not None:
                terms.append(sql)
                params.append(value)
        if self.has_attachment:
            terms.append("m.attachments <> ''")
        return " AND ".join(terms), params


async def search(db: aiosqlite.Connection, match: str | None, filters: Filters, limit: int, order: str) -> list[dict]:
    """Up to limit posts: by bm25 then date (order='rank') or newest first (order='date').

    match is an FTS5 expression built by listserv.archive.query (only quoted
    strings and our own operators), or None for a query that only filters.
    Each result: id, message_id, thread_id, date, sender, sender_name, subject, snippet.
    """
    if match is None:
        return await _filtered(db, filters, limit)
    if order == "date":
        return await _newest(db, match, filters, limit)
    return await _ranked(db, match, filters, limit)


async def _ranked(db: aiosqlite.Connection, match: str, filters: Filters, limit: int) -> list[dict]:
    """Best matches: bm25 of the newest RANK_WINDOW matches that pass the filters, in one FTS scan and one statement."""
    bounds, bound_args = _bounds(filters)
    where, params = filters.where()
    hits = (  # FTS5 yields rowids newest first; bm25 is computed only for the rows inside the window
        f"SELECT id, score, date FROM (SELECT f.rowid AS id, {BM25} AS score, m.date AS date"
        f"  FROM messages_fts AS f CROSS JOIN {_BY_ID} ON m.id = f.rowid WHERE f.messages_fts MATCH ?"
        f"  AND f.rowid BETWEEN (SELECT low FROM bounds) AND (SELECT high FROM bounds) AND {where}"
        "   ORDER BY f.rowid DESC LIMIT ?)"
        " ORDER BY score, date DESC, id DESC LIMIT ?"
    )
    window = max(limit, ATTACHMENT_WINDOW if filters.has_attachment else RANK_WINDOW)
    # The span is read through scalar subqueries: joined as a table, it would stop FTS5 yielding rowids in order.
    args = [*bound_args, match, *params, window, limit]
    ctes = f"{bounds}, hits AS MATERIALIZED ({hits})"
    return await _present(db, match, ctes, args, "hits.score, hits.date DESC, hits.id DESC")


def _bounds(filters: Filters) -> tuple[str, list]:
    """The CTE `bounds (low, high)`: the span of ids of the posts a narrowing filter lets through.

    Computed inside the search's own statement (no round trip of its own).
    Without a thread, date or attachment filter, or when the filter lets
    through more than BOUNDS_CAP posts, the whole archive; when it lets
    nothing through, an empty span (1, 0).
    """
    if filters.thread_id is None and filters.after is None and filters.before is None and not filters.has_attachment:
        return "bounds (low, high) AS (SELECT 0, ?)", [MAX_ID]
    where, params = filters.where()
    cte = (
        "bounds (low, high) AS MATERIALIZED (SELECT"
        " CASE WHEN count(*) > ? THEN 0 ELSE coalesce(min(id), 1) END,"
        " CASE WHEN count(*) > ? THEN ? ELSE coalesce(max(id), 0) END"
        f" FROM (SELECT m.id FROM {_walk_index(filters)} WHERE {where} LIMIT ?))"
    )
    return cte, [BOUNDS_CAP, BOUNDS_CAP, MAX_ID, *params, BOUNDS_CAP + 1]


async def _newest(db: aiosqlite.Connection, match: str, filters: Filters, limit: int) -> list[dict]:
    """The newest matching posts, exactly by date: sort every match when few, else walk posts newest first.

    Both plans are in the one statement: a count of the matches (stopping at
    PROBE) is taken first, and the plan it rules out gets LIMIT 0, which
    SQLite checks before entering the loop (a WHERE term would be tested
    on every row the plan walks).
    """
    where, params = filters.where()
    walk = (  # test each post, newest first, against the index
        f"SELECT m.id AS id, m.date AS date FROM {_walk_index(filters)}"
        f" WHERE {where}"
        " AND EXISTS (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? AND rowid = m.id)"
        " ORDER BY m.date DESC, m.id DESC LIMIT (CASE WHEN (SELECT n FROM matches) >= ? THEN ? ELSE 0 END)"
    )
    sort = (  # sort every match
        f"SELECT f.rowid AS id, m.date AS date FROM messages_fts AS f CROSS JOIN {_BY_ID}"
        f" ON m.id = f.rowid WHERE f.messages_fts MATCH ? AND {where}"
        " ORDER BY m.date DESC, m.id DESC LIMIT (CASE WHEN (SELECT n FROM matches) < ? THEN ? ELSE 0 END)"
    )
    if filters.thread_id is not None:  # a thread is short: always walk it
        counted, count_args = "matches (n) AS (SELECT ?)", [PROBE]
    else:
        counted = (
            "matches (n) AS MATERIALIZED"
            " (SELECT count(*) FROM (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?))"
        )
        count_args = [match, PROBE]
    ctes = f"{counted}, hits AS MATERIALIZED (SELECT * FROM ({walk}) UNION ALL SELECT * FROM ({sort}))"
    args = [*count_args, *params, match, PROBE, limit, match, *params, PROBE, limit]
    return await _present(db, match, ctes, args, "hits.date DESC, hits.id DESC")


async def _present(db: aiosqlite.Connection, match: str, ctes: str, args: list, order: str) -> list[dict]:
    """The result rows of the CTE `hits` (a page of ids), each with a snippet: snippet() runs for the page only.

    ctes defines hits and whatever it needs; the whole search is one statement,
    one round trip to the database thread.
    """
    return await many(
        db,
        f"WITH {ctes}"
        f" SELECT {_RESULT}, snippet(f.messages_fts, 3, ?, ?, ?, ?) AS snippet"
        " FROM hits CROSS JOIN messages_fts AS f ON f.rowid = hits.id CROSS JOIN messages AS m ON m.id = hits.id"
        f" WHERE f.messages_fts MATCH ? ORDER BY {order}",
        [*args, *SNIPPET, match],
    )


async def _filtered(db: aiosqlite.Connection, filters: Filters, limit: int) -> list[dict]:
    """A query with no words (dates, thread, sender, attachments): newest first; the snippet is the opening."""
    where, params = filters.where()
    if filters.exclude:
        where += " AND NOT EXISTS (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? AND rowid = m.id)"
        params.append(filters.exclude)
    return await many(
        db,
        f"SELECT {_RESULT}, substr(archive_search_text(m.packed, m.raw_length), 1, 200) AS snippet"
        f" FROM {_walk_index(filters)}"
        f" WHERE {where} ORDER BY m.date DESC, m.id DESC LIMIT ?",
        [*params, limit],
    )


def _walk_index(filters: Filters) -> str:
    """The smallest index that lists the posts a filter lets through, by date: a thread, those with attachments, or all."""
    if filters.thread_id is not None:
        return _BY_THREAD
    return _WITH_ATTACHMENTS if filters.has_attachment else _BY_DATE


async def rebuild(db: aiosqlite.Connection) -> None:
    """Recreate the whole index from messages (run through Store.write)."""
    await db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


async def optimize(db: aiosqlite.Connection) -> None:
    """Merge the index into one b-tree: after a bulk import, searches read fewer segments."""
    await db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')")


async def integrity_check(db: aiosqlite.Connection) -> None:
    """Raise sqlite3.DatabaseError if the index does not match messages (tests, `archive reindex --check`)."""
    await db.execute("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")


async def set_fields(db: aiosqlite.Connection, archive_id: int, **values: object) -> int:
    """Set search_text, attachments and/or thread_id of one archive row (the index follows by trigger).

    A new search_text is packed again with the raw message (the newest dictionary).
    """
    unknown = set(values) - {"search_text", "attachments", "thread_id"}
    if unknown or not values:
        raise ValueError(f"set_fields takes search_text, attachments, thread_id; got {sorted(values)}")
    if "search_text" in values:
        row = await one(db, "SELECT packed, raw_length FROM messages WHERE id = ?", (archive_id,))
        raw, _ = await messages.unpacked(db, row["packed"], row["raw_length"]) if row else (None, "")
        text = str(values.pop("search_text"))
        values["packed"] = packing.pack(raw or b"", text, await dictionaries.current(db)) if raw is not None or text else None
    assignments = ", ".join(f"{name} = ?" for name in values)
    return await change(db, f"UPDATE messages SET {assignments} WHERE id = ?", (*values.values(), archive_id))


async def fields(db: aiosqlite.Connection, archive_id: int) -> dict | None:
    """The search columns of one archive row: search_text, attachments, thread_id."""
    row = await one(db, "SELECT packed, raw_length, attachments, thread_id FROM messages WHERE id = ?", (archive_id,))
    if row is None:
        return None
    _, text = await messages.unpacked(db, row.pop("packed"), row.pop("raw_length"))
    return {"search_text": text, **row}


async def search_texts(db: aiosqlite.Connection, after_id: int, count: int) -> list[dict]:
    """id, raw (None when not stored) and search_text of up to count rows with id > after_id, for recomputing
    search_text (listserv.archive.search.reindex)."""
    rows = await many(
        db, "SELECT id, packed, raw_length FROM messages WHERE id > ? ORDER BY id LIMIT ?", [after_id, count]
    )
    for row in rows:
        row["raw"], row["search_text"] = await messages.unpacked(db, row.pop("packed"), row.pop("raw_length"))
    return rows
