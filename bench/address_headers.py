"""What reading From/To/Cc by the RFC 5322 grammar costs per post (listserv.address_list).

Usage: python bench/address_headers.py [--runs 5] [--count 20000]
Prints `name value unit` lines like bench/run.py: microseconds per post for
the sender (message.from_mailbox) and for the leak guard's split of To/Cc
(address_list.recipients, without the member query), on an ordinary post
(one From, To the list, two Cc) and on a hostile one (20 Cc entries of every
awkward kind, encoded words, a group). The message is parsed once, outside
the timing, as the pipeline's parse stage does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listserv import address_list, message  # noqa: E402

ORDINARY = (
    b"From: Ann Lee <ann@example.org>\r\nTo: team@example.org\r\n"
    b"Cc: Bob <bob@example.org>, cy@example.org\r\nSubject: s\r\n\r\nbody\r\n"
)
HOSTILE_CC = ", ".join([
    '"john.outsider"@gmail.com', "dave@corp.local", "prosecutor@[192.0.2.7]", "x@internal",
    "=?utf-8?q?Eve=0D=0ABcc:_bob@example.org?= <eve@evil.example>", "friends: a@out.example, b@out.example;",
    "The Press (news desk) <press@news.example>", "jurgen@b\u00fccher.example", "not an address", "<a@x> <b@y>",
] * 2)
HOSTILE = ("From: ann@example.org)<evil@x.example>\r\nTo: team@example.org\r\nCc: " + HOSTILE_CC
           + "\r\nSubject: s\r\n\r\nbody\r\n").encode()


def per_post_us(raw: bytes, count: int) -> tuple[float, float]:
    """(sender µs, To/Cc split µs) per post, averaged over count readings."""
    msg = message.parse(raw)
    start = time.perf_counter()
    for _ in range(count):
        message.from_mailbox(msg)
    middle = time.perf_counter()
    for _ in range(count):
        address_list.recipients([v for name in ("To", "Cc") for v in message.raw_values(msg, name)])
    end = time.perf_counter()
    return (middle - start) / count * 1e6, (end - middle) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--count", type=int, default=20000)
    args = parser.parse_args()
    for label, raw in (("ordinary", ORDINARY), ("hostile", HOSTILE)):
        runs = [per_post_us(raw, args.count) for _ in range(args.runs)]
        print(f"sender_{label}_us {statistics.median(r[0] for r in runs):.1f} us")
        print(f"to_cc_split_{label}_us {statistics.median(r[1] for r in runs):.1f} us")


if __name__ == "__main__":
    main()
