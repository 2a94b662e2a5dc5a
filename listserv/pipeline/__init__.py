"""The pipeline: one inbound message -> one decision per list address -> all effects in one transaction.

Reading the tables below tells a list's policy. Parsing and the rules run
before the transaction (CPU and reads only); the transaction writes every
effect (held row, archive row, outbound queue, audit) and marks the inbound
row processed, so a crash and redo never duplicates anything. Nothing about a
message makes process() raise: a failing stage holds the post with the stage
and the error named. Only a store failure propagates (StoreError), and the
daemon then retries the row later.
"""

from __future__ import annotations

import json
import logging
import sqlite3

import aiosqlite

from listserv.auth.result import AuthResult
from listserv.auth.verify import Authenticator
from listserv.confidential import markers
from listserv.config import Settings
from listserv.errors import StoreError
from listserv.pipeline import (
    bounce, confidential, decorate, dispose, forward, parse, prescan, requests, route, to_archive, to_digest,
    to_outbound,
)
from listserv.pipeline.msgdata import (
    ACCEPT, BOUNCE, COMMAND, DISCARD, FORWARD, HOLD, REJECT, Decision, MsgData, Reason, fault,
)
from listserv.pipeline.rules import (
    administrivia, ambiguous_sender, duplicate, emergency, evaluate, leak_guard, limits, loop, moderated, nonmember,
    size, unauthenticated, unparseable,
)
from listserv.store import Store, audit, health, inbound, marks, messages

log = logging.getLogger(__name__)

# (rule, action) in order. A reject or discard ends the decision at once; every
# hold-worthy rule runs and the post is held once with all of their reasons.
RULES = (
    (loop.loop, DISCARD),  # first: our own mail coming back is never shown to anyone
    (duplicate.duplicate, DISCARD),  # a resend of an archived post
    (ambiguous_sender.ambiguous_sender, HOLD),  # before nonmember: a From: naming no one sender is nobody's post
    (nonmember.nonmember, nonmember.action),  # the list's nonmember_action: hold/reject/discard/accept
    # A From: its domain's DMARC disowns (or, with require_dkim, a confidential post without DKIM): after
    # nonmember, whose reject or discard of a stranger comes first; the list's unauthenticated_posts.
    (unauthenticated.unauthenticated, unauthenticated.action),
    (unparseable.unparseable, HOLD),  # no parse or no From: at all: kept, never dropped
    (limits.limits, HOLD),  # over a cap on parts, nesting or header bytes: held unparsed, never dropped
    (emergency.emergency, HOLD),
    (moderated.moderated, HOLD),
    (size.size, HOLD),
    (administrivia.administrivia, HOLD),
    (leak_guard.leak_guard, leak_guard.action),  # confidential post with outside To/Cc: hold, or notify only
)


async def decide(store: Store, data: MsgData) -> None:
    """The rules stage: every rule in RULES -> one Decision."""
    data.decision = evaluate(data, RULES)


# The stages each list address runs, in order, before the transaction.
POST = (
    parse.read_headers,  # sender, subject, Message-ID, text: what the rules read
    route.look_up,  # membership and archive facts, read before deciding
    confidential.mark,  # before the rules and any log line: held and rejected posts are marked too
    decide,  # RULES
    decorate.decorate,  # accepted posts only: the bytes that go out
)
POST_ROLES = ("post", "confidential")  # the list addresses that take posts
STAGES = {
    "post": POST,
    "confidential": POST,
    "owner": (parse.read_headers, forward.plan, confidential.guard_forward),  # confidential: entitled owners only
    "request": (parse.read_headers, confidential.flag, requests.plan),  # email commands, run in the transaction
    "bounces": (parse.read_headers, bounce.plan, confidential.guard_forward),  # VERP, flufl.bounce; record() counts
    "confirm": (parse.read_headers, requests.plan),  # NAME-confirm+TOKEN@: `confirm TOKEN`
}

# An accepted post inside the transaction: the archive row first, so its id goes with the deliveries
# and the digest queue; to_digest keeps confidential posts out of digests.
ACCEPTED = (to_archive.to_archive, to_outbound.to_outbound, to_digest.to_digest)


