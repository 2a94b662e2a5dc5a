"""A job that has the writer's transaction to itself (no savepoint): its failure undoes its writes and only its."""

from __future__ import annotations

import pytest


async def _table(db) -> None:
    await db.execute("CREATE TABLE IF NOT EXISTS t (x TEXT)")


async def _write_then_fail(db) -> None:
    await db.execute("INSERT INTO t VALUES ('half done')")
    raise LookupError("the job's own fault")


async def _count(store) -> int:
    rows = await store.db.execute_fetchall("SELECT count(*) FROM t")
    return rows[0][0]


async def test_a_lone_failing_job_keeps_nothing_and_its_caller_gets_its_error(store):
    """Alone in its transaction, a job that wrote and then raised: its caller gets that exception, its row is
    gone, no transaction is left open, and the next write commits."""
    await store.write(_table)
    with pytest.raises(LookupError, match="own fault"):
        await store.write(_write_then_fail)
    assert await _count(store) == 0 and not store.writer.db.in_transaction

    async def _insert(db) -> None:
        await db.execute("INSERT INTO t VALUES ('kept')")

    await store.write(_insert)
    assert await _count(store) == 1


async def test_a_lone_job_s_sql_error_is_its_own(store):
    """A lone job whose statement fails (no such table): the caller gets SQLite's error, not a StoreError."""
    async def _bad(db) -> None:
        await db.execute("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(Exception, match="no such table"):
        await store.write(_bad)
    assert not store.writer.db.in_transaction
