"""The digest handler: queue an accepted post for the list's digest readers, in the transaction that archives it.

A confidential post never enters the digest queue (a digest is one message
for many readers and is kept until sent). Digest readers entitled to
confidential posts get such a post individually instead, as DESIGN.md says.
The issue itself is built and sent by listserv.digests.
"""

from __future__ import annotations

import logging
import re
import time

import aiosqlite

from listserv import outgoing
from listserv.config import Settings
from listserv.pipeline.decorate import unprefixed
from listserv.pipeline.msgdata import MsgData
from listserv.store import digests as store_digests
from listserv.store import members

log = logging.getLogger(__name__)

# The headers a post keeps inside a digest (Mailman's MIME digest list): who, when, what, threading, MIME.
# Received:, Return-Path:, List-* and the like are noise there, and some say more than readers need to know.
DIGEST_HEADERS = frozenset((
    "date", "from", "to", "cc", "subject", "message-id", "in-reply-to", "references", "reply-to", "keywords",
    "mime-version", "content-type", "content-transfer-encoding", "content-disposition", "content-language",
))
_FIELD = re.compile(rb"^([!-9;-~]+)[ \t]*:")


async def to_digest(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> None:
    """Queue the post for the next digest issue; a confidential one goes to entitled digest readers at once."""
    if data.confidential:
        await _individually(db, settings, data)
        return
    if not await members.has_digest_members(db, data.mlist.id):
        return  # nobody reads digests: nothing to keep
    await store_digests.add(db, data.mlist.id, {
        "archive_id": data.archive_id,
        "sender": data.sender,
        "sender_name": data.sender_name,
        "subject": unprefixed(data.subject, data.mlist.subject_prefix),
        "content": digest_copy(data.raw),
        "queued_at": time.time(),
    })


async def _individually(db: aiosqlite.Connection, settings: Settings, data: MsgData) -> None:
    """A confidential post for digest readers: the decorated copy, now, to those entitled to it."""
    recipients = await members.digest_confidential_recipients(db, data.mlist.id, data.sender)
    await outgoing.queue(
        db, settings, data.mlist, data.content, recipients, data.archive_id, verp=data.mlist.settings.verp,
        xverp=data.mlist.settings.verp, post=True, auth=data.auth,
    )
    if recipients:
        log.info("inbound %s to %s: confidential, sent to %d digest readers individually",
                 data.inbound_id, data.mlist.address, len(recipients))


def digest_copy(raw: bytes) -> bytes:
    """The post as a digest carries it: the headers in DIGEST_HEADERS and the body, with LF line ends.

    Worked on the raw bytes (a post the email package cannot re-serialise
    still goes in whole); an mbox 'From ' line is dropped.

    >>> digest_copy(b"Received: x\\r\\nFrom: a@b.org\\r\\nSubject: s\\r\\n t\\r\\n\\r\\nbody\\r\\n")
    b'From: a@b.org\\nSubject: s\\n t\\n\\nbody\\n'
    """
    text = raw.partition(b"\n")[2] if raw.startswith(b"From ") else raw
    lines = text.replace(b"\r\n", b"\n").split(b"\n")
    kept: list[bytes] = []
    keep = False
    for index, line in enumerate(lines):
        if line[:1] in (b" ", b"\t") and index:
            if keep:
                kept.append(line)
            continue
        field = _FIELD.match(line)
        if field is None:  # the blank line, or a body that starts without one (a defect): the body begins
            body = lines[index + 1 :] if not line else lines[index:]
            return b"\n".join(kept) + b"\n\n" + b"\n".join(body)
        keep = field.group(1).decode("ascii").lower() in DIGEST_HEADERS
        if keep:
            kept.append(line)
    return b"\n".join(kept) + b"\n\n"
