"""The confidential stage: before the rules, decide whether a post belongs to a confidential thread; then act on it.

Marking (mark(), a stage that runs after parse and route and before the
rules, so a held, rejected or discarded post is marked too and nothing about
it is logged first). A post is confidential when any of these holds:

- it came to NAME+confidential@DOMAIN (any list's, in the same envelope);
- the list's `all_confidential` is on;
- its subject carries the list's `confidential_tag`, in any case, also inside
  RFC 2047 encoded words and in full-width characters (every Subject header is
  read, decoded and raw);
- a `Sensitivity: Private` or `Sensitivity: Company-Confidential` header;
- its own Message-ID, or any Message-ID in its In-Reply-To or References,
  is known to be confidential (listserv.store.confidential, looked up across
  lists) or is in a confidential thread of the list's thread map
  (listserv.archive.threading): propagation, even when the list stored no
  content of the thread.

A message too broken to parse is confidential when its header block mentions
the tag or a confidential Sensitivity value anywhere: it is held either way,
and a moderator sees it flagged rather than shown.

Subject-based thread joining decides nothing here: confidentiality comes
from markers and Message-IDs only, so no subject can make a post
non-confidential. Threading itself never joins a post by subject to a thread
of the other confidentiality (and a confidential post never by subject at
all), so a post that only shares a subject with a confidential thread is
neither marked by it nor able to unmark it.

Propagation afterwards (remember(), inside the transaction): a distributed
confidential post records its Message-ID and the ids it named, raises its
threads in the thread map, and re-marks the archived posts of those threads
and, across lists, the posts with those ids and the replies to them, round
after round (a post that arrives after its replies). A thread never becomes
non-confidential again. A post that was not distributed (held, rejected,
discarded) records only its own Message-ID.
"""

from __future__ import annotations

import logging
import re
import time
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser

import aiosqlite

from listserv import address_list, message, notices
from listserv.addresses import candidates, split, sub_address
from listserv.config import Settings
from listserv.lists import MailingList
from listserv.pipeline import confidential_copy, decorate, parse
from listserv.pipeline.msgdata import ACCEPT, FORWARD, HOLD, Decision, MsgData, Reason
from listserv.store import Store, audit, inbound, members, messages, outbound, threads
from listserv.store import digests as store_digests
from listserv.store import confidential as store_confidential

log = logging.getLogger(__name__)

SENSITIVE = ("private", "company-confidential")  # Sensitivity values that mark a post (RFC 2156; Outlook sets them)
ACTOR = "pipeline"
_SENSITIVITY_LINE = re.compile(r"^sensitivity:\s*(private|company-confidential)\b", re.IGNORECASE | re.MULTILINE)


def envelope_confidential(rcpt_tos: list[str]) -> bool:
    """True when any envelope recipient is a NAME+confidential@ address: the sender marked the whole message.

    >>> envelope_confidential(["team@example.org", "other+confidential@example.org"])
    True
    """
    return any(c.role == "confidential" for rcpt in rcpt_tos for c in candidates(rcpt)[:1])


def has_tag(subject: str, tag: str) -> bool:
    """The tag appears in the subject, in any case.

    >>> has_tag("Re: [Confidential] records", "[CONFIDENTIAL]"), has_tag("records", "[CONFIDENTIAL]")
    (True, False)
    """
    return bool(tag) and confidential_copy.folded(tag) in confidential_copy.folded(subject)


def subjects(data: MsgData) -> list[str]:
    """Every reading of every Subject header: decoded by the parser, decoded leniently, and as written."""
    found = [data.subject]
    if data.msg is not None:
        for name, value in data.msg.raw_items():
            if name.lower() == "subject":
                found += [message.decode_words(str(value)), str(value)]
    return found


def sensitivity(data: MsgData) -> bool:
    """A Sensitivity header says Private or Company-Confidential (comments and parameters ignored)."""
    if data.msg is None:
        return False
    for value in message.header_all(data.msg, "Sensitivity"):
        word = re.split(r"[\s;(]", value.strip(), maxsplit=1)[0].casefold()
        if word in SENSITIVE:
            return True
    return False


def markers(data: MsgData) -> list[str]:
    """Which markers the post carries (names for the log, never content): address, list, tag, sensitivity."""
    tag = str(data.mlist.get("confidential_tag"))
    found = ["address"] if data.confidential else []
    if data.mlist.get("all_confidential"):
        found.append("list")
    if any(has_tag(subject, tag) for subject in subjects(data)):
        found.append("tag")
    if sensitivity(data):
        found.append("sensitivity")
    if data.msg is None and _raw_marked(data.raw, tag):
        found.append("unparsed")
    return found


