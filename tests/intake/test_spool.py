"""Big DATA goes to a temp file past spool_above, and comes back byte for byte as if kept in memory."""

from __future__ import annotations

import asyncio
import os

import pytest

from listserv.spool import Spool, read_data

STREAMS = [
    b".\r\n",
    b"..leading dot\r\n...two\r\n.\r\n",
    b"line\r\n" * 50 + b"..\r\n" + b"after\r\n.\r\n",
    b"x" * 300 + b"\r\n..dot at a line start\r\n" * 40 + b".\r\n",
    b"\r\n" * 200 + b"..\r\n\r\n.\r\n",
    (b"a.\r\nb\r\n" * 70) + b".\r\n",
]


async def read(stream: bytes, directory, above: int, limit: int | None = 100_000, reader_limit: int = 64):
    reader = asyncio.StreamReader(limit=reader_limit)
    reader.feed_data(stream)
    reader.feed_eof()
    return await read_data(reader, limit, str(directory), above)


@pytest.mark.parametrize("stream", STREAMS, ids=range(len(STREAMS)))
@pytest.mark.parametrize("above", [0, 1, 2, 3, 7, 64])
async def test_spooled_message_equals_the_one_kept_in_memory(tmp_path, stream, above):
    """Whatever the threshold and wherever the cuts fall, the unstuffed message is the same."""
    assert await read(stream, tmp_path, above) == await read(stream, tmp_path, 1 << 20, reader_limit=1 << 20)


async def test_over_the_limit_while_spooling_is_still_refused(tmp_path):
    """A message over the size limit is read to its end and reported None, spooled or not."""
    assert await read(b"y" * 500 + b"\r\n.\r\n", tmp_path, above=16, limit=400) is None


def test_past_the_threshold_the_bytes_are_on_disk_in_a_private_unnamed_file(tmp_path):
    """Spill moves all but the tail to a 0600 temp file in the given directory, with no name left behind."""
    with Spool(str(tmp_path), above=10) as spool:
        spool.kept += b"0123456789" * 10 + b"\r\n"
        spool.spill()
        assert len(spool.kept) <= 3 and spool.file is not None
        assert os.fstat(spool.file.fileno()).st_mode & 0o777 == 0o600
        assert os.listdir(tmp_path) == []
        file = spool.file
    assert file.closed
