"""kill -9 in the middle of a burst of posts loses nothing that was acknowledged."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import aiosmtplib
import pytest

from listserv.store import Store
from listserv.store import messages as store_messages
from tests.e2e.helpers import LIST, MEMBERS, make_list, message

ROOT = Path(__file__).resolve().parents[2]
POSTS = 200


def start_daemon(config_file: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_file), "serve"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    assert "serving" in proc.stdout.readline()
    return proc


async def send_until_killed(port: int, posts: range, acked: set, kill_at: int, proc: subprocess.Popen) -> None:
    """Four clients send posts; the daemon is killed with SIGKILL once kill_at posts were acknowledged."""
    async def client(numbers: range) -> None:
        for n in numbers:
            raw = message("ann@example.org", f"post {n}", Message_ID=f"<crash-{n}@example.org>")
            try:
                await aiosmtplib.send(raw, sender="ann@example.org", recipients=[LIST], hostname="127.0.0.1", port=port, timeout=5)
            except (aiosmtplib.SMTPException, OSError):
                continue
            acked.add(n)
            if len(acked) == kill_at and proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
    await asyncio.gather(*(client(posts[i::4]) for i in range(4)))


@pytest.mark.slow
async def test_sigkill_during_posting_loses_no_acknowledged_post(sink, cli, config_file, smtp_settings):
    """Every post that got a 250 before or after the SIGKILL reaches every member and is archived once."""
    await make_list(cli)
    port = smtp_settings.server.port
    proc = start_daemon(config_file)
    acked: set[int] = set()
    await send_until_killed(port, range(POSTS), acked, POSTS // 2, proc)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    unacked = [n for n in range(POSTS) if n not in acked]
    proc = start_daemon(config_file)
    try:
        await send_until_killed(port, unacked, acked, -1, proc)
        assert acked == set(range(POSTS))
        await sink.wait_for(lambda: _delivered_everywhere(sink, acked), timeout=60)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0
    store = await Store.open(smtp_settings.storage.database)
    try:
        archived = [m["message_id"] for m in await store_messages.for_list(store.db, 1)]
    finally:
        await store.close()
    assert sorted(archived) == sorted(f"crash-{n}@example.org" for n in acked)


def _delivered_everywhere(sink, acked: set[int]) -> bool:
    for member in MEMBERS:
        subjects = {_subject(raw) for raw in sink.copies_for(member)}
        if not all(f"[team] post {n}" in subjects for n in acked):
            return False
    return True


def _subject(raw: bytes) -> str:
    for line in raw.split(b"\r\n"):
        if line.startswith(b"Subject: "):
            return line[9:].decode()
    return ""
