"""Members import benchmark: what `members import` costs now that every member it adds is also an audit row.

Usage: python bench/members_import.py [--count 10000] [--runs 3]

Each run imports `count` CSV rows (address,name) into a fresh list on a fresh
database with listserv.membership.import_rows, the function `members import`
calls (one transaction: the members and one audit row each), and times it.
Prints `name value unit`: the median over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from listserv import lists, membership  # noqa: E402
from listserv.store import Store  # noqa: E402

LIST = "bench@example.net"


async def one_run(count: int) -> float:
    """Seconds to import `count` new members, from the checked rows to the commit."""
    rows = [(n + 1, [f"member{n}@example.org", f"Member {n}"]) for n in range(count)]
    with tempfile.TemporaryDirectory(prefix="listserv-members-") as directory:
        store = await Store.open(str(Path(directory) / "db.sqlite"))
        try:
            await lists.create(store, LIST)
            started = time.perf_counter()
            report = await membership.import_rows(store, LIST, rows)
            elapsed = time.perf_counter() - started
            assert len(report.imported) == count, report.summary()
            return elapsed
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = [asyncio.run(one_run(args.count)) for _ in range(args.runs)]
    print(f"members_import_{args.count}_s {statistics.median(times):.2f} s")


if __name__ == "__main__":
    main()
