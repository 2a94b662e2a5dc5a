"""Per-list counts for `listserv status`: members, held posts, waiting requests, the outbound queue, last post.

Reads only; every figure comes from tables whose source of truth is
elsewhere (members, held, pending_members, outbound, list_marks).
Each figure is one grouped query over all lists, so status costs the same
handful of queries however many lists there are.
"""

from __future__ import annotations

import aiosqlite

from listserv.store.rows import many

POST_MARK = "post"  # list_marks name: when a post (any outcome) last arrived for the list


async def list_counts(db: aiosqlite.Connection) -> dict[int, dict]:
    """list id -> {address, members, held, pending}: every list, zero counts included."""
    rows = await many(
        db,
        "SELECT l.id, l.address,"
        " (SELECT count(*) FROM members m WHERE m.list_id = l.id) AS members,"
        " (SELECT count(*) FROM held h WHERE h.list_id = l.id AND h.decision IS NULL) AS held,"
        " (SELECT count(*) FROM pending_members p WHERE p.list_id = l.id AND p.decision IS NULL) AS pending"
        " FROM lists l ORDER BY l.address",
    )
    return {row.pop("id"): row for row in rows}


async def queue_counts(db: aiosqlite.Connection) -> dict[int | None, dict]:
    """list id (None: the list is gone) -> the outbound queue's figures for it.

    queued: batches; recipients: addresses in them; failing: batches whose last
    try failed; failing_since: when the oldest failing batch was queued.
    """
    rows = await many(
        db,
        "SELECT m.list_id, count(*) AS queued, sum(json_array_length(o.recipients)) AS recipients,"
        " sum(o.last_error != '') AS failing,"
        " min(CASE WHEN o.last_error != '' THEN o.created_at END) AS failing_since"
        " FROM outbound o JOIN outbound_messages m ON m.id = o.outbound_message_id GROUP BY m.list_id",
    )
    return {row.pop("list_id"): row for row in rows}


async def last_errors(db: aiosqlite.Connection) -> dict[int | None, str]:
    """list id -> the last_error of its most recently queued failing batch."""
    rows = await many(
        db,
        "SELECT m.list_id, o.last_error FROM outbound o JOIN outbound_messages m ON m.id = o.outbound_message_id"
        " WHERE o.id IN (SELECT max(o2.id) FROM outbound o2 JOIN outbound_messages m2"
        " ON m2.id = o2.outbound_message_id WHERE o2.last_error != '' GROUP BY m2.list_id)",
    )
    return {row["list_id"]: row["last_error"] for row in rows}


async def last_posts(db: aiosqlite.Connection) -> dict[int, float]:
    """list id -> unix time a post last arrived (the pipeline's mark; migration 0009 filled it for older posts)."""
    rows = await many(db, "SELECT list_id, at FROM list_marks WHERE name = ?", (POST_MARK,))
    return {row["list_id"]: row["at"] for row in rows}
