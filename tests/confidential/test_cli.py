"""The command line of confidential threads: held ls/show masking and --body, audit ls, and their error paths."""

from __future__ import annotations

import json

from .conftest import SECRET_WORDS, TEAM, compose, leaked, secret

STRANGER = "x@elsewhere.example"


async def _hold_secret(submit) -> None:
    await submit(secret("c1@example.org", sender=STRANGER), mail_from=STRANGER)


async def test_held_show_json_masks_a_confidential_post(store, team, submit, cli):
    """`held show ID --json` of a confidential post: no headers, no text, the subject hidden."""
    await _hold_secret(submit)
    shown = json.loads((await cli("held", "show", "1", "--json")).output)
    assert shown["confidential"] is True and shown["subject"] == "(confidential)"
    assert "headers" not in shown and "text" not in shown and leaked(json.dumps(shown)) == []
    full = json.loads((await cli("held", "show", "1", "--json", "--body", "--by", "olga@example.org")).output)
    assert set(leaked(json.dumps(full))) == set(SECRET_WORDS) and full["headers"]


async def test_held_show_of_an_ordinary_post_needs_no_flag(store, team, submit, cli):
    """An ordinary held post shows its text without --body, and nothing is audited."""
    await submit(compose("Hello", "Let me in.\n", "h1@example.org", sender=STRANGER), mail_from=STRANGER)
    result = await cli("held", "show", "1")
    assert "Let me in." in result.output and "Subject: Hello" in result.output
    assert json.loads((await cli("audit", "ls", "--json", "--action", "read-confidential")).output) == []


async def test_held_show_body_needs_a_name_for_the_audit(store, team, submit, cli, monkeypatch):
    """--body without --by and without a login name is refused (exit 2): every read is audited under a name."""
    import getpass

    def nobody() -> str:
        raise KeyError("no login name")

    await _hold_secret(submit)
    monkeypatch.setattr(getpass, "getuser", nobody)
    result = await cli("held", "show", "1", "--body")
    assert result.exit_code == 2 and "--by" in result.output and leaked(result.output) == []


async def test_audit_ls_lists_and_refuses(store, team, submit, cli):
    """`audit ls` lists newest first with --json fields; a bad --limit is exit 2, an unknown list exit 1."""
    await _hold_secret(submit)
    await cli("held", "show", "1", "--body", "--by", "olga@example.org")
    rows = json.loads((await cli("audit", "ls", TEAM, "--json")).output)
    assert [row["action"] for row in rows] == ["read-confidential", "hold", "create-list"]
    assert set(rows[0]) == {"id", "at", "actor", "action", "list", "object", "detail"}
    assert rows[0]["at"].endswith("Z")
    table = (await cli("audit", "ls", "--limit", "1")).output
    assert "read-confidential" in table and "held:1" in table and " hold " not in table
    bad = await cli("audit", "ls", "--limit", "0")
    assert bad.exit_code == 2 and "--limit" in bad.output
    unknown = await cli("audit", "ls", "nope@example.org")
    assert unknown.exit_code == 1 and "no such list" in unknown.output


async def test_confidential_settings_are_checked(store, team, cli):
    """The list settings take only their values: a bad one is exit 2 naming the setting; a good one shows."""
    for key, value in (("confidential_archive", "public"), ("leak_guard", "drop"),
                       ("confidential_retention_days", "-1"), ("all_confidential", "maybe")):
        result = await cli("lists", "set", TEAM, key, value)
        assert result.exit_code == 2 and key in result.output, (key, result.output)
    assert (await cli("lists", "set", TEAM, "confidential_archive", "none")).exit_code == 0
    shown = json.loads((await cli("lists", "show", TEAM, "--json")).output)
    assert shown["confidential_archive"] == "none" and shown["confidential_tag"] == "[CONFIDENTIAL]"
    assert shown["leak_guard"] == "notify" and shown["confidential_retention_days"] == 0
