"""Where the pipeline process spends its CPU: N posts through the child's own loop, in process, under cProfile.

Usage: python bench/profile_pipeline.py [--posts 200] [--members 100] [--top 25] [--sort tottime] [--signed]

A fresh database in a temporary directory gets a list of --members members
(with --signed, its domain's DKIM keys) and --posts 5 KB posts in its inbound queue (bench/harness.post, what
bench/run.py sends); then listserv.pipeline_worker.PipelineLoop.process_pending,
the function the pipeline process runs, takes them all: once as it is, for
`pipeline_ms_per_post` (elapsed) and `pipeline_cpu_ms_per_post` (CPU of the
process, its database thread included), then as many more under cProfile,
whose top entries follow. The database thread's SQLite time shows in the
profile as waits on its futures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import figure, make_list, post  # noqa: E402
from listserv import config  # noqa: E402
from listserv.outgoing import keys  # noqa: E402
from listserv.pipeline_worker import PipelineLoop  # noqa: E402
from listserv.store import Store, inbound  # noqa: E402

LIST = "bench@example.net"
SENDER = "member000000@example.net"


async def _run(database: str, settings: config.Settings, posts: int, profile: cProfile.Profile | None
               ) -> tuple[float, float]:
    """Seconds elapsed and CPU seconds for `posts` new posts through the pipeline loop (profiled if given)."""
    store = await Store.open(database)
    try:
        for n in range(posts):
            await store.write(inbound.enqueue, SENDER, [LIST], post(SENDER, LIST, f"bench post {n}", n=n))
        loop = PipelineLoop(store, settings, lambda line: None, set())
        start, cpu = time.perf_counter(), time.process_time()
        if profile is not None:
            profile.enable()
        while await loop.process_pending():
            pass
        if profile is not None:
            profile.disable()
        return time.perf_counter() - start, time.process_time() - cpu
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--signed", action="store_true", help="the list's domain has DKIM keys: sign and seal")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listserv-bench-") as tmp:
        make_list(Path(tmp), LIST, args.members)
        base = config.Settings()
        settings = dataclasses.replace(base, storage=dataclasses.replace(base.storage, database=f"{tmp}/listserv.db"))
        if args.signed:
            keys.generate(settings, LIST.partition("@")[2])
        elapsed, cpu = asyncio.run(_run(f"{tmp}/listserv.db", settings, args.posts, None))
        figure("pipeline_ms_per_post", elapsed * 1000 / args.posts, "ms")
        figure("pipeline_cpu_ms_per_post", cpu * 1000 / args.posts, "ms")
        profile = cProfile.Profile()
        asyncio.run(_run(f"{tmp}/listserv.db", settings, args.posts, profile))
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
