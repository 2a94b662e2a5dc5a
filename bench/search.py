"""Archive search benchmark: database size and ranked search latency at 100,000 generated posts.

Usage: python bench/search.py [--count 100000] [--seed 1] [--runs 30] [--db PATH]

Builds the archive directly with the store's functions (a packing dictionary
trained on the first 5,000 posts as `archive import` trains it, messages.add in
transactions of 5,000 rows, which pack and index each post, then the index
optimized): this is a fixture, not the `archive import` benchmark, and its time
is printed only as `archive_build_s`. Then it runs QUERIES (words, phrases,
from:, subject:, date ranges, exclusion, OR, thread:, has:attachment, newest
first) through listserv.archive.search.search on a fresh reader connection,
`--runs` times each in rotation after one warm-up, and prints `name value unit`
lines: archive_db_size_mb, search_p50_ms, search_p95_ms over every run, the same
in CPU time (search_cpu_p50_ms, search_cpu_p95_ms), and the median of each kind.
Then it shows posts as `archive show` does (archive_show_p50_ms, archive_show_p95_ms:
listserv.archive.show.post of SHOWN random posts) and unpacks one stored post in
this process (unpack_p50_us: listserv.store.packing.unpack, the raw message
decompressed). --db keeps the database at PATH and reuses it next time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import figure  # noqa: E402
from bench.mbox_gen import Post, generate, people  # noqa: E402
from listserv import lists  # noqa: E402
from listserv.archive.search import search, searchable_text  # noqa: E402
from listserv.archive import show  # noqa: E402
from listserv.store import Store, dictionaries, messages, packing, search_index  # noqa: E402

LIST = "mitigation@lists.example.org"
BATCH = 5000
SHOWN = 300  # posts shown (archive show) and unpacked


def queries(seed: int) -> list[tuple[str, str, str]]:
    """(kind, query, order): representative searches, with senders that exist in the generated archive."""
    senders = people(random.Random(seed))
    name, address = senders[0].name.split()[0], senders[1].address
    return [
        ("common_word", "mitigation", "rank"), ("common_word2", "sentencing", "rank"),
        ("word", "psychologist", "rank"), ("stemmed_word", "evaluations", "rank"),
        ("rare_word", "zygosity", "rank"), ("rare_word2", "quokka", "rank"),
        ("two_words", "psychologist trauma", "rank"), ("two_words2", "juvenile hipaa", "rank"),
        ("three_words", "expert testimony texas", "rank"),
        ("phrase", '"school records"', "rank"), ("phrase2", '"expert testimony"', "rank"),
        ("from_name", f"from:{name}", "rank"), ("from_accented", "from:zoë", "rank"),
        ("from_address_word", f"from:{address} mitigation", "rank"),
        ("subject", "subject:expert", "rank"), ("subject_word", "subject:daubert records", "rank"),
        ("date_range_word", "sentencing after:2021-01-01 before:2021-03-01", "rank"),
        ("after_word", "trauma after:2024-06-01", "rank"), ("before_word", "mitigation before:2019-06-01", "rank"),
        ("exclusion", "sentencing -juvenile", "rank"), ("or", "daubert OR deposition", "rank"),
        ("thread_word", "thread:777 records", "rank"), ("attachment_word", "has:attachment evaluation", "rank"),
        ("date_range_only", "after:2022-01-01 before:2022-02-01", "rank"),
        ("newest_common", "psychologist", "date"), ("newest_rare", "zygosity", "date"),
        ("newest_two_words", "ohio juvenile", "date"),
    ]


def row(post: Post) -> dict:
    """The archive row the pipeline would store for this post (search fields included)."""
    return {
        "message_id": post.message_id, "date": post.date, "received_at": post.date, "sender": post.sender,
        "sender_name": post.sender_name, "subject": post.subject, "in_reply_to": post.in_reply_to,
        "refs": " ".join(post.refs), "body_text": post.body_text, "search_text": searchable_text(post.body_text),
        "attachments": "\n".join(name for name, _ in post.attachments), "thread_id": post.thread,
        "confidential": "[CONFIDENTIAL]" in post.subject, "raw": post.to_bytes(),
    }


async def _add_rows(db, list_id: int, rows: list[dict]) -> None:
    for one in rows:
        await messages.add(db, list_id, one)


async def _train_once(store: Store, batch: list[dict]) -> None:
    """The archive's packing dictionary, trained as `archive import` trains it (listserv.archive.importer)."""
    if await dictionaries.current(store.db) is None:
        samples = [one["raw"] for one in batch[: packing.TRAIN_SAMPLES]]
        await store.write(dictionaries.add, packing.train(samples), len(samples))


