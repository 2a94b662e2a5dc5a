"""The -request and -confirm paths: read the email commands before the transaction, run and answer them inside it.

A reply to a held-post notice also comes to -confirm; listserv.pipeline.moderate
plans and carries it out instead of the commands.

The commands themselves live in listserv.commands (see handle.py there for
who is answered and who is not); this module adapts them to the pipeline.
"""

from __future__ import annotations

import logging

import aiosqlite

from listserv import membership
from listserv.addresses import sub_address
from listserv.commands import handle, parser
from listserv.commands.context import Request
from listserv.config import Settings
from listserv.wording import plural
from listserv.pipeline import moderate
from listserv.pipeline.msgdata import ACCEPT, COMMAND, DISCARD, HOLD, Decision, MsgData, Reason
from listserv.pipeline.rules import unauthenticated
from listserv.store import Store

log = logging.getLogger(__name__)


async def plan(store: Store, data: MsgData) -> None:
    """The stage: keep what cannot be read, drop what robots sent, else read the commands (CPU only)."""
    if data.msg is None:
        text = "the message could not be parsed, so its commands cannot be read; kept for the list owner"
        data.decision = Decision(HOLD, (Reason("unparseable", text),))
    elif handle.is_robot(data.mail_from, data.sender, data.msg):
        data.decision = Decision(DISCARD, (Reason("automated", "automated mail gets no command reply (RFC 3834)"),))
    elif handle.looped(data.mlist, data.msg):
        data.decision = Decision(DISCARD, (Reason("loop", "our own command reply came back"),))
    elif _disowned(data):  # a forged command (unsubscribe someone, confirm for them) is never run; held
        # ones are kept for the owners to see (they cannot be approved: only posts can)
        data.decision = Decision(unauthenticated.action(data), (unauthenticated.unauthenticated(data),))
    elif data.role == "confirm" and await moderate.plan(store, data):
        return  # a moderator's reply to a held-post notice: decided by listserv.pipeline.moderate
    else:
        if data.role == "confirm":
            data.commands = handle.confirmations(data.recipients)
        else:
            data.commands = parser.parse(data.subject, data.body_text, data.mlist.subject_prefix)
        data.decision = Decision(COMMAND)


def _disowned(data: MsgData) -> bool:
    """The unauthenticated rule fires and the list does not accept such mail."""
    return unauthenticated.action(data) != ACCEPT and unauthenticated.unauthenticated(data) is not None


async def act(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """The COMMAND handler, inside the transaction: membership is read here, where the commands change it."""
    if data.moderation is not None:
        return await moderate.act(db, settings, data)
    mlist = data.mlist
    member = await membership.member_in(db, mlist.id, data.sender) if data.sender else None
    request = Request(db, settings, mlist, data.sender, data.sender_name, member, data.received_at)
    replied = await handle.answer(request, data.commands, data.message_id, quote=not data.confidential)
    names = ",".join(command.name for command in data.commands.commands) or "-"
    log.info(
        "inbound %s to %s: commands %s; %s; reply %s", data.inbound_id,
        sub_address(mlist.address, data.role), names, plural(len(request.mail), "notice"),
        "sent" if replied else "none",
    )
    return "processed"
