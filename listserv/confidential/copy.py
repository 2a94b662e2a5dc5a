"""How a confidential copy looks: the subject tag, Sensitivity, Reply-To, To/Cc without outsiders, and the notice.

decorate.decorate() builds every accepted post's bytes; for a confidential
one it takes its header changes from headers() here and passes its bytes
through with_notice(). Where the notice goes:

- a text/plain message: on top of its text; a multipart one: on top of its
  first inline text/plain part and of its first inline text/html part (mail
  programs show one or the other), attachments and enclosed messages untouched;
- a message with a signed or encrypted part anywhere (PGP/MIME, S/MIME), one
  without any text part, or one the email package cannot re-serialise: the
  original is wrapped unchanged, byte for byte, as the second part of a new
  multipart/mixed whose first part is the notice. Editing inside a signed part
  would break its signature; wrapping keeps it valid (readers show the notice,
  then the signed message, as Mailman does with footers on signed mail).
"""

from __future__ import annotations

import base64
import html
import re
import secrets
from email import policy
from email.message import EmailMessage, Message

from listserv import message
from listserv.addresses import sub_address
from listserv.confidential.markers import folded
from listserv.lists import MailingList

SENSITIVITY = "Company-Confidential"
# Parts whose bytes must not change: editing them (or re-folding their headers) breaks a signature or a cipher.
SEALED = frozenset((
    "multipart/signed", "multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime",
    "application/pgp-encrypted",
))
# Headers that make a reader's mail program send something (a reply, a read receipt, a delivery report) to an
# address of the sender's choosing; a confidential copy carries none of them (unsafe() below adds the class:
# every *-To header but the ones the list sets, and every Resent-* header).
DROPPED = (
    "Mail-Followup-To", "Mail-Reply-To", "Disposition-Notification-To", "Disposition-Notification-Options",
    "Return-Receipt-To", "Read-Receipt-To", "X-Confirm-Reading-To", "Errors-To", "Return-Receipt-Requested",
    "Generate-Delivery-Report", "Return-Path", "X-Pmrqc", "Followup-To",
)
_KEPT_TO = frozenset(("to", "reply-to", "in-reply-to"))
_BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")


def tagged(subject: str, tag: str) -> str:
    """The subject with the confidential tag in front, unless it carries the tag already (any case).

    >>> tagged("[team] Re: records", "[CONFIDENTIAL]")
    '[CONFIDENTIAL] [team] Re: records'
    >>> tagged("Re: [confidential] records", "[CONFIDENTIAL]")
    'Re: [confidential] records'
    >>> tagged("records", "")
    'records'
    """
    if not tag or folded(tag) in folded(subject):
        return subject
    return f"{tag} {subject}".strip()


def reply_address(list_address: str) -> str:
    """Where a reply to a confidential post goes: the list's confidential address (a copy's Reply-To, the web
    page's reply link), so the reply comes back marked even from a mail program that drops References.

    >>> reply_address("team@example.org")
    'team+confidential@example.org'
    """
    return sub_address(list_address, "confidential")


def headers(mlist: MailingList, new: list[tuple[str, str | None]], outside: list[str]) -> list[tuple[str, str | None]]:
    """decorate's header list for a confidential copy; a None value removes that header without a replacement.

    Subject tag ensured, Sensitivity: Company-Confidential, Reply-To the list's
    confidential address (a reply comes back marked even from a mail program
    that drops References), no Mail-Followup-To, and when To/Cc named anyone
    outside the list: To is the list and Cc is gone.
    """
    replaced = {"subject", "reply-to", "sensitivity", *(name.lower() for name in DROPPED)}
    if outside:
        replaced |= {"to", "cc"}
    subject = next((value for name, value in new if name.lower() == "subject"), "") or ""
    kept = [(name, value) for name, value in new if name.lower() not in replaced]
    kept += [
        ("Subject", tagged(subject, mlist.settings.confidential_tag)),
        ("Sensitivity", SENSITIVITY),
        ("Reply-To", reply_address(mlist.address)),
    ]
    kept += [(name, None) for name in DROPPED]
    if outside:
        kept += [("To", mlist.address), ("Cc", None)]
    return kept


def unsafe(name: str) -> bool:
    """A header a confidential copy never carries from the incoming post (the list sets its own To and Reply-To).

    >>> [unsafe(n) for n in ("Disposition-Notification-To", "X-Confirm-Reading-To", "Resent-From", "ERRORS-TO ")]
    [True, True, True, True]
    >>> [unsafe(n) for n in ("To", "In-Reply-To", "Reply-To", "Subject", "X-Mailer")]
    [False, False, False, False, False]
    """
    low = name.strip().lower()
    dropped = {d.lower() for d in DROPPED}
    return low in dropped or low.startswith("resent-") or (low.endswith("-to") and low not in _KEPT_TO)


