"""Fixtures for the CLI tests: a config file on a temp database, an in-process `listserv` call, seeding.

Commands run synchronously through click's CliRunner (each one calls
asyncio.run itself), so these tests are plain functions, not coroutines.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Awaitable, Callable

import pytest
from click.testing import CliRunner, Result

from cli import main
from listserv import lists
from listserv.store import Store
from listserv.store import held as store_held
from tests.conftest import write_config

POST = (
    b"From: Stranger <stranger@example.com>\r\n"
    b"To: team@example.org\r\n"
    b"Subject: Let me in\r\n"
    b"Message-ID: <held-1@example.com>\r\n"
    b"\r\n"
    b"Please add me to the list.\r\n"
)


@pytest.fixture
def config_path(tmp_path, settings) -> Path:
    """The test settings (database under tmp_path) written as a configuration file."""
    return write_config(tmp_path, settings)


@pytest.fixture
def listserv(config_path) -> Callable[..., Result]:
    """Run `listserv --config F ARGS...` in-process; result.stdout and result.stderr are kept apart."""

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(main, ["--config", str(config_path), *args], input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def fails() -> Callable[..., str]:
    """Check the error contract: exit `code`, nothing on stdout, exactly one `listserv: error:` line."""

    def check(result: Result, code: int, *fragments: str) -> str:
        assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("listserv: error: "), lines[0]
        for fragment in fragments:
            assert fragment in lines[0]
        assert result.stdout == ""
        return lines[0]

    return check


@pytest.fixture
def seed(settings) -> Callable[[Callable[[Store], Awaitable]], object]:
    """Run fn(store) against the test database, for rows no command creates (held posts, the queue)."""

    def run(fn: Callable[[Store], Awaitable]) -> object:
        async def with_store():
            store = await Store.open(settings.storage.database)
            try:
                return await fn(store)
            finally:
                await store.close()

        return asyncio.run(with_store())

    return run


@pytest.fixture
def hold(seed) -> Callable[..., int]:
    """Put a post into the held queue of an existing list and return its id."""

    def put(list_address: str, **item: object) -> int:
        row = {
            "sender": "stranger@example.com", "mail_from": "stranger@example.com", "subject": "Let me in",
            "reasons": [{"rule": "nonmember", "text": "the sender is not a member of the list"}],
            "raw": POST, "received_at": 1795753825.0, **item,
        }

        async def insert(store: Store) -> int:
            mlist = await lists.get(store, list_address)
            return await store.write(store_held.hold, mlist.id, row)

        return seed(insert)

    return put
