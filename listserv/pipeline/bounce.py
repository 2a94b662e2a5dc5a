"""The -bounces path: find whose address bounced, then count it, drop a warning, or pass the bounce to the owners.

plan() is the stage (reads only): VERP and flufl.bounce name the addresses
(listserv.bounces.scan). record() is the handler of the BOUNCE decision and
raises the members' scores inside the message's one transaction. What cannot
be tied to a member goes to the owners like -owner mail, never into the void;
automatic replies and delivery warnings are dropped with an audit row; our own
notices coming back are never forwarded again (no loop between list and owner).
"""

from __future__ import annotations

import logging
import re
from collections import Counter

import aiosqlite

from listserv import bounces, message, policy_bounces
from listserv.outgoing import notices
from listserv.addresses import sub_address
from listserv.config import Settings
from listserv.wording import plural
from listserv.pipeline import forward
from listserv.pipeline.msgdata import BOUNCE, DISCARD, FORWARD, HOLD, Decision, MsgData, Reason
from listserv.store import Store, audit, members

log = logging.getLogger(__name__)


async def plan(store: Store, data: MsgData) -> None:
    """The stage: decide what this message to -bounces is and what happens to it.

    A message over a cap (data.limits) is read from its envelope alone: the
    bounce parser would do the very parse the cap is there to avoid.
    """
    if data.limits:
        found = bounces.Scan(verp=bounces.verp_addresses(data.recipients), parser_failed=True)
    else:
        found = bounces.scan(data.raw, data.recipients)
    if not (found.permanent or found.temporary) and _auto_reply(data):
        data.decision = _drop("an automatic reply (Auto-Submitted), not a bounce: not counted")
        return
    addresses, why = bounces.to_count(found)
    if why == "warning":
        data.decision = _drop("a delivery warning (temporary failure): not counted")
        return
    if not data.limits:
        addresses = _without_policy_refusals(data, addresses)
        if not addresses and data.policy_refused is not None:
            domain, count, _ = data.policy_refused
            text = f"refused for policy ({plural(count, 'recipient')}, {domain or 'unknown domain'}): not counted"
            data.decision = Decision(BOUNCE, (Reason("bounce", text),))
            return
    known = [a for a in addresses if await members.get(store.db, data.mlist.id, a) is not None]
    if known or data.policy_refused is not None:
        data.bounced = known
        data.decision = Decision(BOUNCE, (Reason("bounce", f"a bounce for {plural(len(known), 'member')}"),))
    elif found.verp:
        data.decision = _drop("a bounce for an address that is no longer a member: not counted")
    else:
        await _to_owners(store, data, "names no member of the list" if addresses else "could not be read")


def _without_policy_refusals(data: MsgData, addresses: tuple[str, ...]) -> tuple[str, ...]:
    """The addresses to count, minus those the DSN says were refused for policy (5.7.x, DMARC).

    Those are noted in data.policy_refused, to be counted per author domain.
    When every failure of the report is a policy refusal, a VERP address
    (whose final recipient may differ after forwarding) is not counted either.
    """
    policy, other = policy_bounces.dsn_refusals(data.raw)
    if not policy:
        return addresses
    data.policy_refused = (policy_bounces.returned_author_domain(data.raw), len(policy), next(iter(policy.values())))
    if not other:
        return ()
    return tuple(a for a in addresses if a not in policy)


def _drop(text: str) -> Decision:
    return Decision(DISCARD, (Reason("bounce", text),))


def _auto_reply(data: MsgData) -> bool:
    """A vacation or other automatic reply (RFC 3834) that is not a delivery report."""
    if data.msg is None:
        return False
    auto = message.header(data.msg, "Auto-Submitted").casefold()
    return auto.startswith("auto-replied") and data.msg.get_content_type() != "multipart/report"


def _ours(data: MsgData) -> bool:
    """The bounce returns mail the list's owner address sent (a notice or forward): never forward it again."""
    owner = re.escape(sub_address(data.mlist.address, "owner").encode("ascii", "replace"))
    return re.search(rb"(?im)^X-BeenThere:[ \t]*" + owner + rb"[ \t]*\r?$", data.raw) is not None


async def _to_owners(store: Store, data: MsgData, why: str) -> None:
    """Forward what could not be counted to the owners, unless it is our own mail coming back."""
    if _ours(data):
        data.decision = _drop(f"a bounce of the list's own notice that {why}: not forwarded again")
        return
    data.forward_to = await forward.owners(store.db, data.mlist.id)
    if not data.forward_to:
        text = f"a bounce that {why}; {data.mlist.address} has no owner or moderator to forward it to, kept here"
        data.decision = Decision(HOLD, (Reason("bounce", text),))
        return
    intro = (
        f"This message came to {sub_address(data.mlist.address, 'bounces')}, where delivery reports return,"
        f" and listserv could not tell whose address bounced: it {why}."
    )
    data.content = notices.owner_forward(data.mlist, data.raw, f"unrecognised bounce: {data.subject}", intro)
    data.decision = Decision(FORWARD, (Reason("bounce", f"a bounce that {why}"),))


async def record(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """The BOUNCE handler: count the bounce for each member it names, inside the transaction."""
    results = Counter()
    if data.policy_refused is not None:
        domain, count, status = data.policy_refused
        await policy_bounces.record(db, data.mlist.id, domain, count, status, data.received_at, "DSN")
        results["refused for policy"] = count
    for address in data.bounced:
        results[await bounces.record(db, settings, data.mlist, address, data.received_at, "bounce message")] += 1
    summary = ", ".join(f"{word} {n}" for word, n in sorted(results.items()))
    await audit.record(db, bounces.ACTOR, "bounce", data.mlist.id, f"inbound:{data.inbound_id}", summary)
    log.info("inbound %s to %s: bounce for %s: %s", data.inbound_id, data.mlist.address,
             plural(len(data.bounced), "member"), summary)
    return "recorded"
