"""Is a message marked confidential, and which Message-IDs does it refer to: pure functions, one answer everywhere.

The pipeline (posts, -owner mail, bounces, email commands) and `archive
import` call examine() here, so a marker that counts on
one path counts on every path. A marker counts wherever the message carries
it: its own headers, the headers of an enclosed message (a forward, a
delivery report's returned copy or its text/rfc822-headers part), and
header lines quoted in any text part (`> Subject: [CONFIDENTIAL] ...`,
`> Message-ID: <...>`), after undoing any transfer encoding, at any MIME depth.

When the message cannot be read to the end (it does not parse, or it holds
more parts than SCAN_PARTS), classify() says so ("unparsed", "unscanned"):
callers treat such a message as confidential, because they cannot tell.
"""

from __future__ import annotations

import html
import re
import unicodedata
from email import message_from_bytes, policy
from email.message import Message
from typing import Iterator, NamedTuple

from listserv import message
from listserv.addresses import candidates

SENSITIVE = ("private", "company-confidential")  # Sensitivity values that mark a post (RFC 2156; Outlook sets them)
SCAN_PARTS = 2_000  # parts (enclosed ones included) read before giving up and calling the message unscanned
SCAN_BYTES = 32 << 20  # decoded bytes read at most, for the same reason
MAX_IDS = 1_000  # Message-IDs returned at most (each one is looked up in the store)
_SENSITIVITY = re.compile(r"\bsensitivity[ \t]*:[ \t]*(private|company-confidential)\b", re.IGNORECASE)
_SUBJECT_LINE = re.compile(r"\bsubject[ \t]*:([^\r\n]*)", re.IGNORECASE)
_ID_TOKEN = re.compile(r"<([^<>\s@]{1,250}@[^<>\s@]{1,250})>")
_ID_LINE = re.compile(r"\b(?:message-id|in-reply-to|references)[ \t]*:[ \t]*<?([^\s<>@]{1,250}@[^\s<>@]{1,250})",
                      re.IGNORECASE)
_HEADER_BLOCK = re.compile(rb"\A(?:[!-9;-~]+:[^\r\n]*\r?\n(?:[ \t][^\r\n]*\r?\n)*)+")


def folded(text: str) -> str:
    """Text as compared for markers: NFKC (full-width brackets are brackets), invisible format characters
    (zero-width spaces and joiners, direction marks) removed, and case-folded.

    >>> folded("［Confidential］"), folded("[CONFI\u200bDENTIAL\u200e]")
    ('[confidential]', '[confidential]')
    """
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return text.casefold()


def has_tag(subject: str, tag: str) -> bool:
    """The tag appears in the subject, in any case, in any width.

    >>> has_tag("Re: [Confidential] records", "[CONFIDENTIAL]"), has_tag("records", "[CONFIDENTIAL]")
    (True, False)
    >>> has_tag("RE: ［ＣＯＮＦＩＤＥＮＴＩＡＬ］ x", "[CONFIDENTIAL]"), has_tag("x", "")
    (True, False)
    """
    return bool(tag) and folded(tag) in folded(subject)


def sensitive(value: str) -> bool:
    """A Sensitivity value that marks a post: its first word, comments and parameters ignored.

    >>> [sensitive(v) for v in ("Private; x", "private (outlook)", " Company-Confidential", "Personal")]
    [True, True, True, False]
    """
    word = re.split(r"[\s;(]", folded(value).strip(), maxsplit=1)[0]
    return word in SENSITIVE


def envelope_confidential(rcpt_tos: list[str]) -> bool:
    """True when any envelope recipient is a NAME+confidential@ address: the sender marked the whole message.

    >>> envelope_confidential(["team@example.org", "other+confidential@example.org"])
    True
    """
    return any(c.role == "confidential" for rcpt in rcpt_tos for c in candidates(rcpt)[:1])


class Findings(NamedTuple):
    """What one read of a message found: marker names (for the log, never content) and Message-IDs."""

    markers: list[str]
    referenced: list[str]


