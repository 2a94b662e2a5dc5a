"""Many unfinished big DATA transfers against the real daemon process: its memory stays bounded and comes back."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.helpers import LIST, make_list
from tests.e2e.test_crash import start_daemon

SESSIONS = 100
MEGABYTES = 4
CHUNK = (b"x" * 78 + b"\r\n") * 400  # 32,000 bytes, no line that is a lone dot


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


async def unfinished(port: int) -> asyncio.StreamWriter:
    """A session that sends MEGABYTES of DATA and never the final dot; its writer, still open."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    assert (await reader.readline()).startswith(b"220")
    for line in (b"HELO x\r\n", b"MAIL FROM:<ann@example.org>\r\n", f"RCPT TO:<{LIST}>\r\n".encode(), b"DATA\r\n"):
        writer.write(line)
        assert (await reader.readline())[:1] in (b"2", b"3")
    for _ in range(MEGABYTES * 1_000_000 // len(CHUNK)):
        writer.write(CHUNK)
        await writer.drain()
    return writer


@pytest.mark.slow
async def test_unfinished_big_sessions_use_bounded_memory_that_returns(cli, config_file, smtp_settings):
    """100 sessions x 4 MB without the dot add under 64 MB to the daemon (not 400), and under 24 MB once closed."""
    await make_list(cli)
    proc = start_daemon(config_file)
    try:
        idle = rss_mb(proc.pid)
        sending = asyncio.gather(*(unfinished(smtp_settings.server.port) for _ in range(SESSIONS)))
        peak = idle
        while not sending.done():
            peak = max(peak, rss_mb(proc.pid))
            await asyncio.sleep(0.05)
        writers = sending.result()
        await asyncio.sleep(0.5)  # what was still in flight reaches the daemon
        peak = max(peak, rss_mb(proc.pid))
        for writer in writers:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for writer in writers), return_exceptions=True)
        await asyncio.sleep(2.0)
        after = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert peak - idle < 64, (idle, peak)
    assert after - idle < 24, (idle, peak, after)
