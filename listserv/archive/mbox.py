"""The mbox format: read a file's messages as a stream; write messages as mboxrd (listserv.archive.exporter).

Reading. The file is read in CHUNK-byte blocks and cut at From_ lines, so memory
holds one message and one block, whatever the size of the file. mailbox.mbox
is not used: it first scans the whole file for a table of contents and then
seeks to each message, which reads everything twice, and it splits on every
line starting with "From ", which in Mailman 2 / pipermail archives (mboxo,
where a body's own "From " lines were not always escaped) cuts messages in
two. Here a separator is a line that looks like an envelope:
"From SENDER DAY MON DD HH:MM[:SS] [ZONE] YYYY" (Mailman's cleanarch rule;
pipermail's "SENDER" may be "ann at example.org"). The first line of the file
is taken as a separator whatever follows "From ". A separator need not follow
a blank line, so a writer that forgot one does not merge two messages.

Unescaping is mboxrd: every body line matching ^>+From loses one '>'. That is
the exact inverse of our export, and for mboxo files (Mailman 2, mutt, Python's
mailbox) it gives the same result as an mboxo reader for the common case
(">From " becomes "From "); only a line that was literally ">>From ..." in an
mboxo file comes back with one '>' less, a loss mboxo itself already has in
the other direction. One trailing blank line (the separator's) is removed.

Writing (export) is mboxrd: ^>*From lines get one more '>', each message ends
with a blank line, and the From_ line carries the sender and the Date in UTC,
which mailbox.mbox, mutt and this reader all read back.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from listserv.errors import BadMbox

CHUNK = 1 << 20  # bytes read at a time
MAX_ENTRY = 64 << 20  # bytes: a longer entry is skipped (and reported) instead of held in memory
_SEPARATOR = re.compile(
    rb"^From [^ \t\r\n]+(?: at [^ \t\r\n]+)?[ \t]+\w{3}[ \t]+\w{3}[ \t]+\d{1,2}[ \t]+\d{1,2}:\d\d(?::\d\d)?"
    rb"(?:[ \t]+[^ \t\r\n]+)?[ \t]+\d{4}\b[^\n]*\n",
    re.MULTILINE,
)
_ENVELOPE_DATE = re.compile(rb"(\w{3})[ \t]+(\d{1,2})[ \t]+(\d{1,2}):(\d\d)(?::(\d\d))?(?:[ \t]+\S+)?[ \t]+(\d{4})")
_ESCAPED = re.compile(rb"^>(>*From )", re.MULTILINE)
_TO_ESCAPE = re.compile(rb"^(>*From )", re.MULTILINE)
_MONTHS = {name.encode(): number for number, name in enumerate(calendar.month_abbr) if name}


@dataclass(frozen=True)
class Entry:
    """One message of an mbox: where it is and its bytes (None when it was too large to keep)."""

    number: int  # 1-based position in the file
    offset: int  # byte offset of its From_ line
    envelope: bytes  # the From_ line without its line end
    data: bytes | None  # the message, unescaped, without the From_ line and the separating blank line

    def envelope_date(self) -> float | None:
        """The From_ line's date as unix time (UTC), or None when it has none we can read.

        >>> Entry(1, 0, b"From ann at x.org  Tue Jan  1 10:00:00 2019", b"").envelope_date()
        1546336800.0
        """
        found = _ENVELOPE_DATE.search(self.envelope)
        month = _MONTHS.get(found.group(1).title()) if found else None
        if not month:
            return None
        day, hour, minute, second, year = (int(g or 0) for g in found.group(2, 3, 4, 5, 6))
        try:
            return float(calendar.timegm((year, month, day, hour, minute, second)))
        except (ValueError, OverflowError):
            return None


def check(stream: BinaryIO, name: str) -> None:
    """Raise BadMbox unless the file starts (after blank lines) with a 'From ' line; rewinds the stream."""
    head = stream.read(4096).lstrip(b"\r\n\t ")
    stream.seek(0)
    if not head:
        raise BadMbox(f"{name} is empty: nothing to import")
    if not head.startswith(b"From "):
        raise BadMbox(f"{name} is not an mbox: it does not start with a 'From ' line")


def entries(stream: BinaryIO, chunk: int = CHUNK) -> Iterator[Entry]:
    """Every message of an mbox stream, in order, read incrementally (see the module docstring)."""
    reader = _Splitter()
    while block := stream.read(chunk):
        yield from reader.feed(block)
    yield from reader.finish()


class _Splitter:
    """Cuts a byte stream at From_ lines; holds the current message and the last incomplete line.

    Invariants between calls: buffer[0] is the From_ line of the current
    message (start == 0) or, with no current message (start is None), the
    start of a line; buffer[:scanned] holds complete lines already searched.
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.base = 0  # file offset of buffer[0]
        self.start: int | None = None  # buffer offset of the current message's From_ line
        self.scanned = 0  # buffer offset up to which complete lines were searched
        self.number = 0  # entries yielded so far
        self.in_long_line = False  # inside a line longer than MAX_ENTRY: skip to its end

    def feed(self, block: bytes) -> Iterator[Entry]:
        """Take the next block of the file; yield the messages it completes."""
        if self.in_long_line:
            block = self._skip_line(block)
        self.buffer += block
        complete = self.buffer.rfind(b"\n", self.scanned) + 1
        if complete:
            yield from self._cut(complete)
        yield from self._limit()

    def finish(self) -> Iterator[Entry]:
        """At the end of the file: yield the last message."""
        if self.buffer and not self.buffer.endswith(b"\n"):
            self.buffer += b"\n"  # the last line may lack its line end
            yield from self._cut(len(self.buffer))
        if self.start is not None:
            yield self._entry(self.start, len(self.buffer))

    def _cut(self, end: int) -> Iterator[Entry]:
        """Find separators in the complete lines buffer[scanned:end]; yield the messages they close."""
        if self.base == 0 and self.start is None and self.scanned == 0:
            self._first_line(end)
        for at in self._separators(end):
            if self.start is not None:
                yield self._entry(self.start, at)
            self.start = at
        keep = self.start if self.start is not None else end  # lines outside any message are dropped
        self.buffer, self.base, self.scanned = self.buffer[keep:], self.base + keep, end - keep
        self.start = 0 if self.start is not None else None

    def _separators(self, end: int) -> Iterator[int]:
        """Offsets of the From_ lines among the complete lines buffer[scanned:end].

        bytes.find for "\\nFrom " first (fast), the full _SEPARATOR test only there.
        """
        if self.scanned == 0 and _SEPARATOR.match(self.buffer, 0, end):
            yield 0  # buffer[0] starts a line not searched yet (no current message)
        at = max(self.scanned - 1, 0)  # the newline that ends the last searched line
        while (at := self.buffer.find(b"\nFrom ", at, end)) >= 0:
            if _SEPARATOR.match(self.buffer, at + 1, end):
                yield at + 1
            at += 1

    def _first_line(self, end: int) -> None:
        """The file's first non-blank line starts the first message whatever follows 'From ' (check() saw it)."""
        first = len(self.buffer) - len(self.buffer.lstrip(b"\r\n\t "))
        line_end = self.buffer.find(b"\n", first) + 1
        if self.buffer.startswith(b"From ", first) and 0 < line_end <= end:
            self.start, self.scanned = first, line_end

    def _limit(self) -> Iterator[Entry]:
        """Report and drop a message longer than MAX_ENTRY; its remaining lines are dropped as they come."""
        if self.start is not None and len(self.buffer) > MAX_ENTRY:
            self.number += 1
            yield Entry(self.number, self.base + self.start, self._envelope(self.start), None)
            self.buffer, self.base = self.buffer[self.scanned:], self.base + self.scanned
            self.start, self.scanned = None, 0
        if len(self.buffer) > MAX_ENTRY:  # one line longer than MAX_ENTRY: drop it up to its end
            self.base += len(self.buffer)
            self.buffer, self.in_long_line = b"", True

    def _skip_line(self, block: bytes) -> bytes:
        """The part of block after the end of the overlong line being skipped."""
        line_end = block.find(b"\n") + 1
        if not line_end:
            self.base += len(block)
            return b""
        self.base += line_end
        self.in_long_line = False
        return block[line_end:]

    def _envelope(self, start: int) -> bytes:
        return self.buffer[start : self.buffer.find(b"\n", start)].rstrip(b"\r")

    def _entry(self, start: int, end: int) -> Entry:
        """The message from buffer[start] (its From_ line) to buffer[end]."""
        line_end = self.buffer.find(b"\n", start) + 1
        self.number += 1
        return Entry(self.number, self.base + start, self._envelope(start), unescape(self.buffer[line_end:end]))


