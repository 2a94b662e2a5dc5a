"""Confidential threads in the store: is a message in one, and marking a whole thread (late ones included).

A message is in a confidential thread when its own Message-ID or any it
refers to (markers.examine: In-Reply-To, References and the ids inside
it) is known to be confidential (listserv.store.confidential, looked up across
lists) or is in a confidential thread of the list's thread map
(listserv.archive.threading), even when the list stored no content of it.

Propagation (remember(), inside the pipeline's transaction): a distributed
confidential post records its Message-ID and the ids it named in its headers,
raises its threads in the thread map, and re-marks every stored copy of those
threads (remark()), round after round, so a post that arrives after its
replies still takes them along. A thread never becomes non-confidential again.
A post that was not distributed (held, rejected, discarded) records only its
own Message-ID, and re-marks only the held posts that answer it.

Every path that turns a thread confidential goes through remark(): the
pipeline, `archive import` and `archive reindex` (merges OR the flag). The
stored copies it re-marks: archived posts, held posts (any list, decided or
not, found by the Message-IDs kept with them in held_ids), and their inbound
rows (scrubbed). Queued copies (outbound, digests, notices) are settled by
listserv.pipeline.confidential.settle() with what remark() returns.
"""

from __future__ import annotations

import logging
from email.message import Message
from typing import NamedTuple, Sequence

import aiosqlite

from listserv import message
from listserv.confidential import markers
from listserv.wording import plural
from listserv.store import confidential as store_confidential
from listserv.store import held, inbound, messages, threads

log = logging.getLogger(__name__)


def own_and_named(msg: Message | None, own: str) -> tuple[str, list[str]]:
    """(the message's own Message-ID, the ids its In-Reply-To and References name): what propagation records."""
    return own, (markers.header_ids(msg) if msg is not None else [])


async def in_thread(db: aiosqlite.Connection, list_id: int, own: str, referenced: list[str]) -> bool:
    """The message's own Message-ID or one it refers to is confidential: known as such (any list), or in a
    confidential thread of this list's thread map."""
    ids = [i for i in (own, *referenced) if i]
    if not ids:
        return False
    return await store_confidential.any_known(db, ids) or await threads.confidential_referenced(db, list_id, ids)


async def record(
    db: aiosqlite.Connection, list_id: int, msg: Message | None, own: str, when: float, accepted: bool = True
) -> Remarked:
    """Inside the transaction: record a confidential message's thread and re-mark every stored copy of it;
    returns what turned confidential.

    A message that was not distributed (held, rejected, discarded) records only
    its own Message-ID: replies to it are confidential (held ones re-marked
    too), but it does not turn the thread it names confidential, or a
    stranger's rejected post could hide a public thread from the members not
    entitled to confidential posts.
    """
    own, named = own_and_named(msg, own)
    await store_confidential.add(db, list_id, own, when, named if accepted else ())
    if accepted:
        return await remark(db, list_id, [own, *named])
    return await spread(db, [], [], held_only=[own])


class Remarked(NamedTuple):
    """What one re-marking turned confidential: archive ids, and held rows (id, list_id, inbound_id, subject)."""

    archived: list[int]
    held: list[dict]


async def remark(db: aiosqlite.Connection, list_id: int, ids: list[str]) -> Remarked:
    """Mark the whole thread: its threads in the list's thread map, then every stored copy of it (spread()).

    With no ids, only the held posts (and what follows from them) are looked at.
    """
    frontier = [i for i in ids if i]
    live = await threads.live_threads_of(db, list_id, frontier) if frontier else []
    await threads.raise_confidential(db, live)
    return await spread(db, live, frontier)


