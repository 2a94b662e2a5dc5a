"""The unsubscribe_secret table. Source of truth: the one key the one-click unsubscribe tokens are made with.

Made on first use, never replaced by the code: a new secret would void every
unsubscribe link in mail already delivered.
"""

from __future__ import annotations

import aiosqlite

from listserv.store.rows import change, one


async def get_or_make(db: aiosqlite.Connection, fresh: bytes, now: float) -> bytes:
    """The stored secret; fresh becomes it when there is none yet (inside a write: two first uses agree)."""
    await change(db, "INSERT OR IGNORE INTO unsubscribe_secret (id, secret, made_at) VALUES (1, ?, ?)", (fresh, now))
    row = await one(db, "SELECT secret FROM unsubscribe_secret WHERE id = 1")
    return bytes(row["secret"])