def examine(msg: Message | None, raw: bytes, tag: str, all_confidential: bool = False) -> Findings:
    """The markers a message carries and the Message-IDs it refers to, in one walk over its parts.

    Markers: list (the list makes every post confidential); tag and
    sensitivity (the message's own headers); enclosed (an enclosed message or
    a quoted header line); unparsed / unscanned (the message could not be read
    to the end). Message-IDs: In-Reply-To and References, then those inside it
    (the Message-ID, In-Reply-To and References of enclosed messages, <id>
    tokens and Message-ID lines of its decoded text), at most MAX_IDS. Works on
    a policy.default or a compat32 message alike.
    """
    found = ["list"] if all_confidential else []
    if msg is None:  # nobody can tell what it holds: confidential, and its raw <id> tokens still count
        return Findings([*found, "unparsed"], list(dict.fromkeys(_ids_in(raw.decode("latin-1"))))[:MAX_IDS])
    if any(has_tag(subject, tag) for subject in subjects(msg)):
        found.append("tag")
    if any(sensitive(value) for value in message.header_all(msg, "Sensitivity")):
        found.append("sensitivity")
    scan = Scan(msg)
    try:
        if any(_text_marked(t, tag) for t in scan.texts()) or any(_headers_marked(m, tag) for m in scan.enclosed):
            found.append("enclosed")
        referenced = _referenced(msg, scan)
    except Exception:  # a part tree the email package cannot walk: what it hides cannot be told
        scan.incomplete, referenced = True, header_ids(msg)
    if scan.incomplete:
        found.append("unscanned")
    return Findings(found, referenced)


def classify(msg: Message | None, raw: bytes, tag: str, all_confidential: bool = False) -> list[str]:
    """The markers of examine(), empty when the message carries none."""
    return examine(msg, raw, tag, all_confidential).markers


def subjects(msg: Message) -> list[str]:
    """Every reading of every Subject header: decoded leniently and as written (8-bit bytes as UTF-8 or Latin-1)."""
    found = []
    for name, value in msg.raw_items():
        if name.lower() == "subject":
            found += [message.header_value(value), message.unescaped(str(value))]
    return found


def header_ids(msg: Message) -> list[str]:
    """Every Message-ID the message's own In-Reply-To and References name, in order, without repeats."""
    named: list[str] = []
    for header in ("In-Reply-To", "References"):
        for value in message.header_all(msg, header):
            named += message.message_ids(value)
    return list(dict.fromkeys(named))


def _referenced(msg: Message, scan: Scan) -> list[str]:
    found = header_ids(msg)
    for text in scan.texts():
        found += _ids_in(text)
        if len(found) > MAX_IDS:
            break
    for inner in scan.enclosed:
        found += [i for name in ("Message-ID", "In-Reply-To", "References")
                  for value in message.header_all(inner, name) for i in message.message_ids(value)]
    return list(dict.fromkeys(found))[:MAX_IDS]


class Scan:
    """One walk over a message's parts: the decoded text of its leaves and the enclosed messages' headers.

    Iterative and bounded (SCAN_PARTS, SCAN_BYTES): the depth and the number of
    parts are the sender's choice. incomplete is True when the bounds stopped it.
    """

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.enclosed: list[Message] = []
        self.incomplete = False
        self._texts: list[str] | None = None

    def texts(self) -> list[str]:
        if self._texts is None:
            self._texts = list(self._walk())
        return self._texts

    def _walk(self) -> Iterator[str]:
        pending, seen, budget = [self.msg], 0, SCAN_BYTES
        while pending:
            part = pending.pop()
            seen += 1
            if seen > SCAN_PARTS or budget <= 0:
                self.incomplete = True
                return
            children = part.get_payload()
            if isinstance(children, list):
                kids = [child for child in children if isinstance(child, Message)]
                if part.get_content_maintype() == "message":
                    kids = [_reencoded(part, kid) for kid in kids]
                    self.enclosed += kids
                pending.extend(reversed(kids))
                continue
            if not _readable(part):
                continue
            data = _decoded(part)
            budget -= len(data)
            inner = _enclosed_bytes(part, data)
            if inner is not None:
                self.enclosed.append(inner)
                pending.append(inner)
            yield _text(part, data)