async def spread(
    db: aiosqlite.Connection, live: list[int], frontier: list[str], held_only: Sequence[str] = ()
) -> Remarked:
    """Mark every stored copy of confidential threads, round after round: in the archive the posts of the
    live threads, posts with the frontier's ids, the replies to them and the posts they name (in other lists
    too, for cross-posted copies); held posts (any list, decided or not) that name any of those or any post
    of the threads. held_only: ids whose held replies are re-marked, but not their archived copies (the own
    id of a confidential post that was not distributed).

    A re-marked held post's own Message-ID is recorded as confidential (a
    later reply to it is) and finds the held posts that answer it in the next
    round, but it re-marks no archived post: a stranger's held posts must not
    hide a public thread, and an approved copy is re-marked by its own headers.

    Iterative (no recursion on user data), and each round only takes copies
    that were not confidential yet, so it ends.
    """
    archived: list[int] = []
    held_rows: list[dict] = []
    rows = await messages.mark_in_threads_confidential(db, live) if live else []
    fresh = await held.mark_in_threads(db, live) if live else []
    fresh += await _index_held(db)
    asked = list(held_only)  # ids whose held replies are looked for in the next round
    while rows or frontier or fresh or asked:
        rows += await messages.mark_confidential(db, frontier)
        rows += await messages.mark_replies_confidential(db, frontier)
        fresh += await held.mark_referencing(db, frontier + asked) if frontier or asked else []
        frontier = []
        for row in rows:
            named = message.message_ids(row["in_reply_to"]) + row["refs"].split()
            await store_confidential.add(db, row["list_id"], row["message_id"], None, named)
            frontier += [row["message_id"], *named]
        asked = await _remember_held(db, fresh)
        archived += [row["id"] for row in rows]
        held_rows += fresh
        rows, fresh = [], []
    await _scrubbed(db, archived, held_rows)
    return Remarked(archived, held_rows)


async def _index_held(db: aiosqlite.Connection) -> list[dict]:
    """Read the Message-IDs of held posts kept without them (held before 0008, or by a stage that failed
    before the message was read) and mark those already in a confidential thread; returns the rows marked."""
    marked: list[dict] = []
    while batch := await held.unindexed(db):
        for row in batch:
            own, referenced = held_ids(row["raw"])
            await held.index_ids(db, row["id"], own, referenced)
        marked += await held.mark_if_known(db, [row["id"] for row in batch])
    return marked


def held_ids(raw: bytes) -> tuple[str, list[str]]:
    """(own Message-ID, ids referred to) of a held post's raw bytes: as the confidential stage reads them
    (In-Reply-To, References and the ids inside it), so a re-marking finds what marking would have found."""
    try:
        msg = message.parse(raw)
    except Exception:  # the stdlib parser almost never raises; a message it cannot read is scanned as bytes
        msg = None
    found = markers.examine(msg, raw, "")
    return (message.message_id(msg) if msg is not None else ""), found.referenced


async def _remember_held(db: aiosqlite.Connection, rows: list[dict]) -> list[str]:
    """Record the own Message-IDs of re-marked held posts as confidential; returns them (the held replies to
    them are looked for next)."""
    found = await held.own_ids(db, [row["id"] for row in rows]) if rows else []
    list_of = {row["id"]: row["list_id"] for row in rows}
    for pair in found:
        await store_confidential.add(db, list_of[pair["held_id"]], pair["message_id"], None)
    return [pair["message_id"] for pair in found]


async def _scrubbed(db: aiosqlite.Connection, archived: list[int], held_rows: list[dict]) -> None:
    """The inbound queue's history keeps no copy of what was re-marked either."""
    await inbound.scrub_archived(db, archived)
    if held_rows:
        await inbound.scrub_held(db, [row["id"] for row in held_rows])
    if archived:
        log.info("re-marked %s confidential: archive:%s", plural(len(archived), "archived post"),
                 ",".join(map(str, archived)))
    if held_rows:
        log.info("re-marked %s confidential: held:%s", plural(len(held_rows), "held post"),
                 ",".join(str(row["id"]) for row in held_rows))


async def mark_known(db: aiosqlite.Connection, rows: list[dict]) -> None:
    """Archive rows about to be stored by an import: a row whose Message-ID, In-Reply-To, References or any
    Message-ID inside it (markers.examine) is known to be confidential (in any list, held and rejected posts
    included) is stored confidential."""
    named = {
        id(row): [row["message_id"], row.get("in_reply_to") or "", *(row.get("refs") or "").split(),
                  *row.get("referenced", ())]
        for row in rows
    }
    known = await store_confidential.known(db, [i for ids in named.values() for i in ids if i])
    for row in rows:
        if known.intersection(named[id(row)]):
            row["confidential"] = True
