"""The web_links and web_sessions tables. Source of truth: the links still out and the sessions open.

Only hashes of tokens are stored (listserv.web.login hashes them): whoever
reads the database cannot log in. A link works once: use_link() marks it used
in the same statement that checks it is still good.
"""

from __future__ import annotations

import aiosqlite

from listserv.store.rows import change, one


async def add_link(db: aiosqlite.Connection, token_hash: str, address: str, now: float, expires_at: float) -> None:
    """Remember a mailed link; links expired for a day are dropped on the way (nobody can use them)."""
    await change(db, "DELETE FROM web_links WHERE expires_at < ?", (now - 86400,))
    await change(
        db, "INSERT INTO web_links (token_hash, address, created_at, expires_at) VALUES (?, ?, ?, ?)",
        (token_hash, address, now, expires_at),
    )


async def link_address(db: aiosqlite.Connection, token_hash: str, now: float) -> str | None:
    """The address an unused, unexpired link logs in; None otherwise (nothing changes: a GET may ask)."""
    row = await one(
        db, "SELECT address FROM web_links WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
        (token_hash, now),
    )
    return row["address"] if row else None


async def use_link(db: aiosqlite.Connection, token_hash: str, now: float) -> str | None:
    """Mark the link used and return its address; None when it is unknown, used or expired."""
    address = await link_address(db, token_hash, now)
    if address is None:
        return None
    await change(db, "UPDATE web_links SET used_at = ? WHERE token_hash = ?", (now, token_hash))
    return address


async def add_session(
    db: aiosqlite.Connection, token_hash: str, address: str, csrf: str, now: float, expires_at: float
) -> None:
    """Open a session; sessions expired for a day are dropped on the way."""
    await change(db, "DELETE FROM web_sessions WHERE expires_at < ?", (now - 86400,))
    await change(
        db, "INSERT INTO web_sessions (token_hash, address, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (token_hash, address, csrf, now, expires_at),
    )


async def session(db: aiosqlite.Connection, token_hash: str, now: float) -> dict | None:
    """address and csrf of an unexpired session, or None."""
    return await one(
        db, "SELECT address, csrf FROM web_sessions WHERE token_hash = ? AND expires_at > ?", (token_hash, now)
    )


async def end_session(db: aiosqlite.Connection, token_hash: str) -> None:
    """Log out one session."""
    await change(db, "DELETE FROM web_sessions WHERE token_hash = ?", (token_hash,))


async def end_sessions_of(db: aiosqlite.Connection, address: str) -> int:
    """End every session of an address (the member was removed from a list); how many ended."""
    return await change(db, "DELETE FROM web_sessions WHERE address = ?", (address,))
