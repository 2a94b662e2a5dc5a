"""Fan-out of one VERP'd post to N members: through Postfix's XVERP (one transaction per batch) and without.

Usage: python bench/xverp.py [--members 10000] [--signed]   (as root, with the Debian package postfix installed)

Three ways, each on a fresh daemon (`listserv serve`) and database, the list
at its defaults (verp on, so the first post of the day is VERP'd), the sink
Postfix's C `smtp-sink`:
- xverp: listserv -> a private Postfix offering XVERP -> smtp-sink;
- no_xverp: the same Postfix not offering it (listserv: one transaction per member);
- direct: listserv -> smtp-sink, one transaction per member (no Postfix);
- batched: listserv -> smtp-sink with the list's verp off: transactions of max_recipients RCPTs.
Figures (`name value unit`): `xverp_fanout_N_handoff_s` etc., seconds from
sending the post until the smarthost accepted every copy (the daemon's
delivery log adds up to N delivered), and for the two Postfix ways
`..._postfix_delivered_s`, until Postfix logged N copies sent to smtp-sink.
With --signed the list's domain has its DKIM keys (as `listserv dkim keygen`
makes them), so the post is DKIM-signed (RSA and Ed25519) and ARC-sealed once
for all its copies; the figures are then named `..._signed_...`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import HERE, free_port, make_list, post  # noqa: E402
from bench.smtp_client import ThinClient  # noqa: E402
from listserv import config as listserv_config  # noqa: E402
from listserv import lists  # noqa: E402
from listserv.store import Store  # noqa: E402
from listserv.outgoing import keys  # noqa: E402
from tests.postfix.instance import Postfix, available  # noqa: E402

LIST = "bench@example.org"
SENDER = "member000000@example.net"
DELIVERED = re.compile(r": (\d+) delivered")
TIMEOUT = 600.0


class SmtpSink:
    """Postfix's smtp-sink on a free port: C, PIPELINING, accepts everything (the sink is never the limit)."""

    def __init__(self) -> None:
        self.port = free_port()
        user = ["-u", "nobody"] if os.geteuid() == 0 else []  # as root, smtp-sink must be told whom to become
        self.proc = subprocess.Popen(["smtp-sink", *user, f"127.0.0.1:{self.port}", "1024"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.3)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


def _serve(workdir: Path, transport_port: int, signed: bool, one_click: bool = False
           ) -> tuple[subprocess.Popen, Path, int]:
    """`listserv serve` with its log (INFO: one line per batch with its delivered count) in a file; with signed,
    the list's domain gets its keys first; with one_click, an https base_url puts each member's one-click
    unsubscribe headers on their copy (signed per copy)."""
    port = free_port()
    config = workdir / "listserv.toml"
    web = f'[web]\nport = {free_port()}\nbase_url = "https://lists.example.org"\n' if one_click else \
        '[web]\nenabled = false\n'
    config.write_text(
        f'[server]\nport = {port}\nhostname = "bench.test"\n'
        f'[storage]\ndatabase = "{workdir / "listserv.db"}"\n'
        f'[delivery]\ntransport = "smtp://127.0.0.1:{transport_port}"\nmax_recipients = 500\nconnections = 4\n'
        f'[log]\nfile = "{workdir / "listserv.log"}"\n' + web
    )
    if signed:
        keys.generate(listserv_config.load(config), LIST.partition("@")[2])
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--config", str(config), "serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=HERE.parent)
    if "serving" not in proc.stdout.readline():
        raise RuntimeError("daemon did not start")
    return proc, workdir / "listserv.log", port


def _wait(count_now, total: int) -> float:
    deadline = time.time() + TIMEOUT
    while time.time() < deadline:
        if count_now() >= total:
            return time.time()
        time.sleep(0.002)
    raise RuntimeError(f"only {count_now()} of {total} within {TIMEOUT}s")


def _delivered(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(int(n) for n in DELIVERED.findall(text))


def _postfix_sent(instance: Postfix, sink_port: int) -> int:
    return instance.log().count(f"relay=127.0.0.1[127.0.0.1]:{sink_port},")


async def _verp_off(database: Path) -> None:
    store = await Store.open(str(database))
    try:
        await lists.set_setting(store, LIST, "verp", "off")
    finally:
        await store.close()


async def _send_one(port: int) -> None:
    """Post straight to the daemon: the clock measures listserv's fan-out, not Postfix's intake."""
    client = await ThinClient.connect(port)
    await client.send(SENDER, LIST, post(SENDER, LIST, "bench post"))
    await client.quit()


def run(members: int, way: str, signed: bool = False, one_click: bool = False) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="listserv-xverp-"))
    sink = SmtpSink()
    instance = Postfix(free_port(), sink.port, xverp=(way == "xverp")) if way in ("xverp", "no_xverp") else None
    daemon = None
    try:
        make_list(workdir, LIST, members)
        if way == "batched":
            asyncio.run(_verp_off(workdir / "listserv.db"))
        if instance is not None:
            instance.conf.mkdir()
            (instance.conf / "listserv_domains").write_text("example.org\n")
            (instance.conf / "listserv_transport").write_text("")
            instance.start()
        daemon, log, port = _serve(workdir, instance.smtp_port if instance else sink.port, signed, one_click)
        start = time.time()
        asyncio.run(_send_one(port))
        name = f"{way}_fanout_{members}{'_signed' if signed else ''}{'_one_click' if one_click else ''}"
        figures = {f"{name}_handoff_s": _wait(lambda: _delivered(log), members) - start}
        if signed == ("no DKIM key for" in log.read_text(errors="replace")):
            raise RuntimeError(f"the daemon's log disagrees with signed={signed}: {log}")
        if instance is not None:
            done = _wait(lambda: _postfix_sent(instance, sink.port), members)
            figures[f"{name}_postfix_delivered_s"] = done - start
        return figures
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=30)
        if instance is not None:
            instance.stop()
        sink.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--ways", default="xverp,no_xverp,direct")
    parser.add_argument("--signed", action="store_true", help="the list's domain has DKIM keys: sign and seal")
    args = parser.parse_args()
    why_not = available()
    if why_not:
        sys.exit(f"bench/xverp.py: {why_not}")
    for way in args.ways.split(","):
        for figure, value in run(args.members, way, args.signed).items():
            print(f"{figure} {value:.3f} s", flush=True)


if __name__ == "__main__":
    main()