def unescape(data: bytes) -> bytes:
    """One entry's bytes as the message: mboxrd unescaping, and the separating blank line removed.

    >>> unescape(b"Subject: x\\n\\n>From here\\n>>From there\\n\\n")
    b'Subject: x\\n\\nFrom here\\n>From there\\n'
    """
    if b">From " in data:
        data = _ESCAPED.sub(rb"\1", data)
    if data.endswith(b"\r\n\r\n"):
        return data[:-2]
    if data.endswith(b"\n\n"):
        return data[:-1]
    return data


def escape(raw: bytes) -> bytes:
    """A message ready for an mboxrd file: no leading From_ line, From lines escaped, ends in a blank line.

    >>> escape(b"Subject: x\\n\\nFrom here\\n>From there")
    b'Subject: x\\n\\n>From here\\n>>From there\\n\\n'
    """
    if raw.startswith(b"From "):
        raw = raw.partition(b"\n")[2]
    raw = _TO_ESCAPE.sub(rb">\1", raw)
    if not raw.endswith(b"\n"):
        raw += b"\n"
    return raw + (b"\r\n" if raw.endswith(b"\r\n") else b"\n")


def from_line(sender: str, date: float) -> bytes:
    """The From_ line of an exported message: sender (MAILER-DAEMON when unknown) and its date in UTC.

    >>> from_line("ann@example.org", 1546336800.0)
    b'From ann@example.org Tue Jan  1 10:00:00 2019\\n'
    """
    envelope = sender if sender and not any(ch.isspace() for ch in sender) else "MAILER-DAEMON"
    try:
        when = time.gmtime(date)
    except (OverflowError, OSError, ValueError):  # a nonsense Date header
        when = time.gmtime(0)
    return f"From {envelope} {time.asctime(when)}\n".encode("utf-8", "replace")
