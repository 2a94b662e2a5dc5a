"""Turn raw bytes into an EmailMessage and read its headers and text without ever raising.

Posts come from strangers: a header the modern parser chokes on, an unknown
charset or a multipart whose boundary is missing must still leave us with a
subject, a sender and readable text, so every helper here falls back to a
cruder reading instead of failing.
"""

from __future__ import annotations

import datetime
import email
import functools
import email.header
import email.parser
import email.utils
import html
import re
from email import policy
from email.message import EmailMessage, Message
from email.policy import EmailPolicy
from typing import Sequence

from listserv import address_list

# The MIME structure fields read again and again (every get_content_type(), get_param(), is_multipart walk
# re-parses them): ~18 Content-Type parses a post, a fifth of the pipeline's CPU. Their few common values
# are parsed once per process. Never a field that can carry a name (a filename, a subject, an address).
STRUCTURE_FIELDS = frozenset({"content-type", "content-transfer-encoding", "mime-version"})
STRUCTURE_LONGEST = 200  # longer values are parsed each time (and never kept)


class _StructureOnce(EmailPolicy):
    """policy.default, with the structure fields' common values parsed once per process."""

    def header_fetch_parse(self, name, value):  # noqa: ANN001, ANN201 - the email package's signature
        if hasattr(value, "name") or len(value) > STRUCTURE_LONGEST or name.lower() not in STRUCTURE_FIELDS \
                or "name" in value.lower():
            return super().header_fetch_parse(name, value)
        return _structure_field(name, value)


@functools.lru_cache(maxsize=256)
def _structure_field(name: str, value: str):  # noqa: ANN201 - a headerregistry header, immutable like a str
    return policy.default.header_fetch_parse(name, value)


POLICY = _StructureOnce()  # what parse() and parse_headers() read with: policy.default in all it decides

_MSGID = re.compile(r"<([^<>\s]+)>")
_SPACE = re.compile(r"\s+")


def parse(raw: bytes) -> EmailMessage:
    """Parse with policy.default after dropping a leading mbox 'From ' envelope line.

    >>> parse(b"From ann Mon Jan  1 00:00:00 2024\\nSubject: hi\\n\\nbody\\n")["Subject"]
    'hi'
    """
    if raw.startswith(b"From "):
        raw = raw.partition(b"\n")[2]
    return email.message_from_bytes(raw, policy=POLICY)


def parse_headers(raw: bytes) -> EmailMessage:
    """The header block alone, parsed as parse() would; the body is left as one unparsed string.

    >>> parse_headers(b"Subject: hi\\nContent-Type: multipart/mixed; boundary=b\\n\\n--b\\n")["Subject"]
    'hi'
    """
    if raw.startswith(b"From "):
        raw = raw.partition(b"\n")[2]
    return email.parser.BytesParser(policy=POLICY).parsebytes(raw, headersonly=True)


def one_line(text: str) -> str:
    """Collapse folding and control whitespace so a value is safe to log, store or set again.

    >>> one_line("  a\\r\\n\\tb  ")
    'a b'
    """
    return _SPACE.sub(" ", unescaped(text)).strip()


def unescaped(text: str) -> str:
    """Turn the parser's surrogate escapes of raw 8-bit header bytes into text (UTF-8, else Latin-1).

    Left in, they make SQLite and terminals fail to encode the string.

    >>> unescaped("caf\\udcc3\\udca9"), unescaped("caf\\udce9")
    ('café', 'café')
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def header(msg: Message, name: str) -> str:
    """The decoded value of a header, '' if absent; falls back to a raw decode if parsing fails."""
    try:
        value = msg.get(name)
        text = "" if value is None else one_line(str(value))
    except Exception:  # the modern header parser has known crashes on hostile input
        return one_line(_raw_decoded(msg, name))
    if "\ufffd" in text:  # raw 8-bit bytes that are not UTF-8: the raw reading keeps them as Latin-1
        raw = one_line(_raw_decoded(msg, name))
        return raw if raw and "\ufffd" not in raw else text
    return text


def header_all(msg: Message, name: str) -> list[str]:
    """Every value of a repeatable header (List-Id, X-BeenThere), decoded, never raising."""
    return [header_value(value) for key, value in msg.raw_items() if key.lower() == name.lower()]


def _raw_decoded(msg: Message, name: str) -> str:
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return decode_words(str(value))
    return ""


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words leniently (unknown charsets and bad bytes are replaced).

    >>> decode_words("=?utf-8?q?=5Bteam=5D_caf=C3=A9?=")
    '[team] café'
    >>> decode_words("=?x-unknown?q?abc?= plain")
    'abc plain'
    """
    parts = []
    try:
        chunks = email.header.decode_header(value)
    except Exception:  # malformed encoded words: keep the text as it came
        return value
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            parts.append(chunk)
        else:
            parts.append(_decode_bytes(chunk, charset or "raw-unicode-escape"))
    return "".join(parts)


