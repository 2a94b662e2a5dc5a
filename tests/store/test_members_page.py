"""membership.roster_page (the owners' web page of members): one page at a time, a filter taken literally."""

from __future__ import annotations

import pytest

from listserv import lists, membership
from listserv.errors import NoSuchList, UsageError

LIST = "team@example.org"


@pytest.fixture
async def team(store):
    await lists.create(store, LIST)
    for address, name in (("ann@example.org", "Ann Lee"), ("bob@example.org", "Bob 100%"),
                          ("a_b@example.org", ""), ("axb@example.org", "Axel")):
        await membership.add(store, LIST, address, name=name)
    return LIST


async def test_pages_come_in_address_order_with_the_join_time(store, team):
    """Two a page: the first says more follow, the last does not; each member comes with when they joined."""
    first, more = await membership.roster_page(store, team, page=1, per_page=2)
    last, no_more = await membership.roster_page(store, team, page=2, per_page=2)
    assert [m.address for m, _ in first] == ["a_b@example.org", "ann@example.org"] and more
    assert [m.address for m, _ in last] == ["axb@example.org", "bob@example.org"] and not no_more
    assert all(joined > 0 for _, joined in first + last)


async def test_the_filter_matches_address_or_name_and_takes_wildcards_literally(store, team):
    """'a_b' finds a_b@ only (not axb@); '100%' finds Bob by name; 'LEE' finds Ann whatever the case."""
    found = {query: [m.address for m, _ in (await membership.roster_page(store, team, query))[0]]
             for query in ("a_b", "100%", "LEE", "nobody")}
    assert found == {"a_b": ["a_b@example.org"], "100%": ["bob@example.org"], "LEE": ["ann@example.org"],
                     "nobody": []}


async def test_bad_pages_and_unknown_lists_are_refused(store, team):
    """Page 0 or a page size out of range is bad usage; an unknown list is NoSuchList."""
    with pytest.raises(UsageError, match="page must be 1 or more"):
        await membership.roster_page(store, team, page=0)
    with pytest.raises(UsageError):
        await membership.roster_page(store, team, per_page=5000)
    with pytest.raises(NoSuchList):
        await membership.roster_page(store, "nope@example.org")
