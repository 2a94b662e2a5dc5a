"""`listserv members add|ls|remove|set`: tables, JSON, and every refusal with its exit code."""

from __future__ import annotations

import json

import pytest

LIST = "team@example.org"
# ownposts is the setting's name; receive_own, the same value, stays for scripts written before the rename.
MEMBER_FIELDS = {"address", "name", "role", "delivery", "moderated", "confidential", "ownposts", "receive_own",
                 "bounce_score"}


@pytest.fixture
def team(listserv):
    """The list team@example.org, empty."""
    assert listserv("lists", "create", LIST).exit_code == 0
    return LIST


def members(listserv) -> list[dict]:
    result = listserv("members", "ls", LIST, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_add_with_defaults(listserv, team):
    """A plain add makes a regular member entitled to confidential posts, address case-folded."""
    result = listserv("members", "add", team, "Ann.Lee@Example.ORG")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "added ann.lee@example.org to team@example.org as member\n"
    (ann,) = members(listserv)
    assert set(ann) == MEMBER_FIELDS
    assert ann == {
        "address": "ann.lee@example.org", "name": "", "role": "member", "delivery": "regular",
        "moderated": False, "confidential": True, "ownposts": True, "receive_own": True, "bounce_score": 0.0,
    }


def test_add_with_every_option(listserv, team):
    """--name, --role, --delivery, --no-confidential and --moderated are all stored."""
    result = listserv(
        "members", "add", team, "bob@example.org", "--name", "Bob Ruiz", "--role", "moderator",
        "--delivery", "digest", "--no-confidential", "--moderated",
    )
    assert result.exit_code == 0, result.stderr
    (bob,) = members(listserv)
    assert bob["name"] == "Bob Ruiz" and bob["role"] == "moderator" and bob["delivery"] == "digest"
    assert bob["confidential"] is False and bob["moderated"] is True


def test_ls_table_is_aligned(listserv, team):
    """`members ls` prints one aligned row per member, sorted by address, flags as yes/no."""
    listserv("members", "add", team, "bob@example.org", "--name", "Bob Ruiz", "--moderated")
    listserv("members", "add", team, "ann@example.org", "--role", "owner", "--no-confidential")
    lines = listserv("members", "ls", team).stdout.splitlines()
    assert lines[0].split() == ["ADDRESS", "NAME", "ROLE", "DELIVERY", "MODERATED", "CONFIDENTIAL", "OWNPOSTS", "BOUNCE"]
    assert lines[1].split() == ["ann@example.org", "owner", "regular", "no", "no", "yes", "0"]
    assert lines[2].split() == ["bob@example.org", "Bob", "Ruiz", "member", "regular", "yes", "yes", "yes", "0"]
    assert lines[0].index("ROLE") == lines[1].index("owner") == lines[2].index("member")


def test_ls_empty(listserv, team):
    """A list without members: "no members", or [] as JSON."""
    assert listserv("members", "ls", team).stdout == "no members\n"
    assert members(listserv) == []


def test_remove(listserv, team):
    """`members remove` takes the member off the list, whatever the letter case typed."""
    listserv("members", "add", team, "ann@example.org")
    result = listserv("members", "remove", team, "ANN@example.org")
    assert result.exit_code == 0
    assert result.stdout == "removed ann@example.org from team@example.org\n"
    assert members(listserv) == []


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("name", "  Ann Lee ", "Ann Lee"),
        ("role", "Owner", "owner"),
        ("delivery", "nomail", "nomail"),
        ("moderated", "yes", True),
        ("confidential", "off", False),
        ("ownposts", "off", False),
    ],
)
def test_set_each_setting(listserv, team, key, value, expected):
    """`members set` parses each setting to its type and stores it."""
    listserv("members", "add", team, "ann@example.org")
    result = listserv("members", "set", team, "ann@example.org", key, value)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"ann@example.org on team@example.org: {key} = ")
    assert members(listserv)[0][key] == expected


def test_add_duplicate_member_exit_1(listserv, team, fails):
    """Adding an existing member (any case) is refused with exit 1 and leaves the member unchanged."""
    listserv("members", "add", team, "ann@example.org", "--role", "owner")
    fails(listserv("members", "add", team, "ANN@example.org"), 1, "ann@example.org is already a member of team@example.org")
    assert [m["role"] for m in members(listserv)] == ["owner"]


