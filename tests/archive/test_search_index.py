"""The FTS index stays in step with messages, survives migration and rebuild, and every query plan gives the same answers."""

from __future__ import annotations

import random

import aiosqlite
import pytest

from listserv.archive.search import reindex, search
from listserv.store import Store, messages, migrate, search_index
from tests.archive.conftest import day

WORDS = "mitigation records expert trauma juvenile school psychologist hearing budget".split()


async def found(archive, query: str, **options) -> list[int]:
    return [row["id"] for row in await search(archive.store.db, archive.list_id, query, **options)]


async def test_index_follows_insert_update_and_delete(archive):
    """Triggers index a new post, re-index an edited one (old words gone) and drop a deleted one."""
    post = await archive.add("original words", subject="first")
    assert await found(archive, "original") == [post]
    await archive.store.write(search_index.set_fields, post, search_text="replacement text")
    assert await found(archive, "original") == []
    assert await found(archive, "replacement") == [post]
    await archive.store.write(_delete, post)
    assert await found(archive, "replacement") == []
    await archive.store.write(search_index.integrity_check)


async def _delete(db: aiosqlite.Connection, archive_id: int) -> None:
    # No store function deletes archive rows yet (retention will); the trigger must already handle it.
    await db.execute("DELETE FROM messages WHERE id = ?", (archive_id,))


async def test_add_without_search_text_indexes_the_whole_body(archive):
    """A caller that does not pass search_text still gets a findable post (its whole body_text is indexed)."""
    post = await archive.store.write(messages.add, archive.list_id, {
        "message_id": "plain@x", "date": day("2024-01-01"), "body_text": "unstripped body\n> quoted word",
    })
    assert await found(archive, "quoted") == [post]
    assert (await search_index.fields(archive.store.db, post))["search_text"] == "unstripped body\n> quoted word"


async def test_set_fields_refuses_other_columns(archive):
    """set_fields changes only the search columns; anything else is a programming error, said plainly."""
    post = await archive.add("text")
    with pytest.raises(ValueError, match="set_fields takes search_text, attachments, thread_id"):
        await archive.store.write(search_index.set_fields, post, subject="x")
    with pytest.raises(ValueError):
        await archive.store.write(search_index.set_fields, post)
    assert await archive.store.write(search_index.set_fields, post, thread_id=5, attachments="a.pdf") == 1
    assert await search_index.fields(archive.store.db, post) == {
        "search_text": "text", "attachments": "a.pdf", "thread_id": 5}


async def test_rebuild_and_optimize_keep_results(archive):
    """rebuild (archive reindex) and optimize leave the index consistent and the answers unchanged."""
    ids = [await archive.add(f"{word} report") for word in WORDS]
    before = await found(archive, "report", limit=50)
    await archive.store.write(search_index.rebuild)
    await archive.store.write(search_index.optimize)
    await archive.store.write(search_index.integrity_check)
    assert await found(archive, "report", limit=50) == before and sorted(before) == sorted(ids)


async def test_reindex_recomputes_search_text(archive):
    """reindex() strips quotes from rows stored with their whole body (read again from the raw message) and
    reports how many changed."""
    quoted = await archive.store.write(messages.add, archive.list_id, {
        "message_id": "old@x", "date": day("2024-01-01"), "body_text": "answer\n> zebra question",
        "raw": b"Subject: old\r\nMessage-ID: <old@x>\r\n\r\nanswer\r\n> zebra question\r\n",
    })
    clean = await archive.add("already clean")
    assert await found(archive, "zebra") == [quoted]
    assert await reindex(archive.store, batch=1) == 1
    assert await found(archive, "zebra") == []
    assert await found(archive, "answer") == [quoted] and await found(archive, "clean") == [clean]
    assert await reindex(archive.store) == 0


async def test_migration_indexes_posts_archived_before_it(tmp_path, monkeypatch):
    """Upgrading a version-1 database copies body_text into search_text and indexes the old posts."""
    path = tmp_path / "old.db"
    everything = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: everything[:1])
    old = await Store.open(path)
    await old.write(_legacy_post)
    await old.close()
    monkeypatch.setattr(migrate, "migrations", lambda: everything)
    upgraded = await Store.open(path)
    try:
        rows = await search(upgraded.db, 1, "legacy")
        assert [row["message_id"] for row in rows] == ["legacy@x"]
        assert (await search(upgraded.db, 1, "subject:archived"))[0]["id"] == rows[0]["id"]
        await upgraded.write(search_index.integrity_check)
    finally:
        await upgraded.close()


async def _legacy_post(db: aiosqlite.Connection) -> None:
    # The version-1 schema, written as the version-1 code did: no store function of today can.
    await db.execute("INSERT INTO lists (address, created_at) VALUES ('team@example.org', 0)")
    await db.execute(
        "INSERT INTO messages (list_id, message_id, date, received_at, subject, body_text)"
        " VALUES (1, 'legacy@x', 0, 0, 'archived long ago', 'a legacy body')"
    )


