"""The parse stage: raw bytes to an EmailMessage, then the header facts every rule reads."""

from __future__ import annotations

from email.message import EmailMessage

from listserv import message
from listserv.pipeline.msgdata import MsgData
from listserv.store import Store


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
    data.body_text = message.body_text(data.msg)
