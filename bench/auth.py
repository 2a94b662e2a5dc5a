"""What authenticating a post costs in the pipeline: DKIM verification and the DMARC lookups, cold and cached.

Usage: python bench/auth.py [--posts 200]
Prints `name value unit` lines like bench/run.py. A loopback DNS server
(tests/dns_server.py, dnslib) publishes p=reject and a 2048-bit RSA key for
agency.example; each post is a 5 KB text post signed with that key. "cold"
asks DNS for every post (a new resolver each time: the _dmarc record and the
key); "cached" reuses one resolver, as the pipeline process does.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listserv.auth.verify import Authenticator  # noqa: E402
from listserv.config import DnsSettings  # noqa: E402
from listserv.resolver import Resolver  # noqa: E402
from tests.dkim_keys import SigningKey  # noqa: E402
from tests.dns_server import LoopbackDns, Zone  # noqa: E402


def _post(index: int) -> bytes:
    body = ("Sentencing memo question, paragraph text. " * 120)[:5000]
    return (f"From: Ann Lee <lee@agency.example>\nTo: team@example.org\nSubject: Question {index}\n"
            f"Message-ID: <b{index}@agency.example>\nDate: Tue, 01 Dec 2026 04:00:00 +0000\n\n{body}\n").encode()


async def _time(authenticators, posts: list[bytes]) -> list[float]:
    took = []
    for post, authenticator in zip(posts, authenticators):
        start = time.perf_counter()
        result = await authenticator.check(post)
        took.append(time.perf_counter() - start)
        assert result.dmarc == "pass", result
    return took


async def main(count: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    zone = Zone()
    zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject")
    key = SigningKey("agency.example")
    key.publish(zone)
    server = LoopbackDns(zone, port)
    try:
        settings = DnsSettings(nameservers=(server.nameserver,), timeout=2.0)
        posts = [key.sign(_post(i)) for i in range(count)]
        cold = await _time([Authenticator(Resolver(settings)) for _ in posts], posts)
        shared = Authenticator(Resolver(settings))
        cached = await _time([shared] * count, posts)
    finally:
        server.stop()
    print(f"auth_signed_post_cold_ms {statistics.median(cold) * 1000:.2f} ms")
    print(f"auth_signed_post_cached_ms {statistics.median(cached) * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    asyncio.run(main(parser.parse_args().posts))