async def _archive_many(archive, count: int = 120, seed: int = 3) -> list[int]:
    """count posts with random words, dates (not in archive order), threads and attachments."""
    rng = random.Random(seed)
    ids = []
    for n in range(count):
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        ids.append(await archive.add(
            words, subject=rng.choice(WORDS), when=f"20{rng.randint(19, 24)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
            thread_id=rng.randint(1, 6), attachments="f.pdf" if rng.random() < 0.2 else "",
            confidential=rng.random() < 0.1,
        ))
    return ids


QUERIES = [
    "mitigation", "records expert", "trauma -juvenile", "school OR hearing", "subject:budget",
    "expert after:2021-01-01 before:2023-06-01", "records thread:3", "psychologist has:attachment",
    "after:2022-01-01", "thread:2 -budget", '"records expert"',
]


@pytest.mark.parametrize("query", QUERIES)
async def test_date_order_plans_agree(archive, monkeypatch, query):
    """Newest-first is exact whichever plan runs: sorting every match, or walking the date index."""
    await _archive_many(archive)
    monkeypatch.setattr(search_index, "PROBE", 10**9)
    sorted_plan = await found(archive, query, order="date", limit=200)
    monkeypatch.setattr(search_index, "PROBE", 1)
    walked = await found(archive, query, order="date", limit=200)
    assert walked == sorted_plan and sorted_plan


@pytest.mark.parametrize("query", QUERIES)
async def test_ranked_plans_agree_when_the_window_holds_every_match(archive, monkeypatch, query):
    """With fewer matches than the window, bounds from a date/thread/attachment filter do not change the answer."""
    await _archive_many(archive)
    bounded = await found(archive, query, limit=200)
    monkeypatch.setattr(search_index, "BOUNDS_CAP", 0)
    unbounded = await found(archive, query, limit=200)
    assert bounded == unbounded and bounded
    by_date = await found(archive, query, order="date", limit=200)
    assert sorted(bounded) == sorted(by_date)


async def test_window_ranks_only_the_newest_matches(archive, monkeypatch):
    """A query matching more posts than the window is ranked among its newest archived matches, never fewer than limit."""
    best = await archive.add("records", subject="records")  # the best match, but archived first
    others = [await archive.add(f"records and {n} more words") for n in range(9)]
    assert (await found(archive, "records", limit=1)) == [best]
    monkeypatch.setattr(search_index, "RANK_WINDOW", 4)
    assert set(await found(archive, "records", limit=3)) <= set(others[-4:])
    assert set(await found(archive, "records", limit=8)) == set(others[-8:])


async def test_narrow_filter_with_no_posts_finds_nothing(archive):
    """A date range or thread that holds no posts answers with nothing, quickly and without error."""
    await archive.add("records", when="2024-01-01", thread_id=1)
    assert await found(archive, "records after:2030-01-01") == []
    assert await found(archive, "records thread:99") == []
    assert await found(archive, "records thread:99", order="date") == []


@pytest.mark.parametrize(("query", "order", "probe"), [
    ("records", "rank", None), ("expert after:2021-01-01 before:2023-06-01", "rank", None),
    ("psychologist has:attachment", "rank", None), ("records thread:3", "rank", None),
    ("records", "date", 10**9), ("records", "date", 1), ("records thread:3", "date", None),
    ("after:2022-01-01", "rank", None),
])
async def test_each_search_is_one_statement(archive, monkeypatch, query, order, probe):
    """Whatever the plan (a filter's span, newest first sorted or walked), a search is one statement: one round trip."""
    await _archive_many(archive)
    if probe is not None:
        monkeypatch.setattr(search_index, "PROBE", probe)
    statements: list[str] = []
    await archive.store.db.set_trace_callback(statements.append)
    try:
        results = await found(archive, query, order=order, limit=200)
    finally:
        await archive.store.db.set_trace_callback(None)
    ours = [sql for sql in statements if not sql.startswith("--") and "'main'." not in sql]  # FTS5's own are left out
    assert results and len(ours) == 1, ours


async def test_reindex_keeps_the_text_of_a_post_it_cannot_parse(archive):
    """A raw message too deeply nested to parse keeps the search text it was archived with; reindex goes on."""
    head = b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n) for n in range(2000))
    deep = await archive.store.write(messages.add, archive.list_id, {
        "message_id": "deep@x", "date": day("2024-01-01"), "search_text": "nested archived words",
        "raw": b"Subject: deep\n" + head + b"Content-Type: text/plain\n\ndeep\n",
    })
    assert await reindex(archive.store) == 0
    assert await found(archive, "nested") == [deep]
