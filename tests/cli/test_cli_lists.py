"""`listserv lists create|ls|show|set|delete`: tables, JSON, and every refusal with its exit code."""

from __future__ import annotations

import json
import re

import pytest

from listserv.lists import LIST_SETTINGS


def test_create_then_ls_as_table(listserv):
    """A created list appears in `lists ls` with its member count, non-member action and description."""
    result = listserv("lists", "create", "Team@Example.ORG", "--description", "Team talk")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "created team@example.org\n"
    listing = listserv("lists", "ls")
    assert listing.exit_code == 0
    header, row = listing.stdout.splitlines()
    assert header.split() == ["ADDRESS", "MEMBERS", "NON-MEMBERS", "DESCRIPTION"]
    assert row.split() == ["team@example.org", "0", "hold", "Team", "talk"]
    assert header.index("MEMBERS") == row.index("0")  # columns line up


def test_ls_json_has_contract_fields_and_every_setting(listserv):
    """`lists ls --json` is a list of objects with address, description, nonmember_action, members and settings."""
    listserv("lists", "create", "b@example.org", "--nonmember-action", "reject")
    listserv("lists", "create", "a@example.org", "--description", "First")
    listserv("members", "add", "a@example.org", "ann@example.org")
    found = json.loads(listserv("lists", "ls", "--json").stdout)
    assert [item["address"] for item in found] == ["a@example.org", "b@example.org"]
    first, second = found
    assert first["description"] == "First" and first["members"] == 1 and first["nonmember_action"] == "hold"
    assert second["nonmember_action"] == "reject" and second["members"] == 0
    assert set(LIST_SETTINGS) <= set(first)


def test_ls_empty(listserv):
    """With no lists, the table says so and the JSON is an empty list."""
    assert listserv("lists", "ls").stdout == "no lists\n"
    assert json.loads(listserv("lists", "ls", "--json").stdout) == []


def test_show_table_and_json(listserv):
    """`lists show` prints every field as `key: value`; with --json one object."""
    listserv("lists", "create", "team@example.org", "--description", "Team talk")
    shown = listserv("lists", "show", "TEAM@example.org")
    assert shown.exit_code == 0
    assert "address:" in shown.stdout and "team@example.org" in shown.stdout
    assert any(line.split() == ["archive:", "yes"] for line in shown.stdout.splitlines())
    found = json.loads(listserv("lists", "show", "team@example.org", "--json").stdout)
    assert found["address"] == "team@example.org"
    assert found["description"] == "Team talk"
    assert found["archive"] is True and found["members"] == 0


def test_set_changes_a_setting_and_the_description(listserv):
    """`lists set` stores a typed value (true -> JSON true) and can change the description."""
    listserv("lists", "create", "team@example.org")
    result = listserv("lists", "set", "team@example.org", "emergency_moderation", "yes")
    assert result.exit_code == 0
    assert result.stdout == "team@example.org: emergency_moderation = yes\n"
    listserv("lists", "set", "team@example.org", "description", "New words")
    found = json.loads(listserv("lists", "show", "team@example.org", "--json").stdout)
    assert found["emergency_moderation"] is True
    assert found["description"] == "New words"


def test_delete_with_yes(listserv):
    """`lists delete --yes` deletes without asking."""
    listserv("lists", "create", "team@example.org")
    result = listserv("lists", "delete", "team@example.org", "--yes")
    assert result.exit_code == 0
    assert re.fullmatch(r"deleted team@example\.org; database \S+ \S+ -> \S+ \S+ \(\S+ \S+ given back\)\n", result.stdout)
    assert json.loads(listserv("lists", "ls", "--json").stdout) == []


def test_delete_asks_and_y_deletes(listserv):
    """Without --yes the question goes to stderr, the member count in the right number; answering y deletes."""
    listserv("lists", "create", "team@example.org")
    listserv("members", "add", "team@example.org", "ann@example.org")
    result = listserv("lists", "delete", "team@example.org", input="y\n")
    assert result.exit_code == 0
    assert "Delete team@example.org with its 1 member, held posts and archive?" in result.stderr
    assert result.stdout.startswith("deleted team@example.org; database ")


