"""The parse stage: raw bytes to an EmailMessage, then the header facts every rule reads.

A message over a cap (listserv.pipeline.prescan) gets its headers parsed and
nothing more: the full parse of 100,000 parts would take the pipeline minutes.
"""

from __future__ import annotations

from email.message import EmailMessage

from listserv import message
from listserv.config import ServerSettings
from listserv.pipeline import prescan
from listserv.pipeline.msgdata import MsgData
from listserv.store import Store


def caps(server: ServerSettings) -> prescan.Caps:
    """The configured caps on what a message may hold."""
    return prescan.Caps(server.max_parts, server.max_depth, server.max_header_bytes)


def parse(raw: bytes) -> tuple[EmailMessage | None, list[str]]:
    """The parsed message and its defect names; (None, ['parse: <Error>']) when parsing itself fails.

    The stdlib parser almost never raises, but a post must be kept even if it
    does, so the failure becomes a defect that the unparseable rule holds on.
    """
    try:
        msg = message.parse(raw)
    except Exception as exc:  # kept and held by the unparseable rule, never dropped
        return None, [f"parse: {type(exc).__name__}"]
    return msg, message.defects(msg)


def parse_within(raw: bytes, limits: prescan.Caps, overdue: str = "") -> tuple[EmailMessage | None, list[str], str]:
    """parse() for a message within the caps; else its headers only (none if they are over) and the caps passed.

    `overdue` is the reason when processing this message once took too long: its headers only, too.
    """
    shape = prescan.scan(raw, limits)
    passed = overdue or prescan.over(shape, limits)
    if not passed:
        return (*parse(raw), "")
    if limits.max_header_bytes and shape.header_bytes > limits.max_header_bytes:
        return None, [], passed
    return parse_head(raw), [], passed


def parse_head(raw: bytes) -> EmailMessage | None:
    """The header block alone (message.parse_headers); None if even that fails, as parse() would say."""
    try:
        return message.parse_headers(raw)
    except Exception:  # as parse(): a message is kept whatever its headers are
        return None


async def read_headers(store: Store, data: MsgData) -> None:
    """The stage: fill the header facts (CPU only; async to fit the stage table)."""
    fill_headers(data)


def fill_headers(data: MsgData) -> None:
    """Fill sender, subject, Message-ID and body text from the parsed message (helpers never raise)."""
    if data.msg is None:
        return
    data.sender, data.sender_name, data.sender_problem = message.from_mailbox(data.msg)
    data.subject = message.subject(data.msg)
    data.message_id = message.message_id(data.msg)
    if not data.limits:  # the body of a message over a cap stays unparsed
        data.body_text = message.body_text(data.msg)
