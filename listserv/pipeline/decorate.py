"""The decorate stage: the bytes an accepted post goes out as, with the list's headers and subject prefix.

RFC 2919 List-Id and RFC 2369 List-* headers let mail clients file and
unsubscribe; X-BeenThere and Precedence let us and others stop loops. Incoming
copies of those headers are removed first, so a forged List-Unsubscribe never
reaches members.

Subject prefix policy: the prefix is added once, in front ("[team] Re: x");
when the decoded subject already contains it anywhere ("Re: [team] x", or an
RFC 2047 encoded "[team] café") the subject is left exactly as the sender
wrote it, so replies never grow "[team] Re: [team]".

Serialising a hostile message can fail (a header that cannot be re-encoded),
so this falls back from policy.default to compat32, and last to editing the
header block of the raw bytes, which cannot fail; a post is never lost here.
"""

from __future__ import annotations

import hashlib
import logging
import re
from email import policy
from email.header import Header
from email.utils import formatdate

from listserv.addresses import sub_address
from listserv.confidential import copy as confidential_copy
from listserv.lists import MailingList
from listserv.pipeline import mitigation
from listserv.pipeline.msgdata import ACCEPT, MsgData
from listserv.pipeline.rules.loop import list_id
from listserv.store import Store

log = logging.getLogger(__name__)

# Removed from the incoming message before ours are added (plus every List-* header).
REPLACED = ("x-beenthere", "precedence")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def list_headers(mlist: MailingList) -> list[tuple[str, str]]:
    """The RFC 2919 / RFC 2369 headers and loop markers every accepted post carries."""
    request = sub_address(mlist.address, "request")
    description = mlist.description.replace("\\", "\\\\").replace('"', '\\"')
    ident = f"<{list_id(mlist.address)}>"
    return [
        ("List-Id", f'"{description}" {ident}' if description else ident),
        ("List-Post", f"<mailto:{mlist.address}>"),
        ("List-Help", f"<mailto:{request}?subject=help>"),
        ("List-Subscribe", f"<mailto:{request}?subject=subscribe>"),
        ("List-Unsubscribe", f"<mailto:{request}?subject=unsubscribe>"),
        ("List-Owner", f"<mailto:{sub_address(mlist.address, 'owner')}>"),
        ("Precedence", "list"),
        ("X-BeenThere", mlist.address),
    ]


def prefixed(subject: str, prefix: str) -> str:
    """The subject with the list prefix added once.

    >>> prefixed("Re: hello", "[team]")
    '[team] Re: hello'
    >>> prefixed("Re: [Team] hello", "[team]")
    'Re: [Team] hello'
    >>> prefixed("", "[team]")
    '[team] (no subject)'
    >>> prefixed("hello", "")
    'hello'
    """
    if not prefix or prefix.casefold() in subject.casefold():
        return subject
    return f"{prefix} {subject or '(no subject)'}"


def unprefixed(subject: str, prefix: str) -> str:
    """The subject without the list prefix, for the archive.

    >>> unprefixed("Re: [team] hello", "[team]")
    'Re: hello'
    >>> unprefixed("[TEAM]  hi", "[team]")
    'hi'
    """
    if not prefix:
        return subject
    return " ".join(re.sub(re.escape(prefix), " ", subject, flags=re.IGNORECASE).split())


def made_message_id(data: MsgData) -> str:
    """A Message-ID for a post without one; derived from the bytes, so a resend gets the same one."""
    digest = hashlib.sha256(data.raw).hexdigest()[:32]
    return f"listserv.{digest}@{data.mlist.domain}"


def _new_headers(data: MsgData, made_id: bool) -> list[tuple[str, str]]:
    mlist = data.mlist
    extra = [("Subject", prefixed(data.subject, mlist.subject_prefix))]
    if mlist.settings.reply_goes_to_list:
        extra.append(("Reply-To", mlist.address))
    if made_id:
        extra.append(("Message-ID", f"<{data.message_id}>"))
    if data.msg is None or data.msg.get("Date") is None:  # RFC 5322 requires one; some scripts omit it
        extra.append(("Date", formatdate(data.received_at, localtime=False, usegmt=True)))
    return list_headers(mlist) + extra


