"""Leak matrix, archive rows on the command line: search as nobody / non-entitled / entitled / moderator (audited),
show, export with and without --include-confidential, import into a list that keeps no confidential text, purge."""

from __future__ import annotations

import json
import mailbox

import pytest

from listserv import lists
from listserv.store import members
from tests.conftest import mbox_messages

from .conftest import NOT_ENTITLED, SECRET_WORDS, TEAM, compose, leaked, reply, secret


@pytest.fixture
async def archived(store, team, submit):
    """archive:1 confidential (by tag), archive:2 an unmarked reply to it, archive:3 ordinary."""
    await submit(secret("c1@example.org"))
    await submit(reply("r1@example.org", "c1@example.org", body="Zanzibarian conviction noted.\n"))
    await submit(compose("Conviction statistics", "Public conviction numbers.\n", "o1@example.org"))
    return team


async def _search(cli, *extra: str) -> list[dict]:
    result = await cli("archive", "search", TEAM, "conviction", "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def _reads(cli) -> list[dict]:
    return json.loads((await cli("audit", "ls", TEAM, "--json", "--action", "read-confidential")).output)


async def test_archive_search_by_reader(archived, cli):
    """Rows 'archive search as non-entitled / entitled / moderator': only the last two see the thread, audited."""
    assert [row["id"] for row in await _search(cli)] == [3]
    assert [row["id"] for row in await _search(cli, "--as", NOT_ENTITLED)] == [3]
    assert await _reads(cli) == []
    entitled = await _search(cli, "--as", "bob@example.org", "--by", "operator")
    assert sorted(row["id"] for row in entitled) == [1, 2, 3] and "Zanzibarian" in leaked(json.dumps(entitled))
    moderator = await _search(cli, "--include-confidential", "--by", "mod@example.org")
    assert sorted(row["id"] for row in moderator) == [1, 2, 3]
    reads = await _reads(cli)
    assert sorted((r["actor"], r["object"]) for r in reads) == [
        ("mod@example.org", "archive:1"), ("mod@example.org", "archive:2"),
        ("operator", "archive:1"), ("operator", "archive:2")]
    assert leaked(json.dumps(reads)) == []


async def test_archive_search_refusals(archived, cli):
    """--include-confidential without --by is exit 2; --by a plain member is exit 1; neither prints a result."""
    missing = await cli("archive", "search", TEAM, "conviction", "--include-confidential")
    assert missing.exit_code == 2 and leaked(missing.output) == []
    member = await cli("archive", "search", TEAM, "conviction", "--include-confidential", "--by", "bob@example.org")
    assert member.exit_code == 1 and "not a moderator" in member.output and leaked(member.output) == []


async def test_archive_show_and_thread(archived, cli):
    """show of a confidential post is refused without a reader; thread hides its confidential posts."""
    refused = await cli("archive", "show", "1")
    assert refused.exit_code == 1 and leaked(refused.output) == []
    shown = await cli("archive", "show", "1", "--as", "bob@example.org", "--by", "operator")
    assert set(leaked(shown.output)) == set(SECRET_WORDS)


async def test_export_with_and_without_the_flag(archived, cli, tmp_path):
    """Row 'export': without the flag the mbox has no confidential post; with it (a moderator) it has, audited."""
    plain, full = tmp_path / "plain.mbox", tmp_path / "full.mbox"
    result = await cli("archive", "export", TEAM, str(plain))
    assert result.exit_code == 0 and "left out 2 confidential" in result.output
    assert leaked(plain.read_bytes()) == [] and len(mbox_messages(plain)) == 1
    result = await cli("archive", "export", TEAM, str(full), "--include-confidential", "--by", "mod@example.org")
    assert result.exit_code == 0 and len(mbox_messages(full)) == 3
    assert set(leaked(full.read_bytes())) == set(SECRET_WORDS)
    assert {r["object"] for r in await _reads(cli)} == {"archive:1", "archive:2"}
    refused = await cli("archive", "export", TEAM, str(tmp_path / "x.mbox"), "--include-confidential",
                        "--by", NOT_ENTITLED)
    assert refused.exit_code == 1 and not (tmp_path / "x.mbox").exists()


async def test_import_into_a_list_that_keeps_no_confidential_text(store, team, submit, cli, tmp_path):
    """An imported tagged post, and an imported reply to a confidential post the pipeline only held, keep no text
    under confidential_archive none; the ordinary imported post keeps its own."""
    await lists.set_setting(store, TEAM, "confidential_archive", "none")
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    await submit(secret("held@example.org"))  # held: its Message-ID is known confidential, nothing archived
    path = tmp_path / "old.mbox"
    box = mailbox.mbox(path)
    for raw in (secret("c1@example.org"), reply("r1@example.org", "held@example.org", body="Xylophonic\n"),
                compose("Old public post", "Public words.\n", "o1@example.org")):
        box.add(raw)
    box.close()
    result = await cli("archive", "import", TEAM, str(path))
    assert result.exit_code == 0 and "imported 3 messages" in result.output
    search = await _search_all(cli, "Xylophonic OR Zanzibarian OR public")
    assert [row["subject"] for row in search] == ["Old public post"]
    secret_rows = await _search_all(cli, "Xylophonic OR Zanzibarian", "--include-confidential", "--by", "mod@example.org")
    assert secret_rows == []  # not even a moderator finds the stripped text


async def _search_all(cli, query: str, *extra: str) -> list[dict]:
    result = await cli("archive", "search", TEAM, query, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_archive_purge_on_the_command_line(store, team, submit, cli):
    """`archive purge LIST` removes confidential text past its days at once and says how much."""
    import time

    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    await submit(secret("c1@example.org", when=time.time() - 2 * 86400))
    result = await cli("archive", "purge", TEAM, "--json")
    assert json.loads(result.output) == [{"list": TEAM, "archived": 1, "held": 0}]
    shown = await cli("archive", "show", "1", "--include-confidential", "--by", "mod@example.org")
    assert "not stored" in shown.output and leaked(shown.output) == []
