"""`listserv queue ls|retry` over real outbound rows: counts not addresses, ISO times, retry makes due now."""

from __future__ import annotations

import json
import time

import pytest

from listserv import lists
from listserv.store import outbound
from listserv.timefmt import iso

LIST = "team@example.org"
LATER = 4102444800.0  # 2100-01-01T00:00:00Z: far enough that nothing is due


@pytest.fixture
def queued(listserv, seed):
    """Two batches for team@example.org (3 and 1 recipients); the second failed once and waits until 2100."""
    listserv("lists", "create", LIST)

    async def enqueue(store):
        mlist = await lists.get(store, LIST)
        recipients = ["ann@example.org", "bob@example.org", "cy@example.org", "dee@example.org"]
        await store.write(outbound.enqueue, mlist.id, "team-bounces@example.org", b"Subject: x\r\n\r\nx\r\n", recipients, 3)
        batches = await outbound.listing(store.db)
        await store.write(outbound.settle, batches[1]["id"], ["dee@example.org"], LATER, "451 4.3.0 try later")
        return [batch["id"] for batch in batches]

    return seed(enqueue)


def test_ls_json_fields(listserv, queued):
    """`queue ls --json`: id, list, recipients as a count, attempts, next_attempt_at in ISO 8601, last_error."""
    result = listserv("queue", "ls", "--json")
    assert result.exit_code == 0, result.stderr
    first, second = json.loads(result.stdout)
    assert set(first) >= {"id", "list", "recipients", "attempts", "next_attempt_at", "last_error"}
    assert first["id"] == queued[0] and first["list"] == LIST and first["recipients"] == 3
    assert first["attempts"] == 0 and first["last_error"] == ""
    assert second["recipients"] == 1 and second["attempts"] == 1
    assert second["next_attempt_at"] == "2100-01-01T00:00:00Z"
    assert second["last_error"] == "451 4.3.0 try later"


def test_ls_table_never_shows_addresses(listserv, queued):
    """The table has one aligned row per batch and shows how many recipients, never who."""
    result = listserv("queue", "ls")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["ID", "LIST", "RECIPIENTS", "ATTEMPTS", "NEXT-ATTEMPT", "LAST-ERROR"]
    assert lines[2].split() == [str(queued[1]), LIST, "1", "1", "2100-01-01", "00:00", "UTC", "451", "4.3.0", "try",
                                "later"]
    assert "@example.org" not in result.stdout.replace(LIST, "")


def test_ls_empty(listserv):
    """An empty queue: a short sentence, or [] as JSON."""
    assert listserv("queue", "ls").stdout == "queue empty\n"
    assert json.loads(listserv("queue", "ls", "--json").stdout) == []


def test_retry_makes_waiting_batches_due_now(listserv, queued):
    """`queue retry` brings the waiting batch's next attempt to now and says how many it moved."""
    before = time.time()
    result = listserv("queue", "retry")
    assert result.exit_code == 0
    assert result.stdout == "1 batch due now\n"
    second = json.loads(listserv("queue", "ls", "--json").stdout)[1]
    assert iso(before - 1) <= second["next_attempt_at"] <= iso(time.time() + 1)


def test_retry_on_empty_queue(listserv):
    """`queue retry` with nothing waiting moves nothing."""
    result = listserv("queue", "retry")
    assert result.exit_code == 0
    assert result.stdout == "0 batches due now\n"
