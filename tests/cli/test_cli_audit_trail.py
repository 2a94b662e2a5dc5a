"""Each administrative change made at the command line leaves one audit row (actor --by or cli:LOGIN) in `audit ls`.

Refused changes (bad value, already a member, not a member) leave none.
"""

from __future__ import annotations

import getpass
import json
import os

import pytest

LIST = "team@example.org"


@pytest.fixture
def login(monkeypatch) -> str:
    """The operator's login name, fixed so the default actor is known (cli:root)."""
    monkeypatch.setattr(getpass, "getuser", lambda: "root")
    return "cli:root"


def trail(listserv, *args: str) -> list[tuple[str, str, str, str]]:
    """(actor, action, object, detail) of `audit ls [ARGS] --json`, oldest first."""
    result = listserv("audit", "ls", *args, "--json")
    assert result.exit_code == 0, result.stderr
    return [(row["actor"], row["action"], row["object"], row["detail"]) for row in reversed(json.loads(result.stdout))]


def ok(result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)


def test_list_create_and_set_are_audited_under_the_login_name(listserv, login):
    """Without --by, `lists create` and `lists set` are recorded as cli:LOGIN with what changed."""
    ok(listserv("lists", "create", LIST, "--nonmember-action", "reject"))
    ok(listserv("lists", "set", LIST, "max_message_size", "2048"))
    ok(listserv("lists", "set", LIST, "description", "Team talk"))
    assert trail(listserv, LIST) == [
        (login, "create-list", f"list:{LIST}", "nonmember_action = reject"),
        (login, "set-list", f"list:{LIST}", "max_message_size = 2048"),
        (login, "set-list", f"list:{LIST}", "description = Team talk"),
    ]


def test_by_names_the_actor_of_list_changes(listserv, login):
    """--by on create, set and delete is the recorded actor; the deletion's row outlives the list."""
    ok(listserv("lists", "create", LIST, "--by", "olga@example.org"))
    ok(listserv("members", "add", LIST, "ann@example.org"))
    ok(listserv("lists", "set", LIST, "leak_guard", "HOLD", "--by", "olga@example.org"))
    ok(listserv("lists", "delete", LIST, "--yes", "--by", "olga@example.org"))
    assert trail(listserv) == [("olga@example.org", "delete-list", f"list:{LIST}", "1 members")]
    assert trail(listserv, "--action", "delete-list") == trail(listserv)
    table = listserv("audit", "ls").stdout
    assert "delete-list" in table and f"list:{LIST}" in table and "olga@example.org" in table


def test_list_delete_without_by_is_audited_under_the_login_name(listserv, login):
    """A deletion confirmed at the prompt is recorded as cli:LOGIN."""
    ok(listserv("lists", "create", LIST))
    ok(listserv("lists", "delete", LIST, input="y\n"))
    assert trail(listserv) == [(login, "delete-list", f"list:{LIST}", "0 members")]


def test_member_add_set_remove_are_audited(listserv, login):
    """members add, set and remove each leave one row naming the member; --by overrides the login name."""
    ok(listserv("lists", "create", LIST))
    ok(listserv("members", "add", LIST, "Ann@Example.org", "--role", "moderator"))
    ok(listserv("members", "set", LIST, "ann@example.org", "delivery", "digest", "--by", "mod@example.org"))
    ok(listserv("members", "set", LIST, "ann@example.org", "receive_own", "no"))
    ok(listserv("members", "remove", LIST, "ann@example.org", "--by", "olga@example.org"))
    assert trail(listserv, LIST)[1:] == [
        (login, "subscribe", "member:ann@example.org", "added"),
        ("mod@example.org", "set-member", "member:ann@example.org", "delivery = digest"),
        (login, "set-member", "member:ann@example.org", "ownposts = False"),
        ("olga@example.org", "unsubscribe", "member:ann@example.org", "removed"),
    ]
    assert [row[0] for row in trail(listserv, LIST, "--action", "set-member")] == ["mod@example.org", login]


def test_import_audits_each_member_it_adds(listserv, login, tmp_path):
    """An import leaves one subscribe row per row it handled, marked (import); bad rows leave none."""
    ok(listserv("lists", "create", LIST))
    ok(listserv("members", "add", LIST, "bob@example.org"))
    csv = tmp_path / "people.csv"
    csv.write_text("address,name\nann@example.org,Ann\nbob@example.org,Bob\nnot an address,X\n", encoding="utf-8")
    result = listserv("members", "import", LIST, str(csv), "--by", "olga@example.org")
    assert result.exit_code == 1
    assert result.stdout.endswith("imported 1, already members 1, repeated in file 0, invalid 1\n")
    assert trail(listserv, LIST, "--action", "subscribe") == [
        (login, "subscribe", "member:bob@example.org", "added"),
        ("olga@example.org", "subscribe", "member:ann@example.org", "added (import)"),
        ("olga@example.org", "subscribe", "member:bob@example.org", "already a member (import)"),
    ]


def test_refused_changes_leave_no_audit_row(listserv, fails, login):
    """A duplicate add, removing or setting a non-member, and a bad value are refused and recorded nowhere."""
    ok(listserv("lists", "create", LIST))
    ok(listserv("members", "add", LIST, "ann@example.org"))
    before = trail(listserv)
    fails(listserv("members", "add", LIST, "ann@example.org"), 1, "already a member")
    fails(listserv("members", "remove", LIST, "zed@example.org"), 1, "not a member")
    fails(listserv("members", "set", LIST, "zed@example.org", "delivery", "digest"), 1, "not a member")
    fails(listserv("members", "set", LIST, "ann@example.org", "delivery", "weekly"), 2, "delivery")
    fails(listserv("lists", "set", LIST, "archive", "maybe"), 2, "archive")
    fails(listserv("lists", "create", LIST), 1, "already exists")
    fails(listserv("lists", "delete", "nope@example.org", "--yes"), 1, "no such list")
    assert trail(listserv) == before


@pytest.mark.parametrize("command", [
    ("lists", "create", LIST),
    ("lists", "set", LIST, "archive", "no"),
    ("lists", "delete", LIST, "--yes"),
    ("members", "add", LIST, "ann@example.org"),
    ("members", "remove", LIST, "ann@example.org"),
    ("members", "set", LIST, "ann@example.org", "delivery", "digest"),
])
def test_an_unprintable_by_is_bad_usage(listserv, fails, command):
    """--by must be a printable, non-empty name: exit 2 with one line, before anything changes."""
    fails(listserv(*command, "--by", "a\x1bb"), 2, "--by")
    fails(listserv(*command, "--by", "  "), 2, "--by")
    assert trail(listserv) == [] and listserv("lists", "ls", "--json").stdout == "[]\n"


def test_import_with_a_bad_by_is_bad_usage(listserv, fails, tmp_path):
    """members import refuses an empty --by before reading anything in (exit 2)."""
    ok(listserv("lists", "create", LIST))
    csv = tmp_path / "people.csv"
    csv.write_text("ann@example.org\n", encoding="utf-8")
    fails(listserv("members", "import", LIST, str(csv), "--by", ""), 2, "--by")
    assert json.loads(listserv("members", "ls", LIST, "--json").stdout) == []


def test_without_a_login_name_the_user_id_is_the_actor(listserv, monkeypatch):
    """Where no login name can be found, the change still happens, recorded as cli:uidN."""

    def nobody() -> str:
        raise KeyError("no login name")

    monkeypatch.setattr(getpass, "getuser", nobody)
    ok(listserv("lists", "create", LIST))
    assert trail(listserv)[0][0] == f"cli:uid{os.getuid()}"