def _reencoded(container: Message, kid: Message) -> Message:
    """The enclosed message of a message/* part that carries a transfer encoding (not allowed, but sent): the
    parser read the encoded text as a body without headers; decoded and parsed again, it shows its headers."""
    encoding = str(container.get("Content-Transfer-Encoding", "")).strip().lower()
    payload = kid.get_payload()
    if encoding not in ("base64", "quoted-printable") or kid.keys() or not isinstance(payload, str):
        return kid
    shell = Message()
    shell["Content-Transfer-Encoding"] = encoding
    shell.set_payload(payload)
    data = _decoded(shell)
    return _parsed(data) or kid


def _readable(part: Message) -> bool:
    """A leaf that can hold text a person reads or a returned message: text/*, message/*, an attached
    .eml or .txt, or a leaf with no usable type."""
    kind = part.get_content_type()
    if kind.split("/")[0] in ("text", "message"):
        return True
    name = (_filename(part) or "").lower()
    return name.endswith((".eml", ".txt", ".msg")) or kind == "application/octet-stream" and not name


def _decoded(part: Message) -> bytes:
    """A leaf's payload with its transfer encoding undone; the raw payload when that fails."""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a broken encoding: read what is there
        data = None
    if isinstance(data, bytes):
        return data
    payload = part.get_payload()
    return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""


def _enclosed_bytes(part: Message, data: bytes) -> Message | None:
    """An enclosed message the parser left as bytes (message/* or rfc822-headers with a transfer encoding,
    or an attached .eml): parsed, so its headers and parts are read too."""
    kind = part.get_content_type()
    name = (_filename(part) or "").lower()
    if not (kind.startswith("message/") or kind == "text/rfc822-headers" or name.endswith(".eml")):
        return None
    return _parsed(data)


def _parsed(data: bytes) -> Message | None:
    """Bytes that start with a header block, parsed (compat32: lenient and cheap); None otherwise."""
    if not _HEADER_BLOCK.match(data.lstrip()):
        return None
    try:
        return message_from_bytes(data.lstrip(), policy=policy.compat32)
    except Exception:  # the enclosed bytes are the sender's: what does not parse is still scanned as text
        return None


def _filename(part: Message) -> str | None:
    try:
        return part.get_filename()
    except Exception:  # a malformed Content-Disposition: no usable name
        return None


def _text(part: Message, data: bytes) -> str:
    """Decoded text of a leaf (its charset, else UTF-8, else Latin-1), HTML entities undone for HTML."""
    charset = part.get_content_charset() or "utf-8"
    try:
        text = data.decode(charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        text = data.decode("utf-8", errors="replace") if _is_utf8ish(data) else data.decode("latin-1")
    if part.get_content_subtype() == "html" or "&" in text:
        text += "\n" + html.unescape(re.sub(r"<[^>]{0,500}>", " ", text))
    return text


def _is_utf8ish(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _text_marked(text: str, tag: str) -> bool:
    """A Subject line with the tag, or a confidential Sensitivity line, anywhere in the text (quoted or not)."""
    if _SENSITIVITY.search(text):
        return True
    return bool(tag) and any(has_tag(message.decode_words(line), tag) for line in _SUBJECT_LINE.findall(text))


def _headers_marked(msg: Message, tag: str) -> bool:
    """An enclosed message's own Subject has the tag or its Sensitivity is confidential."""
    return any(has_tag(subject, tag) for subject in subjects(msg)) or any(
        sensitive(value) for value in message.header_all(msg, "Sensitivity")
    )


def _ids_in(text: str) -> list[str]:
    """<id> tokens and the ids of Message-ID/In-Reply-To/References lines, in order."""
    return [m.group(1) for m in _ID_TOKEN.finditer(text)] + _ID_LINE.findall(text)
