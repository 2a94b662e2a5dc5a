"""What one client may cost the listener: max_sessions at once (421 4.7.0 beyond), idle sessions closed (421 4.4.2)."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from listserv import lists, replies
from listserv.store import inbound

from .test_intake import POST, start


@pytest.fixture
async def listener(store, settings):
    """start(settings) -> port: intake on a free port with the given settings; closed after the test."""
    await lists.create(store, "team@example.org")
    servers = []

    async def run(**server_settings):
        server, port = await start(store, replace(settings, server=replace(settings.server, **server_settings)))
        servers.append(server)
        return port

    yield run
    for server in servers:
        server.close()
        await server.wait_closed()


async def greeting(port: int) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    return await asyncio.wait_for(reader.readline(), 5), reader, writer


async def test_one_session_over_max_sessions_gets_421_and_is_closed(listener):
    """With max_sessions = 2 the third client is greeted 421 4.7.0 and hung up on; a freed slot is usable again."""
    port = await listener(max_sessions=2)
    first, second = await greeting(port), await greeting(port)
    assert first[0].startswith(b"220 ") and second[0].startswith(b"220 ")
    line, reader, refused = await greeting(port)
    assert line.decode().rstrip() == replies.S421_TOO_MANY_SESSIONS
    assert await asyncio.wait_for(reader.read(), 5) == b""
    refused.close()
    first[2].close()
    await first[2].wait_closed()
    for _ in range(50):  # the server notices the close on its next loop turn
        line, _, writer = await greeting(port)
        writer.close()
        await writer.wait_closed()
        if line.startswith(b"220 "):
            break
        await asyncio.sleep(0.02)
    second[2].close()
    await second[2].wait_closed()
    assert line.startswith(b"220 ")


async def test_an_idle_session_is_told_421_and_closed(listener):
    """A client that says nothing for idle_timeout seconds gets 421 4.4.2 and the connection ends."""
    port = await listener(idle_timeout=1)
    line, reader, writer = await greeting(port)
    assert line.startswith(b"220 ")
    assert (await asyncio.wait_for(reader.readline(), 5)).decode().rstrip() == replies.S421_IDLE_TIMEOUT
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()


async def test_a_slow_but_steady_data_transfer_is_not_cut_off(listener, store):
    """DATA that keeps arriving, a piece every 0.4 s for 2 s, outlives an idle_timeout of 1 s and is queued."""
    port = await listener(idle_timeout=1)
    _, reader, writer = await greeting(port)
    for command in (b"HELO x\r\n", b"MAIL FROM:<ann@example.org>\r\n", b"RCPT TO:<team@example.org>\r\n", b"DATA\r\n"):
        writer.write(command)
        assert (await asyncio.wait_for(reader.readline(), 5))[:1] in (b"2", b"3")
    writer.write(POST)
    for n in range(5):
        await asyncio.sleep(0.4)
        writer.write(b"more %d\r\n" % n)
    writer.write(b".\r\n")
    assert (await asyncio.wait_for(reader.readline(), 5)).startswith(b"250 ")
    assert await inbound.count_pending(store.db) == 1
    writer.close()
