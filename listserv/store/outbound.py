"""The outbound queue. Source of truth: every copy still owed to a recipient.

A post's decorated bytes are stored once (outbound_messages); its recipients
are split into batches of at most max_recipients (outbound), each retried on
its own. A batch row shrinks as recipients are delivered or fail for good and
is deleted when empty; the message goes when its last batch does.
"""

from __future__ import annotations

import json
import time
from typing import Iterable, Sequence

import aiosqlite

from listserv.store.rows import change, insert, many, one


async def enqueue(
    db: aiosqlite.Connection,
    list_id: int | None,
    mail_from: str,
    content: bytes,
    recipients: Sequence[str],
    batch_size: int,
    archive_id: int | None = None,
    verp: bool = False,
    xverp: bool = False,
    personal: bool = False,
) -> int | None:
    """Queue content for recipients in batches; returns the outbound message id (None if nobody).

    verp: each recipient gets its own envelope sender derived from mail_from
    (listserv.verp), so a bounce names the member it came from.
    xverp: VERP every copy when the smarthost offers XVERP, even if verp is off
    (it costs nothing there: the smarthost writes each envelope sender).
    personal: each copy gets its recipient's unsubscribe headers and signature at delivery
    (listserv.outgoing.personal), one transaction per recipient.
    """
    if not recipients:
        return None
    now = time.time()
    message_id = await insert(
        db,
        "INSERT INTO outbound_messages (list_id, archive_id, mail_from, content, created_at, verp, xverp, personal)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (list_id, archive_id, mail_from, content, now, int(bool(verp)), int(bool(xverp)), int(bool(personal))),
    )
    size = max(1, batch_size)
    batches = [
        (message_id, json.dumps(list(recipients[i : i + size])), now, now)
        for i in range(0, len(recipients), size)
    ]
    await db.executemany(
        "INSERT INTO outbound (outbound_message_id, recipients, next_attempt_at, created_at) VALUES (?, ?, ?, ?)",
        batches,
    )
    return message_id


async def due(db: aiosqlite.Connection, now: float, exclude: Iterable[int] = (), limit: int = 100) -> list[dict]:
    """Batches whose next attempt is due, oldest first, with what is needed to send them
    and what their log lines name (the list's address, the post's archive id)."""
    skip = list(exclude)
    # `id NOT IN (NULL)` is never true in SQL, so an empty exclusion must be an empty list, not NULL.
    marks = ", ".join("?" for _ in skip)
    rows = await many(
        db,
        "SELECT o.id, o.outbound_message_id, o.recipients, o.attempts, o.created_at,"
        " m.mail_from, m.list_id, m.verp, m.xverp, m.personal, m.archive_id, l.address AS list"
        " FROM outbound o JOIN outbound_messages m ON m.id = o.outbound_message_id"
        " LEFT JOIN lists l ON l.id = m.list_id"
        f" WHERE o.next_attempt_at <= ? AND o.id NOT IN ({marks}) ORDER BY o.next_attempt_at, o.id LIMIT ?",
        (now, *skip, limit),
    )
    for row in rows:
        row["recipients"] = json.loads(row["recipients"])
        row["verp"] = bool(row["verp"])
        row["xverp"] = bool(row["xverp"])
        row["personal"] = bool(row["personal"])
    return rows


async def content(db: aiosqlite.Connection, outbound_message_id: int) -> bytes | None:
    row = await one(db, "SELECT content FROM outbound_messages WHERE id = ?", (outbound_message_id,))
    return row["content"] if row else None


async def is_personal(db: aiosqlite.Connection, outbound_message_id: int) -> bool:
    """Whether the message's copies are personalised per recipient at delivery (its `personal` flag)."""
    row = await one(db, "SELECT personal FROM outbound_messages WHERE id = ?", (outbound_message_id,))
    return bool(row and row["personal"])


async def next_due_at(db: aiosqlite.Connection) -> float | None:
    row = await one(db, "SELECT min(next_attempt_at) AS t FROM outbound")
    return row["t"] if row else None


async def settle(
    db: aiosqlite.Connection,
    batch_id: int,
    remaining: Sequence[str],
    next_attempt_at: float,
    last_error: str,
) -> None:
    """Record a try: keep the recipients still owed (rescheduled), or drop the finished batch."""
    if remaining:
        await change(
            db,
            "UPDATE outbound SET recipients = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
            " WHERE id = ?",
            (json.dumps(list(remaining)), next_attempt_at, last_error, batch_id),
        )
        return
    row = await one(db, "SELECT outbound_message_id FROM outbound WHERE id = ?", (batch_id,))
    await change(db, "DELETE FROM outbound WHERE id = ?", (batch_id,))
    if row is not None:
        await change(
            db,
            "DELETE FROM outbound_messages WHERE id = ? AND NOT EXISTS"
            " (SELECT 1 FROM outbound WHERE outbound_message_id = ?)",
            (row["outbound_message_id"], row["outbound_message_id"]),
        )


