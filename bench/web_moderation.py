"""Moderation pages benchmark: p50/p95 of the held queue, a held post, the members page and the audit log.

Usage: python bench/web_moderation.py [--members 10000] [--entries 100000] [--held 100] [--runs 30]

Builds one list with the store's functions: `--members` members (the owner
among them), `--held` held posts (every tenth confidential) and `--entries`
audit entries of the list. The owner gets a session (written with the store's
function, as the login button would). The daemon is started in this process
with its web pages on a free port, and an httpx client on the same loop GETs,
`--runs` times in rotation after a warm-up: the held queue, three held posts,
the members' first and a middle page and a filtered page, and the audit log's
newest and an older page. Each line: `name value unit` (web_held_p50_ms,
web_held_p95_ms, web_held_post_*, web_members_*, web_audit_*). The client shares
the loop and the 2 cores with the server: the figures include its time.
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

import httpx  # noqa: E402

from bench.harness import figure  # noqa: E402
from bench.web import as_visitor, timed_pages  # noqa: E402
from listserv import lists  # noqa: E402
from listserv.store import Store, audit, held, members  # noqa: E402

LIST = "bench@lists.example.org"
OWNER = "owner@lists.example.org"
BATCH = 5000


def _post(n: int) -> bytes:
    subject = f"[CONFIDENTIAL] Case {n}" if n % 10 == 0 else f"Question {n} about mitigation"
    return (f"From: Stranger {n} <s{n}@outside.example>\r\nTo: {LIST}\r\nSubject: {subject}\r\n"
            f"Message-ID: <h{n}@outside.example>\r\n\r\n" + "Who knows a good expert for this hearing?\r\n" * 20
            ).encode()


async def _members(db, list_id: int, count: int) -> None:
    await members.add_many(db, list_id, ({"address": f"m{n:06d}@members.example", "name": f"Member {n}"}
                                         for n in range(count)))
    await members.add(db, list_id, {"address": OWNER, "role": "owner"})


async def _held(db, list_id: int, count: int) -> None:
    for n in range(count):
        reasons = [{"rule": "nonmember", "text": f"s{n}@outside.example is not a member of {LIST}"}]
        await held.hold(db, list_id, {"role": "post", "sender": f"s{n}@outside.example", "subject": f"Post {n}",
                                      "reasons": reasons, "confidential": n % 10 == 0, "raw": _post(n)})


async def _entries(db, list_id: int, count: int) -> None:
    for n in range(count):
        await audit.record(db, f"m{n % 1000:06d}@members.example", "set-member", list_id,
                           f"member:m{n % 1000:06d}@members.example", "delivery = digest")


async def build(path: Path, member_count: int, held_count: int, entry_count: int) -> float:
    """The list at path; returns the seconds it took."""
    start = time.perf_counter()
    store = await Store.open(path)
    try:
        mlist = await lists.create(store, LIST, description="moderation benchmark")
        await store.write(_members, mlist.id, member_count)
        await store.write(_held, mlist.id, held_count)
        for done in range(0, entry_count, BATCH):
            await store.write(_entries, mlist.id, min(BATCH, entry_count - done))
    finally:
        await store.close()
    return time.perf_counter() - start


async def measure(path: Path, runs: int, member_count: int) -> dict[str, list[float]]:
    """Milliseconds of every GET, by page kind, read by the list's owner."""
    return await as_visitor(path, OWNER, lambda client: _timed(client, runs, member_count))


async def _timed(client: httpx.AsyncClient, runs: int, member_count: int) -> dict[str, list[float]]:
    newest = await client.get(f"/lists/{LIST}/audit")
    older = newest.text.split("?before=")[1].split('"')[0] if "?before=" in newest.text else ""
    pages = {
        "held": [f"/lists/{LIST}/held"],
        "held_post": [f"/lists/{LIST}/held/{n}" for n in (1, 2, 50)],
        "members": [f"/lists/{LIST}/members", f"/lists/{LIST}/members?page={max(1, member_count // 100)}",
                    f"/lists/{LIST}/members?q=Member+77"],
        "audit": [f"/lists/{LIST}/audit"] + ([f"/lists/{LIST}/audit?before={older}"] if older else []),
    }
    return await timed_pages(client, pages, runs)


def report(samples: dict[str, list[float]], build_s: float) -> None:
    figure("web_moderation_build_s", build_s, "s")
    for kind, values in samples.items():
        figure(f"web_{kind}_p50_ms", statistics.median(values), "ms")
        figure(f"web_{kind}_p95_ms", statistics.quantiles(values, n=20)[18], "ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000, help="members of the list (default 10000)")
    parser.add_argument("--held", type=int, default=100, help="held posts waiting (default 100)")
    parser.add_argument("--entries", type=int, default=100_000, help="audit entries of the list (default 100000)")
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each page (default 30)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="listserv-web-moderation-") as tmp:
        path = Path(tmp) / "moderation.db"
        build_s = asyncio.run(build(path, args.members, args.held, args.entries))
        report(asyncio.run(measure(path, args.runs, args.members)), build_s)


if __name__ == "__main__":
    main()
