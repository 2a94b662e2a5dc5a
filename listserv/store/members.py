"""The members table. Source of truth: who belongs to which list, and how they receive it.

Reads come back as Member values, typed once here (SQLite's 0/1 flags as
booleans), so no caller looks a member up by string key.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from typing import Iterable

import aiosqlite

from listserv.store import web_logins
from listserv.store.rows import change, many, one

COLUMNS = ("address", "name", "role", "delivery", "moderated", "confidential", "receive_own", "bounce_score")
_SELECT = "SELECT " + ", ".join(COLUMNS) + " FROM members"


@dataclass(frozen=True)
class Member:
    """One member of one list, as stored: the fields of `members ls --json`, one per column of COLUMNS."""

    address: str  # normalised and case-folded: one person is one member
    name: str  # display name, '' when none
    role: str  # member, moderator or owner
    delivery: str  # regular, digest or nomail
    moderated: bool  # their posts are held for a moderator
    confidential: bool  # entitled to receive and find confidential posts
    receive_own: bool  # gets a copy of their own posts
    bounce_score: float  # as last stored (listserv.bounces decays it when read for display)

    @classmethod
    def from_row(cls, row: dict) -> Member:
        """A members row as read from SQLite (flags 0/1) as a Member (flags True/False).

        >>> row = {"address": "ann@example.org", "name": "Ann", "role": "member", "delivery": "digest",
        ...        "moderated": 0, "confidential": 1, "receive_own": 1, "bounce_score": 0.0, "list_id": 3}
        >>> member = Member.from_row(row)
        >>> member.delivery, member.moderated, member.confidential
        ('digest', False, True)
        >>> sorted(member.as_json()) == sorted((*COLUMNS, "ownposts"))
        True
        """
        flags = {"moderated", "confidential", "receive_own"}
        return cls(**{c: bool(row[c]) if c in flags else row[c] for c in COLUMNS})

    def as_json(self) -> dict:
        """Every field by its column name, for `members ls --json` and the table, and receive_own also under
        the setting's name, ownposts (scripts may read either)."""
        return {**dataclasses.asdict(self), "ownposts": self.receive_own}


async def add(db: aiosqlite.Connection, list_id: int, member: dict) -> bool:
    """Insert one member; False when the address is already a member (nothing changes)."""
    cols = [c for c in COLUMNS if c in member]
    sql = (
        f"INSERT INTO members (list_id, created_at, {', '.join(cols)}) "
        f"VALUES (?, ?, {', '.join('?' for _ in cols)}) ON CONFLICT (list_id, address) DO NOTHING"
    )
    return await change(db, sql, (list_id, time.time(), *(member[c] for c in cols))) == 1


async def add_many(db: aiosqlite.Connection, list_id: int, members: Iterable[dict]) -> list[str]:
    """Insert members in one go; returns the addresses that were already there."""
    existing = []
    for member in members:
        if not await add(db, list_id, member):
            existing.append(member["address"])
    return existing


async def get(db: aiosqlite.Connection, list_id: int, address: str) -> Member | None:
    row = await one(db, _SELECT + " WHERE list_id = ? AND address = ?", (list_id, address))
    return Member.from_row(row) if row else None


async def all_members(db: aiosqlite.Connection, list_id: int) -> list[Member]:
    return [Member.from_row(row) for row in await many(db, _SELECT + " WHERE list_id = ? ORDER BY address", (list_id,))]


async def page(
    db: aiosqlite.Connection, list_id: int, contains: str = "", offset: int = 0, limit: int = 50
) -> list[tuple[Member, float]]:
    """One page of the members by address, with when each joined; contains (when given) filters on address or
    name, case-insensitively for ASCII, its %, _ and \\ taken literally. Memory is one page, not the list."""
    where, params = " WHERE list_id = ?", [list_id]
    if contains:
        pattern = "%" + re.sub(r"([%_\\])", r"\\\1", contains) + "%"
        where += " AND (address LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')"
        params += [pattern, pattern]
    sql = "SELECT " + ", ".join(COLUMNS) + ", created_at FROM members" + where + " ORDER BY address LIMIT ? OFFSET ?"
    return [(Member.from_row(row), row["created_at"]) for row in await many(db, sql, (*params, limit, offset))]