async def record_failures(
    db: aiosqlite.Connection, list_id: int | None, outbound_message_id: int, failures: Iterable[tuple[str, int, str]]
) -> None:
    """Remember permanent failures (address, code, text) for bounce processing and owners."""
    now = time.time()
    await db.executemany(
        "INSERT INTO delivery_failures (list_id, address, code, error, outbound_message_id, failed_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(list_id, addr, code, text, outbound_message_id, now) for addr, code, text in failures],
    )


async def failures(db: aiosqlite.Connection, list_id: int | None = None) -> list[dict]:
    where = " WHERE list_id = ?" if list_id is not None else ""
    return await many(
        db,
        "SELECT address, code, error, outbound_message_id, failed_at FROM delivery_failures" + where + " ORDER BY id",
        (list_id,) if list_id is not None else (),
    )


async def listing(db: aiosqlite.Connection) -> list[dict]:
    """Every queued batch for `queue ls`."""
    rows = await many(
        db,
        "SELECT o.id, l.address AS list, o.recipients, o.attempts, o.next_attempt_at, o.last_error"
        " FROM outbound o JOIN outbound_messages m ON m.id = o.outbound_message_id"
        " LEFT JOIN lists l ON l.id = m.list_id ORDER BY o.id",
    )
    for row in rows:
        row["recipients"] = len(json.loads(row["recipients"]))
    return rows


async def retry_all(db: aiosqlite.Connection, now: float) -> int:
    """Make every waiting batch due now; returns how many."""
    return await change(db, "UPDATE outbound SET next_attempt_at = ? WHERE next_attempt_at > ?", (now, now))


async def count(db: aiosqlite.Connection) -> int:
    row = await one(db, "SELECT count(*) AS n FROM outbound")
    return row["n"]


async def withdraw(db: aiosqlite.Connection, outbound_message_id: int) -> int:
    """Take a queued message back: it and every batch still owed go; returns how many batches."""
    batches = await change(db, "DELETE FROM outbound WHERE outbound_message_id = ?", (outbound_message_id,))
    await change(db, "DELETE FROM outbound_messages WHERE id = ?", (outbound_message_id,))
    return batches


async def of_archived(db: aiosqlite.Connection, archive_ids: Sequence[int]) -> list[dict]:
    """Queued copies of these archived posts: id, list_id, archive_id, mail_from, verp, xverp, personal, recipients (every
    address still owed, over all its batches) and batch_size (its largest batch)."""
    return await _copies(db, "m.archive_id", archive_ids)


async def by_ids(db: aiosqlite.Connection, outbound_message_ids: Sequence[int]) -> list[dict]:
    """These queued messages, as of_archived() gives them."""
    return await _copies(db, "m.id", outbound_message_ids)


async def _copies(db: aiosqlite.Connection, column: str, values: Sequence[int]) -> list[dict]:
    found = await many(
        db,
        "SELECT m.id, m.list_id, m.archive_id, m.mail_from, m.verp, m.xverp, m.personal, o.recipients"
        " FROM outbound_messages m"
        " JOIN outbound o ON o.outbound_message_id = m.id"
        f" WHERE {column} IN (SELECT value FROM json_each(?)) ORDER BY m.id, o.id",
        (json.dumps(list(values)),),
    )
    copies: dict[int, dict] = {}
    for row in found:
        batch = json.loads(row.pop("recipients"))
        flags = {name: bool(row[name]) for name in ("verp", "xverp", "personal")}
        copy = copies.setdefault(row["id"], {**row, **flags, "recipients": [], "batch_size": 1})
        copy["recipients"] += [address for address in batch if address not in copy["recipients"]]
        copy["batch_size"] = max(copy["batch_size"], len(batch))
    return list(copies.values())


async def notices_of(db: aiosqlite.Connection, list_id: int) -> list[dict]:
    """Queued mail of a list that is neither a post nor a digest issue (notices, reminders, forwards): id, content."""
    return await many(
        db,
        "SELECT id, content FROM outbound_messages WHERE list_id = ? AND archive_id IS NULL AND id NOT IN"
        " (SELECT outbound_message_id FROM digest_issues WHERE outbound_message_id IS NOT NULL) ORDER BY id",
        (list_id,),
    )


async def replace_content(db: aiosqlite.Connection, outbound_message_id: int, content: bytes) -> None:
    """New bytes for a queued message's recipients still owed (a notice rewritten without a subject)."""
    await change(db, "UPDATE outbound_messages SET content = ? WHERE id = ?", (content, outbound_message_id))
