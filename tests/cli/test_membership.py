"""listserv.membership directly: the functions the CLI and email commands share, on a real store."""

from __future__ import annotations

import pytest

from listserv import lists, member_csv, membership
from listserv.errors import BadAddress, BadSetting, MemberExists, NoSuchList, NoSuchMember, UsageError

LIST = "team@example.org"


@pytest.fixture
async def team(store):
    await lists.create(store, LIST)
    return LIST


async def test_add_returns_the_stored_member(store, team):
    """add() normalises the address, applies defaults and returns the member as stored, flags as booleans."""
    added = await membership.add(store, team, " Ann@Example.org ", name=" Ann ", role="OWNER")
    assert added.address == "ann@example.org" and added.name == "Ann" and added.role == "owner"
    assert added.confidential is True and added.moderated is False and added.receive_own is True


async def test_add_checks_everything_before_touching_the_store(store):
    """A bad address or role is reported as bad usage even when the list does not exist."""
    with pytest.raises(BadAddress):
        await membership.add(store, "nope@example.org", "not an address")
    with pytest.raises(BadSetting):
        await membership.add(store, "nope@example.org", "ann@example.org", role="admin")
    with pytest.raises(NoSuchList):
        await membership.add(store, "nope@example.org", "ann@example.org")


async def test_add_twice_raises_member_exists(store, team):
    """A second add of the same person (any case) raises MemberExists and keeps the first."""
    await membership.add(store, team, "ann@example.org", role="owner")
    with pytest.raises(MemberExists):
        await membership.add(store, team, "ANN@example.org")
    assert (await membership.get(store, team, "ann@example.org")).role == "owner"


async def test_find_get_remove(store, team):
    """find() is None for a non-member, get() raises NoSuchMember, remove() of a non-member too."""
    assert await membership.find(store, team, "zed@example.org") is None
    with pytest.raises(NoSuchMember):
        await membership.get(store, team, "zed@example.org")
    await membership.add(store, team, "zed@example.org")
    await membership.remove(store, team, "Zed@example.org")
    with pytest.raises(NoSuchMember):
        await membership.remove(store, team, "zed@example.org")


async def test_set_setting_returns_the_updated_member(store, team):
    """set_setting() stores the typed value and returns the member as it now is."""
    await membership.add(store, team, "ann@example.org")
    changed = await membership.set_setting(store, team, "ann@example.org", "ownposts", "no")
    assert changed.receive_own is False and changed.as_json()["ownposts"] is False
    assert (await membership.listing(store, team))[0].receive_own is False


def test_member_settings_cover_every_changeable_column():
    """MEMBER_SETTINGS names every member column an administrator may change (not address or bounce_score),
    by its one name: the store's receive_own is the setting ownposts."""
    from listserv.store.members import COLUMNS

    columns = {membership._column(name) for name in membership.MEMBER_SETTINGS}
    assert columns == set(COLUMNS) - {"address", "bounce_score"}


async def test_import_rows_reports_and_counts_progress(store, team):
    """import_rows(): progress is called once per row; invalid and repeated rows are reported with lines."""
    await membership.add(store, team, "cy@example.org")
    rows = [
        (2, ["ann@example.org", "Ann"]),
        (3, ["bad"]),
        (4, ["ANN@example.org", "Ann again"]),
        (5, ["cy@example.org", "Cy"]),
        (6, ["dee@example.org", "Dee", "moderator"]),
    ]
    ticks = []
    report = await membership.import_rows(store, team, rows, progress=ticks.append)
    assert sum(ticks) == len(rows)
    assert report.imported == ["ann@example.org", "dee@example.org"]
    assert report.existing == ["cy@example.org"]
    assert report.repeated == ["line 4: ann@example.org already on line 2, skipped"]
    assert len(report.invalid) == 1 and report.invalid[0].startswith("line 3: bad address 'bad'")
    assert report.summary() == "imported 2, already members 1, repeated in file 1, invalid 1"


async def test_import_rows_into_unknown_list(store):
    """import_rows() into an unknown list raises NoSuchList and adds nobody anywhere."""
    with pytest.raises(NoSuchList):
        await membership.import_rows(store, "nope@example.org", [(1, ["ann@example.org"])])


async def test_list_deleted_between_lookup_and_write(store, team):
    """If the list vanishes before the write runs, the write refuses with NoSuchList (no orphan members)."""
    mlist = await lists.get(store, team)
    await lists.delete(store, team)
    member = membership.new_member("ann@example.org")
    with pytest.raises(NoSuchList):
        await store.write(membership._insert, mlist.id, mlist.address, member)


def test_csv_rows_header_only_on_first_row():
    """Only the first non-blank row may be a header; a later "address" row is data (and then invalid)."""
    lines = ["\n", "Email,Name\n", "ann@example.org,Ann\n", "address,name\n"]
    assert member_csv.csv_rows(lines) == [(3, ["ann@example.org", "Ann"]), (4, ["address", "name"])]


def test_csv_rows_numbers_rows_by_their_first_line():
    """A quoted field spanning lines keeps the numbering of the rows after it right."""
    lines = ['ann@example.org,"Ann\n', 'Lee"\n', "bob@example.org,Bob\n"]
    assert member_csv.csv_rows(lines) == [(1, ["ann@example.org", "Ann\nLee"]), (3, ["bob@example.org", "Bob"])]


def test_csv_rows_refuses_broken_quoting():
    """Text after a closing quote is broken CSV: UsageError naming the line."""
    with pytest.raises(UsageError, match="line 2"):
        member_csv.csv_rows(["ann@example.org,Ann\n", 'bob@example.org,"Bob" Ruiz\n'])


def test_read_csv_unreadable_path(tmp_path):
    """A directory or missing path given to read_csv() is a UsageError, not a traceback."""
    with pytest.raises(UsageError, match="cannot read"):
        member_csv.read_csv(tmp_path)


def test_names_with_line_breaks_are_refused():
    """A display name may not carry a line break or control character (header and terminal injection)."""
    for bad in ("Ann\nBcc: x@example.org", "Ann\u2028Lee", "Ann\x00"):
        with pytest.raises(BadSetting):
            membership.parse_setting("name", bad)
    assert membership.parse_setting("name", "  Zoë  O'Brien ") == "Zoë  O'Brien"
