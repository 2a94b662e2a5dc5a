"""The DATA reader: RFC 5321 4.5.2 transparency and the end marker, on a real asyncio StreamReader."""

from __future__ import annotations

import asyncio

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
