"""`listserv status` benchmark: how long the report takes on a large installation.

Usage: python bench/status.py [--lists 20] [--members 5000] [--batches 10000] [--held 1000] [--runs 5]

Builds a fresh database with the store's own functions: `lists` lists of
`members` members each, `batches` queued single-recipient batches (a tenth of
them failing) and `held` held posts spread over the lists, then times
listserv.status.report (the function behind the command, server check
included: no server runs, so no connection is tried). Prints `name value unit`.
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

from listserv import config, status  # noqa: E402
from listserv.store import Store, held, members, outbound  # noqa: E402
from listserv.store import lists as store_lists  # noqa: E402

CONTENT = b"Subject: bench\r\n\r\nA paragraph.\r\n"


async def build(store: Store, args: argparse.Namespace) -> None:
    ids = [await store.write(store_lists.create, f"list{n:03d}@example.net", "", {}) for n in range(args.lists)]
    for list_id in ids:
        rows = [{"address": f"m{i:06d}@example.net", "created_at": 0.0} for i in range(args.members)]
        await store.write(members.add_many, list_id, rows)
    recipients = [f"m{i:06d}@example.net" for i in range(args.batches // args.lists)]
    for list_id in ids:
        await store.write(outbound.enqueue, list_id, "b@example.net", CONTENT, recipients, 1)
    failing = [batch["id"] for batch in await outbound.listing(store.db)][:: 10]
    for batch_id in failing:
        await store.write(outbound.settle, batch_id, ["x@example.net"], time.time() + 3600, "451 4.3.0 later")
    for n in range(args.held):
        item = {"reasons": [{"rule": "nonmember", "text": "not a member"}], "raw": CONTENT, "subject": "x"}
        await store.write(held.hold, ids[n % len(ids)], item)


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="listserv-bench-") as tmp:
        base = config.Settings()
        settings = replace(base, storage=replace(base.storage, database=str(Path(tmp) / "status.db")))
        store = await Store.open(settings.storage.database)
        try:
            await build(store, args)
            await status.report(store, settings, None)  # warm-up
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                await status.report(store, settings, None)
                times.append(time.perf_counter() - start)
        finally:
            await store.close()
    print(f"status_report_{args.lists}x{args.members}_ms {statistics.median(times) * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=20)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--batches", type=int, default=10000)
    parser.add_argument("--held", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