@pytest.mark.parametrize("answer", ["n\n", ""], ids=["no", "no-answer"])
def test_delete_not_confirmed_keeps_the_list(listserv, answer):
    """Answering no, or no answer at all (EOF, e.g. a script), refuses with exit 1 and keeps the list."""
    listserv("lists", "create", "team@example.org")
    result = listserv("lists", "delete", "team@example.org", input=answer)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == "listserv: error: not deleted: team@example.org (answer y, or pass --yes)"
    assert len(json.loads(listserv("lists", "ls", "--json").stdout)) == 1


def test_create_duplicate_list_exit_1(listserv, fails):
    """Creating a list that exists (in any letter case) is refused: exit 1."""
    listserv("lists", "create", "team@example.org")
    fails(listserv("lists", "create", "TEAM@example.org"), 1, "list already exists: team@example.org")


@pytest.mark.parametrize("address", ["team", "team@", "two words@example.org"])
def test_create_bad_address_exit_2(listserv, fails, address):
    """A list address that email-validator refuses is bad usage: exit 2."""
    fails(listserv("lists", "create", address), 2, "bad address")


def test_create_sub_address_name_exit_2(listserv, fails):
    """A list name that would collide with a sub-address (x-request) is refused as bad usage."""
    fails(listserv("lists", "create", "team-request@example.org"), 2, "-request")


@pytest.mark.parametrize(
    "args",
    [
        ("lists", "show", "nope@example.org"),
        ("lists", "show", "nope@example.org", "--json"),
        ("lists", "set", "nope@example.org", "archive", "no"),
        ("lists", "delete", "nope@example.org", "--yes"),
        ("lists", "delete", "nope@example.org"),
    ],
    ids=["show", "show-json", "set", "delete", "delete-unconfirmed"],
)
def test_unknown_list_exit_1(listserv, fails, args):
    """Every lists command on an unknown list is refused: exit 1, one line naming the list."""
    fails(listserv(*args), 1, "no such list: nope@example.org")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("colour", "blue", "unknown list setting 'colour'"),
        ("nonmember_action", "ignore", "nonmember_action: expected one of hold, reject, discard, accept"),
        ("archive", "maybe", "archive: expected true or false"),
        ("max_message_size", "-5", "max_message_size: expected a whole number"),
    ],
    ids=["unknown-key", "bad-choice", "bad-bool", "bad-number"],
)
def test_set_bad_key_or_value_exit_2(listserv, fails, key, value, fragment):
    """An unknown setting or a value of the wrong kind is bad usage (exit 2) and changes nothing."""
    listserv("lists", "create", "team@example.org")
    before = listserv("lists", "show", "team@example.org", "--json").stdout
    fails(listserv("lists", "set", "team@example.org", key, value), 2, fragment)
    assert listserv("lists", "show", "team@example.org", "--json").stdout == before


@pytest.mark.parametrize(
    "args",
    [
        ("lists", "create", "team@example.org", "--description", "Team\nReply-To: outsider@example.com"),
        ("lists", "set", "team@example.org", "description", "Team\r\nBcc: outsider@example.com"),
        ("lists", "set", "team@example.org", "subject_prefix", "[team]\nReply-To: outsider@example.com"),
        ("lists", "set", "team@example.org", "subject_prefix", "[team]\x1b[2J"),
    ],
    ids=["create-description", "set-description", "set-prefix", "set-escape"],
)
def test_header_text_with_line_breaks_exit_2(listserv, fails, args):
    """Text that goes into every post's headers may not carry a line break (header injection): exit 2."""
    if args[1] == "set":
        listserv("lists", "create", "team@example.org", "--description", "Team")
    fails(listserv(*args), 2, "line breaks and control characters are not allowed")
    found = json.loads(listserv("lists", "ls", "--json").stdout)
    assert all(item["description"] in ("", "Team") and item["subject_prefix"] == "[{name}]" for item in found)
