"""Bounce processing: tell whose address bounced, keep a decaying score per member, stop mailing dead addresses.

Who bounced: VERP first (the copy's envelope sender NAME-bounces+LOCAL=DOMAIN@
names the member exactly), then flufl.bounce, which knows the DSN formats of
two decades of MTAs. Delivery-time failures the smarthost answered with 5xx
(delivery_failures) count too.

Scoring policy, chosen to be hard to trip by accident or by a forger:
- a permanent failure adds 1; temporary failures (4.x.x, "delayed" DSNs,
  warnings) add nothing, since the MTA is still trying and a full mailbox
  over a weekend must not cost anyone their list;
- at most one bounce counts per member per day (server local date), as in
  Mailman, so one post bouncing twice (a DSN and a 5xx) or a burst of forged
  bounces counts once;
- the score halves every `bounce_decay_days` days, so an address that bounces
  now and then never reaches the threshold while one that bounces daily
  reaches 5 in about a week;
- at `bounce_threshold` the member's delivery is set to nomail (a setting
  every recipient query already honours) with bounce_disabled_at recorded,
  and the member and the owners are told how to turn delivery back on
  (`set delivery regular` by mail, or `members set ... delivery regular`).
"""

from __future__ import annotations

import email
import logging
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import aiosqlite
from flufl.bounce import all_failures

from listserv import lists, membership, policy_bounces, verp
from listserv.addresses import split, try_normalise
from listserv.config import Settings
from listserv.errors import NoSuchList
from listserv.lists import MailingList
from listserv.outgoing import queue
from listserv.outgoing.bounce_notices import member_notice, owner_notice
from listserv.store import Store, audit, members
from listserv.store import bounces as store_bounces

log = logging.getLogger(__name__)
# flufl.bounce logs each detector at INFO and a failing one with its traceback,
# whose text may quote the bounce (and so a confidential post): we log faults ourselves.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

ACTOR = "bounces"  # the audit actor of bounce processing
DAY = 86400.0
PERMANENT = 1.0  # what one counted bounce adds; temporary failures add nothing
FLOOR = 0.01  # a decayed score below this is zero: the member is no longer "bouncing"
SAME_REPLY_LIMIT = 3  # this many copies of one message refused alike, without an address code: the message's fault
_ENHANCED = re.compile(r"\b5\.(\d{1,3})\.\d{1,3}\b")


@dataclass(frozen=True)
class Scan:
    """What a bounce message says: the VERP'd member, and the parser's permanent and temporary failures."""

    verp: tuple[str, ...] = ()  # addresses named by the VERP envelope recipients, normalised
    permanent: tuple[str, ...] = ()  # flufl.bounce: addresses that failed for good, normalised
    temporary: tuple[str, ...] = ()  # flufl.bounce: delays and warnings, normalised
    parser_failed: bool = False  # flufl.bounce raised: treated as unrecognised


def scan(raw: bytes, envelope_recipients: Iterable[str] = ()) -> Scan:
    """Read a bounce: VERP addresses from the envelope recipients, failures from the message itself."""
    found = verp_addresses(envelope_recipients)
    try:
        temporary, permanent = parse_failures(raw)
    except Exception as exc:  # a detector crashing on hostile input must not lose the message
        log.warning("bounce parser failed: %s", type(exc).__name__)  # its text may quote the message
        return Scan(verp=found, parser_failed=True)
    return Scan(found, permanent, temporary)


def verp_addresses(envelope_recipients: Iterable[str]) -> tuple[str, ...]:
    """The member addresses encoded in NAME-bounces+LOCAL=DOMAIN@ recipients.

    >>> verp_addresses(["team-bounces+ann=example.com@example.org", "team-bounces@example.org"])
    ('ann@example.com',)
    """
    found: list[str] = []
    for rcpt in envelope_recipients:
        where = split(rcpt)
        address = verp.decode(where.extra) if where is not None and where.role == "bounces" else None
        norm = try_normalise(address) if address else None
        if norm and norm not in found:
            found.append(norm)
    return tuple(found)


