"""Work the held queue — list, show, approve, reject, discard — for the CLI, the web and moderators' replies.

An approval sends the post through the pipeline's own accept path (decorate,
archive, queue) and records the decision and an audit row in the same
transaction, so a post is never both waiting and sent, nor sent twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosqlite

from listserv import lists, message, outgoing
from listserv.archive.show import readable
from listserv.auth.result import AuthResult, shown
from listserv.confidential import guard
from listserv.config import Settings
from listserv.errors import AlreadyDecided, NoSuchHeld, Refused
from listserv.lists import MailingList
from listserv.outgoing import notices
from listserv.wording import plural
from listserv import pipeline  # pipeline.deliver at call time: the pipeline's -confirm path imports this module
from listserv.pipeline import decorate, forward, parse, prescan
from listserv.pipeline.msgdata import ACCEPT, Decision, MsgData
from listserv.pipeline.route import POST_ROLES
from listserv.store import Store, audit, held, members, messages

log = logging.getLogger(__name__)

SUMMARY = ("id", "list", "sender", "subject", "reasons", "received_at", "confidential", "role")
DECISION = ("decision", "decided_by", "decided_at", "decision_reason")
SHOW_RAW_BYTES = 65536  # of a post held over a cap, `held show` prints this much of the raw body
SHOW_HEADER_BYTES = 1 << 20  # and parses its headers only up to this size


async def waiting(store: Store, list_address: str | None = None) -> list[dict]:
    """Undecided held posts, oldest first, of one list (NoSuchList if unknown) or of all lists."""
    list_id = (await lists.get(store, list_address)).id if list_address else None
    return [{k: row[k] for k in SUMMARY} for row in await held.waiting(store.db, list_id)]


async def summary(store: Store, held_id: int) -> dict:
    """One held post's list, sender, subject, reasons and decision, without reading its message (NoSuchHeld)."""
    row = await _row(store, held_id)
    return {k: row[k] for k in SUMMARY + DECISION}


async def show(store: Store, held_id: int, as_archive: bool = False) -> dict:
    """One held post with its decision, its headers and its readable text, for a moderator.

    as_archive (the web page): the text is read as the archive pages read a
    post (listserv.archive.show.readable: HTML through the strict allow-list)
    and its attachments are listed by name, type and size.
    """
    row = await _row(store, held_id)
    raw = await held.raw(store.db, held_id) or b""
    if any(reason["rule"] == "limits" for reason in row["reasons"]):
        found = {k: row[k] for k in SUMMARY + DECISION} | {"authentication": shown(row["auth"])} | _unparsed(raw)
        return found | ({"attachments": []} if as_archive else {})
    msg, _ = parse.parse(raw)
    found = {k: row[k] for k in SUMMARY + DECISION} | {"authentication": shown(row["auth"])}
    found["headers"] = message.headers(msg) if msg is not None else []
    if msg is None:
        found["text"] = raw.decode("utf-8", "replace")
        return found | ({"attachments": []} if as_archive else {})
    if as_archive:
        found["text"], found["attachments"] = readable(msg)
    else:
        found["text"] = message.body_text(msg)
    return found


def _unparsed(raw: bytes) -> dict:
    """Headers and the start of the raw body of a post held over a cap: showing it must not cost the full parse."""
    within = prescan.header_bytes(raw) <= SHOW_HEADER_BYTES
    headers = message.headers(message.parse_headers(raw)) if within else []
    body = raw[prescan.header_bytes(raw) :][:SHOW_RAW_BYTES].decode("utf-8", "replace")
    return {"headers": headers, "text": f"(over a cap, not parsed; the first {SHOW_RAW_BYTES} bytes as sent)\n{body}"}


async def _row(store: Store, held_id: int) -> dict:
    row = await held.get(store.db, held_id)
    if row is None:
        raise NoSuchHeld(f"no such held message: {held_id}")
    return row


async def _undecided(store: Store, held_id: int) -> dict:
    row = await _row(store, held_id)
    if row["decision"] is not None:
        raise AlreadyDecided(f"held message {held_id} was already {row['decision']} by {row['decided_by']}")
    return row


async def _post(store: Store, mlist: MailingList, row: dict) -> MsgData:
    """Rebuild the post's MsgData from the held row, decided 'accept' and decorated, as the pipeline would."""
    raw = await held.raw(store.db, row["id"]) or b""
    msg, defects = parse.parse(raw)
    data = MsgData(
        mlist=mlist, role=row["role"], raw=raw, msg=msg, inbound_id=row["inbound_id"],
        received_at=row["received_at"], mail_from=row["mail_from"], defects=defects,
        confidential=row["confidential"], auth=AuthResult.from_json(row["auth"]),  # approved: mitigated as sent
    )
    parse.fill_headers(data)
    data.sender = data.sender or row["sender"]
    data.decision = Decision(ACCEPT)
    if row["role"] != "owner":
        await decorate.decorate(store, data)
        return data
    data.forward_to = await forward.owners(store.db, mlist.id)
    if not data.forward_to:
        raise Refused(f"{mlist.address} still has no owner or moderator to forward held message {row['id']} to")
    data.confidential = data.confidential or bool(await guard.classify(store.db, data))
    if data.confidential:  # the forwarding guard, as the pipeline applies it (listserv.confidential.guard)
        entitled = await members.entitled_among(store.db, mlist.id, data.forward_to)
        data.forward_to = [address for address in data.forward_to if address in entitled]
    if not data.forward_to:
        raise Refused(f"held message {row['id']} is confidential and no owner of {mlist.address} is entitled"
                      " to confidential posts; entitle one (members set LIST ADDRESS confidential true) first")
    data.content = notices.owner_forward(mlist, data.raw, data.subject)
    return data


