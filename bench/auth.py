"""What authenticating a post costs in the pipeline: DKIM verification and the DMARC lookups, cold and cached;
then the same post arriving through a forwarder (one ARC set to verify) from a directly connected client
(SPF checked on its IP).

Usage: python bench/auth.py [--posts 200]
Prints `name value unit` lines like bench/run.py. A loopback DNS server
(tests/dns_server.py, dnslib) publishes p=reject and a 2048-bit RSA key for
agency.example; each post is a 5 KB text post signed with that key. "cold"
asks DNS for every post (a new resolver each time: the _dmarc record and the
key); "cached" reuses one resolver, as the pipeline process does. The
"arc_spf" figures add an ARC set of relay.example (its key published too)
and an SPF record for agency.example naming 127.0.0.1 through an include
(two TXT lookups cold), checked as for a client at 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import time
from pathlib import Path

import dkim

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


def _relayed(raw: bytes, relay: SigningKey) -> bytes:
    """raw with the Authentication-Results and ARC set a forwarder would add."""
    results = b"Authentication-Results: relay.example; dkim=pass header.d=agency.example; arc=none\n"
    headers = dkim.arc_sign(results + raw, relay.selector.encode(), b"relay.example", relay.pem, b"relay.example",
                            include_headers=[b"from", b"to", b"subject"], linesep=b"\n")
    return b"".join(headers) + results + raw


async def _time(authenticators, posts: list[bytes], session: tuple[str, ...] = ()) -> list[float]:
    took = []
    for post, authenticator in zip(posts, authenticators):
        start = time.perf_counter()
        result = await authenticator.check(post, *session)
        took.append(time.perf_counter() - start)
        assert result.dmarc == "pass", result
        assert not session or (result.arc, result.spf) == ("pass", "pass"), result
    return took


async def main(count: int) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    zone = Zone()
    zone.add("_dmarc.agency.example", "TXT", "v=DMARC1; p=reject")
    key = SigningKey("agency.example")
    key.publish(zone)
    relay = SigningKey("relay.example")
    relay.publish(zone)
    zone.add("agency.example", "TXT", "v=spf1 include:_spf.agency.example -all")
    zone.add("_spf.agency.example", "TXT", "v=spf1 ip4:127.0.0.0/8 -all")
    server = LoopbackDns(zone, port)
    try:
        settings = DnsSettings(nameservers=(server.nameserver,), timeout=2.0)
        posts = [key.sign(_post(i)) for i in range(count)]
        cold = await _time([Authenticator(Resolver(settings)) for _ in posts], posts)
        shared = Authenticator(Resolver(settings))
        cached = await _time([shared] * count, posts)
        forwarded = [_relayed(post, relay) for post in posts]
        session = ("lee@agency.example", "127.0.0.1:40000", "mta.agency.example")
        arc_cold = await _time([Authenticator(Resolver(settings)) for _ in posts], forwarded, session)
        arc_cached = await _time([shared] * count, forwarded, session)
    finally:
        server.stop()
    print(f"auth_signed_post_cold_ms {statistics.median(cold) * 1000:.2f} ms")
    print(f"auth_signed_post_cached_ms {statistics.median(cached) * 1000:.2f} ms")
    print(f"auth_arc_spf_post_cold_ms {statistics.median(arc_cold) * 1000:.2f} ms")
    print(f"auth_arc_spf_post_cached_ms {statistics.median(arc_cached) * 1000:.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    asyncio.run(main(parser.parse_args().posts))
