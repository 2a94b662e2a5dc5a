"""The DATA reader: RFC 5321 4.5.2 transparency and the end marker, on a real asyncio StreamReader."""

from __future__ import annotations

import asyncio
import random

import pytest

from listserv.spool import read_data


async def read(stream: bytes, limit: int | None = 10_000, reader_limit: int = 1 << 20) -> tuple[bytes | None, bytes]:
    reader = asyncio.StreamReader(limit=reader_limit)
    reader.feed_data(stream)
    reader.feed_eof()
    content = await read_data(reader, limit)
    return content, await reader.read()


@pytest.mark.parametrize(
    "stream, content",
    [
        (b".\r\n", b""),  # an empty message
        (b"one line\r\n.\r\n", b"one line\r\n"),
        (b"x\r\n.\r\n", b"x\r\n"),
        (b"Ends a sentence.\r\nAnd another.\r\n.\r\n", b"Ends a sentence.\r\nAnd another.\r\n"),
        (b"..\r\n.\r\n", b".\r\n"),  # a line that is a single dot, stuffed
        (b"..leading dot\r\n...two\r\n.\r\n", b".leading dot\r\n..two\r\n"),
        (b"a.\r\nb\r\n.\r\nQUIT\r\n", b"a.\r\nb\r\n"),
        (b"\r\n.\r\n", b"\r\n"),  # one empty line
        (b"bare\n.\r\n.\r\n", b"bare\n.\r\n"),  # a dot line after a bare LF does not end the message
        (b"bare\n.\r\nend\r\n.\r\n", b"bare\n.\r\nend\r\n"),
        (b"x\r\n.\rno\r\n.\r\n", b"x\r\n\rno\r\n"),  # a dot then a lone CR is a stuffed line, not the end
        (b"..\r\n..\r\n.\r\nMAIL FROM:<a@b.org>\r\n", b".\r\n.\r\n"),
    ],
)
async def test_end_marker_and_unstuffing(stream, content):
    """The message ends at the first line that is a lone dot; stuffed dots are removed."""
    got, rest = await read(stream)
    assert got == content
    assert rest == stream[stream.index(b"\r\n.\r\n") + 5 :] if b"\r\n.\r\n" in stream else rest == b""


async def test_what_follows_the_end_is_left_for_the_next_command():
    """A client that pipelines QUIT after the dot still gets its QUIT read as a command."""
    _, rest = await read(b"body\r\n.\r\nQUIT\r\n")
    assert rest == b"QUIT\r\n"


async def test_long_stretches_without_a_dot_line_are_read_whole():
    """Two MiB of base64-like lines with no '.<CRLF>' (past the reader's 1 MiB buffer) arrive intact."""
    body = (b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\r\n" * 60_000)
    got, _ = await read(body + b".\r\n", limit=None, reader_limit=1 << 20)
    assert got == body


async def test_over_the_limit_is_read_to_the_end_and_refused():
    """An oversize message is consumed up to its end marker (so the session goes on) and reported as None."""
    got, rest = await read(b"y" * 50 + b".\r\n" + b"z" * 100 + b"\r\n.\r\nNOOP\r\n", limit=80)
    assert got is None
    assert rest == b"NOOP\r\n"


async def test_exactly_at_the_limit_is_kept():
    """A message of exactly `limit` bytes is accepted."""
    body = b"a" * 8 + b"\r\n"
    got, _ = await read(body + b".\r\n", limit=len(body))
    assert got == body


async def test_any_message_is_read_as_a_line_by_line_reader_reads_it():
    """Random messages of dots, CRs, LFs and text, in a stream of small writes: the content and what is left
    after the marker are those of the plain line-by-line reading of RFC 5321 4.5.2."""
    rng = random.Random(7)
    for _ in range(300):
        pieces = [b".", b"..", b"a.", b".b", b"", b"\r", b"x\ny", b"text."]
        lines = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        stuffed = b"".join((b"." + line if line.startswith(b".") else line) + b"\r\n" for line in lines)
        stream = stuffed + b".\r\nNOOP\r\n"
        reader = asyncio.StreamReader(limit=16)
        for start in range(0, len(stream), 3):
            reader.feed_data(stream[start : start + 3])
        reader.feed_eof()
        got = await read_data(reader, None)
        assert got == _reference(stream), stream
        assert await reader.read() == stream[len(stuffed) + 3 :]


def _reference(stream: bytes) -> bytes:
    """The message as a reader taking one CRLF-ended line at a time sees it (bare CR or LF inside a line)."""
    out, position = [], 0
    while True:
        end = stream.index(b"\r\n", position) + 2
        line = stream[position:end]
        if line == b".\r\n":
            return b"".join(out)
        out.append(line[1:] if line.startswith(b".") else line)
        position = end
