"""The import fast path: one mbox message's bytes -> its archive row, parsing only what the archive needs.

policy.default builds a rich header object for every header of every part
(~0.3-2.5 ms a message); an import of 100,000 messages cannot afford that. Here
the message is parsed with compat32 (plain strings, no header registry) and
only the headers the archive stores are decoded, by the same lenient helpers
the pipeline uses (listserv.message: RFC 2047 words, raw 8-bit bytes, bad
charsets). The readable text is listserv.message.body_text, which on a
compat32 part decodes the payload by its charset (part_text's get_payload
path), so an imported post reads and searches exactly like a delivered one.

parse_chunk runs in worker processes (listserv.archive.importer), so it takes
and returns only plain, picklable values, and never raises for a message: a
message that cannot be archived comes back as the reason, in one line. Given
a Packing, it also packs each row (raw and search text in one zstd frame,
listserv.store.packing) there, on every core, rather than in the importing
process, which writes and threads alone; and it leaves the readable body text
out of the row, since the archive stores only the search text: the text of a
100,000-message import is ~300 MB that need not cross the pipe.
"""

from __future__ import annotations

import datetime
import email.utils
import functools
import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import Message
from email.parser import BytesParser

from listserv import message
from listserv.addresses import try_normalise
from listserv.archive.search import index_fields
from listserv.confidential import markers
from listserv.pipeline.decorate import unprefixed
from listserv.store import packing

WANTED = ("from", "subject", "date", "message-id", "in-reply-to", "references")
_OBFUSCATED = re.compile(r"^\s*([^\s@<>()\"]+) at ([^\s@<>()\"]+\.[^\s@<>()\"]+)")  # pipermail: "ann at example.org"
_PARSER = BytesParser(policy=policy.compat32)


@dataclass(frozen=True)
class Context:
    """What an import knows about the list the messages go to (picklable, sent to the workers)."""

    subject_prefix: str  # the list's subject prefix, removed from stored subjects as the pipeline does
    domain: str  # the list's domain, for the Message-ID of a message that has none
    now: float  # unix time of the import: received_at, and the date of a message without any
    confidential_tag: str = "[CONFIDENTIAL]"  # a subject containing it (any case) marks the post confidential
    all_confidential: bool = False  # the list makes every post confidential


class Malformed(Exception):
    """A message that cannot be archived; the text says why, in one line, without any of its content."""


@dataclass(frozen=True)
class Packing:
    """How parse_chunk packs its rows: with this dictionary, or with none (picklable, sent with each batch)."""

    dictionary: packing.Dictionary | None  # the archive's current dictionary (listserv.store.dictionaries)


def parse_chunk(
    items: list[tuple[bytes, float | None]], context: Context, packed: Packing | None = None,
) -> list[tuple[dict | None, str, bool]]:
    """(row without raw, '', has_defects) for each message, or (None, reason, False) for a malformed one.

    With `packed`, each row also carries its frame (packed, packed_with: the dictionary's id, 0 for none;
    listserv.store.messages stores it as it is when that is still the archive's dictionary) and no body_text.
    """
    results: list[tuple[dict | None, str, bool]] = []
    for data, envelope_date in items:
        try:
            row, defective = archive_row(data, envelope_date, context)
        except Malformed as exc:
            results.append((None, str(exc), False))
        else:
            results.append((_packed(row, data, packed) if packed else row, "", defective))
    return results


def _packed(row: dict, data: bytes, packed: Packing) -> dict:
    dictionary = packed.dictionary
    del row["body_text"]  # the search text (index_fields) is what the archive keeps
    row["packed"] = packing.pack(data, row["search_text"], dictionary)
    row["packed_with"] = dictionary.id if dictionary else 0
    return row


def archive_row(data: bytes, envelope_date: float | None, context: Context) -> tuple[dict, bool]:
    """The archive row of one message (raw not included) and whether the parser found defects.

    Raises Malformed for an empty entry, one that cannot be parsed, and one
    without a single header line (typically the second half of a message cut
    by an unescaped "From " line in an mboxo file). A message with headers but
    no From, Subject, Date or Message-ID is archived all the same: it gets the
    From_ line's date and a Message-ID made from its bytes.
    """
    if not data.strip():
        raise Malformed("empty message")
    try:
        msg = _PARSER.parsebytes(data)
        headers = _headers(msg)
    except Exception as exc:  # the compat32 parser almost never raises; if it does, report the type only
        raise Malformed(f"cannot be parsed ({type(exc).__name__})") from None
    if not msg.keys():
        raise Malformed("no header lines (a piece of another message?)")
    return _row(msg, headers, data, envelope_date, context), _defective(msg)


