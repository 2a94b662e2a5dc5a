"""What VERP costs at fan-out: one post to N members with VERP on, the next post the same day, and VERP off.

Usage: python bench/verp.py [--members 1000,10000]
Prints `name value unit` lines like bench/run.py. With the defaults (verp on,
verp_interval_hours 24) the first post of a list's day is VERP'd (one SMTP
transaction per member) and later posts that day are batched (500 RCPTs per
transaction); `verp off` batches every post.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.run import LIST, Setup, _send_many  # noqa: E402
from listserv import lists  # noqa: E402
from listserv.store import Store  # noqa: E402


async def _set(database: str, key: str, value: str) -> None:
    store = await Store.open(database)
    try:
        await lists.set_setting(store, LIST, key, value)
    finally:
        await store.close()


def _post_and_time(setup: Setup, expected: int) -> float:
    """Seconds from sending one post until `expected` recipients in total reached the sink."""
    start = time.time()
    asyncio.run(_send_many(setup.daemon.port, 1, 1))
    return setup.sink.wait_for(expected) - start


def verp_on(members: int) -> dict:
    """The first post (VERP'd) and a second post the same day (batched) on one list."""
    setup = Setup(members=members)
    try:
        first = _post_and_time(setup, members)
        second = _post_and_time(setup, 2 * members)
    finally:
        setup.close()
    return {f"fanout_{members}_verp_first_post_s": first, f"fanout_{members}_next_post_same_day_s": second}


def verp_off(members: int) -> dict:
    """A post on a list with verp off: batches of max_recipients."""
    setup = Setup(members=members)
    try:
        asyncio.run(_set(str(Path(setup.tmp.name) / "listserv.db"), "verp", "off"))
        taken = _post_and_time(setup, members)
    finally:
        setup.close()
    return {f"fanout_{members}_verp_off_s": taken}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", default="1000,10000")
    args = parser.parse_args()
    for members in (int(n) for n in args.members.split(",")):
        for figure, value in {**verp_on(members), **verp_off(members)}.items():
            print(f"{figure} {value:.3f} s", flush=True)


if __name__ == "__main__":
    main()
