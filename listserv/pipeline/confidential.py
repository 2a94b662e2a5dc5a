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
thread is recorded and every stored copy of it re-marked; then settle() makes
the queued copies follow: a re-marked post's plain copies still owed (outbound
batches, the digest queue, digest issues not delivered yet) reach only the
members entitled to confidential posts, as confidential copies, and queued
notices lose the subjects of re-marked held posts.
"""

from __future__ import annotations

import logging
import time

import aiosqlite

from listserv import lists, message, outgoing
from listserv.auth.result import AuthResult
from listserv.outgoing import digest_issue, notices
from listserv.confidential import guard, thread
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.wording import plural
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
    if not data.confidential and data.referenced is None:  # not read in this process (an approved held post)
        data.confidential = bool(await guard.classify(db, data))
    elif not data.confidential:  # its markers were read before the rules: only what the store knows can change
        data.confidential = await thread.in_thread(db, data.mlist.id, data.message_id, data.referenced)
    if data.confidential and not data.outside:
        data.outside = await guard.outside_recipients(db, data)
    if (data.confidential, tuple(data.outside)) != before:
        await decorate.decorate(None, data)


async def remember(db: aiosqlite.Connection, settings: Settings, data: MsgData, accepted: bool = True) -> None:
    """Inside the transaction: record the post's thread (listserv.confidential.thread.record) and settle
    every queued copy of what that re-marked."""
    when = message.date(data.msg, data.received_at) if data.msg is not None else data.received_at
    remarked = await thread.record(db, data.mlist.id, data.msg, data.message_id, when, accepted)
    await settle(db, settings, remarked)


async def settle(db: aiosqlite.Connection, settings: Settings, remarked: thread.Remarked) -> None:
    """Inside the re-marking's transaction: no queued copy of a re-marked post or of its subject outlives it.

    The digest queue, digest issues not delivered yet and the outbound queue
    lose the post's plain copies (entitled readers get the confidential copy
    instead); queued notices lose the subjects of re-marked held posts; queued
    replies and notices that name a re-marked post reach only entitled members.
    """
    await out_of_outbound(db, settings, remarked.archived)  # first: the confidential copies queued below stay
    await out_of_digests(db, settings, remarked.archived)
    await out_of_issues(db, settings, remarked.archived)
    await out_of_notices(db, settings, remarked.held)
    await out_of_replies(db, remarked.archived)


async def out_of_digests(db: aiosqlite.Connection, settings: Settings, archive_ids: list[int]) -> None:
    """Re-marked posts still waiting for a digest leave the queue; their list's entitled digest readers get
    each as a confidential copy instead."""
    withdrawn = await store_digests.withdraw_archived(db, archive_ids) if archive_ids else []
    for row in withdrawn:
        mlist = await lists.get_in(db, row["list_id"])
        if mlist is not None:
            await _to_digest_readers(db, settings, mlist, {"id": row["archive_id"], "sender": row["sender"]})
    if withdrawn:
        log.info("took %s out of the digest queue", plural(len(withdrawn), "re-marked post"))


async def out_of_issues(db: aiosqlite.Connection, settings: Settings, archive_ids: list[int]) -> None:
    """Digest issues built but still queued (the smarthost deferred them) are rebuilt without the re-marked
    posts, or withdrawn when none is left; their list's entitled digest readers get each post as a
    confidential copy instead."""
    issues = await store_digests.queued_issues(db) if archive_ids else []
    posts = [post for post in [await messages.get(db, i) for i in archive_ids] if post is not None] if issues else []
    wanted = {(post["list_id"], post["message_id"]): post for post in posts}
    for issue in issues:
        mlist = await lists.get_in(db, issue["list_id"])
        ids = {message_id for list_id, message_id in wanted if list_id == issue["list_id"]}
        kept, removed = digest_issue.posts_without(issue["content"], ids) if mlist is not None and ids else ([], [])
        if not removed:
            continue
        if kept:
            content = digest_issue.build(mlist, issue["volume"], issue["issue"], kept)
            await outgoing.replace(db, settings, mlist, issue["outbound_message_id"], content)
        else:
            await outbound.withdraw(db, issue["outbound_message_id"])
        for message_id in removed:
            await _to_digest_readers(db, settings, mlist, wanted[(mlist.id, message_id)])
        log.info("digest vol %s issue %s of %s: %s taken out", issue["volume"], issue["issue"],
                 mlist.address, plural(len(removed), "re-marked post"))


async def _to_digest_readers(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, post: dict) -> None:
    """The confidential copy of a post to the list's entitled digest readers (it left their digest)."""
    readers = await members.digest_confidential_recipients(db, mlist.id, post["sender"])
    content = await copy_of_archived(db, mlist, post["id"]) if readers else None
    if content is not None:
        await outgoing.queue(db, settings, mlist, content, readers, post["id"], post=True, xverp=mlist.settings.verp)


