"""The audit log. Source of truth: who did what to which held post or list, and when.

It never records message content: subjects and bodies of confidential posts
must not leak through it.
"""

from __future__ import annotations

import time

import aiosqlite

from listserv.store.rows import insert, many

# The actor of a change made through the package by a caller that named nobody (a script, a test). The CLI
# names its operator (--by, else cli:LOGIN), the email commands the member, the daemon's own work its part.
UNNAMED = "unnamed"


async def record(
    db: aiosqlite.Connection, actor: str, action: str, list_id: int | None, obj: str = "", detail: str = ""
) -> int:
    return await insert(
        db,
        "INSERT INTO audit (at, actor, action, list_id, object, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (time.time(), actor, action, list_id, obj, detail),
    )


async def entries(
    db: aiosqlite.Connection, list_id: int | None = None, limit: int = 100, action: str | None = None,
    before: int | None = None,
) -> list[dict]:
    """The newest entries first, of one list or all, of one action (e.g. read-confidential) or all; with
    before, only entries older than that id (the next page, stable while new entries arrive)."""
    terms, params = [], []
    for sql, value in (("a.list_id = ?", list_id), ("a.action = ?", action), ("a.id < ?", before)):
        if value is not None:
            terms.append(sql)
            params.append(value)
    where = " WHERE " + " AND ".join(terms) if terms else ""
    return await many(
        db,
        "SELECT a.id, a.at, a.actor, a.action, l.address AS list, a.object, a.detail"
        " FROM audit a LEFT JOIN lists l ON l.id = a.list_id" + where + " ORDER BY a.id DESC LIMIT ?",
        (*params, limit),
    )
