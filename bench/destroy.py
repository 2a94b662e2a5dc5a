"""Destroying content benchmark: `archive purge` and `lists delete` on a generated archive, with the
write-ahead log emptied and (for delete) the file compacted, as the commands do.

Usage: python bench/destroy.py [--count 20000] [--seed 1]

Builds the fixture archive of bench/search.py (its build(), generated posts,
some of them confidential) in a temporary directory, then times on the same
store: retention.purge with confidential_retention_days 1 (every generated
post is older; includes the search-index merge and the TRUNCATE checkpoint),
then lists.delete (cascade, merge, VACUUM, checkpoint). Prints `name value unit`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import figure  # noqa: E402
from bench.search import LIST, build  # noqa: E402
from listserv import lists  # noqa: E402
from listserv.archive import retention  # noqa: E402
from listserv.store import Store  # noqa: E402

MB = 1024 * 1024


async def measure(path: Path, count: int) -> list[tuple[str, float, str]]:
    """Time the purge, then the deletion of the list; the figures as (name, value, unit)."""
    store = await Store.open(path)
    try:
        await lists.set_setting(store, LIST, "confidential_retention_days", "1")
        start = time.perf_counter()
        purged = (await retention.purge(store, LIST))[LIST]["archived"]
        purge_s = time.perf_counter() - start
        start = time.perf_counter()
        deleted = await lists.delete(store, LIST)
        delete_s = time.perf_counter() - start
    finally:
        await store.close()
    return [
        ("destroy_messages", count, "messages"), ("purge_confidential_posts", purged, "posts"),
        ("purge_s", purge_s, "s"), ("lists_delete_s", delete_s, "s"),
        ("lists_delete_before_mb", deleted.space.bytes_before / MB, "MB"),
        ("lists_delete_after_mb", deleted.space.bytes_after / MB, "MB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listserv-destroy-") as tmp:
        path = Path(tmp) / "listserv.db"
        asyncio.run(build(path, args.count, args.seed))
        for name, value, unit in asyncio.run(measure(path, args.count)):
            figure(name, value, unit)


if __name__ == "__main__":
    main()
