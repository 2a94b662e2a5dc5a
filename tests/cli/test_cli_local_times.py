"""People read times in the server's local zone, with the zone; --json keeps UTC ISO 8601 (every listing)."""

from __future__ import annotations

import json
import re

import pytest

from listserv import lists
from listserv.store import bounces as store_bounces
from listserv.store import pending
from listserv.timefmt import local
from tests.cli.test_cli_archive import archive, search  # noqa: F401 - the fixture the archive cases use
from tests.cli.test_cli_queue import LATER, queued  # noqa: F401 - the fixture the queue case uses

LIST = "team@example.org"
CET = "CET-1CEST,M3.5.0,M10.5.0/3"  # Central European Time, written out so no zone database is needed
RECEIVED = 1795753825.0  # 2026-11-27T04:30:25Z = 05:30 CET
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
LOCAL_CET = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d CES?T")


@pytest.fixture
def cet(time_zone):
    time_zone(CET)


def test_local_names_the_zone_or_its_offset(time_zone):
    """local() gives 'YYYY-MM-DD HH:MM ZONE', with an offset where the zone has no name; None stays None."""
    time_zone(CET)
    assert local(RECEIVED) == "2026-11-27 05:30 CET"
    assert local(1780000000.0) == "2026-05-28 22:26 CEST"  # summer time is named too
    time_zone("<+0530>-5:30")
    assert local(RECEIVED) == "2026-11-27 10:00 +0530"
    assert local(None) is None


def test_held_ls_and_show(listserv, hold, cet):
    """held ls and held show: received at 05:30 CET for people, 04:30:25Z in JSON."""
    listserv("lists", "create", LIST)
    held_id = hold(LIST, received_at=RECEIVED)
    assert "2026-11-27 05:30 CET" in listserv("held", "ls").stdout
    assert json.loads(listserv("held", "ls", "--json").stdout)[0]["received_at"] == "2026-11-27T04:30:25Z"
    shown = listserv("held", "show", str(held_id)).stdout
    assert re.search(r"^received_at: +2026-11-27 05:30 CET$", shown, re.MULTILINE)
    assert json.loads(listserv("held", "show", str(held_id), "--json").stdout)["received_at"] == "2026-11-27T04:30:25Z"


def test_held_decision_and_audit_ls(listserv, hold, cet):
    """A decision's time in held show, and audit ls, are local for people and ISO in JSON."""
    listserv("lists", "create", LIST)
    held_id = hold(LIST, received_at=RECEIVED)
    assert listserv("held", "discard", str(held_id), "--by", "mod").exit_code == 0
    assert LOCAL_CET.search(listserv("held", "show", str(held_id)).stdout.split("decided_at:")[1])
    table = listserv("audit", "ls").stdout
    assert LOCAL_CET.search(table) and not ISO.search(table)
    assert all(ISO.fullmatch(row["at"]) for row in json.loads(listserv("audit", "ls", "--json").stdout))


def test_queue_ls(listserv, queued, cet):  # noqa: F811
    """queue ls: next attempt 2100-01-01 01:00 CET for people, 2100-01-01T00:00:00Z in JSON."""
    assert "2100-01-01 01:00 CET" in listserv("queue", "ls").stdout
    rows = json.loads(listserv("queue", "ls", "--json").stdout)
    assert rows[1]["next_attempt_at"] == "2100-01-01T00:00:00Z"


def test_members_pending_and_bouncing(listserv, seed, cet):
    """members pending and members ls --bouncing: local for people, ISO in JSON."""
    listserv("lists", "create", LIST)
    listserv("members", "add", LIST, "bob@example.org")

    async def put(store):
        mlist = await lists.get(store, LIST)
        await store.write(pending.add, mlist.id,
                          {"address": "dee@example.org", "requested_at": RECEIVED, "confirmed_at": RECEIVED})
        await store.write(store_bounces.set_score, mlist.id, "bob@example.org", 2.0, RECEIVED, RECEIVED)

    seed(put)
    assert "2026-11-27 05:30 CET" in listserv("members", "pending", LIST).stdout
    assert json.loads(listserv("members", "pending", LIST, "--json").stdout)[0]["confirmed_at"] == "2026-11-27T04:30:25Z"
    assert "2026-11-27 05:30 CET" in listserv("members", "ls", LIST, "--bouncing").stdout
    row = json.loads(listserv("members", "ls", LIST, "--bouncing", "--json").stdout)[0]
    assert row["bounce_last_at"] == "2026-11-27T04:30:25Z"


def test_archive_search_show_and_thread(listserv, archive, cet):  # noqa: F811
    """archive search, show and thread: a post dated 10:00 UTC reads 11:00 CET; JSON keeps 10:00:00Z."""
    (first,) = [row for row in search(listserv, "anyone") if row["message_id"] == "a1@x.org"]
    assert first["date"] == "2024-01-10T10:00:00Z"
    assert f"{first['id']}  2024-01-10 11:00 CET  thread" in listserv("archive", "search", LIST, "anyone").stdout
    thread = listserv("archive", "thread", str(first["thread_id"])).stdout
    assert "2024-01-10 11:00 CET to 2024-01-11 11:00 CET" in thread
    assert "2024-01-10 11:00 CET" in thread.splitlines()[1]
    assert json.loads(listserv("archive", "show", str(first["id"]), "--json").stdout)["date"] == "2024-01-10T10:00:00Z"


def test_notices_say_utc_whatever_the_servers_zone(time_zone):
    """Mailed notices (held-post notices, command replies) keep UTC: their readers live in many zones."""
    from listserv.outgoing import notices

    time_zone(CET)
    assert notices.when(RECEIVED) == "2026-11-27 04:30 UTC"
