"""A reply to a held-post notice, at NAME-confirm+TOKEN@: decide the held post it names, as a moderator asked.

Planned before the transaction (token checked without using it, the decision
prepared by listserv.moderation.plan: the approved post decorated), carried
out inside it (listserv.moderation.carry_out, the audit row naming the
moderator). Nothing changes unless all of these hold, checked in this order:
the token is a genuine moderation token of this list; the From: address is a
moderator or owner of the list; the post is still undecided; the token has
not expired; the reply asks for approve, reject REASON or discard. Before any
of that, requests.plan has dropped robots and loops and kept forged commands
(DMARC) from running; here a reply the unauthenticated rule flags is held
even where the list accepts unauthenticated posts: a forged From: never
decides anything.

Who is answered: the sender, when the list can trust the From: address —
a member of the list, or a sender whose domain's DMARC passed. A stranger
whose From: nobody vouches for gets nothing (no backscatter).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiosqlite

from listserv import confirm, membership, moderation, moderation_reply, outgoing
from listserv.addresses import split
from listserv.auth.result import PASS
from listserv.config import Settings
from listserv.errors import AlreadyDecided, NoSuchHeld, Refused
from listserv.outgoing import moderation_answers as answers
from listserv.pipeline.msgdata import COMMAND, HOLD, Decision, MsgData, Reason
from listserv.pipeline.rules import unauthenticated
from listserv.store import Store, held
from listserv.store.members import Member

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    """A moderation reply as planned: the token written to, what it asks, and the decision prepared."""

    token: str
    asked: moderation_reply.Asked
    planned: moderation.Planned | None = None  # prepared when the token was valid and a decision asked
    refusal: str = ""  # why the held post cannot take the decision asked (AlreadyDecided, Refused ...)


def _tokens(data: MsgData) -> list[str]:
    return list(dict.fromkeys(found.extra for found in map(split, data.recipients) if found and found.extra))


async def plan(store: Store, data: MsgData) -> bool:
    """The stage's part for -confirm mail: True (data.moderation and the decision set) when it is a moderation
    reply — a moderation token, or an unknown token under a line that asks a decision — else False."""
    asked = moderation_reply.read(data.subject, data.body_text, data.mlist.subject_prefix)
    found = [(token, await confirm.check(store.db, data.mlist, token, data.received_at)) for token in _tokens(data)]
    ours = [(token, checked) for token, checked in found if checked.row and checked.row["action"] == confirm.MODERATE]
    if not ours and (not asked.verb or any(checked.row for _, checked in found) or not found):
        return False  # a (un)subscription confirmation: the confirm command answers it
    token, checked = ours[0] if ours else found[0]
    flagged = unauthenticated.unauthenticated(data)
    if flagged is not None or data.auth is None:
        why = flagged or Reason("unauthenticated", "moderation by mail needs the sender's authentication checked")
        data.decision = Decision(HOLD, (*data.reasons, why))
        return True
    data.moderation = await _prepared(store, token, asked, checked)
    data.decision = Decision(COMMAND)
    return True


async def _prepared(store: Store, token: str, asked: moderation_reply.Asked, checked: confirm.Checked) -> Reply:
    if checked.status != confirm.VALID or not asked.verb:
        return Reply(token, asked)
    try:
        planned = await moderation.plan(store, checked.row["held_id"], asked.verb, asked.reason)
    except (AlreadyDecided, NoSuchHeld, Refused) as exc:
        return Reply(token, asked, refusal=str(exc))
    return Reply(token, asked, planned)


async def act(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """Inside the transaction: decide (or say why not) and answer the sender when they may be answered."""
    mlist = data.mlist
    member = await membership.member_in(db, mlist.id, data.sender) if data.sender else None
    held_id, outcome, text = await _decide(db, settings, data, member)
    answered = bool(data.sender) and (member is not None or (data.auth is not None and data.auth.dmarc == PASS))
    if answered:
        content = answers.answer(mlist, data.sender, held_id, text, data.message_id)
        await outgoing.queue(db, settings, mlist, content, [data.sender])
    log.info("inbound %s to %s: moderation reply for held:%s: %s; answer %s", data.inbound_id, mlist.address,
             held_id if held_id is not None else "-", outcome, "sent" if answered else "none")
    return "processed"


async def _decide(
    db: aiosqlite.Connection, settings: Settings, data: MsgData, member: Member | None
) -> tuple[int | None, str, str]:
    """(held id or None, outcome word for the log, the answer's text); decides when every condition holds."""
    reply, mlist, now = data.moderation, data.mlist, data.received_at
    checked = await confirm.check(db, mlist, reply.token, now)
    row = await held.get(db, checked.row["held_id"]) if checked.row and checked.row["held_id"] else None
    if row is None or checked.row["action"] != confirm.MODERATE:
        return None, "invalid token", answers.invalid(mlist)
    held_id = row["id"]
    if member is None or member.role not in moderation_reply.MODERATORS:
        return held_id, "not a moderator", answers.not_moderator(mlist, held_id)
    if row["decision"] is not None:
        return held_id, "already decided", answers.already(mlist, held_id, row)
    if checked.status == confirm.EXPIRED:
        return held_id, "expired", answers.expired(mlist, held_id, checked.row["expires_at"])
    if not reply.asked.verb:
        return held_id, "no decision asked", answers.unknown(mlist, held_id)
    if reply.planned is None:
        return held_id, "refused", answers.refused(reply.refusal)
    redeemed = await confirm.redeem(db, mlist, reply.token, now, (confirm.MODERATE,))
    if redeemed.status != confirm.VALID or not await moderation.carry_out(db, settings, reply.planned, data.sender):
        return held_id, "already decided", answers.already(mlist, held_id, await held.get(db, held_id))
    told = reply.planned.notice is not None
    return held_id, reply.asked.verb, answers.decided(mlist, held_id, reply.asked.verb, data.sender, told)