def _headers(msg: Message) -> dict[str, str]:
    """The first value of each WANTED header, decoded to one line of text."""
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = name.strip().lower()
        if key in WANTED and key not in found:
            found[key] = message.header_value(value)
    return found


def _row(msg: Message, headers: dict[str, str], data: bytes, envelope_date: float | None, context: Context) -> dict:
    ids = message.message_ids(headers.get("message-id", ""))
    replied = message.message_ids(headers.get("in-reply-to", ""))
    subject = headers.get("subject", "")
    sender, name = author(msg, headers.get("from", ""))
    body = message.body_text(msg)
    found = markers.examine(msg, data, context.confidential_tag, context.all_confidential)  # as the pipeline does
    return {
        "message_id": ids[0] if ids else made_message_id(data, context.domain),
        "date": date_of(headers.get("date", ""), envelope_date if envelope_date is not None else context.now),
        "received_at": context.now, "sender": sender, "sender_name": name,
        "subject": unprefixed(subject, context.subject_prefix) if context.subject_prefix else subject,
        "in_reply_to": replied[0] if replied else "",
        "refs": " ".join(message.message_ids(headers.get("references", ""))),
        "body_text": body, "confidential": bool(found.markers), "referenced": found.referenced,
        **index_fields(msg, body),
    }


def made_message_id(data: bytes, domain: str) -> str:
    """A Message-ID for a message without one, from its bytes: the scheme of pipeline.decorate, so a
    post archived without one and the same bytes imported later are recognised as one post."""
    return f"listserv.{hashlib.sha256(data).hexdigest()[:32]}@{domain}"


def date_of(value: str, fallback: float) -> float:
    """A Date header as unix time; fallback when missing or nonsense; a zone-less date is UTC.

    >>> date_of("Tue, 01 Jan 2019 10:00:00 +0000", 0.0), date_of("yesterday", 7.0)
    (1546336800.0, 7.0)
    """
    try:
        parsed = email.utils.parsedate_to_datetime(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        return parsed.timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return fallback


def author(msg: Message, decoded_from: str) -> tuple[str, str]:
    """(address, display name) of the From: as the pipeline reads it (message.from_mailbox: the angle-addr,
    one mailbox, never changed by a display name); ('', '') when that is ambiguous. Only a From without any
    @ is read the old way, for pipermail's 'x at y'."""
    if "@" not in decoded_from:
        return sender_of(decoded_from)
    return _mailbox(tuple(message.raw_values(msg, "From")))


@functools.lru_cache(maxsize=4096)
def _mailbox(from_values: tuple[str, ...]) -> tuple[str, str]:
    """message.mailbox_of, remembered by the From values: a list's posts come from a few hundred senders, and
    reading one (address syntax, email_validator's checks) was a tenth of a parse worker's time."""
    address, name, _ = message.mailbox_of(from_values)
    return address, name


def sender_of(value: str) -> tuple[str, str]:
    """(normalised address or '', display name) of a decoded From value; pipermail's 'x at y' is understood.

    >>> sender_of("José Ruiz <Jose@Example.ORG>"), sender_of("ann at example.org (Ann Lee)")
    (('jose@example.org', 'José Ruiz'), ('ann@example.org', 'Ann Lee'))
    """
    if "@" not in value:
        value = _OBFUSCATED.sub(r"\1@\2", value)
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:  # getaddresses has crashed on hostile input in some Python versions
        return "", ""
    for name, address in pairs:
        norm = _normalised(address) if address else None
        if norm:
            return norm, message.one_line(name)
    return "", ""


@functools.lru_cache(maxsize=4096)
def _normalised(address: str) -> str | None:
    """try_normalise, remembered: an archive has a few hundred senders and the check costs ~40 µs."""
    return try_normalise(address)


def _defective(msg: Message) -> bool:
    """Whether the parser recorded a defect in any part (the message is imported all the same)."""
    try:
        return any(part.defects for part in msg.walk())
    except Exception:  # a tree too broken to walk is defective
        return True
