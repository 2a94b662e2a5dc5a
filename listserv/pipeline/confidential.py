"""The confidential stage: before the rules, decide whether a post belongs to a confidential thread; then act on it.

Marking (mark(), a stage that runs after parse and route and before the
rules, so a held, rejected or discarded post is marked too and nothing about
it is logged first) asks listserv.confidential.guard.classify(): the
NAME+confidential@ envelope, the list's all_confidential, the tag or a
Sensitivity header anywhere in the message (listserv.confidential.markers),
or a Message-ID it refers to that is in a confidential thread
(listserv.confidential.thread).

Subject-based thread joining decides nothing here: confidentiality comes
from markers and Message-IDs only, so no subject can make a post
non-confidential. Threading itself never joins a post by subject to a thread
of the other confidentiality (and a confidential post never by subject at
all), so a post that only shares a subject with a confidential thread is
neither marked by it nor able to unmark it.

After the decision (remember(), conclude(), inside the transaction) the
thread is recorded and every stored copy of it re-marked; re-marked posts
waiting for a digest leave the queue and reach entitled digest readers as
confidential copies.
"""

from __future__ import annotations

import logging
import time

import aiosqlite

from listserv import message
from listserv.addresses import sub_address
from listserv.confidential import guard, thread
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.pipeline import decorate, parse
from listserv.pipeline.msgdata import ACCEPT, FORWARD, HOLD, Decision, MsgData, Reason
from listserv.store import Store, members, messages, outbound
from listserv.store import digests as store_digests

log = logging.getLogger(__name__)

async def mark(store: Store, data: MsgData) -> None:
    """The stage: set data.confidential and, when set, data.outside."""
    why = await guard.classify(store.db, data)
    data.confidential = bool(why)
    if data.confidential:
        data.outside = await guard.outside_recipients(store.db, data)
        log.info("inbound %s to %s: confidential (%s)", data.inbound_id, data.mlist.address, ",".join(why))


async def flag(store: Store, data: MsgData) -> None:
    """The -request stage: a confidential command message is held masked if it is held, and its reply
    quotes none of its lines (the sender's From may be forged)."""
    data.confidential = bool(await guard.classify(store.db, data))


async def guard_forward(store: Store, data: MsgData) -> None:
    """The stage after -owner and -bounces planning: confidential mail (by markers, thread, or because it
    cannot be read) is held flagged and masked, and forwarded only to owners entitled to confidential posts."""
    data.confidential = bool(await guard.classify(store.db, data))
    if not data.confidential:
        return
    if data.decision is None or data.decision.action != FORWARD:
        return
    entitled = await members.entitled_among(store.db, data.mlist.id, data.forward_to)
    data.forward_to = [address for address in data.forward_to if address in entitled]
    if not data.forward_to:
        text = "confidential content, and no owner entitled to confidential posts to forward it to; kept here"
        data.decision = Decision(HOLD, (*data.decision.reasons, Reason("confidential", text)))


async def recheck(db: aiosqlite.Connection, data: MsgData) -> None:
    """Inside the transaction, before an accepted or approved post is archived and queued: mark it late if needed.

    A post held for days may have joined a confidential thread meanwhile, and
    an approved one has not had its outside recipients looked up: both are
    redone on the writer's connection, and the copy re-decorated when they change.
    """
    before = (data.confidential, tuple(data.outside))
    if not data.confidential:
        data.confidential = bool(await guard.classify(db, data))
    if data.confidential and not data.outside:
        data.outside = await guard.outside_recipients(db, data)
    if (data.confidential, tuple(data.outside)) != before:
        await decorate.decorate(None, data)


async def remember(db: aiosqlite.Connection, settings: Settings, data: MsgData, accepted: bool = True) -> None:
    """Inside the transaction: record the post's thread (listserv.confidential.thread.record) and take its
    re-marked posts out of the digest queue."""
    when = message.date(data.msg, data.received_at) if data.msg is not None else data.received_at
    changed = await thread.record(db, data.mlist.id, data.msg, data.message_id, when, accepted)
    await out_of_digests(db, settings, data.mlist, changed)


async def out_of_digests(
    db: aiosqlite.Connection, settings: Settings, mlist: MailingList, archive_ids: list[int]
) -> None:
    """Re-marked posts still waiting for a digest leave the queue; this list's entitled digest readers get
    each as a confidential copy instead (a post of another list only leaves its queue)."""
    withdrawn = await store_digests.withdraw_archived(db, archive_ids) if archive_ids else []
    for row in withdrawn:
        raw = await messages.raw(db, row["archive_id"]) if row["list_id"] == mlist.id else None
        readers = await members.digest_confidential_recipients(db, mlist.id, row["sender"]) if raw else []
        if readers:
            content = await copy_of_archived(db, mlist, raw)
            await outbound.enqueue(
                db, mlist.id, sub_address(mlist.address, "bounces"), content, readers,
                settings.delivery.max_recipients, row["archive_id"],
            )
    if withdrawn:
        log.info("took %d re-marked post(s) out of the digest queue", len(withdrawn))


async def copy_of_archived(db: aiosqlite.Connection, mlist: MailingList, raw: bytes) -> bytes:
    """An archived post decorated as a confidential copy, as the pipeline would have sent it (digest
    readers of a re-marked post; email `get`)."""
    msg, defects = parse.parse(raw)
    data = MsgData(mlist=mlist, role="post", raw=raw, msg=msg, inbound_id=None, received_at=time.time(),
                   mail_from="", defects=defects, confidential=True)
    parse.fill_headers(data)
    data.outside = await guard.outside_recipients(db, data)
    data.decision = Decision(ACCEPT)
    await decorate.decorate(None, data)
    return data.content


async def conclude(db: aiosqlite.Connection, settings: Settings, data: MsgData, outcome: str) -> None:
    """After the decision, inside the transaction: remember the thread (deliver() did for an accepted post)
    and warn about outside recipients."""
    if outcome != "accepted":
        await remember(db, settings, data, accepted=False)
    if data.outside and outcome in ("accepted", "held"):
        await guard.warn(db, settings, data, held=outcome == "held")
