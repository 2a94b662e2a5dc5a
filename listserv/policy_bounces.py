"""Refusals for policy reasons: a receiver refusing the post (DMARC, sender authentication, 5.7.x), not the member.

When Gmail, Yahoo or Microsoft refuse a copy because the author's domain
publishes DMARC p=reject and the list changed the message, every member on
those providers "bounces" at once. Counting that against them would switch
innocent members to nomail, so such refusals never raise a bounce score,
neither at delivery time (the smarthost's per-recipient 5xx) nor in a DSN
(its Status and Diagnostic-Code fields). They are counted per author domain
instead (policy_refusals) and the owners get one report a day when any came.
"""

from __future__ import annotations

import email
import email.parser
import logging
import re
import time
from email.message import Message
from email.utils import getaddresses
from typing import Iterable

import aiosqlite

from listserv import lists, outgoing
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.outgoing.bounce_notices import report
from listserv.wording import plural
from listserv.store import Store, audit, marks, members, policy_refusals

log = logging.getLogger(__name__)
DAY = 86400.0
MARK = "policy_report"  # list_marks name: when the owners last got the policy-refusal report
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
ADDRESS_SUBJECTS = ("1", "2", "4")  # enhanced-code classes about the address: 5.1 address, 5.2 mailbox, 5.4 routing
_POLICY_WORDS = re.compile(r"\b(?:dmarc|authenticat\w*|policy|policies)\b", re.IGNORECASE)
_ADDRESS = re.compile(r"<?[^\s<>@\"']+@[^\s<>@\"']+>?")


def is_policy(code: int, text: str) -> bool:
    """Whether a permanent refusal is about policy (the author's domain or the message), not the address.

    An enhanced status code naming its subject decides: 5.7.x is policy
    (5.7.26 DMARC, 5.7.509 and 5.7.515 Microsoft's DMARC and authentication
    rules, 5.7.1 "denied"); 5.1.x, 5.2.x and 5.4.x are the address's. Otherwise
    (5.0.0, 5.5.x, no enhanced code) a text naming DMARC, authentication or
    policy makes it one.

    >>> is_policy(550, "5.7.26 Unauthenticated email from example.com is not accepted due to DMARC policy")
    True
    >>> is_policy(550, "5.7.509 Access denied, sending domain does not pass DMARC verification")
    True
    >>> is_policy(550, "5.1.1 <ann@example.com>: user unknown"), is_policy(550, "No such user")
    (False, False)
    >>> is_policy(550, "Message rejected: DMARC policy of sender domain"), is_policy(451, "4.7.26 try later")
    (True, False)
    >>> is_policy(550, "5.0.0 sender not authenticated"), is_policy(550, "5.2.1 mailbox disabled by policy")
    (True, False)
    """
    if not 500 <= code < 600:
        return False
    status = _STATUS.search(text)
    if status is not None and status.group(1) == "5" and status.group(2) in ADDRESS_SUBJECTS + ("7",):
        return status.group(2) == "7"
    return _POLICY_WORDS.search(text) is not None


def dsn_refusals(raw: bytes) -> tuple[dict[str, str], set[str]]:
    """({address: status text} refused for policy, {addresses} refused otherwise): an RFC 3464 report's failures.

    Read from each per-recipient block of the message/delivery-status part:
    Action: failed, its Status and Diagnostic-Code. Addresses are the
    Final-Recipient's (else Original-Recipient's), lower case. A bounce that is
    not an RFC 3464 report gives two empty results.
    """
    policy: dict[str, str] = {}
    other: set[str] = set()
    for block in _recipient_blocks(email.message_from_bytes(raw)):
        if (block.get("Action") or "").strip().lower() != "failed":
            continue
        address = _recipient(block)
        status = (block.get("Status") or "").strip()
        diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split())
        code = _diagnostic_code(diagnostic) or (550 if status.startswith("5") else 0)
        text = f"{status} {diagnostic.partition(';')[2].strip()}".strip()
        if status.startswith("5.7.") or is_policy(code, text):
            policy.setdefault(address, text)
        else:
            other.add(address)
    return policy, other


