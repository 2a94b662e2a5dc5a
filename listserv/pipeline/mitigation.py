"""DMARC mitigation: how a copy names its author when the author's domain forbids others to send as it.

A post from a domain publishing DMARC p=quarantine/p=reject reaches every
member from the list's server, with the subject (and for confidential threads
the text) changed, so the author's DKIM signature no longer verifies and the
list is not their SPF: Gmail, Yahoo and Microsoft would refuse or spam-folder
every copy, and the bounces would switch innocent members to nomail. So such
copies come From the list (`munge_from`: `"Ann Lee via team" <team@…>`, the
author in Reply-To or Cc and X-Original-From), or as a message from the list
carrying the post as an attachment (`wrap`). The archive, search and digests
keep the author's real From: only the copies change. An unknown policy (DNS
failed) changes nothing: the post goes out as before, never held for it.

Where the author goes: Reply-To (dmarc_author_in = reply_to) unless the copy
already uses Reply-To for the list (reply_goes_to_list, or a confidential
thread's confidential address, which must stay so replies stay marked): then,
as with dmarc_author_in = cc, the author is added to Cc.
"""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.utils import formataddr

from listserv import message
from listserv.pipeline.msgdata import MsgData

MUNGE, WRAP = "munge_from", "wrap"
# Headers of the decorated post that the outer message of a wrapped copy carries, so mail programs thread,
# file and unsubscribe it like any other copy (From is the mitigation's own; Reply-To and Cc get the author).
WRAPPER_KEEPS = ("to", "cc", "reply-to", "subject", "date", "message-id", "in-reply-to", "references", "sensitivity", "precedence",
                 "x-beenthere")


def mode(data: MsgData) -> str:
    """munge_from, wrap, or '' when this copy goes out with the author's own From:."""
    settings = data.mlist.settings
    if settings.dmarc_mitigation not in (MUNGE, WRAP) or not data.sender:
        return ""
    enforced = data.auth is not None and data.auth.policy is not None and data.auth.policy.enforced
    return settings.dmarc_mitigation if enforced or settings.dmarc_mitigate_always else ""


def author(data: MsgData) -> str:
    """The author as a mailbox: 'Ann Lee <ann@agency.example>'."""
    return formataddr((data.sender_name, data.sender)) if data.sender_name else data.sender


def list_from(data: MsgData) -> str:
    """'"Ann Lee via team" <team@example.org>': members still see who wrote, the address is the list's."""
    shown = f"{data.sender_name or data.sender.partition('@')[0]} via {data.mlist.name}"
    if not shown.isascii():
        return formataddr((shown, data.mlist.address))  # RFC 2047 encoded
    quoted = shown.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{data.mlist.address}>'  # quoted always, as mail programs show it


def munged(data: MsgData, new: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """decorate's header list with From: the list, the author in Reply-To or Cc, and X-Original-From."""
    if mode(data) != MUNGE:
        return new
    return [*(pair for pair in new if pair[0].lower() not in ("from", "x-original-from")), *_author_headers(data, new)]


def _author_headers(data: MsgData, new: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """From, X-Original-From, and Reply-To or Cc naming the author (see the module docstring)."""
    headers = [("From", list_from(data)), ("X-Original-From", author(data))]
    reply_to_taken = any(name.lower() == "reply-to" and value for name, value in new)
    if data.mlist.settings.dmarc_author_in == "reply_to" and not reply_to_taken:
        return [*headers, ("Reply-To", author(data))]
    return [*headers, ("Cc", _cc_with_author(data, new))]


def _cc_with_author(data: MsgData, new: list[tuple[str, str | None]]) -> str:
    """The copy's Cc with the author added (a Cc the copy drops, as a confidential one naming outsiders does, is
    not kept)."""
    dropped = any(name.lower() == "cc" and value is None for name, value in new)
    kept = [] if dropped or data.msg is None else [message.one_line(v) for v in message.raw_values(data.msg, "Cc")]
    if any(data.sender in value.lower() for value in kept):
        return ", ".join(kept)
    return ", ".join([*kept, author(data)])


def wrapped(data: MsgData, content: bytes) -> bytes:
    """For `wrap`: a message from the list whose one attachment is the decorated copy; else content unchanged."""
    if mode(data) != WRAP:
        return content
    inner = message.parse(content)
    outer = EmailMessage(policy=policy.SMTP)
    for name, value in inner.raw_items():
        low = name.lower()
        if low in WRAPPER_KEEPS or low.startswith("list-"):
            outer[name] = value
    decorate_new = [(name, outer[name]) for name in outer.keys()]
    for name, value in _author_headers(data, decorate_new):
        del outer[name]
        outer[name] = value
    outer.set_content(_cover_note(data))
    outer.add_attachment(inner, disposition="inline")
    return outer.as_bytes()


def _cover_note(data: MsgData) -> str:
    """The text above the attached post: who wrote it and why it comes as an attachment."""
    return (
        f"{author(data)} wrote the message attached below to {data.mlist.address}.\n"
        "It is attached unchanged because the writer's mail domain asks other servers to refuse mail\n"
        "sent in its name by anyone else (DMARC). Reply to the list, or to the writer, as usual.\n"
    )
