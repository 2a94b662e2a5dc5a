"""Where an archive import spends its time: cProfile of the importing process and of one parse worker's work.

Usage: python bench/import_profile.py [--count 100000] [--seed 1] [--top 15]

Two profiles, printed as pstats' top lines (sorted by own time):
- the importing process, running listserv.archive.importer.import_mbox on the
  bench mbox (bench/import_bench.py's, generated once) into a fresh database
  with its parse workers; its event loop's waits (for a worker's batch, for
  the writer's thread) show as `select`/`poll`;
- the work of one parse worker, listserv.archive.extract.parse_chunk on the
  first --sample messages of the mbox in this process, scaled to the whole
  import (parse_chunk is all a worker runs).
Then the CPU seconds of the importing process and of its workers apart, and
the wall time of the phases that run once: training the packing dictionary
and merging the FTS index at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import io
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.import_bench import LIST, mbox_file  # noqa: E402
from listserv import config, lists  # noqa: E402
from listserv.archive import importer, mbox  # noqa: E402
from listserv.archive.extract import Context, parse_chunk  # noqa: E402
from listserv.store import Store, packing, search_index  # noqa: E402


def _top(profile: cProfile.Profile, count: int) -> str:
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(count)
    return out.getvalue()


def _timed(phases: dict[str, float], name: str, fn):
    """fn, adding its wall time to phases[name] (sync or async)."""
    if asyncio.iscoroutinefunction(fn):
        async def timed_async(*args, **kwargs):
            start = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
        return timed_async

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
    return timed


async def _import(path: Path, db: Path, phases: dict[str, float]) -> float:
    store = await Store.open(db)
    try:
        await lists.create(store, LIST, description="import profile")
        settings = dataclasses.replace(config.Settings(), storage=config.StorageSettings(database=str(db)))
        importer.packing.train = _timed(phases, "dictionary training", packing.train)
        importer.search_index.optimize = _timed(phases, "FTS optimize", search_index.optimize)
        report = await importer.import_mbox(store, LIST, path, settings=settings)
        return report.seconds
    finally:
        await store.close()


def worker_profile(path: Path, sample: int) -> tuple[cProfile.Profile, float]:
    """parse_chunk over the first `sample` messages, profiled; and its wall time per message."""
    with open(path, "rb") as stream:
        entries = []
        for entry in mbox.entries(stream):
            entries.append((entry.data, entry.envelope_date()))
            if len(entries) == sample:
                break
    context = Context(subject_prefix="[mitigation] ", domain="lists.example.org", now=time.time())
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.runcall(parse_chunk, entries, context)
    return profile, (time.perf_counter() - start) / len(entries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="messages in the mbox (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--sample", type=int, default=5000, help="messages of the worker profile (default 5000)")
    parser.add_argument("--top", type=int, default=15, help="profile lines to print (default 15)")
    args = parser.parse_args()
    path = mbox_file(args.count, args.seed)
    phases: dict[str, float] = {}
    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="listserv-import-") as tmp:
        seconds = profile.runcall(asyncio.run, _import(path, Path(tmp) / "archive.db", phases))
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"== importing process (import {seconds:.1f} s, under cProfile) ==")
    print(_top(profile, args.top))
    worker, per_message = worker_profile(path, args.sample)
    print(f"== one parse worker: parse_chunk, {args.sample} messages, {per_message * 1e6:.0f} us a message ==")
    print(_top(worker, args.top))
    print(f"import_process_cpu_s {own.ru_utime + own.ru_stime:.1f} s (under cProfile)")
    print(f"import_workers_cpu_s {children.ru_utime + children.ru_stime:.1f} s")
    for name, wall in phases.items():
        print(f"{name.replace(' ', '_')}_s {wall:.2f} s")


if __name__ == "__main__":
    main()