async def out_of_outbound(db: aiosqlite.Connection, settings: Settings, archive_ids: list[int]) -> None:
    """Queued plain copies of re-marked posts are withdrawn; the recipients still owed who are entitled to
    confidential posts get the confidential copy instead (as a new message: a batch being sent right now
    cannot put a withdrawn recipient back), the others nothing."""
    for copy in await outbound.of_archived(db, archive_ids) if archive_ids else []:
        mlist = await lists.get_in(db, copy["list_id"]) if copy["list_id"] is not None else None
        content = await copy_of_archived(db, mlist, copy["archive_id"]) if mlist is not None else None
        keep = await _entitled(db, copy) if content is not None else []
        await outbound.withdraw(db, copy["id"])
        if keep:  # a new message: a batch being sent right now then cannot put a withdrawn recipient back
            await outgoing.queue(db, settings, mlist, content, keep, copy["archive_id"], copy["verp"], post=True)
        log.info("outbound %s (archive:%s) re-marked confidential: withdrawn from %d, confidential copy to %d",
                 copy["id"], copy["archive_id"], len(copy["recipients"]) - len(keep), len(keep))


async def out_of_replies(db: aiosqlite.Connection, archive_ids: list[int]) -> None:
    """Queued mail that is neither a post nor a digest issue (a `get` or `search` reply, a notice) and names
    a re-marked post (its Message-ID or its subject) is withdrawn from the recipients not entitled to
    confidential posts; the entitled ones still get it."""
    posts = [post for post in [await messages.get(db, i) for i in archive_ids] if post is not None]
    by_list: dict[int, list[str]] = {}
    for post in posts:
        by_list.setdefault(post["list_id"], []).extend((post["message_id"], post["subject"] or ""))
    for list_id, phrases in by_list.items():
        named = [note["id"] for note in await outbound.notices_of(db, list_id)
                 if notices.names_any(note["content"], phrases)]
        for copy in await outbound.by_ids(db, named) if named else []:
            keep = await _entitled(db, copy)
            if len(keep) < len(copy["recipients"]):
                content = await outbound.content(db, copy["id"]) or b""
                await outbound.withdraw(db, copy["id"])  # as above: the kept recipients get a new message
                if keep:
                    await outgoing.requeue(db, copy, content, keep)
                log.info("outbound %s names a post re-marked confidential: withdrawn from %s", copy["id"],
                         plural(len(copy["recipients"]) - len(keep), "recipient"))


async def _entitled(db: aiosqlite.Connection, copy: dict) -> list[str]:
    """The recipients still owed a queued copy who are entitled to its list's confidential posts."""
    if copy["list_id"] is None:
        return []
    entitled = await members.entitled_among(db, copy["list_id"], copy["recipients"])
    return [address for address in copy["recipients"] if address in entitled]


async def out_of_notices(db: aiosqlite.Connection, settings: Settings, held_rows: list[dict]) -> None:
    """Queued notices of the lists of re-marked held posts lose those posts' subjects (rewritten, or
    withdrawn when the subject sits where it cannot be rewritten)."""
    by_list: dict[int, list[str]] = {}
    for row in held_rows:
        by_list.setdefault(row["list_id"], []).append(row["subject"])
    for list_id, subjects in by_list.items():
        mlist = await lists.get_in(db, list_id)
        for note in await outbound.notices_of(db, list_id) if mlist is not None else []:
            content = notices.without_subjects(note["content"], subjects)
            if content is None:
                await outbound.withdraw(db, note["id"])
                log.info("outbound %s withdrawn: it named a post re-marked confidential", note["id"])
            elif content != note["content"]:
                await outgoing.replace(db, settings, mlist, note["id"], content)
                log.info("outbound %s rewritten without the subject of a post re-marked confidential", note["id"])


async def copy_of_archived(db: aiosqlite.Connection, mlist: MailingList, archive_id: int) -> bytes | None:
    """Archived post archive_id decorated as a confidential copy, as the pipeline would have sent it (digest
    readers of a re-marked post; email `get`); None when its content was purged.

    The authentication result stored with the post comes along, so decorate() applies the same DMARC
    mitigation as to the live copies: a p=reject author's words never leave under their own From.
    """
    row = await messages.get(db, archive_id)
    raw = await messages.raw(db, archive_id) if row is not None else None
    if raw is None:
        return None
    msg, defects = parse.parse(raw)
    data = MsgData(mlist=mlist, role="post", raw=raw, msg=msg, inbound_id=None, received_at=time.time(),
                   mail_from="", defects=defects, confidential=True, auth=AuthResult.from_json(row["auth"] or ""))
    parse.fill_headers(data)
    data.sender = data.sender or row["sender"]
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
