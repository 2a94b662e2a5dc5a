"""`listserv held ls|show|approve|reject|discard` over real held rows in a real SQLite file."""

from __future__ import annotations

import getpass
import json

import pytest

LIST = "team@example.org"
HELD_FIELDS = {"id", "list", "sender", "subject", "reasons", "received_at", "confidential"}


@pytest.fixture
def team(listserv):
    """team@example.org with one member, ann (so an approved post has somewhere to go)."""
    assert listserv("lists", "create", LIST).exit_code == 0
    assert listserv("members", "add", LIST, "ann@example.org").exit_code == 0
    return LIST


def waiting(listserv, *args: str) -> list[dict]:
    result = listserv("held", "ls", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def shown(listserv, held_id: int) -> dict:
    result = listserv("held", "show", str(held_id), "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_ls_json_has_contract_fields_with_iso_times(listserv, team, hold):
    """`held ls --json`: id, list, sender, subject, reasons [{rule, text}], received_at in ISO 8601, confidential."""
    held_id = hold(team)
    (row,) = waiting(listserv)
    assert HELD_FIELDS <= set(row)
    assert row["id"] == held_id and row["list"] == LIST and row["sender"] == "stranger@example.com"
    assert row["subject"] == "Let me in" and row["confidential"] is False
    assert row["reasons"] == [{"rule": "nonmember", "text": "the sender is not a member of the list"}]
    assert row["received_at"] == "2026-11-27T04:30:25Z"


def test_ls_table_and_filter_by_list(listserv, team, hold):
    """The table shows one aligned row per post; `held ls LIST` shows only that list's posts."""
    listserv("lists", "create", "other@example.org")
    hold(team)
    hold("other@example.org", subject="Elsewhere")
    lines = listserv("held", "ls").stdout.splitlines()
    assert lines[0].split() == ["ID", "RECEIVED", "LIST", "SENDER", "CONFIDENTIAL", "REASONS", "SUBJECT"]
    assert len(lines) == 3
    # People read the server's local time (the tests' zone is UTC); --json keeps ISO 8601.
    assert lines[1].split()[:8] == ["1", "2026-11-27", "04:30", "UTC", LIST, "stranger@example.com", "no", "nonmember"]
    assert [row["subject"] for row in waiting(listserv, "other@example.org")] == ["Elsewhere"]
    assert [row["list"] for row in waiting(listserv, "TEAM@example.org")] == [LIST]


def test_ls_empty(listserv, team):
    """No held posts: a short sentence, or [] as JSON."""
    assert listserv("held", "ls").stdout == "no held posts\n"
    assert waiting(listserv) == []


def test_ls_table_neutralises_terminal_escapes(listserv, team, hold):
    """A stranger's subject cannot send escape sequences to a moderator's terminal; JSON escapes them too."""
    hold(team, subject="hi\x1b]0;pwned\x07\x1b[2J there")
    table = listserv("held", "ls").stdout
    assert "\x1b" not in table and "\x07" not in table
    assert "hi?]0;pwned??[2J there" in table
    raw_json = listserv("held", "ls", "--json").stdout
    assert "\x1b" not in raw_json
    assert json.loads(raw_json)[0]["subject"] == "hi\x1b]0;pwned\x07\x1b[2J there"


def test_show_table_and_json(listserv, team, hold):
    """`held show` gives the fields, the reasons, the headers and the text; --json one object."""
    held_id = hold(team)
    found = shown(listserv, held_id)
    assert HELD_FIELDS <= set(found)
    assert found["decision"] is None and found["decided_at"] is None
    assert ["Subject", "Let me in"] in found["headers"]
    assert "Please add me" in found["text"]
    text = listserv("held", "show", str(held_id)).stdout
    assert "nonmember: the sender is not a member of the list" in text
    assert "Subject: Let me in" in text and "Please add me to the list." in text


def test_approve_records_who_and_when(listserv, team, hold):
    """`held approve ID --by NAME` prints "approved ID", takes the post off the queue and records the moderator."""
    held_id = hold(team)
    result = listserv("held", "approve", str(held_id), "--by", "mod@example.org")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"approved {held_id}\n"
    assert waiting(listserv) == []
    found = shown(listserv, held_id)
    assert found["decision"] == "approved" and found["decided_by"] == "mod@example.org"
    assert found["decided_at"].endswith("Z")


def test_approved_post_is_queued_for_the_members(listserv, team, hold):
    """After approval the post waits in the outbound queue for ann, the one member."""
    listserv("held", "approve", str(hold(team)), "--by", "mod")
    (batch,) = json.loads(listserv("queue", "ls", "--json").stdout)
    assert batch["list"] == LIST and batch["recipients"] == 1


def test_by_defaults_to_the_login_name(listserv, team, hold):
    """Without --by the OS login name is recorded as the moderator."""
    held_id = hold(team)
    assert listserv("held", "discard", str(held_id)).exit_code == 0
    assert shown(listserv, held_id)["decided_by"] == getpass.getuser()


def test_empty_by_is_a_usage_error(listserv, team, hold, fails):
    """--by with an empty or unprintable name is bad usage (exit 2): the audit log must say who."""
    held_id = hold(team)
    fails(listserv("held", "approve", str(held_id), "--by", " "), 2, "--by")
    fails(listserv("held", "approve", str(held_id), "--by", "mod\nforged line"), 2, "--by")
    assert len(waiting(listserv)) == 1


def test_reject_with_reason(listserv, team, hold):
    """`held reject --reason T` records the decision and the reason."""
    held_id = hold(team)
    result = listserv("held", "reject", str(held_id), "--reason", "members only", "--by", "mod")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"rejected {held_id}\n"
    found = shown(listserv, held_id)
    assert found["decision"] == "rejected" and found["decision_reason"] == "members only"


def test_reject_notify_queues_a_notice_to_the_sender(listserv, team, hold):
    """`held reject --notify` queues a notice to the (non-member) sender; without it nothing is queued."""
    quiet, told = hold(team), hold(team)
    listserv("held", "reject", str(quiet), "--by", "mod")
    assert json.loads(listserv("queue", "ls", "--json").stdout) == []
    listserv("held", "reject", str(told), "--notify", "--reason", "members only", "--by", "mod")
    (batch,) = json.loads(listserv("queue", "ls", "--json").stdout)
    assert batch["recipients"] == 1


def test_discard_several_ids(listserv, team, hold):
    """Several IDs: one line per ID, all decided."""
    first, second = hold(team), hold(team)
    result = listserv("held", "discard", str(first), str(second), "--by", "mod")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"discarded {first}", f"discarded {second}"]
    assert waiting(listserv) == []


def test_failing_id_is_reported_and_the_rest_go_on(listserv, team, hold):
    """An unknown ID among several: an error line for it, the others are approved, exit 1 at the end."""
    first, second = hold(team), hold(team)
    result = listserv("held", "approve", str(first), "999", str(second), "--by", "mod")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [f"approved {first}", f"approved {second}"]
    assert result.stderr.splitlines() == ["listserv: error: no such held message: 999"]
    assert waiting(listserv) == []


@pytest.mark.parametrize("verb", ["approve", "reject", "discard"])
def test_unknown_held_id_exit_1(listserv, team, fails, verb):
    """Deciding an ID that does not exist is refused: exit 1, one line naming it."""
    fails(listserv("held", verb, "42", "--by", "mod"), 1, "no such held message: 42")


def test_show_unknown_held_id_exit_1(listserv, team, fails):
    """`held show` of an unknown ID: exit 1, one line (with or without --json)."""
    fails(listserv("held", "show", "42"), 1, "no such held message: 42")
    fails(listserv("held", "show", "42", "--json"), 1, "no such held message: 42")


@pytest.mark.parametrize("verb", ["approve", "reject", "discard"])
def test_already_decided_exit_1(listserv, team, hold, fails, verb):
    """A post decided once cannot be decided again: exit 1, one line saying by whom."""
    held_id = hold(team)
    assert listserv("held", "discard", str(held_id), "--by", "first-mod").exit_code == 0
    fails(listserv("held", verb, str(held_id), "--by", "mod"), 1, f"held message {held_id} was already discarded")


def test_repeated_id_acts_once(listserv, team, hold):
    """The same ID twice on one command line is decided once, not reported as a failure."""
    held_id = hold(team)
    result = listserv("held", "approve", str(held_id), str(held_id), "--by", "mod")
    assert result.exit_code == 0
    assert result.stdout == f"approved {held_id}\n"


def test_ls_unknown_list_exit_1(listserv, fails):
    """`held ls LIST` for an unknown list is refused: exit 1, one line."""
    fails(listserv("held", "ls", "nope@example.org"), 1, "no such list")


def test_unknown_login_name_asks_for_by(listserv, team, hold, fails, monkeypatch):
    """With no --by and no login name to be found (simulated; every user has one here), exit 2 asking for --by."""

    def no_user() -> str:
        raise OSError("no login name")

    monkeypatch.setattr(getpass, "getuser", no_user)
    fails(listserv("held", "approve", str(hold(team))), 2, "give --by NAME")
    assert len(waiting(listserv)) == 1