async def with_roles(db: aiosqlite.Connection, list_id: int, roles: tuple[str, ...]) -> list[Member]:
    marks = ", ".join("?" for _ in roles)
    sql = _SELECT + f" WHERE list_id = ? AND role IN ({marks}) ORDER BY address"
    return [Member.from_row(row) for row in await many(db, sql, (list_id, *roles))]


async def update(db: aiosqlite.Connection, list_id: int, address: str, key: str, value: object) -> bool:
    if key not in COLUMNS or key == "address":
        raise ValueError(f"not a member column: {key}")
    return await change(db, f"UPDATE members SET {key} = ? WHERE list_id = ? AND address = ?", (value, list_id, address)) == 1


async def remove(db: aiosqlite.Connection, list_id: int, address: str) -> bool:
    """Remove a member, and end every web session of the address in the same transaction: a removed member's
    open browser must not keep reading any list (they log in again for the lists they still belong to)."""
    removed = await change(db, "DELETE FROM members WHERE list_id = ? AND address = ?", (list_id, address)) == 1
    if removed:
        await web_logins.end_sessions_of(db, address)
    return removed


async def lists_of(db: aiosqlite.Connection, address: str) -> list[int]:
    """Ids of the lists the address is a member of (any role), lowest first."""
    rows = await many(db, "SELECT list_id FROM members WHERE address = ? ORDER BY list_id", (address,))
    return [row["list_id"] for row in rows]


async def recipients(
    db: aiosqlite.Connection, list_id: int, sender: str, confidential: bool
) -> list[str]:
    """Everyone who gets a copy of a post, in one query (never one query per member).

    Regular-delivery members, less the sender when they turned own posts off,
    less the members not entitled to confidential posts when the post is one.
    Digest members are served by the digest, not here.
    """
    sql = (
        "SELECT address FROM members WHERE list_id = ? AND delivery = 'regular'"
        " AND (address != ? OR receive_own = 1)"
    )
    if confidential:
        sql += " AND confidential = 1"
    return [row[0] for row in await db.execute_fetchall(sql + " ORDER BY address", (list_id, sender))]


async def digest_members(db: aiosqlite.Connection, list_id: int) -> list[str]:
    """Every member who reads the list as a digest, in one query."""
    sql = "SELECT address FROM members WHERE list_id = ? AND delivery = 'digest' ORDER BY address"
    return [row[0] for row in await db.execute_fetchall(sql, (list_id,))]


async def has_digest_members(db: aiosqlite.Connection, list_id: int) -> bool:
    """Whether anyone reads the list as a digest (no one: posts are not queued for a digest)."""
    sql = "SELECT 1 FROM members WHERE list_id = ? AND delivery = 'digest' LIMIT 1"
    return await one(db, sql, (list_id,)) is not None


async def digest_confidential_recipients(db: aiosqlite.Connection, list_id: int, sender: str) -> list[str]:
    """Digest readers entitled to confidential posts, who get those individually (never in a digest).

    Less the sender when they turned own posts off, as for regular members.
    """
    sql = (
        "SELECT address FROM members WHERE list_id = ? AND delivery = 'digest' AND confidential = 1"
        " AND (address != ? OR receive_own = 1) ORDER BY address"
    )
    return [row[0] for row in await db.execute_fetchall(sql, (list_id, sender))]


async def entitled_among(db: aiosqlite.Connection, list_id: int, addresses: list[str]) -> set[str]:
    """Those of the addresses that are members entitled to confidential posts, in one query."""
    found: set[str] = set()
    for start in range(0, len(addresses), 500):  # well under SQLite's parameter limit
        chunk = addresses[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        sql = f"SELECT address FROM members WHERE list_id = ? AND confidential = 1 AND address IN ({marks})"
        found.update(row[0] for row in await db.execute_fetchall(sql, (list_id, *chunk)))
    return found
