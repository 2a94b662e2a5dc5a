"""What signing costs per message: DKIM (RSA 2048 + Ed25519) and the ARC seal of a post's copies, in process.

Usage: python bench/signing.py [--count 200]
Prints `name value unit` lines: the median milliseconds of listserv.outgoing.finish()
on a 5 KB post, signed only (a notice, a digest) and signed and sealed (a post).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import post  # noqa: E402
from listserv import config, outgoing  # noqa: E402
from listserv.outgoing import keys  # noqa: E402

DOMAIN = "example.net"


def median_ms(settings: config.Settings, content: bytes, seal: bool, count: int) -> float:
    """The median time of one finish() over count runs, in milliseconds."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        outgoing.finish(settings, DOMAIN, content, seal)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listserv-bench-") as tmp:
        base = config.Settings()
        settings = dataclasses.replace(base, storage=dataclasses.replace(base.storage, database=f"{tmp}/db"))
        keys.generate(settings, DOMAIN)
        content = post("member@example.net", "bench@example.net", "bench post")
        print(f"sign_dkim_ms {median_ms(settings, content, False, args.count):.3f} ms", flush=True)
        print(f"sign_ms {median_ms(settings, content, True, args.count):.3f} ms", flush=True)


if __name__ == "__main__":
    main()
