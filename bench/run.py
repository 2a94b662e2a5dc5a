"""Run every benchmark and print one line per figure: `name value unit` (medians of --runs runs).

Usage: python bench/run.py [--runs 3]
           [--only intake,fanout,signed,posts,verp_smtp_sink,batched_smtp_sink,posts_smtp_sink,
                   one_click_smtp_sink,archive]
Each run starts a fresh daemon (`listserv serve`) on a fresh database in a
temporary directory, with a counting aiosmtpd sink in another process as the
smarthost, all on loopback; verp_smtp_sink has Postfix's C smtp-sink as the
smarthost instead (so have batched_smtp_sink, the list's verp off, and posts_smtp_sink), and each is
skipped (with a line saying so) where it is missing.
archive imports the 100,000-message bench mbox into a fresh database and
searches and shows posts on it (bench/import_bench.py, bench/search.py).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import Daemon, PssSampler, Sink, free_port, make_list, post, write_config  # noqa: E402
from bench.smtp_client import ThinClient  # noqa: E402
from listserv import config as listserv_config  # noqa: E402
from listserv.outgoing import keys  # noqa: E402

LIST = "bench@example.net"
SENDER = "member000000@example.net"


class Setup:
    """A sink, a list of `members` members and a running daemon in a temporary directory; with signed, the
    list's domain has its DKIM keys (every copy signed and sealed)."""

    def __init__(self, members: int, signed: bool = False) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="listserv-bench-")
        workdir = Path(self.tmp.name)
        self.sink = Sink()
        port = free_port()
        config = write_config(workdir, self.sink.port, port)
        make_list(workdir, LIST, members)
        if signed:
            keys.generate(listserv_config.load(config), LIST.partition("@")[2])
        self.daemon = Daemon(config, port)

    def close(self) -> None:
        self.daemon.stop()
        self.sink.stop()
        self.tmp.cleanup()


async def _send_many(port: int, count: int, clients: int, to: str = LIST) -> None:
    """`clients` concurrent SMTP sessions sharing `count` posts to the list `to`, each reusing its connection."""
    async def client(first: int) -> None:
        smtp = await ThinClient.connect(port)
        for n in range(first, count, clients):
            await smtp.send(SENDER, to, post(SENDER, to, f"bench post {n}", n=n))
        await smtp.quit()
    await asyncio.gather(*(client(i) for i in range(clients)))


def intake(posts: int = 2000, clients: int = 20) -> dict:
    """Posts per second acknowledged (250 after the durable commit), 20 concurrent clients, 5 KB posts."""
    setup = Setup(members=10)
    try:
        start = time.perf_counter()
        asyncio.run(_send_many(setup.daemon.port, posts, clients))
        elapsed = time.perf_counter() - start
    finally:
        setup.close()
    return {"intake_posts_per_s": (posts / elapsed, "posts/s")}


def fanout(members: int, signed: bool = False) -> dict:
    """Seconds from sending one post to the last of `members` recipients reaching the sink."""
    setup = Setup(members=members, signed=signed)
    try:
        sampler = PssSampler(setup.daemon.proc.pid)
        start = time.time()
        asyncio.run(_send_many(setup.daemon.port, 1, 1))
        last = setup.sink.wait_for(members)
        pss = sampler.stop()
        rss, server_rss = setup.daemon.peak_rss_mb(), setup.daemon.server_peak_rss_mb()
    finally:
        setup.close()
    figures = {f"fanout_{members}{'_signed' if signed else ''}_s": (last - start, "s")}
    if members >= 10000 and not signed:
        figures["daemon_peak_rss_fanout_10000_mb"] = (rss, "MB")
        figures["server_peak_rss_fanout_10000_mb"] = (server_rss, "MB")
        figures["server_peak_pss_fanout_10000_mb"] = (pss, "MB")
    return figures


def posts(count: int = 100, members: int = 100, signed: bool = False) -> dict:
    """Seconds for `count` posts to `members` members to reach the sink, sent by 4 clients."""
    setup = Setup(members=members, signed=signed)
    try:
        start = time.time()
        asyncio.run(_send_many(setup.daemon.port, count, 4))
        last = setup.sink.wait_for(count * members)
    finally:
        setup.close()
    return {f"posts_{count}x{members}{'_signed' if signed else ''}_s": (last - start, "s")}


