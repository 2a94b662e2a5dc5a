"""The guards: who may receive a confidential message's text beyond the members the pipeline delivers to.

- The reply-all leak guard: a confidential post's To/Cc entries outside the
  list (neither a list address nor a member entitled to confidential posts)
  never get the list's copy, and the sender and the moderators are told.
- The forwarding guard: mail the list passes on to people (-owner mail,
  bounces it cannot attribute) goes only to owners and moderators entitled to
  confidential posts when it is confidential by markers.classify() or by its
  thread (thread.in_thread), and also when it cannot be told.
"""

from __future__ import annotations

import logging
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from typing import TYPE_CHECKING

import aiosqlite

from listserv import address_list, message, outgoing
from listserv.outgoing import notices
from listserv.addresses import split
from listserv.confidential import markers, thread
from listserv.config import Settings
from listserv.wording import plural
from listserv.store import audit, members

if TYPE_CHECKING:  # the pipeline imports this package; MsgData is only named here
    from listserv.pipeline.msgdata import MsgData

log = logging.getLogger(__name__)
ACTOR = "pipeline"


async def classify(db: aiosqlite.Connection, data: MsgData) -> list[str]:
    """Why a message is confidential (marker names), [] when it is not: the envelope, the markers anywhere in
    it (markers.classify) and, failing those, the thread of any Message-ID it refers to."""
    found = markers.examine(data.msg, data.raw, data.mlist.settings.confidential_tag,
                            data.mlist.settings.all_confidential)
    data.referenced = found.referenced  # kept with a held post, so a late re-marking finds it
    why = (["address"] if data.confidential else []) + found.markers
    if not why and await thread.in_thread(db, data.mlist.id, data.message_id, found.referenced):
        why = ["thread"]
    return why


async def outside_recipients(db: aiosqlite.Connection, data: MsgData) -> list[str]:
    """To/Cc entries that are neither this list's own addresses nor members entitled to confidential posts.

    A member whose confidential flag is off counts as outside: the sender's
    mail program sent them a copy of a confidential post directly. Every
    entry counts, split by the RFC 5322 grammar (listserv.address_list): one
    email-validator refuses is outside, named by its cleaned text.
    """
    if data.msg is None:
        return []
    values = [v for name in ("To", "Cc") for v in message.raw_values(data.msg, name)]
    named = [a for a in address_list.recipients(values) if not _ours(a, data.mlist.address)]
    entitled = await members.entitled_among(db, data.mlist.id, named)
    return [address for address in named if address not in entitled]


def _ours(address: str, list_address: str) -> bool:
    found = split(address)
    return found is not None and found.list_address == list_address


async def warn(db: aiosqlite.Connection, settings: Settings, data: MsgData, held: bool) -> None:
    """The reply-all leak guard's notice to the sender (a member, not a robot) and the moderators: addresses only."""
    told = [member.address for member in await members.with_roles(db, data.mlist.id, ("moderator", "owner"))]
    if data.is_member and not notices.is_automated(data.mail_from, data.sender, _received_headers(data.raw)):
        told.insert(0, data.sender)
    told = list(dict.fromkeys(told))
    if told:
        content = notices.outside_recipients(data.mlist, told[0], data.outside, held, data.message_id)
        await outgoing.queue(db, settings, data.mlist, content, told)
    outside = plural(len(data.outside), "outside address")
    detail = f"{outside} in To/Cc; {'held' if held else 'removed'}; told {len(told)}"
    await audit.record(db, ACTOR, "leak-guard", data.mlist.id, f"inbound:{data.inbound_id}", detail)


def _received_headers(raw: bytes) -> Message | None:
    """The headers as the sender wrote them (data.msg carries the list's own, Precedence: list among them)."""
    try:
        return BytesHeaderParser(policy=policy.default).parsebytes(raw)
    except Exception:  # the parser is lenient, but this is a stranger's input: judge by the envelope alone
        return None