def _recipient_blocks(msg: Message) -> Iterable[Message]:
    """The per-recipient field blocks of every message/delivery-status part (the first block is per-message)."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                yield from payload[1:]


def _recipient(block: Message) -> str:
    """The address of a per-recipient block: 'rfc822; ann@example.com' -> 'ann@example.com'."""
    field = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
    return field.partition(";")[2].strip().strip("<>").lower()


def _diagnostic_code(diagnostic: str) -> int:
    """The SMTP code of 'smtp; 550 5.7.26 ...', or 0 when there is none."""
    match = re.match(r"\s*smtp\s*;\s*([2-5]\d\d)\b", diagnostic, re.IGNORECASE)
    return int(match.group(1)) if match else 0


def author_domain(content: bytes) -> str:
    """The domain of the refused post's author: X-Original-From (set when From was rewritten), else From.

    >>> author_domain(b"From: Ann <ann@Gov.Example>\\nSubject: x\\n\\nbody")
    'gov.example'
    >>> author_domain(b"From: team via list <team@lists.example>\\nX-Original-From: ann@gmail.com\\n\\n")
    'gmail.com'
    >>> author_domain(b"Subject: no author\\n\\n")
    ''
    """
    headers = email.parser.BytesHeaderParser().parsebytes(content)
    for name in ("X-Original-From", "From"):
        for _, address in getaddresses([str(value) for value in headers.get_all(name, [])]):
            if "@" in address:
                return address.rpartition("@")[2].strip().lower()
    return ""


def returned_author_domain(raw: bytes) -> str:
    """The author domain of the post a DSN returns (its message/rfc822 or text/rfc822-headers part)."""
    for part in email.message_from_bytes(raw).walk():
        kind = part.get_content_type()
        if kind == "message/rfc822" and isinstance(part.get_payload(), list) and part.get_payload():
            return author_domain(part.get_payload()[0].as_bytes())
        if kind == "text/rfc822-headers":
            return author_domain(part.get_payload(decode=True) or b"")
    return ""


def today(now: float) -> str:
    """The server-local date of a moment, as policy_refusals keys it."""
    return time.strftime("%Y-%m-%d", time.localtime(now))


def masked(text: str) -> str:
    """A reply with its addresses hidden: the report names domains, never members.

    >>> masked("550 5.7.26 <bob@gmail.com>: unauthenticated")
    '550 5.7.26 <address>: unauthenticated'
    """
    return _ADDRESS.sub("<address>", text)


async def record(db: aiosqlite.Connection, list_id: int, domain: str, count: int, example: str, now: float,
                 source: str) -> None:
    """Count policy refusals inside the caller's transaction, with an audit row naming the domain, never a member."""
    await policy_refusals.add(db, list_id, today(now), domain, count, masked(example))
    await audit.record(db, "bounces", "policy-refusal", list_id, f"domain:{domain or 'unknown'}",
                       f"{source}: {plural(count, 'copy', 'copies')} refused for policy, not counted as bounces")


async def report_due(store: Store, settings: Settings, now: float) -> int:
    """Periodic job: once a day at most, tell each list's owners about the policy refusals not reported yet."""
    sent = 0
    for list_id in await policy_refusals.lists_with_unreported(store.db):
        last = await marks.get(store.db, list_id, MARK)
        if last is not None and now - last < DAY:
            continue
        mlist = await lists.get_by_id(store, list_id)
        sent += await store.write(_report, settings, mlist, now)
    return sent


async def _report(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, now: float) -> int:
    """Write job: queue the report for the owners (moderators if none), mark the rows and the day."""
    rows = await policy_refusals.unreported(db, mlist.id)
    owners = [m.address for m in await members.with_roles(db, mlist.id, ("owner",))
              or await members.with_roles(db, mlist.id, ("moderator",))]
    if rows and owners:
        await outgoing.queue(db, settings, mlist, report(mlist, rows), owners)
        log.info("%s: policy refusal report queued for %s", mlist.address, plural(len(owners), "owner"))
    await policy_refusals.mark_reported(db, mlist.id, sorted({row["day"] for row in rows}), now)
    await marks.put(db, mlist.id, MARK, now)
    return 1 if rows and owners else 0