def _dropped(name: str, new: list[tuple[str, str | None]], confidential: bool) -> bool:
    low = name.strip().lower()
    if confidential and confidential_copy.unsafe(low):  # read receipts and the like (listserv.confidential.copy)
        return True
    return low.startswith("list-") or low in REPLACED or low in {n.lower() for n, _ in new}


async def decorate(store: Store, data: MsgData) -> None:
    """Fill data.content for an accepted post (and data.message_id when the post had none)."""
    if data.decision is None or data.decision.action != ACCEPT:
        return
    made_id = not data.message_id
    if made_id:
        data.message_id = made_message_id(data)
    new = _new_headers(data, made_id)
    if data.confidential:  # tag, Sensitivity, Reply-To, To/Cc without outsiders (listserv.confidential.copy)
        new = confidential_copy.headers(data.mlist, new, data.outside)
    new = mitigation.munged(data, new)  # after the confidential headers: it must see their Reply-To and Cc
    # A signed confidential post keeps its body byte for byte (the notice then wraps it, never edits it).
    edited = None if data.confidential and confidential_copy.sealed(data.msg) else _from_message(data, new)
    data.content = edited or _from_bytes(data.raw, new, data.confidential)
    if data.confidential:
        data.content = confidential_copy.with_notice(data.content, data.mlist.settings.confidential_notice)
    data.content = _wrapped(data)


def _wrapped(data: MsgData) -> bytes:
    """The copy attached to a message from the list, when the list wraps this author's posts (mitigation.wrap)."""
    try:
        return mitigation.wrapped(data, data.content)
    except Exception as exc:  # a copy that cannot be re-serialised inside another: send it as it is, never lose it
        log.warning("decorate: wrapping inbound %s failed (%s)", data.inbound_id, type(exc).__name__)
        return data.content


def _from_message(data: MsgData, new: list[tuple[str, str | None]]) -> bytes | None:
    """Edit the parsed message and serialise it; None when that fails (the raw fallback follows)."""
    if data.msg is None:
        return None
    try:
        msg = data.msg
        for name in {n for n in msg.keys() if _dropped(n, new, data.confidential)}:
            del msg[name]
        for name, value in new:
            if value is not None:  # None: the header is only removed (a confidential copy's Cc)
                msg[name] = value
    except Exception as exc:  # a header the modern parser cannot handle: edit the raw bytes instead
        log.warning("decorate: editing headers of inbound %s failed (%s)", data.inbound_id, type(exc).__name__)
        return None
    for rendering in (policy.default, policy.compat32):
        try:
            return msg.as_bytes(policy=rendering)
        except Exception as exc:  # e.g. UnicodeEncodeError on 8-bit headers; try the next rendering
            log.warning("decorate: serialising inbound %s failed (%s)", data.inbound_id, type(exc).__name__)
    return None


def _from_bytes(raw: bytes, new: list[tuple[str, str | None]], confidential: bool = False) -> bytes:
    """Swap header lines in the raw header block; the body goes out byte for byte as received."""
    if raw.startswith(b"From "):
        raw = raw.partition(b"\n")[2]
    split = _BLANK_LINE.search(raw)
    head, body = (raw[: split.start()], raw[split.end() :]) if split else (raw, b"")
    kept, dropping = [], False
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t"):
            if not dropping:
                kept.append(line)
            continue
        name = line.partition(b":")[0].decode("ascii", "replace")
        dropping = _dropped(name, new, confidential)
        if not dropping:
            kept.append(line)
    ours = [f"{name}: {_encoded(value)}".encode("ascii") for name, value in new if value is not None]
    return b"\n".join(ours + kept) + b"\n\n" + body


def _encoded(value: str) -> str:
    """A header value as 7-bit text (RFC 2047 for non-ASCII), folded."""
    if value.isascii():
        return value
    return Header(value, "utf-8").encode()
