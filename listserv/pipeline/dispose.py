"""The handlers for posts that are not accepted: hold (for a moderator), reject (maybe with a notice), discard.

Each runs inside the one transaction of its inbound message and returns the
outcome word for its envelope recipients. The audit rows name rules, never
content.
"""

from __future__ import annotations

import logging

import aiosqlite

from listserv import outgoing, reminders
from listserv.outgoing import notices
from listserv.config import Settings
from listserv.pipeline.msgdata import MsgData
from listserv.store import audit, held

log = logging.getLogger(__name__)
ACTOR = "pipeline"  # the audit actor for decisions taken by the rules, not by a person


def rule_names(data: MsgData) -> str:
    """The rules behind the decision, for logs and the audit (never message content)."""
    reasons = data.decision.reasons if data.decision else ()
    return ",".join(dict.fromkeys(r.rule for r in reasons)) or "-"


def _log(data: MsgData, action: str, extra: str = "") -> None:
    log.info("inbound %s to %s: %s (%s)%s", data.inbound_id, data.mlist.address, action, rule_names(data), extra)


async def hold(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """Keep the raw message with every reason for a moderator (held ls / show / approve), and tell the moderators once."""
    row = {
        "inbound_id": data.inbound_id,
        "role": data.role,
        "sender": data.sender,
        "mail_from": data.mail_from,
        "subject": data.subject,
        "reasons": [r.as_json() for r in data.decision.reasons],
        "confidential": data.confidential,
        "raw": data.raw,
        "received_at": data.received_at,
        "ids": (data.message_id, data.referenced) if data.referenced is not None else None,
        "auth": data.auth.as_json() if data.auth is not None else "",
    }
    held_id = await held.hold(db, data.mlist.id, row)
    notified = await reminders.notify(db, settings, data.mlist, held_id, row)
    detail = f"rules: {rule_names(data)}; moderators: {'told' if notified else 'not told'}"
    await audit.record(db, ACTOR, "hold", data.mlist.id, f"held:{held_id}", detail)
    _log(data, "held", f" as held:{held_id}")
    return "held"


def may_notify(data: MsgData) -> bool:
    """No backscatter: tell members, or strangers only where the list asks for it; never robots."""
    if not data.sender or notices.is_automated(data.mail_from, data.sender, data.msg):
        return False
    return data.is_member or data.mlist.settings.notify_rejected_nonmembers


async def reject(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """Refuse the post; queue a notice saying why when may_notify() allows it."""
    notified = may_notify(data)
    if notified:
        content = notices.rejection(
            data.mlist, data.sender, [r.text for r in data.decision.reasons], data.subject,
            data.confidential, data.message_id,
        )
        await outgoing.queue(db, settings, data.mlist, content, [data.sender])
    detail = f"rules: {rule_names(data)}; notice: {'sent' if notified else 'none'}"
    await audit.record(db, ACTOR, "reject", data.mlist.id, f"inbound:{data.inbound_id}", detail)
    _log(data, "rejected", " with a notice" if notified else "")
    return "rejected"


async def discard(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """Drop the post on purpose (a loop, a duplicate, the list's nonmember policy); the audit says why."""
    await audit.record(db, ACTOR, "discard", data.mlist.id, f"inbound:{data.inbound_id}", f"rules: {rule_names(data)}")
    _log(data, "discarded")
    return "discarded"