@dataclass(frozen=True)
class Planned:
    """A decision on a held post, read and prepared outside the transaction; carry_out() commits it."""

    verb: str  # approve | reject | discard
    held_id: int
    mlist: MailingList
    row: dict  # the held row as read when planning
    post: MsgData | None = None  # approve: the post, decorated (or the owners' forward), ready to deliver
    reason: str = ""  # reject: the reason, told to the sender
    notice: bytes | None = None  # reject: the notice to queue for the sender, None when nobody is told


DECIDED = {"approve": "approved", "reject": "rejected", "discard": "discarded"}


async def plan(store: Store, held_id: int, verb: str, reason: str = "", notify: bool = False) -> Planned:
    """Read and prepare a decision (NoSuchHeld, AlreadyDecided or Refused when it cannot be taken).

    The CLI, the web and a moderator's reply to a notice all plan here and
    commit with carry_out(), so each does exactly what the others do.
    """
    row = await _undecided(store, held_id)
    mlist = await lists.get_by_id(store, row["list_id"])
    if verb == "approve":
        if row["role"] not in POST_ROLES + ("owner",):
            raise Refused(
                f"held message {held_id} came to the -{row['role']} address; only posts and -owner mail can be approved"
            )
        return Planned(verb, held_id, mlist, row, post=await _post(store, mlist, row))
    if verb == "reject":
        notice = await _rejection_notice(store, mlist, row, reason, notify)
        return Planned(verb, held_id, mlist, row, reason=reason, notice=notice)
    if verb == "discard":
        return Planned(verb, held_id, mlist, row)
    raise ValueError(f"not a moderation verb: {verb!r}")


async def carry_out(db: aiosqlite.Connection, settings: Settings | None, planned: Planned, by: str) -> bool:
    """Inside a write transaction: record the decision, act on it, write the audit row naming `by`.

    False when the post was decided meanwhile (then nothing was written).
    """
    held_id, mlist = planned.held_id, planned.mlist
    if not await held.decide(db, held_id, DECIDED[planned.verb], by, planned.reason):
        return False
    if planned.verb == "approve":
        detail = await _send(db, settings, planned.post)
    elif planned.verb == "reject":
        if planned.notice:
            await outgoing.queue(db, settings, mlist, planned.notice, [planned.row["sender"]])
        detail = f"notice: {'sent' if planned.notice else 'none'}"
    else:
        detail = ""
    action = {"approve": "approve", "reject": "reject", "discard": "discard"}[planned.verb]  # audit ACTIONS, spelled out
    await audit.record(db, by, action, mlist.id, f"held:{held_id}", detail)
    told = " with a notice" if planned.verb == "reject" and planned.notice else ""
    log.info("held:%s on %s %s by %s%s", held_id, mlist.address, DECIDED[planned.verb], by, told)
    return True


async def _decide(store: Store, settings: Settings | None, planned: Planned, by: str) -> None:
    if not await store.write(carry_out, settings, planned, by):
        raise AlreadyDecided(f"held message {planned.held_id} was decided meanwhile")


async def approve(store: Store, settings: Settings, held_id: int, by: str) -> None:
    """Send a held post as if accepted (or a held -owner message to the owners); one transaction."""
    await _decide(store, settings, await plan(store, held_id, "approve"), by)


async def _send(db, settings: Settings, data: MsgData) -> str:
    """Deliver an approved post (never twice: a Message-ID already archived is not sent again)."""
    if data.role == "owner":
        await outgoing.queue(db, settings, data.mlist, data.content, data.forward_to)
        return f"forwarded to {plural(len(data.forward_to), 'owner')}"
    if data.message_id and await messages.has_message_id(db, data.mlist.id, data.message_id):
        return "already archived under its Message-ID; not sent again"
    await pipeline.deliver(db, settings, data)
    return f"archive:{data.archive_id}"


async def reject(
    store: Store, settings: Settings, held_id: int, by: str, reason: str = "", notify: bool = False
) -> None:
    """Refuse a held post; tell the sender why when they are a member, or when notify is asked (never robots)."""
    await _decide(store, settings, await plan(store, held_id, "reject", reason, notify), by)


async def _rejection_notice(store: Store, mlist: MailingList, row: dict, reason: str, notify: bool) -> bytes | None:
    """The notice to queue, or None: only members (or anyone when notify) and never automated senders."""
    sender = row["sender"]
    if not sender:
        return None
    msg = parse.parse_head(await held.raw(store.db, row["id"]) or b"")  # a notice needs headers, not 100,000 parts
    if notices.is_automated(row["mail_from"], sender, msg):
        return None
    if not notify and await members.get(store.db, mlist.id, sender) is None:
        return None
    why = reason or "a moderator of the list did not approve it"
    msgid = message.message_id(msg) if msg is not None else ""
    return notices.rejection(mlist, sender, [why], row["subject"], row["confidential"], msgid)


async def discard(store: Store, held_id: int, by: str) -> None:
    """Drop a held post without telling anyone; the decision and the audit row remain (nothing is queued, so
    no settings are needed)."""
    await _decide(store, None, await plan(store, held_id, "discard"), by)
