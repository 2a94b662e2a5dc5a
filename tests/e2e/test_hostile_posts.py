"""Hostile posts against the real daemon: the pipeline's CPU work never holds up the SMTP listener."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest

from listserv import replies
from tests.e2e.helpers import LIST, MEMBERS, held, make_list, message, send
from tests.e2e.test_crash import start_daemon


def many_parts(count: int, sender: str = "ann@example.org") -> bytes:
    """The audit's post: `count` one-line text/plain parts (100,000 of them: 3.6 MB)."""
    head = (
        f"From: {sender}\r\nTo: {LIST}\r\nSubject: Many parts\r\nMessage-ID: <parts-{count}@example.org>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    ).encode()
    return head + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * count + b"--b--\r\n"


async def greeting(port: int) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    line = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    return line


async def wait_held(cli, count: int, timeout: float = 20.0) -> list[dict]:
    for _ in range(int(timeout / 0.05)):
        if len(rows := await held(cli)) >= count:
            return rows
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} held posts")


async def test_a_stopped_pipeline_does_not_stop_intake(server, sink, cli):
    """With the pipeline process frozen (SIGSTOP), clients are still greeted and posts get 250; they go out after."""
    await make_list(cli)
    os.kill(server.pipeline.pid, signal.SIGSTOP)
    try:
        assert (await greeting(server.port)).startswith(b"220 ")
        await send(server.port, message("ann@example.org", "While frozen"), "ann@example.org")
        await asyncio.sleep(0.3)
        assert sink.recipients() == []
    finally:
        os.kill(server.pipeline.pid, signal.SIGCONT)
    await sink.wait_for(lambda: sorted(sink.recipients()) == sorted(MEMBERS))


async def test_a_pipeline_process_that_dies_is_replaced(server, sink, cli):
    """SIGKILL to the pipeline process: the daemon starts another, and the next post is delivered."""
    await make_list(cli)
    first = server.pipeline.pid
    os.kill(first, signal.SIGKILL)
    await send(server.port, message("ann@example.org", "After the crash"), "ann@example.org")
    await sink.wait_for(lambda: sorted(sink.recipients()) == sorted(MEMBERS), timeout=20)
    assert server.pipeline.pid != first


async def test_a_100000_part_post_is_held_with_the_cap_named_and_shown(server, cli):
    """The audit's 3.6 MB, 100,000-part post is acknowledged, held naming the cap, and `held show` prints it."""
    await make_list(cli)
    await send(server.port, many_parts(100_000), "ann@example.org")
    assert (await greeting(server.port)).startswith(b"220 ")
    [row] = await wait_held(cli, 1)
    assert row["reasons"] == [{"rule": "limits", "text": "limits: 100001 MIME parts, more than 1000"}]
    shown = await cli("held", "show", str(row["id"]), "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["subject"] == "Many parts"


async def test_an_approved_post_over_the_cap_is_delivered(server, sink, cli):
    """A moderator may approve a post over the cap: it is parsed then, outside the daemon, and reaches everyone."""
    await make_list(cli)
    await send(server.port, many_parts(1500), "ann@example.org")
    [row] = await wait_held(cli, 1)
    approved = await cli("held", "approve", str(row["id"]), "--by", "ann@example.org")
    assert approved.exit_code == 0, approved.output
    await sink.wait_for(lambda: all(_post_copies(sink, member) for member in MEMBERS), timeout=30)
    assert all(copy.count(b"--b\r\n") == 1500 for member in MEMBERS for copy in _post_copies(sink, member))


def _post_copies(sink, member: str) -> list[bytes]:
    """The copies of the 'Many parts' post a member received (the owner also gets a held notice)."""
    return [raw for raw in sink.copies_for(member) if b"Subject: [team] Many parts" in raw]


@pytest.mark.slow
async def test_the_pipeline_process_ends_when_the_daemon_is_killed(cli, config_file):
    """kill -9 of `listserv serve`: its pipeline child sees end of file on its stdin and exits."""
    proc = start_daemon(config_file)
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(children) == 1
    child = int(children[0])
    proc.kill()
    proc.wait(timeout=10)
    proc.stdout.close()
    for _ in range(200):
        if not Path(f"/proc/{child}").exists() or "Z" in _state(child):
            break
        await asyncio.sleep(0.05)
    assert not Path(f"/proc/{child}").exists() or "Z" in _state(child)


def _state(pid: int) -> str:
    try:
        return next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("State:"))
    except (FileNotFoundError, StopIteration):
        return "Z"