async def deliver(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> None:
    """Archive and queue an accepted, decorated post (the pipeline's accept path; approve runs it too).

    A post that joined a confidential thread since it was decided is marked
    and re-decorated first; a confidential one then marks its thread.
    """
    await confidential.recheck(db, data)
    for handler in ACCEPTED:
        await handler(db, settings, data)
    if data.confidential:
        await confidential.remember(db, settings, data)


async def accept(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> str:
    """Deliver, unless the Message-ID got archived since the rules looked (the reader may lag the writer)."""
    if data.message_id and await messages.has_message_id(db, data.mlist.id, data.message_id):
        data.decision = Decision(DISCARD, (Reason("duplicate", f"Message-ID <{data.message_id}> was just archived"),))
        return await dispose.discard(db, settings, data)
    await deliver(db, settings, data)
    where = f"archive:{data.archive_id}"
    await audit.record(db, dispose.ACTOR, "accept", data.mlist.id, f"inbound:{data.inbound_id}", where)
    log.info("inbound %s to %s: accepted as archive:%s", data.inbound_id, data.mlist.address, data.archive_id)
    return "accepted"


# The handler for each decision, run inside the transaction; each returns the outcome word.
DISPOSE = {
    ACCEPT: accept, HOLD: dispose.hold, REJECT: dispose.reject, DISCARD: dispose.discard, FORWARD: forward.forward,
    COMMAND: requests.act, BOUNCE: bounce.record,
}


async def process(
    store: Store, settings: Settings, item: dict, overdue: str = "", authenticator: Authenticator | None = None
) -> dict[str, str]:
    """Decide and commit everything for one inbound row; returns {recipient: outcome}.

    Raises only StoreError (retry later); anything wrong with the message ends held.
    `overdue`: why its processing was stopped once (listserv.pipeline_worker); it is then held unparsed.
    `authenticator`: checks DKIM/DMARC with a resolver whose cache lives as long as it (default: a new one).
    """
    checker = authenticator or Authenticator.from_settings(settings)
    return await settle(store, settings, item, await plan(store, item, parse.caps(settings.server), overdue, checker))


# The list addresses whose mail is authenticated: posts, and commands (which may approve, unsubscribe, confirm).
AUTHENTICATED = ("post", "confidential", "request", "confirm")


async def authenticate(
    authenticator: Authenticator | None, item: dict, roles: set[str], overdue: str
) -> tuple[AuthResult | None, Reason | None]:
    """The message's authentication, once for all its lists; a failure to check is a reason to hold it.

    Off the SMTP listener: the pipeline runs in its own process (listserv.pipeline_worker).
    """
    if authenticator is None or overdue or not roles & set(AUTHENTICATED):
        return None, None
    try:
        session = item.get("mail_from") or "", item.get("peer") or "", item.get("helo") or ""
        return await authenticator.check(item["raw"], *session), None
    except Exception as exc:  # a message that breaks the checker is not waved through: held, the fault named
        log.error("inbound %s: authentication failed: %s", item["id"], fault(exc))
        return None, Reason("authenticate", f"checking DKIM/DMARC failed: {type(exc).__name__}")


async def plan(
    store: Store, item: dict, caps: prescan.Caps = prescan.Caps(), overdue: str = "",
    authenticator: Authenticator | None = None,
) -> tuple[list[MsgData], list[str]]:
    """The first half of process(): reads, DNS and CPU only, nothing written. Returns (plans, unknown recipients).

    The daemon plans the next message while the writer commits this one.
    """
    try:
        routes, unknown = await route.route(store, item["rcpt_tos"])
        auth = await authenticate(authenticator, item, {found.role for found in routes}, overdue)
        plans = [await prepare(store, item, found, caps, overdue, auth) for found in routes]
    except sqlite3.Error as exc:
        raise StoreError(f"reading the store for inbound {item['id']} failed: {exc}") from None
    for rcpt in unknown:
        log.warning("inbound %s: %s is no longer a list address; nothing to do for it", item["id"], rcpt)
    return plans, unknown


async def settle(
    store: Store, settings: Settings, item: dict, planned: tuple[list[MsgData], list[str]]
) -> dict[str, str]:
    """The second half of process(): commit every effect of a plan in one transaction."""
    plans, unknown = planned
    outcome = await commit(store, settings, item, plans, unknown)
    if outcome is None:  # processed before (a redo after a crash): report what was recorded then
        row = await inbound.get(store.db, item["id"])
        return json.loads(row["outcome"] or "{}") if row else {}
    return outcome


async def prepare(
    store: Store, item: dict, found: route.Route, caps: prescan.Caps = prescan.Caps(), overdue: str = "",
    auth: tuple[AuthResult | None, Reason | None] = (None, None),
) -> MsgData:
    """Run the stages of one list address; a stage that fails holds the post, naming stage and error."""
    msg, defects, over = parse.parse_within(item["raw"], caps, overdue)  # parsed per list: decorate edits its own copy
    data = MsgData(
        mlist=found.mlist, role=found.role, raw=item["raw"], msg=msg, inbound_id=item["id"],
        received_at=item["received_at"], mail_from=item["mail_from"], recipients=found.recipients,
        defects=defects, limits=over, confidential=markers.envelope_confidential(item["rcpt_tos"]),
        auth=auth[0] if found.role in AUTHENTICATED else None,
    )
    if auth[1] is not None and found.role in AUTHENTICATED:
        data.reasons.append(auth[1])
    for stage in STAGES[found.role]:
        try:
            await stage(store, data)
        except (StoreError, sqlite3.Error):
            raise
        except Exception as exc:  # a bug or a message no stage can handle: keep it for a moderator
            log.error(
                "inbound %s to %s: stage %s failed: %s", item["id"], found.mlist.address, stage.__name__, fault(exc)
            )
            data.reasons.append(Reason(stage.__name__, f"stage {stage.__name__} failed: {type(exc).__name__}"))
            data.decision = Decision(HOLD, tuple(data.reasons))
            break
    return data


async def commit(
    store: Store, settings: Settings, item: dict, plans: list[MsgData], unknown: list[str]
) -> dict[str, str] | None:
    """Write every effect in one transaction; if acting fails, write holds instead. None: done before."""
    try:
        return await store.write(_job, settings, item, plans, unknown)
    except StoreError:
        raise
    except sqlite3.OperationalError as exc:  # busy, disk full, I/O: the store's fault, retry later
        raise StoreError(f"processing inbound {item['id']} failed: {exc}") from None
    except Exception as exc:  # a handler failed (its writes were rolled back): hold everything instead
        log.error("inbound %s: acting on the decisions failed (%s); holding instead", item["id"], fault(exc))
        for data in plans:
            failed = Reason("dispose", f"acting on the decision '{data.decision.action}' failed: {type(exc).__name__}")
            data.decision = Decision(HOLD, (*data.decision.reasons, failed))
    try:
        return await store.write(_job, settings, item, plans, unknown)
    except StoreError:
        raise
    except Exception as exc:  # even holding failed (e.g. the list was deleted meanwhile): retry the row later
        raise StoreError(f"holding inbound {item['id']} failed: {fault(exc)}") from None


async def _job(
    db: aiosqlite.Connection, settings: Settings, item: dict, plans: list[MsgData], unknown: list[str]
) -> dict[str, str] | None:
    if await inbound.is_processed(db, item["id"]):
        return None
    outcome = {rcpt: "discarded" for rcpt in unknown}
    for data in plans:
        result = await DISPOSE[data.decision.action](db, settings, data)
        outcome.update({rcpt: result for rcpt in data.recipients})
        if data.role in POST_ROLES:  # whatever its fate: `listserv status` shows when the list last heard
            await marks.put(db, data.mlist.id, health.POST_MARK, data.received_at)
        if data.confidential:
            await confidential.conclude(db, settings, data, result)
    # Also empties the raw bytes: the content lives on only where the list's policy put it.
    await inbound.mark_processed(db, item["id"], outcome)
    return outcome
