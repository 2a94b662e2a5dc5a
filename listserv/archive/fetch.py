"""Fetch one archived post by its number for a reader who may or may not see confidential posts."""

from __future__ import annotations

import aiosqlite

from listserv.store import messages


async def archived(
    db: aiosqlite.Connection, list_id: int, number: int, include_confidential: bool = False
) -> dict | None:
    """The post (id, date, sender, subject, confidential, raw) numbered `number` in this list's archive, or None.

    None also for a post of another list and for a confidential post when
    include_confidential is off: a reader who may not see it cannot tell it
    exists. raw is None when the content was purged (only its facts remain).
    """
    row = await messages.get(db, number)
    if row is None or row["list_id"] != list_id or (row["confidential"] and not include_confidential):
        return None
    found = {key: row[key] for key in ("id", "date", "sender", "subject", "confidential")}
    found["raw"] = await messages.raw(db, number)
    return found