def _decode_bytes(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know, e.g. ansi_x3.110-1983
        return data.decode("utf-8", errors="replace")


def subject(msg: Message) -> str:
    """The decoded Subject on one line."""
    return header(msg, "Subject")


def sender(msg: Message) -> tuple[str | None, str]:
    """(From address normalised or None when missing or ambiguous, display name): from_mailbox() in short."""
    address, name, _problem = from_mailbox(msg)
    return address or None, name


def from_mailbox(msg: Message) -> tuple[str, str, str]:
    """(address, display name, problem) of the From: header, read as a mail program shows it.

    The one reading of the sender for posts and email commands: exactly one
    From: header naming exactly one mailbox, whose address is the angle-addr
    (listserv.address_list). The display name is decoded only after the
    address is settled, so nothing encoded in it can change the address.
    A non-empty problem means the sender is ambiguous: address and name are ''.
    """
    return mailbox_of(raw_values(msg, "From"))


def mailbox_of(from_values: Sequence[str]) -> tuple[str, str, str]:
    """from_mailbox of a message whose From: headers are these raw values (it depends on nothing else)."""
    address, name, problem = address_list.sole_mailbox(list(from_values))
    return address, address_list.clean(decode_words(name)) if name else "", problem


def raw_values(msg: Message, name: str) -> list[str]:
    """Every value of a header exactly as received (encoded words left encoded), as text; never raising."""
    return [unescaped(str(value)) for key, value in msg.raw_items() if key.lower() == name.lower()]


def message_ids(value: str) -> list[str]:
    """Every <id> in a header value, without brackets, in order, without repeats.

    >>> message_ids("<a@x> junk <b@y>\\n <a@x>")
    ['a@x', 'b@y']
    >>> message_ids("bare@id")
    ['bare@id']
    """
    found = []
    for mid in _MSGID.findall(value or ""):
        if mid not in found:
            found.append(mid)
    if not found and value and "@" in value and " " not in value.strip():
        found.append(value.strip())
    return found


def message_id(msg: Message) -> str:
    """The Message-ID without brackets, '' when missing or unusable."""
    ids = message_ids(header(msg, "Message-ID"))
    return ids[0] if ids else ""


def in_reply_to(msg: Message) -> str:
    ids = message_ids(header(msg, "In-Reply-To"))
    return ids[0] if ids else ""


def references(msg: Message) -> list[str]:
    return message_ids(header(msg, "References"))


def date(msg: Message, fallback: float) -> float:
    """The Date header as unix time, or fallback (the arrival time) when missing or nonsense."""
    value = header(msg, "Date")
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is None:  # "-0000": UTC, the sender's zone unknown (RFC 5322 3.3)
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback


def defects(msg: Message) -> list[str]:
    """Names of every defect the parser recorded in any part (for the unparseable rule)."""
    found = []
    try:
        for part in msg.walk():
            found.extend(type(defect).__name__ for defect in part.defects)
    except Exception as exc:  # walking a badly broken tree: that itself is the defect
        found.append(type(exc).__name__)
    return found


def headers(msg: Message) -> list[list[str]]:
    """Every top-level header as [name, decoded value], for a moderator's view."""
    return [[name, header_value(value)] for name, value in msg.raw_items()]


def header_value(value: object) -> str:
    return one_line(decode_words(str(value)))


def html_to_text(markup: str) -> str:
    """Readable text from HTML: tags dropped (bleach), entities resolved, blank runs squeezed.

    >>> html_to_text("<p>Hello&nbsp;<b>there</b></p><script>x()</script>")
    'Hello\\xa0there'
    """
    # Imported here, not at the top: only HTML-only posts need it, and bleach with its html5lib costs
    # every process that imports this module 10 MB resident (bench/README.md, memory).
    import bleach

    markup = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", markup)
    text = html.unescape(bleach.clean(markup, tags=set(), strip=True))
    lines = [line.strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def part_text(part: Message) -> str:
    """The text of one leaf part, surviving unknown charsets and broken multiparts."""
    try:
        content = part.get_content()
        if isinstance(content, str):
            return content
    except Exception:  # KeyError for broken multiparts, LookupError for unknown charsets
        pass
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return _decode_bytes(payload, part.get_content_charset() or "utf-8")


def body_text(msg: Message) -> str:
    """Readable text of a message: its text/plain parts, else its HTML parts stripped to text."""
    plain, markup = [], []
    try:
        leaves = [p for p in msg.walk() if not p.is_multipart()]
    except Exception:  # a tree too broken to walk: read the top part as text
        leaves = [msg]
    for part in leaves:
        kind = part.get_content_type()
        if _is_attachment(part):
            continue
        if kind == "text/plain" or (kind.startswith("multipart/") and not part.is_multipart()):
            plain.append(part_text(part))
        elif kind == "text/html":
            markup.append(html_to_text(part_text(part)))
    return "\n".join(t for t in (plain or markup) if t).strip()


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # an unparseable Content-Disposition: treat it as inline text
        return False