@pytest.mark.parametrize(
    "args",
    [
        ("members", "add", LIST, "not-an-address"),
        ("members", "remove", LIST, "not-an-address"),
        ("members", "set", LIST, "not-an-address", "role", "owner"),
        ("members", "add", LIST, "ann@exa mple.org"),
    ],
    ids=["add", "remove", "set", "space-in-domain"],
)
def test_bad_address_exit_2(listserv, team, fails, args):
    """An address email-validator refuses is bad usage: exit 2, one line quoting it."""
    fails(listserv(*args), 2, "bad address")


@pytest.mark.parametrize(
    "args",
    [
        ("members", "add", "nope@example.org", "ann@example.org"),
        ("members", "ls", "nope@example.org"),
        ("members", "ls", "nope@example.org", "--json"),
        ("members", "remove", "nope@example.org", "ann@example.org"),
        ("members", "set", "nope@example.org", "ann@example.org", "role", "owner"),
    ],
    ids=["add", "ls", "ls-json", "remove", "set"],
)
def test_unknown_list_exit_1(listserv, fails, args):
    """Every members command on an unknown list is refused: exit 1, one line naming the list."""
    fails(listserv(*args), 1, "no such list: nope@example.org")


@pytest.mark.parametrize(
    "args",
    [("members", "remove", LIST, "zed@example.org"), ("members", "set", LIST, "zed@example.org", "role", "owner")],
    ids=["remove", "set"],
)
def test_unknown_member_exit_1(listserv, team, fails, args):
    """Removing or changing someone who is not a member is refused: exit 1, one line naming them."""
    fails(listserv(*args), 1, "zed@example.org is not a member of team@example.org")


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("colour", "blue", "unknown member setting 'colour'; known: confidential, delivery"),
        ("address", "new@example.org", "unknown member setting 'address'"),
        ("bounce_score", "0", "unknown member setting 'bounce_score'"),
        ("role", "admin", "role: expected one of member, moderator, owner"),
        ("delivery", "weekly", "delivery: expected one of regular, digest, nomail"),
        ("moderated", "maybe", "moderated: expected true or false"),
        ("name", "Ann\nBcc: everyone@example.org", "control characters"),
        ("name", "Ann\x1b[2J", "control characters"),
    ],
    ids=["unknown", "address", "bounce-score", "role", "delivery", "bool", "newline-name", "escape-name"],
)
def test_set_bad_key_or_value_exit_2(listserv, team, fails, key, value, fragment):
    """A bad member setting or value is bad usage (exit 2), one line, and nothing changes."""
    listserv("members", "add", team, "ann@example.org", "--name", "Ann")
    before = members(listserv)
    fails(listserv("members", "set", team, "ann@example.org", key, value), 2, fragment)
    assert members(listserv) == before


def test_add_name_with_line_break_exit_2(listserv, team, fails):
    """A display name with a line break could forge a header later: refused at add, exit 2."""
    fails(listserv("members", "add", team, "ann@example.org", "--name", "Ann\r\nBcc: x@example.org"), 2, "name:")
    assert members(listserv) == []


LIST_ADDRESSES = [
    (LIST, LIST), ("Team-Request@example.org", LIST), ("team+confidential@example.org", LIST),
    ("team-owner@example.org", LIST), ("team-bounces@example.org", LIST),
    ("team-bounces+ann=example.com@example.org", LIST), ("team-confirm+0123abcd@example.org", LIST),
    ("other@lists.example.net", "other@lists.example.net"),
    ("OTHER-request@lists.example.net", "other@lists.example.net"),
]


@pytest.mark.parametrize("address, owner", LIST_ADDRESSES)
def test_add_list_address_exit_1(listserv, team, fails, address, owner):
    """Any address of any list on the server (this one or another, any sub-address) is refused: exit 1, no member."""
    assert listserv("lists", "create", "other@lists.example.net").exit_code == 0
    fails(listserv("members", "add", team, address), 1, f"is an address of the list {owner} and cannot be a member")
    assert members(listserv) == []


def test_receive_own_is_an_alias_answered_with_the_one_name(listserv, team):
    """`members set ... receive_own` (the older name) changes ownposts, and the answer and the table say
    ownposts; the JSON keeps receive_own beside it for scripts written before."""
    listserv("members", "add", team, "ann@example.org")
    result = listserv("members", "set", team, "ann@example.org", "receive_own", "no")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "ann@example.org on team@example.org: ownposts = no\n"
    (ann,) = members(listserv)
    assert ann["ownposts"] is False and ann["receive_own"] is False
    assert "receive_own" not in listserv("members", "ls", team).stdout


def test_members_set_help_names_ownposts_not_its_alias(listserv):
    """The help of `members set` lists the keys by their one name."""
    shown = listserv("members", "set", "--help").stdout
    assert "ownposts" in shown and "receive_own" not in shown
