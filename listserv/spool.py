"""Read the message after DATA, keeping at most a threshold in memory and the rest in a temp file.

200 sessions each sending 9 MB without the final dot once grew the daemon by
gigabytes that never came back. Here a session holds at most `above` bytes
(plus the stream's own buffer); the rest goes to an anonymous temp file next to
the database (mode 0600, unlinked from the start), so the kernel frees it the
moment the session ends, however it ends. The whole message is in memory only
while it is committed.
"""

from __future__ import annotations

import asyncio
import tempfile
from typing import IO

SPOOL_ABOVE = 262144  # the default for [server] spool_above


class Spool:
    """The unstuffed message so far: a file for what passed the threshold, memory for the tail."""

    def __init__(self, directory: str | None, above: int) -> None:
        self.directory, self.above = directory, above
        self.kept = bytearray()  # received, not yet unstuffed or spilled
        self.received = 0  # bytes received before `kept` (the size limit counts the bytes sent)
        self.file: IO[bytes] | None = None
        self.line_start = True  # what was spilled ended a line, so a dot next is a stuffed one

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()

    @property
    def size(self) -> int:
        return self.received + len(self.kept)

    def ended(self) -> bool:
        """True when `kept` ends with the lone-dot line that ends DATA (RFC 5321 4.5.2)."""
        end = len(self.kept) - 3
        if not self.kept.endswith(b".\r\n"):
            return False
        return (end == 0 and self.received == 0) or self.kept[end - 2 : end] == b"\r\n"

    def spill(self) -> None:
        """Past the threshold, and from then on after every read, move all of `kept` but its last bytes to the file.

        The cut never splits a CRLF, so every "CRLF dot" is whole on one side.
        """
        if self.file is None and len(self.kept) <= self.above:
            return
        cut = len(self.kept) - 2
        if self.kept[cut - 1 : cut] == b"\r":
            cut -= 1
        if cut <= 0:
            return
        if self.file is None:
            self.file = tempfile.TemporaryFile(dir=self.directory, prefix="listserv-data-")
        self.file.write(self._unstuffed(bytes(self.kept[:cut])))
        self.received += cut
        self.kept = bytearray(self.kept[cut:])  # a new small buffer: `del` would keep the big one allocated

    def drop(self) -> None:
        """Over the size limit: forget what came so far but the tail that may begin the end marker."""
        self.received += max(len(self.kept) - 2, 0)
        del self.kept[:-2]

    def content(self) -> bytes:
        """The whole unstuffed message, end marker removed."""
        tail = self._unstuffed(bytes(self.kept[: len(self.kept) - 3]))
        if self.file is None:
            return tail
        self.file.seek(0)
        return self.file.read() + tail

    def _unstuffed(self, piece: bytes) -> bytes:
        r"""Remove the dot RFC 5321 4.5.2 added to every line that starts with one, across pieces.

        >>> spool = Spool(None, 0)
        >>> spool._unstuffed(b"..hidden\r\nplain\r\n"), spool._unstuffed(b"..\r\n")
        (b'.hidden\r\nplain\r\n', b'.\r\n')
        """
        if self.line_start and piece.startswith(b"."):
            piece = piece[1:]
            self.line_start = False
        if piece:
            self.line_start = piece.endswith(b"\r\n")
        return piece.replace(b"\r\n.", b"\r\n")


async def read_data(
    reader: asyncio.StreamReader,
    limit: int | None,
    spool_dir: str | None = None,
    spool_above: int = SPOOL_ABOVE,
) -> bytes | None:
    """The message after DATA, dot-unstuffed; None when it passed `limit` (read to its end anyway)."""
    with Spool(spool_dir, spool_above) as spool:
        too_big, line_start = False, True
        while True:
            piece = await _next_piece(reader, line_start)
            spool.kept += piece
            line_start = piece.endswith(b"\r\n")
            if spool.ended():
                break
            if limit and spool.size > limit + 2:
                too_big = True
                spool.drop()
            else:
                spool.spill()
        if too_big or (limit and spool.size - 3 > limit):
            return None
        return spool.content()


async def _next_piece(reader: asyncio.StreamReader, line_start: bool) -> bytes:
    """The next bytes of DATA, ending with the end marker when it comes, never reading past it.

    The marker is CRLF "." CRLF. Mid-line, one search for LF "." CRLF
    finds it (the CR before is already read, or comes with it), so a 5 KB
    post is one read rather than one per line that ends with a full stop.
    At a line start (the beginning of DATA, or after a piece that ended with
    CRLF) its LF is read already: a lone-dot line there is told by its first
    three bytes. Bytes after the marker (a pipelined next command) stay in
    the stream.
    """
    if line_start:
        first = await reader.readexactly(1)
        return first + await reader.readexactly(2) if first == b"." else first
    try:
        return await reader.readuntil(b"\n.\r\n")
    except asyncio.LimitOverrunError as exc:  # a long stretch without the marker: take it and go on
        return await reader.readexactly(exc.consumed)
