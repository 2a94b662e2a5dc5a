"""Archive import benchmark: a generated 100,000-message mbox imported by the real `archive import` code.

Usage: python bench/import_bench.py [--count 100000] [--seed 1] [--workers N] [--db PATH]

The mbox is made once by bench/mbox_gen.py (threaded discussion, fixed seed)
and kept in bench/out/ (git-ignored) for the next run. Each run imports it into
a fresh database with listserv.archive.importer.import_mbox, the function
behind `listserv archive import`, then checks that every message is there and
searchable, and prints `name value unit` lines: import_messages_per_s,
import_100k_s (import_s for another --count), import_cpu_s (CPU seconds of
this process and its parse workers: on a shared machine, compare this first), archive_db_size_mb (database and
WAL, raw messages included), import_peak_rss_mb (this process: reading,
threading, writing) and import_worker_peak_rss_mb (the largest parse worker),
search_after_import_ms (one ranked search, first page).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dataclasses  # noqa: E402

from bench.harness import figure  # noqa: E402
from bench.mbox_gen import write_mbox  # noqa: E402
from listserv import config, lists  # noqa: E402
from listserv.archive.importer import import_mbox  # noqa: E402
from listserv.archive.search import search  # noqa: E402
from listserv.store import Store, messages  # noqa: E402

LIST = "mitigation@lists.example.org"
OUT = Path(__file__).resolve().parent / "out"


def mbox_file(count: int, seed: int) -> Path:
    """The cached mbox for (count, seed), generated on first use."""
    path = OUT / f"generated-{count}-{seed}.mbox"
    if not path.exists():
        OUT.mkdir(exist_ok=True)
        partial = path.with_suffix(".partial")
        start = time.perf_counter()
        with open(partial, "wb") as out:
            write_mbox(out, count, seed)
        partial.replace(path)
        print(f"generated {path} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    return path


def _cpu_s() -> float:
    """CPU seconds (user and system) of this process and of its finished children (the parse workers)."""
    return sum(usage.ru_utime + usage.ru_stime
               for usage in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)))


async def run(path: Path, db: Path, count: int, workers: int | None) -> dict[str, tuple[float, str]]:
    """Import path into a new database at db, check it, and return the figures (name -> (value, unit))."""
    store = await Store.open(db)
    try:
        mlist = await lists.create(store, LIST, description="import benchmark")
        settings = dataclasses.replace(config.Settings(), storage=config.StorageSettings(database=str(db)))
        cpu_before = _cpu_s()
        report = await import_mbox(store, LIST, path, workers=workers, settings=settings)
        cpu_s = _cpu_s() - cpu_before
        stored = await messages.count(store.db, mlist.id)
        start = time.perf_counter()
        found = await search(store.db, mlist.id, "psychologist trauma")
        search_ms = (time.perf_counter() - start) * 1000
    finally:
        await store.close()
    if stored != report.imported or not found:
        raise SystemExit(f"import check failed: {stored} stored, {report.imported} reported, {len(found)} found")
    print(report.summary(), file=sys.stderr)
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    timing = "import_100k_s" if count == 100_000 else "import_s"
    return {
        "import_messages": (report.imported, "messages"),
        "import_messages_per_s": (report.imported / report.seconds, "messages/s"),
        timing: (report.seconds, "s"),
        "import_cpu_s": (cpu_s, "s"),
        "archive_db_size_mb": (size / 1e6, "MB"),
        "import_peak_rss_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB"),
        "import_worker_peak_rss_mb": (resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, "MB"),
        "search_after_import_ms": (search_ms, "ms"),
    }


def main() -> None:
    """Parse the arguments, make or reuse the mbox, import it into a temporary database, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages in the mbox (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--workers", type=int, help="parse processes (default: one per core)")
    parser.add_argument("--db", type=Path, help="import into this (new) database file and keep it")
    args = parser.parse_args()
    path = mbox_file(args.count, args.seed)
    with tempfile.TemporaryDirectory(prefix="listserv-import-") as tmp:
        db = args.db or Path(tmp) / "archive.db"
        if db.exists():
            raise SystemExit(f"{db} exists; the benchmark imports into a new database")
        figures = asyncio.run(run(path, db, args.count, args.workers))
    for name, (value, unit) in figures.items():
        figure(name, value, unit)


if __name__ == "__main__":
    main()