def sealed(msg: Message | None) -> bool:
    """The message has a signed or encrypted part: its bytes must go out as received (decorate's raw path)."""
    if msg is None:
        return False
    try:
        return any(part.get_content_type() in SEALED for part in msg.walk())
    except Exception:  # a tree too broken to walk: the raw path is the safe one too
        return True


def with_notice(content: bytes, notice: str) -> bytes:
    """The copy's bytes with the notice on top of its text (see the module docstring); never fails."""
    if not notice.strip():
        return content
    try:
        msg = message.parse(content)
        if _noted(msg, notice):
            return msg.as_bytes(policy=policy.default)
    except Exception:  # an unknown charset, a header that cannot be re-encoded: wrap the bytes instead
        pass
    return wrapped(content, notice)


def _noted(msg: EmailMessage, notice: str) -> bool:
    """Put the notice into the first inline text/plain and text/html parts; False when wrapping is needed instead."""
    plain = markup = None
    pending: list[Message] = [msg]
    while pending:  # an explicit stack, in document order: the nesting depth is the sender's choice
        part = pending.pop()
        kind = part.get_content_type()
        if kind in SEALED:
            return False
        if part.get_content_maintype() == "message":
            continue  # an enclosed message (a forward) is content, not the post's own text
        if part.is_multipart():
            children = part.get_payload()
            pending.extend(reversed(children if isinstance(children, list) else []))
        elif part.get_content_disposition() != "attachment":
            plain = part if plain is None and kind == "text/plain" else plain
            markup = part if markup is None and kind == "text/html" else markup
    if plain is None and markup is None:
        return False
    if plain is not None:
        _replace_text(plain, f"{notice}\n\n{plain.get_content()}", msg)
    if markup is not None:
        _replace_text(markup, _html_noted(markup.get_content(), notice), msg)
    return True


def _html_noted(markup: str, notice: str) -> str:
    """The notice as the first paragraph of the HTML body.

    >>> _html_noted("<html><body class=x><p>Hi</p></body></html>", "Keep <this> inside")
    '<html><body class=x><p><strong>Keep &lt;this&gt; inside</strong></p><p>Hi</p></body></html>'
    """
    note = f"<p><strong>{html.escape(notice)}</strong></p>"
    found = _BODY_TAG.search(markup)
    return markup[: found.end()] + note + markup[found.end() :] if found else note + markup


def _replace_text(part: Message, text: str, top: Message) -> None:
    """Set a text part's content in UTF-8, keeping its subtype and its format=flowed parameters."""
    kept = {key: part.get_param(key) for key in ("format", "delsp") if part.get_param(key)}
    part.set_content(text, subtype=part.get_content_subtype(), charset="utf-8")
    for key, value in kept.items():
        part.set_param(key, str(value))
    if part is not top:
        del part["MIME-Version"]  # set_content adds one; it belongs on the top-level header only


def wrapped(content: bytes, notice: str) -> bytes:
    """The message as the second part of a new multipart/mixed after the notice, its body byte for byte.

    Worked on the bytes, so it cannot fail: the original's Content-* headers
    move to the inner part, every other header stays on top.
    """
    split = _BLANK_LINE.search(content)
    head, body = (content[: split.start()], content[split.end() :]) if split else (content, b"")
    newline = b"\r\n" if b"\r\n" in head else b"\n"
    top, inner = [], []
    for field in _fields(head, newline):
        name = field.split(b":", 1)[0].strip().lower()
        if name.startswith(b"content-"):
            inner.append(field)
        elif name != b"mime-version":
            top.append(field)
    boundary = _boundary(content)
    mark = b"--" + boundary
    return newline.join([
        *top, b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="' + boundary + b'"', b"",
        mark, *_notice_part(notice), b"",
        mark, *inner, b"", body.rstrip(b"\r\n"),
        mark + b"--", b"",
    ])


def _fields(head: bytes, newline: bytes) -> list[bytes]:
    """The header block as whole fields, each with its folded continuation lines."""
    fields: list[bytes] = []
    for line in head.splitlines():
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += newline + line
        else:
            fields.append(line)
    return fields


def _notice_part(notice: str) -> list[bytes]:
    """The header lines and body of the notice part (base64 when not ASCII)."""
    text = notice.strip() + "\n"
    if text.isascii():
        return [b'Content-Type: text/plain; charset="us-ascii"', b"Content-Disposition: inline", b"",
                text.rstrip("\n").encode("ascii")]
    encoded = base64.encodebytes(text.encode("utf-8")).rstrip(b"\n")
    return [b'Content-Type: text/plain; charset="utf-8"', b"Content-Transfer-Encoding: base64",
            b"Content-Disposition: inline", b"", encoded]


def _boundary(content: bytes) -> bytes:
    while True:
        boundary = f"=_listserv_confidential_{secrets.token_hex(12)}".encode("ascii")
        if boundary not in content:
            return boundary
