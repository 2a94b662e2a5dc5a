"""The route stage: which list and which list address each envelope recipient means, and the facts rules need.

A list may itself be named like a sub-address (`x-owner`), so each recipient
is tried against addresses.candidates(), most specific first, and the first
list that exists wins.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from listserv import lists
from listserv.addresses import candidates
from listserv.lists import MailingList
from listserv.pipeline.msgdata import HOLD, Decision, MsgData, Reason
from listserv.store import Store
from listserv.store import members, messages

log = logging.getLogger(__name__)

# Posts to NAME@ and NAME+confidential@ take the same path; the rest are list services.
POST_ROLES = ("post", "confidential")

_LATER = {
    "bounces": "bounce processing is handled by a later version of listserv",
}


@dataclass(frozen=True)
class Route:
    """One list address and the envelope recipients that reached it."""

    mlist: MailingList
    role: str  # a role from addresses.ROLES; 'confidential' when any recipient asked for it
    recipients: tuple[str, ...]


async def route(store: Store, rcpt_tos: list[str]) -> tuple[list[Route], list[str]]:
    """Group the recipients by (list, path); also return those that no longer match a list.

    NAME@ and NAME+confidential@ in one envelope are one post (confidential wins),
    so the list never sends the same message twice.
    """
    found: dict[tuple[int, str], Route] = {}
    unknown = []
    for rcpt in rcpt_tos:
        target = await _resolve(store, rcpt)
        if target is None:
            unknown.append(rcpt)
            continue
        mlist, role = target
        key = (mlist.id, "post" if role in POST_ROLES else role)
        before = found.get(key)
        if before is not None:
            role = "confidential" if "confidential" in (role, before.role) else role
        found[key] = Route(mlist, role, (before.recipients if before else ()) + (rcpt,))
    return list(found.values()), unknown


async def _resolve(store: Store, rcpt: str) -> tuple[MailingList, str] | None:
    for candidate in candidates(rcpt):
        mlist = await lists.find(store, candidate.list_address)
        if mlist is not None:
            return mlist, candidate.role
    return None


async def look_up(store: Store, data: MsgData) -> None:
    """Read what the rules need from the store (reader connection): the sender's membership, duplicates."""
    if data.sender:
        data.member = await members.get(store.db, data.mlist.id, data.sender)
    if data.message_id:
        data.already_archived = await messages.has_message_id(store.db, data.mlist.id, data.message_id)


async def keep_for_owner(store: Store, data: MsgData) -> None:
    """Hold mail for list services this version does not run yet: kept for the owner, never dropped."""
    text = _LATER.get(data.role, f"the {data.role} address is not handled by this version of listserv")
    data.decision = Decision(HOLD, (Reason(data.role, f"{text}; the message is kept for the list owner"),))
