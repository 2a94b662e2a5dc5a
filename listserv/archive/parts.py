"""A post's MIME parts for a reader: which are its text, which are attachments (numbered), and their bytes.

One walk decides both, so the attachment numbered N on a post's page is the
part that /messages/ID/parts/N downloads. The walk is iterative and bounded
(the nesting is the sender's choice), and nothing here raises for a hostile
part: a name or a payload that cannot be read is an empty one.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message

MAX_PARTS = 500  # MIME parts looked at in one post


@dataclass(frozen=True)
class Walked:
    """The leaves of one post: text/plain parts, text/html parts and attachments, each in reading order."""

    plain: list[Message]
    html: list[Message]
    attachments: list[Message]


def walk(msg: Message) -> Walked:
    """Sort a post's leaves into text and attachments; an enclosed message is one attachment, not opened."""
    plain, html, attachments = [], [], []
    pending, looked = [msg], 0
    while pending and looked < MAX_PARTS:
        part, looked = pending.pop(), looked + 1
        kind = part.get_content_type()
        if part.is_multipart() and kind != "message/rfc822":
            children = part.get_payload()
            pending.extend(reversed(children if isinstance(children, list) else []))
        elif kind == "message/rfc822" or is_attachment(part) or not kind.startswith("text/"):
            attachments.append(part)
        elif kind == "text/html":
            html.append(part)
        else:
            plain.append(part)
    return Walked(plain, html, attachments)


def is_attachment(part: Message) -> bool:
    """A part given as an attachment or carrying a file name (a hostile header counts as one: never shown)."""
    try:
        return part.get_content_disposition() == "attachment" or bool(part.get_filename())
    except Exception:  # hostile parameters break the header parser
        return True


def filename(part: Message) -> str:
    """The part's file name as the sender gave it, on one line; '' when it has none or it cannot be read."""
    try:
        return " ".join(str(part.get_filename() or "").split())[:255]
    except Exception:  # a hostile filename parameter
        return ""


def payload(part: Message) -> bytes:
    """The decoded bytes of an attachment: an enclosed message whole, any other part decoded from its
    transfer encoding; b'' when it cannot be serialised."""
    try:
        if part.get_content_type() == "message/rfc822":
            inner = part.get_payload()
            return inner[0].as_bytes() if isinstance(inner, list) and inner else part.as_bytes()
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""
    except Exception:  # an enclosed message that cannot be serialised, a broken encoding
        return b""


def described(part: Message, number: int) -> dict:
    """An attachment as listed: number (from 1), name (or '(unnamed TYPE)'), filename (the sender's, '' when
    none), type and decoded size in bytes."""
    kind, given = part.get_content_type(), filename(part)
    return {"number": number, "name": given or f"(unnamed {kind})", "filename": given, "type": kind,
            "size": len(payload(part))}
