"""Hostile mail: greeting latency under a 100,000-part post; memory under 200 unfinished 9 MB sessions.

Usage: python bench/hostile.py [--only greeting,memory] [--sessions 200] [--mb 9]
Prints one line per figure, `name value unit` (see bench/README.md). Every
phase starts a fresh daemon (`listserv serve`) on a fresh database in a
temporary directory, talks to it on loopback only, and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Daemon, Sink, env_note, free_port, make_list  # noqa: E402

LIST = "bench@example.net"
SENDER = "member000000@example.net"
PROBES = 20  # greetings timed while the hostile post is processed
PROBE_GAP = 0.1  # seconds between probes


def many_parts(count: int) -> bytes:
    """The issue's post: `count` one-line text/plain parts, ~36 bytes each (100,000 parts: 3.6 MB)."""
    head = (
        f"From: {SENDER}\r\nTo: {LIST}\r\nSubject: many parts\r\nMessage-ID: <hostile-{time.time_ns()}@example.net>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    ).encode()
    return head + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * count + b"--b--\r\n"


async def command(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes) -> bytes:
    writer.write(line)
    return await reader.readline()


async def open_data(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A session from the greeting to the 354 after DATA, ready for the message."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await reader.readline()
    for line in (b"HELO bench\r\n", f"MAIL FROM:<{SENDER}>\r\n".encode(), f"RCPT TO:<{LIST}>\r\n".encode()):
        await command(reader, writer, line)
    await command(reader, writer, b"DATA\r\n")
    return reader, writer


async def send_raw(port: int, raw: bytes) -> bytes:
    """One SMTP transaction; returns the reply to the final dot."""
    reader, writer = await open_data(port)
    reply = await command(reader, writer, raw.replace(b"\r\n.", b"\r\n..") + b".\r\n")
    writer.close()
    return reply


async def greeting_ms(port: int) -> float:
    """Connect and wait for the 220: what a new client waits for while the daemon is busy."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    await asyncio.wait_for(reader.readline(), 120)
    elapsed = (time.perf_counter() - started) * 1000
    writer.write(b"QUIT\r\n")
    writer.close()
    return elapsed


async def probe_during_post(port: int, parts: int) -> list[float]:
    reply = await send_raw(port, many_parts(parts))
    if not reply.startswith(b"250"):
        raise RuntimeError(f"the hostile post was refused: {reply!r}")
    timings = []
    for _ in range(PROBES):
        timings.append(await greeting_ms(port))
        await asyncio.sleep(PROBE_GAP)
    return timings


def greeting(parts: int, max_parts: int, label: str) -> None:
    """Greeting latency p50/p99 of 20 probes right after a `parts`-part post was acknowledged."""
    with tempfile.TemporaryDirectory(prefix="listserv-hostile-") as tmp:
        workdir, sink, port = Path(tmp), Sink(), free_port()
        config = _config(workdir, sink.port, port, f"max_parts = {max_parts}\n")
        make_list(workdir, LIST, 1)
        daemon = Daemon(config, port)
        try:
            timings = sorted(asyncio.run(probe_during_post(port, parts)))
        finally:
            daemon.stop()
            sink.stop()
    print(f"greeting_p50_{label}_ms {statistics.median(timings):.1f} ms", flush=True)
    print(f"greeting_p99_{label}_ms {timings[min(len(timings) - 1, int(len(timings) * 0.99))]:.1f} ms", flush=True)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def unfinished_session(port: int, megabytes: int, sent: list[int]) -> tuple:
    """A session that sends `megabytes` of DATA and never the final dot; returns its open writer."""
    reader, writer = await open_data(port)
    chunk = (b"x" * 78 + b"\r\n") * 800  # 64,000 bytes, no line that is a lone dot
    for _ in range(megabytes * 1_000_000 // len(chunk)):
        writer.write(chunk)
        await writer.drain()
        sent[0] += len(chunk)
    return reader, writer


async def flood(port: int, pid: int, sessions: int, megabytes: int) -> dict[str, float]:
    figures = {"idle": rss_mb(pid)}
    sent = [0]
    peak = figures["idle"]
    task = asyncio.gather(*(unfinished_session(port, megabytes, sent) for _ in range(sessions)))
    while not task.done():
        peak = max(peak, rss_mb(pid))
        await asyncio.sleep(0.2)
    open_sessions = task.result()
    await asyncio.sleep(1.0)  # the daemon drains what is still in flight
    figures["peak"] = max(peak, rss_mb(pid), rss_mb(pid, "VmHWM"))
    figures["sent_mb"] = sent[0] / 1e6
    for _, writer in open_sessions:
        writer.close()
    await asyncio.sleep(3.0)
    figures["after"] = rss_mb(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    figures["pipeline"] = sum(rss_mb(int(child)) for child in children)
    return figures


def memory(sessions: int, megabytes: int) -> None:
    """Peak RSS of the daemon while `sessions` clients each send `megabytes` MB of DATA without the dot."""
    with tempfile.TemporaryDirectory(prefix="listserv-hostile-") as tmp:
        workdir, sink, port = Path(tmp), Sink(), free_port()
        config = _config(workdir, sink.port, port, f"max_sessions = {sessions}\n")
        make_list(workdir, LIST, 1)
        daemon = Daemon(config, port)
        try:
            figures = asyncio.run(flood(port, daemon.proc.pid, sessions, megabytes))
        finally:
            daemon.stop()
            sink.stop()
    print(f"daemon_rss_idle_mb {figures['idle']:.1f} MB", flush=True)
    print(f"daemon_peak_rss_{sessions}x{megabytes}mb_unfinished_mb {figures['peak']:.1f} MB", flush=True)
    print(f"daemon_rss_after_close_mb {figures['after']:.1f} MB", flush=True)
    print(f"hostile_data_sent_mb {figures['sent_mb']:.0f} MB", flush=True)
    print(f"pipeline_process_rss_mb {figures['pipeline']:.1f} MB", flush=True)


def _config(workdir: Path, sink_port: int, port: int, server_extra: str) -> Path:
    path = workdir / "listserv.toml"
    path.write_text(
        f'[server]\nport = {port}\nhostname = "bench.test"\n{server_extra}'
        f'[storage]\ndatabase = "{workdir / "listserv.db"}"\n'
        f'[delivery]\ntransport = "smtp://127.0.0.1:{sink_port}"\n'
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="greeting,memory")
    parser.add_argument("--parts", type=int, default=100_000)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--mb", type=int, default=9)
    args = parser.parse_args()
    print(f"# {env_note()}", flush=True)
    if "greeting" in args.only:
        greeting(args.parts, 1000, "capped")  # the default cap: held after the pre-scan
        greeting(args.parts, 0, "uncapped")  # no cap: the full parse, decoration and archiving run
    if "memory" in args.only:
        memory(args.sessions, args.mb)


if __name__ == "__main__":
    main()