def parse_failures(raw: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(temporary, permanent) failures flufl.bounce finds, as normalised addresses in a stable order.

    flufl.bounce expects a compat32 Message, the stdlib parser's default.
    """
    msg = email.message_from_bytes(raw)
    temporary, permanent = all_failures(msg)
    return _normalised(temporary), _normalised(permanent)


def _normalised(found: Iterable[bytes | str]) -> tuple[str, ...]:
    addresses = set()
    for item in found:
        text = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
        norm = try_normalise(text.strip().strip("<>"))
        if norm:
            addresses.add(norm)
    return tuple(sorted(addresses))


def to_count(found: Scan) -> tuple[tuple[str, ...], str]:
    """The addresses whose bounce counts, or none and why: 'warning' or 'unrecognised'.

    A VERP address counts unless the message is only a warning: whatever came
    back to a member's own bounce address is about that member, even when the
    parser cannot read it (Mailman's rule).

    >>> to_count(Scan(verp=("a@x.org",)))
    (('a@x.org',), '')
    >>> to_count(Scan(verp=("a@x.org",), temporary=("a@x.org",)))
    ((), 'warning')
    >>> to_count(Scan(permanent=("b@x.org",))), to_count(Scan())
    ((('b@x.org',), ''), ((), 'unrecognised'))
    """
    if found.temporary and not found.permanent:
        return (), "warning"
    if found.verp:
        return found.verp, ""
    if found.permanent:
        return found.permanent, ""
    return (), "unrecognised"


def decayed(score: float, updated_at: float | None, now: float, half_life_days: int) -> float:
    """The score as of now: it halves every half_life_days days (0: never decays); tiny scores are zero.

    >>> decayed(4.0, 0.0, 7 * 86400, 7), decayed(4.0, 0.0, 14 * 86400, 7), decayed(4.0, 0.0, 10**9, 0)
    (2.0, 1.0, 4.0)
    >>> decayed(1.0, 0.0, 70 * 86400, 7)
    0.0
    """
    if not score or updated_at is None or half_life_days <= 0:
        return float(score or 0.0)
    value = score * 0.5 ** (max(0.0, now - updated_at) / (half_life_days * DAY))
    return 0.0 if value < FLOOR else value


def same_day(earlier: float, later: float) -> bool:
    """Whether two times fall on the same local calendar date (one bounce counts per day)."""
    return time.localtime(earlier)[:3] == time.localtime(later)[:3]


async def record(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, address: str, now: float,
                 source: str) -> str:
    """Count one bounce for a member, inside the caller's transaction; returns what happened, in a word or two.

    source says where the bounce came from, for the audit and the owners'
    notice ("bounce message", "delivery failure 550"); never message content.
    """
    row = await store_bounces.member(db, mlist.id, address)
    if row is None:
        return "not a member"
    if row["bounce_last_at"] is not None and same_day(row["bounce_last_at"], now):
        return "already counted today"
    half_life = mlist.settings.bounce_decay_days
    score = decayed(row["bounce_score"], row["bounce_updated_at"], now, half_life) + PERMANENT
    await store_bounces.set_score(db, mlist.id, address, score, now, now)
    await audit.record(db, ACTOR, "bounce", mlist.id, f"member:{address}", f"{source}; score {score:.2f}")
    threshold = mlist.settings.bounce_threshold
    if threshold and score >= threshold and await store_bounces.disable(db, mlist.id, address, now):
        await _disabled(db, settings, mlist, address, score, row["delivery"], source)
        return "disabled"
    return "counted"


async def _disabled(db: aiosqlite.Connection, settings: Settings, mlist: MailingList, address: str, score: float,
                    was: str, source: str) -> None:
    """Delivery was just stopped: audit it, tell the member (it may bounce too) and the owners."""
    await audit.record(db, ACTOR, "disable", mlist.id, f"member:{address}", f"delivery was {was}; score {score:.2f}")
    await queue(db, settings, mlist, member_notice(mlist, address, score), [address])
    owners = await _owners(db, mlist.id)
    if owners:
        await queue(db, settings, mlist, owner_notice(mlist, address, score, was, source), owners)
    log.info("%s: delivery to a member stopped after bounces (score %.2f)", mlist.address, score)


async def _owners(db: aiosqlite.Connection, list_id: int) -> list[str]:
    """The owners, or the moderators when the list has no owner (as for -owner mail)."""
    found = await members.with_roles(db, list_id, ("owner",)) or await members.with_roles(db, list_id, ("moderator",))
    return [member.address for member in found]


def counts_as_bounce(code: int, text: str, alike: int) -> bool:
    """Whether a delivery-time failure says the address is bad (not the message, not the smarthost).

    5xx only (0 means no reply: the smarthost was unreachable). An enhanced
    code names its subject: 5.1.x address, 5.2.x mailbox, 5.4.x routing count;
    5.3.x (mail system), 5.5.x (protocol), 5.6.x (content) and 5.7.x (policy)
    do not, nor does a reply naming DMARC, authentication or policy
    (listserv.policy_bounces: those are counted per author domain instead). Without an enhanced code the reply counts unless `alike` copies of
    the same message got the very same reply: then the message was refused.

    >>> counts_as_bounce(550, "5.1.1 <ann@x.org>: user unknown", 1), counts_as_bounce(554, "5.7.1 spam", 1)
    (True, False)
    >>> counts_as_bounce(550, "No such user", 1), counts_as_bounce(554, "Transaction failed", 40)
    (True, False)
    >>> counts_as_bounce(550, "5.7.26 unauthenticated: DMARC", 1), counts_as_bounce(550, "DMARC policy reject", 1)
    (False, False)
    >>> counts_as_bounce(0, "gave up after 432000s; last: connection refused", 1)
    False
    """
    if not 500 <= code < 600 or policy_bounces.is_policy(code, text):
        return False
    enhanced = _ENHANCED.search(text)
    if enhanced:
        return enhanced.group(1) in ("1", "2", "4")
    return alike < SAME_REPLY_LIMIT


async def count_delivery_failures(store: Store, settings: Settings, now: float) -> int:
    """Periodic job: count the permanent delivery failures not looked at yet; returns how many counted."""
    total = 0
    while True:
        rows = await store_bounces.uncounted_failures(store.db)
        if not rows:
            return total
        found = {list_id: await _list(store, list_id) for list_id in {r["list_id"] for r in rows}}
        total += await store.write(_count_failures, settings, rows, found, now)


async def _list(store: Store, list_id: int | None) -> MailingList | None:
    """The list a failure belongs to; None for a notice without a list or a list deleted since."""
    if list_id is None:
        return None
    try:
        return await lists.get_by_id(store, list_id)
    except NoSuchList:
        return None


async def _count_failures(
    db: aiosqlite.Connection, settings: Settings, rows: list[dict], found: dict, now: float
) -> int:
    """Write job: count each failure that is the address's fault, and mark all of them looked at."""
    alike = Counter((r["outbound_message_id"], r["code"], r["error"]) for r in rows)
    counted = 0
    for row in rows:
        mlist = found.get(row["list_id"])
        same = alike[(row["outbound_message_id"], row["code"], row["error"])]
        if mlist is None or not counts_as_bounce(row["code"], row["error"], same):
            continue
        source = f"delivery failure {row['code']} {row['error']}"[:200]
        counted += await record(db, settings, mlist, row["address"], now, source) in ("counted", "disabled")
    await store_bounces.mark_counted(db, [row["id"] for row in rows])
    return counted


async def decay_scores(store: Store, settings: Settings, now: float) -> int:
    """Periodic job: bring stored scores up to date (hourly), so listings show what decay has left."""
    changed = 0
    for mlist in await lists.all_lists(store):
        half_life = mlist.settings.bounce_decay_days
        rows = [
            (decayed(r["bounce_score"], r["bounce_updated_at"], now, half_life), now, r["address"])
            for r in await store_bounces.scored(store.db, mlist.id)
            if half_life > 0 and r["bounce_updated_at"] is not None and now - r["bounce_updated_at"] >= 3600
        ]
        if rows:
            await store.write(store_bounces.decay_many, mlist.id, rows)
            changed += len(rows)
    return changed


async def bouncing(store: Store, list_address: str, now: float | None = None) -> list[dict]:
    """Members with a bounce score, for `members ls LIST --bouncing`.

    The `members ls` row of each, with bounce_score decayed to now and the
    times of the last counted bounce and of the stop (None if delivery was not stopped).
    """
    mlist = await lists.get(store, list_address)
    moment = time.time() if now is None else now
    half_life = mlist.settings.bounce_decay_days
    state = {row["address"]: row for row in await store_bounces.scored(store.db, mlist.id)}
    found = []
    for member in await membership.listing(store, mlist.address) if state else []:
        bounce = state.get(member.address)
        score = decayed(bounce["bounce_score"], bounce["bounce_updated_at"], moment, half_life) if bounce else 0.0
        if score > 0:
            found.append({**member.as_json(), "bounce_score": round(score, 2),
                          "bounce_last_at": bounce["bounce_last_at"],
                          "bounce_disabled_at": bounce["bounce_disabled_at"]})
    return found