def _raw_marked(raw: bytes, tag: str) -> bool:
    """For a message that could not be parsed: the tag or a confidential Sensitivity anywhere in its header block."""
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0].decode("latin-1")
    text = head + "\n" + message.decode_words(head)
    return has_tag(text, tag) or _SENSITIVITY_LINE.search(text) is not None


def carries_confidential(raw: bytes, tag: str) -> bool:
    """Anywhere in the message, enclosed parts included: a confidential Sensitivity header or a Subject
    line with the tag. Every confidential copy the list sends carries the first, so a bounce that returns
    one (or its headers) is recognised."""
    text = raw.decode("latin-1")
    if _SENSITIVITY_LINE.search(text):
        return True
    subjects = [line for line in text.splitlines() if line[:8].casefold() == "subject:"]
    return any(has_tag(message.decode_words(line), tag) for line in subjects)


async def guard_forward(store: Store, data: MsgData) -> None:
    """The stage after -owner and -bounces planning: mail carrying confidential content is confidential
    (held flagged and masked) and is forwarded only to owners entitled to confidential posts."""
    if not (data.confidential or carries_confidential(data.raw, str(data.mlist.get("confidential_tag")))):
        return
    data.confidential = True
    if data.decision is None or data.decision.action != FORWARD:
        return
    entitled = await members.entitled_among(store.db, data.mlist.id, data.forward_to)
    data.forward_to = [address for address in data.forward_to if address in entitled]
    if not data.forward_to:
        text = "confidential content, and no owner entitled to confidential posts to forward it to; kept here"
        data.decision = Decision(HOLD, (*data.decision.reasons, Reason("confidential", text)))


def thread_ids(data: MsgData) -> tuple[str, list[str]]:
    """(the post's own Message-ID, every Message-ID it names in In-Reply-To and References)."""
    if data.msg is None:
        return data.message_id, []
    named: list[str] = []
    for header in ("In-Reply-To", "References"):
        for value in message.header_all(data.msg, header):
            named += message.message_ids(value)
    return data.message_id, list(dict.fromkeys(named))


async def in_confidential_thread(db: aiosqlite.Connection, data: MsgData) -> bool:
    """The post's own Message-ID or one it names is confidential: known as such (any list), or in a
    confidential thread of this list's thread map (listserv.archive.threading)."""
    own, named = thread_ids(data)
    ids = [i for i in (own, *named) if i]
    if not ids:
        return False
    return await store_confidential.any_known(db, ids) or await threads.confidential_referenced(db, data.mlist.id, ids)


async def mark(store: Store, data: MsgData) -> None:
    """The stage: set data.confidential (markers, then the thread) and, when set, data.outside."""
    why = markers(data)
    if not why and await in_confidential_thread(store.db, data):
        why = ["thread"]
    data.confidential = bool(why)
    if data.confidential:
        data.outside = await outside_recipients(store.db, data)
        log.info("inbound %s to %s: confidential (%s)", data.inbound_id, data.mlist.address, ",".join(why))


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


async def recheck(db: aiosqlite.Connection, data: MsgData) -> None:
    """Inside the transaction, before an accepted or approved post is archived and queued: mark it late if needed.

    A post held for days may have joined a confidential thread meanwhile, and
    an approved one has not had its outside recipients looked up: both are
    redone on the writer's connection, and the copy re-decorated when they change.
    """
    before = (data.confidential, tuple(data.outside))
    if not data.confidential:
        data.confidential = await in_confidential_thread(db, data)
    if data.confidential and not data.outside:
        data.outside = await outside_recipients(db, data)
    if (data.confidential, tuple(data.outside)) != before:
        await decorate.decorate(None, data)


async def remember(db: aiosqlite.Connection, settings: Settings, data: MsgData, accepted: bool = True) -> None:
    """Inside the transaction: record the post's thread as confidential and re-mark the archived posts of it.

    A post that was not distributed (held, rejected, discarded) records only
    its own Message-ID: replies to it are confidential, but it does not turn
    the thread it names confidential, or a stranger's rejected post could hide
    a public thread from the members not entitled to confidential posts.
    """
    own, named = thread_ids(data)
    when = message.date(data.msg, data.received_at) if data.msg is not None else data.received_at
    await store_confidential.add(db, data.mlist.id, own, when, named if accepted else ())
    if accepted:
        changed = await remark(db, data.mlist.id, [own, *named])
        await out_of_digests(db, settings, data.mlist, changed)