async def test_one_session_more_than_max_sessions_gets_421(smtp_settings, cli):
    """The daemon wires max_sessions: with 1, a second client is greeted 421 4.7.0."""
    from dataclasses import replace

    from listserv.daemon import Daemon

    daemon = Daemon(replace(smtp_settings, server=replace(smtp_settings.server, max_sessions=1)))
    await daemon.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        assert (await reader.readline()).startswith(b"220 ")
        assert (await greeting(daemon.port)).decode().rstrip() == replies.S421_TOO_MANY_SESSIONS
        writer.close()
    finally:
        await daemon.stop()


def slow_to_parse(params: int = 60_000) -> bytes:
    """A post whose one part has a Content-Type folded over `params` lines (700 KB): the stdlib parses that
    header in quadratic time (tens of seconds). The header cap catches it; with that cap off, only time does."""
    folded = b"".join(b"\r\n x%d=y;" % n for n in range(params))
    return (
        f"From: ann@example.org\r\nTo: {LIST}\r\nSubject: Slow\r\nMessage-ID: <slow@example.org>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    ).encode() + b"--b\r\nContent-Type: text/plain;" + folded + b"\r\n\r\nhello\r\n--b--\r\n"


async def test_a_post_that_takes_too_long_is_stopped_and_held(smtp_settings, sink, cli):
    """Over max_processing_seconds the pipeline process is replaced; the post is held unparsed; the next one goes out.

    The header cap is off, standing for any cost the caps do not foresee.
    """
    from dataclasses import replace

    from listserv.daemon import Daemon

    await make_list(cli)
    server = replace(smtp_settings.server, max_processing_seconds=2, max_header_bytes=0)
    daemon = Daemon(replace(smtp_settings, server=server))
    await daemon.start()
    try:
        first = daemon.pipeline.pid
        await send(daemon.port, slow_to_parse(), "ann@example.org")
        [row] = await wait_held(cli, 1, timeout=30)
        assert row["reasons"] == [
            {"rule": "limits", "text": "limits: processing took more than 2 s and was stopped"}
        ] and row["subject"] == "Slow"
        assert daemon.pipeline.pid != first
        await send(daemon.port, message("ann@example.org", "Next one"), "ann@example.org")
        await sink.wait_for(lambda: all(
            any(b"Next one" in raw for raw in sink.copies_for(member)) for member in MEMBERS
        ), timeout=20)
    finally:
        await daemon.stop()


async def test_stop_does_not_wait_forever_for_a_slow_message(smtp_settings, cli, monkeypatch):
    """stop() waits STOP_WAIT for the message in hand, then kills the pipeline process; the message stays queued."""
    from dataclasses import replace

    from listserv import pipeline_worker
    from listserv.daemon import Daemon
    from listserv.store import Store, inbound

    monkeypatch.setattr(pipeline_worker, "STOP_WAIT", 1.0)
    await make_list(cli)
    daemon = Daemon(replace(smtp_settings, server=replace(smtp_settings.server, max_header_bytes=0)))
    await daemon.start()
    child = daemon.pipeline.pid
    await send(daemon.port, slow_to_parse(), "ann@example.org")
    await asyncio.sleep(0.5)  # the pipeline process is parsing it
    await asyncio.wait_for(daemon.stop(), 10)
    assert not Path(f"/proc/{child}").exists() or "Z" in _state(child)
    store = await Store.open(smtp_settings.storage.database)
    try:
        assert await inbound.count_pending(store.db) == 1
    finally:
        await store.close()



async def test_the_pipeline_process_leaves_stop_signals_to_the_daemon(server, sink, cli):
    """Ctrl-C and systemd's stop signal reach every process of the group: the pipeline process does not die
    of them (the daemon stops it in order, after the message in hand), and it keeps working."""
    await make_list(cli)
    child = server.pipeline.pid
    for signum in (signal.SIGTERM, signal.SIGINT):
        os.kill(child, signum)
    await asyncio.sleep(0.5)
    assert server.pipeline.pid == child and "Z" not in _state(child)
    await send(server.port, message("ann@example.org", "After the signals"), "ann@example.org")
    await sink.wait_for(lambda: sorted(sink.recipients()) == sorted(MEMBERS))
