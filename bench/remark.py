"""Late re-marking benchmark: what a confidential post costs when many held posts wait, some of them its replies.

Usage: python bench/remark.py [--held 1000] [--replies 100] [--runs 5]

Each run holds `held` non-member posts on a fresh database (`replies` of them
answer the confidential post that has not come yet), then puts the
confidential post through the real pipeline (listserv.pipeline.process, the
daemon's own function) and times it, re-marking included. The same post on a
list with no held posts is timed too, for comparison. Prints `name value unit`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listserv import config, lists  # noqa: E402
from listserv.pipeline import process  # noqa: E402
from listserv.store import Store, held, inbound, members  # noqa: E402

LIST = "bench@example.net"
STRANGER = "stranger@elsewhere.example"


def mail(message_id: str, subject: str, sender: str, parent: str = "") -> bytes:
    lines = [f"From: {sender}", f"To: {LIST}", f"Subject: {subject}", f"Message-ID: <{message_id}>"]
    lines += [f"In-Reply-To: <{parent}>", f"References: <{parent}>"] if parent else []
    return ("\r\n".join(lines) + "\r\n\r\nA paragraph of text about a sentencing question.\r\n").encode()


async def submit(store: Store, settings: config.Settings, raw: bytes, sender: str) -> dict:
    inbound_id = await store.write(inbound.enqueue, sender, [LIST], raw, "127.0.0.1")
    return await process(store, settings, await inbound.get(store.db, inbound_id))


async def one_run(held_posts: int, replies: int) -> float:
    """Seconds the confidential post takes through the pipeline with `held_posts` waiting."""
    with tempfile.TemporaryDirectory(prefix="listserv-remark-") as directory:
        base = config.Settings()
        settings = replace(base, storage=replace(base.storage, database=str(Path(directory) / "db.sqlite")))
        store = await Store.open(settings.storage.database)
        try:
            mlist = await lists.create(store, LIST)
            for address in ("ann@example.net", "bob@example.net", "mod@example.net"):
                await store.write(members.add, mlist.id, {"address": address})
            for n in range(held_posts):
                parent = "c1@example.net" if n < replies else f"other{n}@example.net"
                await submit(store, settings, mail(f"h{n}@elsewhere.example", f"Question {n}", STRANGER, parent),
                             STRANGER)
            started = time.perf_counter()
            await submit(store, settings, mail("c1@example.net", "[CONFIDENTIAL] case", "ann@example.net"),
                         "ann@example.net")
            elapsed = time.perf_counter() - started
            marked = sum(row["confidential"] for row in await held.waiting(store.db))
            assert marked == replies, f"{marked} held posts re-marked, expected {replies}"
            return elapsed
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--replies", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with_held = [asyncio.run(one_run(args.held, args.replies)) for _ in range(args.runs)]
    alone = [asyncio.run(one_run(0, 0)) for _ in range(args.runs)]
    print(f"confidential_post_alone_ms {statistics.median(alone) * 1000:.1f} ms")
    print(f"confidential_post_remark_{args.held}_held_ms {statistics.median(with_held) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
