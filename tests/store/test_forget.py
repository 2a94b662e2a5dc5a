"""The writer's work outside transactions and its own emptying of the write-ahead log (listserv.store.forget)."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from listserv.errors import StoreError
from listserv.store import Store, connection, forget, writer


async def _flag(db) -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS t (x TEXT)")
    await db.execute("INSERT INTO t VALUES ('Quillfeather')")


async def test_outside_runs_after_earlier_writes_and_outside_any_transaction(store):
    """outside(job) sees every write submitted before it committed, and runs with no transaction open."""
    pending = [asyncio.ensure_future(store.write(_flag)) for _ in range(3)]
    await asyncio.sleep(0)  # the three are queued, none committed yet

    async def look(db):
        rows = await db.execute_fetchall("SELECT count(*) FROM t")
        return rows[0][0], db.in_transaction

    assert await store.writer.outside(look) == (3, False)
    await asyncio.gather(*pending)


async def test_a_failing_outside_job_reaches_its_caller_and_the_writer_goes_on(store):
    """An exception in an outside job is raised to its caller; the next write still commits."""

    async def broken(db):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await store.writer.outside(broken)
    await store.write(_flag)
    assert (await store.db.execute_fetchall("SELECT count(*) FROM t"))[0][0] == 1


async def test_the_writer_empties_the_log_by_itself_after_a_commit(store, tmp_path):
    """With no purge asked for, deleted content leaves -wal within about FORGET_AFTER of the commit."""
    other = sqlite3.connect(tmp_path / "listserv.db")  # keeps the log from being removed by a close
    try:
        await store.write(_flag)
        await store.write(lambda db: db.execute("DELETE FROM t"))
        wal = tmp_path / "listserv.db-wal"
        assert b"Quillfeather" in wal.read_bytes()
        deadline = time.monotonic() + writer.FORGET_AFTER + 5
        while wal.stat().st_size and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert wal.stat().st_size == 0
        assert all(b"Quillfeather" not in path.read_bytes() for path in forget.files(tmp_path / "listserv.db"))
    finally:
        other.close()


async def test_forget_deleted_and_compact_report_complete_and_shrink(tmp_path):
    """forget_deleted() leaves an empty log; compact() gives the pages of deleted rows back to the disk."""
    store = await Store.open(tmp_path / "listserv.db")
    try:
        await store.write(lambda db: db.execute("CREATE TABLE big (x BLOB)"))
        await store.write(lambda db: db.execute("INSERT INTO big VALUES (randomblob(2000000))"))
        await store.forget_deleted()
        grown = store.size()
        await store.write(lambda db: db.execute("DELETE FROM big"))
        await store.compact()
        assert (tmp_path / "listserv.db-wal").stat().st_size == 0
        assert grown - store.size() > 1_900_000
    finally:
        await store.close()


async def test_compact_while_another_program_writes_is_a_store_error(tmp_path, monkeypatch):
    """VACUUM cannot take the write lock another connection holds past the busy timeout: StoreError naming
    the step (the CLI prints it in one line, exit 1), and the store still works afterwards."""
    short = tuple("PRAGMA busy_timeout=100" if p.startswith("PRAGMA busy_timeout") else p for p in connection.PRAGMAS)
    monkeypatch.setattr(connection, "PRAGMAS", short)
    monkeypatch.setattr(forget, "BUSY_TIMEOUT_MS", 100)  # what a checkpoint puts back afterwards
    store = await Store.open(tmp_path / "listserv.db")
    other = sqlite3.connect(tmp_path / "listserv.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match=r"^compacting the database failed: database is locked$"):
            await store.compact()
        other.execute("ROLLBACK")
        await store.write(_flag)
    finally:
        other.close()
        await store.close()


async def test_a_short_command_leaves_the_log_empty_when_it_closes(tmp_path):
    """A CLI command's store, closed while another program (the daemon) keeps the database open, leaves no
    deleted content in -wal: closing empties the log of its commits."""
    store = await Store.open(tmp_path / "listserv.db")
    other = sqlite3.connect(tmp_path / "listserv.db")
    try:
        other.execute("SELECT count(*) FROM sqlite_master").fetchall()  # holds the file open, no transaction
        await store.write(_flag)
        await store.write(lambda db: db.execute("DELETE FROM t"))
        assert b"Quillfeather" in (tmp_path / "listserv.db-wal").read_bytes()
        await store.close()
        assert (tmp_path / "listserv.db-wal").stat().st_size == 0
        assert all(b"Quillfeather" not in path.read_bytes() for path in forget.files(tmp_path / "listserv.db"))
    finally:
        other.close()


async def test_opening_the_store_empties_a_log_left_behind(tmp_path):
    """A log still holding deleted content when the store opens (its writer died before emptying it, and
    another program kept the database open) is emptied at once, before any new write."""
    other = sqlite3.connect(tmp_path / "listserv.db", isolation_level=None)
    try:
        other.execute("PRAGMA journal_mode=WAL")
        other.execute("PRAGMA wal_autocheckpoint=0")  # like a writer killed before it could checkpoint
        other.execute("CREATE TABLE t (x TEXT)")
        other.execute("INSERT INTO t VALUES ('Quillfeather')")
        other.execute("DELETE FROM t")
        assert b"Quillfeather" in (tmp_path / "listserv.db-wal").read_bytes()
        store = await Store.open(tmp_path / "listserv.db")
        try:
            assert (tmp_path / "listserv.db-wal").stat().st_size == 0
        finally:
            await store.close()
    finally:
        other.close()