async def build(path: Path, count: int, seed: int) -> float:
    """Create the archive at path; returns the seconds it took."""
    start = time.perf_counter()
    store = await Store.open(path)
    try:
        mlist = await lists.create(store, LIST, description="search benchmark")
        batch: list[dict] = []
        for post in generate(count, seed):
            batch.append(row(post))
            if len(batch) == BATCH:
                await _train_once(store, batch)
                await store.write(_add_rows, mlist.id, batch)
                batch = []
        if batch:
            await store.write(_add_rows, mlist.id, batch)
        await store.write(search_index.optimize)
    finally:
        await store.close()
    return time.perf_counter() - start


async def measure(path: Path, seed: int, runs: int) -> tuple[dict[str, list[float]], list[float]]:
    """Milliseconds of every run of every query, by kind; and the CPU milliseconds of every run.

    CPU time is the process's (the event loop and aiosqlite's database thread):
    what a search costs, without the waits for a core that other programs on a
    shared machine add to the elapsed time.
    """
    store = await Store.open(path)
    try:
        mlist = await lists.get(store, LIST)
        table = queries(seed)
        for _, text, order in table:  # warm-up, and a check that every query finds something
            if not await search(store.db, mlist.id, text, order=order):
                print(f"warning: {text!r} found nothing", file=sys.stderr)
        samples: dict[str, list[float]] = {kind: [] for kind, _, _ in table}
        cpu: list[float] = []
        for _ in range(runs):
            for kind, text, order in table:
                start, start_cpu = time.perf_counter(), time.process_time()
                await search(store.db, mlist.id, text, order=order)
                samples[kind].append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
        samples.update(await shown(store, mlist.id, seed))
    finally:
        await store.close()
    return samples, cpu


async def shown(store: Store, list_id: int, seed: int) -> dict[str, list[float]]:
    """Milliseconds of `archive show` (show.post) of SHOWN random posts, and microseconds of unpacking each one's
    raw message packed as the archive packs it (the newest dictionary)."""
    ids = [row["id"] for row in await messages.for_list(store.db, list_id) if not row["confidential"]]
    dictionary = await dictionaries.current(store.db)
    show_ms, unpack_us = [], []
    for archive_id in random.Random(seed).sample(ids, min(SHOWN, len(ids))):
        start = time.perf_counter()
        await show.post(store, archive_id)
        show_ms.append((time.perf_counter() - start) * 1000)
        raw = await messages.raw(store.db, archive_id)
        packed = packing.pack(raw, "", dictionary)
        start = time.perf_counter()
        packing.unpack(packed, len(raw))
        unpack_us.append((time.perf_counter() - start) * 1e6)
    return {"archive_show": show_ms, "unpack": unpack_us}


def report(
    samples: dict[str, list[float]], cpu: list[float], size_mb: float, build_s: float | None, count: int
) -> None:
    lines = [("archive_messages", count, "messages"), ("archive_db_size_mb", size_mb, "MB")]
    if build_s is not None:
        lines.append(("archive_build_s", build_s, "s"))
    for name, value, unit in lines + figures(samples, cpu):
        figure(name, value, unit)


def figures(samples: dict[str, list[float]], cpu: list[float]) -> list[tuple[str, float, str]]:
    """(name, value, unit) of the search and show figures, from what measure() returns (bench/run.py too)."""
    samples = dict(samples)
    show_ms, unpack_us = samples.pop("archive_show"), samples.pop("unpack")
    every = [ms for values in samples.values() for ms in values]
    lines = [
        ("search_p50_ms", statistics.median(every), "ms"),
        ("search_p95_ms", statistics.quantiles(every, n=20)[18], "ms"),
        ("search_cpu_p50_ms", statistics.median(cpu), "ms"),
        ("search_cpu_p95_ms", statistics.quantiles(cpu, n=20)[18], "ms"),
        ("search_queries", len(samples), "queries"),
        ("archive_show_p50_ms", statistics.median(show_ms), "ms"),
        ("archive_show_p95_ms", statistics.quantiles(show_ms, n=20)[18], "ms"),
        ("unpack_p50_us", statistics.median(unpack_us), "us"),
    ]
    return lines + [(f"search_{kind}_p50_ms", statistics.median(values), "ms") for kind, values in samples.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="posts in the archive (default 100000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each query (default 30)")
    parser.add_argument("--db", type=Path, help="keep the database here and reuse it when it exists")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listserv-search-") as tmp:
        path = args.db or Path(tmp) / "archive.db"
        build_s = None if path.exists() else asyncio.run(build(path, args.count, args.seed))
        size_mb = sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 1e6
        samples, cpu = asyncio.run(measure(path, args.seed, args.runs))
        report(samples, cpu, size_mb, build_s, args.count)


if __name__ == "__main__":
    main()