async def remark(db: aiosqlite.Connection, list_id: int, ids: list[str]) -> list[int]:
    """Mark the whole thread: its threads in the list's thread map, then in the archive the posts of those
    threads, posts with these ids, the replies to them and the posts they name, round after round (also in
    other lists, for cross-posted copies); returns the archive ids that changed.

    Iterative (no recursion on user data), and each round only takes posts
    that were not confidential yet, so it ends.
    """
    changed: list[int] = []
    frontier = [i for i in ids if i]
    live = await threads.live_threads_of(db, list_id, frontier)
    await threads.raise_confidential(db, live)
    rows = await messages.mark_in_threads_confidential(db, live)
    while rows or frontier:
        rows += await messages.mark_confidential(db, frontier)
        rows += await messages.mark_replies_confidential(db, frontier)
        frontier = []
        for row in rows:
            named = message.message_ids(row["in_reply_to"]) + row["refs"].split()
            await store_confidential.add(db, row["list_id"], row["message_id"], None, named)
            frontier += [row["message_id"], *named]
        changed += [row["id"] for row in rows]
        rows = []
    await inbound.scrub_archived(db, changed)  # the inbound queue's history keeps no copy either
    if changed:
        log.info("re-marked %d archived post(s) confidential: archive:%s", len(changed), ",".join(map(str, changed)))
    return changed


async def out_of_digests(
    db: aiosqlite.Connection, settings: Settings, mlist: MailingList, archive_ids: list[int]
) -> None:
    """Re-marked posts still waiting for a digest leave the queue; this list's entitled digest readers get
    each as a confidential copy instead (a post of another list only leaves its queue)."""
    withdrawn = await store_digests.withdraw_archived(db, archive_ids) if archive_ids else []
    for row in withdrawn:
        raw = await messages.raw(db, row["archive_id"]) if row["list_id"] == mlist.id else None
        readers = await members.digest_confidential_recipients(db, mlist.id, row["sender"]) if raw else []
        if readers:
            content = await _confidential_copy(db, mlist, raw)
            await outbound.enqueue(
                db, mlist.id, sub_address(mlist.address, "bounces"), content, readers,
                settings.delivery.max_recipients, row["archive_id"],
            )
    if withdrawn:
        log.info("took %d re-marked post(s) out of the digest queue", len(withdrawn))


async def _confidential_copy(db: aiosqlite.Connection, mlist: MailingList, raw: bytes) -> bytes:
    """An archived post decorated as a confidential copy, as the pipeline would have sent it."""
    msg, defects = parse.parse(raw)
    data = MsgData(mlist=mlist, role="post", raw=raw, msg=msg, inbound_id=None, received_at=time.time(),
                   mail_from="", defects=defects, confidential=True)
    parse.fill_headers(data)
    data.outside = await outside_recipients(db, data)
    data.decision = Decision(ACCEPT)
    await decorate.decorate(None, data)
    return data.content


async def mark_known(db: aiosqlite.Connection, rows: list[dict]) -> None:
    """Archive rows about to be stored by an import: a row whose Message-ID, In-Reply-To or References is known
    to be confidential (in any list, held and rejected posts included) is stored confidential."""
    named = {id(row): [row["message_id"], row.get("in_reply_to") or "", *(row.get("refs") or "").split()] for row in rows}
    known = await store_confidential.known(db, [i for ids in named.values() for i in ids if i])
    for row in rows:
        if known.intersection(named[id(row)]):
            row["confidential"] = True


async def conclude(db: aiosqlite.Connection, settings: Settings, data: MsgData, outcome: str) -> None:
    """After the decision, inside the transaction: remember the thread (deliver() did for an accepted post)
    and warn about outside recipients."""
    if outcome != "accepted":
        await remember(db, settings, data, accepted=False)
    if data.outside and outcome in ("accepted", "held"):
        await warn(db, settings, data, held=outcome == "held")


async def warn(db: aiosqlite.Connection, settings: Settings, data: MsgData, held: bool) -> None:
    """The reply-all leak guard's notice to the sender (a member, not a robot) and the moderators: addresses only."""
    told = [row["address"] for row in await members.with_roles(db, data.mlist.id, ("moderator", "owner"))]
    if data.is_member and not notices.is_automated(data.mail_from, data.sender, _received_headers(data.raw)):
        told.insert(0, data.sender)
    told = list(dict.fromkeys(told))
    if told:
        content = notices.outside_recipients(data.mlist, told[0], data.outside, held, data.message_id)
        await notices.queue(db, settings, data.mlist, content, told)
    detail = f"{len(data.outside)} outside address(es) in To/Cc; {'held' if held else 'removed'}; told {len(told)}"
    await audit.record(db, ACTOR, "leak-guard", data.mlist.id, f"inbound:{data.inbound_id}", detail)


def _received_headers(raw: bytes) -> Message | None:
    """The headers as the sender wrote them (data.msg carries the list's own, Precedence: list among them)."""
    try:
        return BytesHeaderParser(policy=policy.default).parsebytes(raw)
    except Exception:  # the parser is lenient, but this is a stranger's input: judge by the envelope alone
        return None
