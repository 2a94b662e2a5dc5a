"""The -owner path: mail to NAME-owner@ goes to the list's owners (its moderators when it has no owner)."""

from __future__ import annotations

import logging

import aiosqlite

from listserv import message, outgoing
from listserv.outgoing import notices
from listserv.addresses import sub_address
from listserv.config import Settings
from listserv.wording import plural
from listserv.pipeline.msgdata import DISCARD, FORWARD, HOLD, Decision, MsgData, Reason
from listserv.store import Store, audit, members

log = logging.getLogger(__name__)


async def owners(db: aiosqlite.Connection, list_id: int) -> list[str]:
    """The owners' addresses, or the moderators' when the list has no owner."""
    for role in ("owner", "moderator"):
        found = await members.with_roles(db, list_id, (role,))
        if found:
            return [member.address for member in found]
    return []


def _looped(data: MsgData) -> bool:
    """Our own forward came back to -owner (an owner's address forwards to it): stop the circle."""
    owner = sub_address(data.mlist.address, "owner")
    return data.msg is not None and any(
        v.strip().casefold() == owner for v in message.header_all(data.msg, "X-BeenThere")
    )


async def plan(store: Store, data: MsgData) -> None:
    """Decide the -owner path: forward to the owners, discard a loop, hold when nobody owns the list."""
    if _looped(data):
        data.decision = Decision(DISCARD, (Reason("loop", "our own forward to the owners came back to -owner"),))
        return
    data.forward_to = await owners(store.db, data.mlist.id)
    if not data.forward_to:
        text = f"{data.mlist.address} has no owner or moderator to forward -owner mail to; kept here"
        data.decision = Decision(HOLD, (Reason("owner", text),))
        return
    data.content = notices.owner_forward(data.mlist, data.raw, data.subject)
    data.decision = Decision(FORWARD)


async def forward(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """Queue the forward to the owners; the audit records how many, not what."""
    await outgoing.queue(db, settings, data.mlist, data.content, data.forward_to)
    detail = f"to {plural(len(data.forward_to), 'owner')}"
    await audit.record(db, "pipeline", "forward", data.mlist.id, f"inbound:{data.inbound_id}", detail)
    log.info("inbound %s to %s: forwarded %s", data.inbound_id, sub_address(data.mlist.address, "owner"), detail)
    return "forwarded"
