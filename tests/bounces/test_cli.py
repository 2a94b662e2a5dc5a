"""`listserv members ls LIST --bouncing`: the members whose mail bounces, as a table and as JSON."""

from __future__ import annotations

import json
import time

from listserv import bounces, lists
from tests.bounces.helpers import LIST


async def test_bouncing_json_rows_carry_the_member_fields_and_scores(store, settings, team, cli):
    """--json: one row per bouncing member with the members-ls fields, bounce_score and ISO times."""
    mlist = await lists.set_setting(store, LIST, "bounce_threshold", "1")
    await store.write(bounces.record, settings, mlist, "bob@example.org", time.time(), "bounce message")
    result = await cli("members", "ls", LIST, "--bouncing", "--json")
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["address"] == "bob@example.org" and row["bounce_score"] == 1.0 and row["delivery"] == "nomail"
    assert {"name", "role", "moderated", "confidential"} <= set(row)
    assert row["bounce_last_at"].endswith("Z") and row["bounce_disabled_at"].endswith("Z")


async def test_bouncing_table_and_plain_listing(store, settings, team, cli):
    """The table shows the score; plain `members ls --json` carries bounce_score for everyone."""
    await store.write(bounces.record, settings, team, "ann@example.org", time.time(), "bounce message")
    table = await cli("members", "ls", LIST, "--bouncing")
    assert table.exit_code == 0 and "ann@example.org  regular   1 " in table.output
    assert "bob@example.org" not in table.output and "LAST-BOUNCE" in table.output
    everyone = json.loads((await cli("members", "ls", LIST, "--json")).output)
    assert {row["address"]: row["bounce_score"] for row in everyone}["ann@example.org"] == 1.0


async def test_bouncing_empty_and_unknown_list(team, cli):
    """No bouncing members: a clear line (and [] as JSON); an unknown list: exit 1 with one error line."""
    empty = await cli("members", "ls", LIST, "--bouncing")
    assert empty.exit_code == 0 and "no bouncing members" in empty.output
    assert json.loads((await cli("members", "ls", LIST, "--bouncing", "--json")).output) == []
    unknown = await cli("members", "ls", "nope@example.org", "--bouncing")
    assert unknown.exit_code == 1 and "no such list" in unknown.output
