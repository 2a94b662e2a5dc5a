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
own Message-ID.
"""

from __future__ import annotations

import logging
from email.message import Message

import aiosqlite

from listserv import message
from listserv.confidential import markers
from listserv.store import confidential as store_confidential
from listserv.store import inbound, messages, threads

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
) -> list[int]:
    """Inside the transaction: record a confidential message's thread and re-mark every stored copy of it;
    returns the archive ids that turned confidential.

    A message that was not distributed (held, rejected, discarded) records only
    its own Message-ID: replies to it are confidential, but it does not turn
    the thread it names confidential, or a stranger's rejected post could hide
    a public thread from the members not entitled to confidential posts.
    """
    own, named = own_and_named(msg, own)
    await store_confidential.add(db, list_id, own, when, named if accepted else ())
    return await remark(db, list_id, [own, *named]) if accepted else []


async def remark(db: aiosqlite.Connection, list_id: int, ids: list[str]) -> list[int]:
    """Mark the whole thread: its threads in the list's thread map, then in the archive the posts of those
    threads, posts with these ids, the replies to them and the posts they name, round after round (also in
    other lists, for cross-posted copies); returns the archive ids that changed.

    Iterative (no recursion on user data), and each round only takes posts
    that were not confidential yet, so it ends.
    """
    changed: list[int] = []
    frontier = [i for i in ids if i]
    live = await threads.live_threads_of(db, list_id, frontier)
    await threads.raise_confidential(db, live)
    rows = await messages.mark_in_threads_confidential(db, live)
    while rows or frontier:
        rows += await messages.mark_confidential(db, frontier)
        rows += await messages.mark_replies_confidential(db, frontier)
        frontier = []
        for row in rows:
            named = message.message_ids(row["in_reply_to"]) + row["refs"].split()
            await store_confidential.add(db, row["list_id"], row["message_id"], None, named)
            frontier += [row["message_id"], *named]
        changed += [row["id"] for row in rows]
        rows = []
    await inbound.scrub_archived(db, changed)  # the inbound queue's history keeps no copy either
    if changed:
        log.info("re-marked %d archived post(s) confidential: archive:%s", len(changed), ",".join(map(str, changed)))
    return changed


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