def verp_smtp_sink(members: int = 10000) -> dict:
    """One VERP'd post (a transaction per member, pipelined) to `members` members, the smarthost Postfix's C
    smtp-sink (PIPELINING; never the limit): seconds until it accepted every copy (bench/xverp.py's direct way)."""
    from bench.xverp import run as xverp_run

    (handoff,) = xverp_run(members, "direct").values()
    return {f"fanout_{members}_verp_smtp_sink_s": (handoff, "s")}


def one_click_smtp_sink(members: int = 10000) -> dict:
    """As verp_smtp_sink, with one-click unsubscribe on (https base_url) and the domain's DKIM keys: every copy
    gets its member's List-Unsubscribe(-Post) and its own RSA and Ed25519 signatures over them."""
    from bench.xverp import run as xverp_run

    (handoff,) = xverp_run(members, "direct", signed=True, one_click=True).values()
    return {f"fanout_{members}_one_click_smtp_sink_s": (handoff, "s")}


def archive(count: int = 100_000, search_runs: int = 10) -> dict:
    """The bench mbox imported by `archive import`'s code into a fresh database (size, seconds), then
    bench/search.py's queries and `archive show` on the result."""
    from bench import import_bench
    from bench import search as search_bench

    with tempfile.TemporaryDirectory(prefix="listserv-bench-") as tmp:
        db = Path(tmp) / "archive.db"
        imported = asyncio.run(import_bench.run(import_bench.mbox_file(count, 1), db, count, None))
        samples, cpu = asyncio.run(search_bench.measure(db, 1, search_runs))
    kept = ("import_100k_s", "import_s", "archive_db_size_mb")
    found = {name: value for name, value in imported.items() if name in kept}
    return {**found, **{name: (value, unit) for name, value, unit in search_bench.figures(samples, cpu)}}


def batched_smtp_sink(members: int = 10000) -> dict:
    """One post to `members` members with the list's verp off (transactions of max_recipients RCPTs), the
    smarthost Postfix's C smtp-sink: seconds until it accepted every copy (bench/xverp.py's batched way)."""
    from bench.xverp import run as xverp_run

    (handoff,) = xverp_run(members, "batched").values()
    return {f"fanout_{members}_batched_smtp_sink_s": (handoff, "s")}


def posts_smtp_sink(count: int = 100, members: int = 100) -> dict:
    """posts() with Postfix's C smtp-sink as the smarthost (the Python sink costs ~60-130 us a RCPT, over half
    a second of the 10,000 here): seconds until the daemon's delivery log counts every copy accepted."""
    from bench.xverp import LIST as XLIST, SmtpSink, _delivered, _serve, _wait

    workdir = Path(tempfile.mkdtemp(prefix="listserv-bench-"))
    sink = SmtpSink()
    daemon = None
    try:
        make_list(workdir, XLIST, members)
        daemon, log, port = _serve(workdir, sink.port, signed=False)
        start = time.time()
        asyncio.run(_send_many(port, count, 4, XLIST))
        last = _wait(lambda: _delivered(log), count * members)
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=30)
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return {f"posts_{count}x{members}_smtp_sink_s": (last - start, "s")}


def _smtp_sink_missing() -> str | None:
    if shutil.which("smtp-sink") is None:
        return "Postfix's smtp-sink is not installed or not on PATH (apt-get install postfix; it is in /usr/sbin)"
    return None


BENCHES = {
    "intake": [intake],
    "fanout": [lambda: fanout(1000), lambda: fanout(10000)],
    "signed": [lambda: fanout(10000), lambda: fanout(10000, signed=True), posts, lambda: posts(signed=True)],
    "posts": [posts],
    "verp_smtp_sink": [verp_smtp_sink],
    "one_click_smtp_sink": [one_click_smtp_sink],
    "batched_smtp_sink": [batched_smtp_sink],
    "posts_smtp_sink": [posts_smtp_sink],
    "archive": [archive],
}
# Why a bench cannot run here, or None.
MISSING = {name: _smtp_sink_missing
           for name in ("verp_smtp_sink", "batched_smtp_sink", "posts_smtp_sink", "one_click_smtp_sink")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    for name in args.only.split(","):
        why_not = MISSING.get(name, lambda: None)()
        if why_not:
            print(f"skipped {name}: {why_not}", flush=True)
            continue
        for bench in BENCHES[name]:
            samples: dict[str, list[float]] = {}
            units: dict[str, str] = {}
            for _ in range(args.runs):
                for figure, (value, unit) in bench().items():
                    samples.setdefault(figure, []).append(value)
                    units[figure] = unit
            for figure, values in samples.items():
                print(f"{figure} {statistics.median(values):.3f} {units[figure]}", flush=True)


if __name__ == "__main__":
    main()
