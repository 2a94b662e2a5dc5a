"""A list's threads page by page (listserv.archive.listing): newest first, and confidential threads only for the
entitled, audited."""

from __future__ import annotations

import pytest

from listserv import audit
from listserv.archive import access, listing
from listserv.errors import NoSuchMember

from .conftest import NOT_ENTITLED, TEAM, compose, leaked, secret


@pytest.fixture
async def archive(store, team, submit):
    """Three threads: an ordinary one (oldest), a confidential one, an ordinary one with a reply (newest)."""
    await submit(compose("First question", "Old.\n", "a1@example.org", when=1700000000.0))
    await submit(secret("c1@example.org", when=1700000100.0))
    await submit(compose("Newest question", "New.\n", "b1@example.org", when=1700000200.0))
    await submit(compose("Re: Newest question", "Reply.\n", "b2@example.org", when=1700000300.0,
                         headers=(("In-Reply-To", "<b1@example.org>"),)))
    return team


async def test_threads_come_newest_first_in_pages(store, archive):
    """An entitled member sees all three threads by latest post, one per page, following the older cursor to the
    end; the newer cursor of the last page leads back to the one before it."""
    pages = [await listing.threads(store, TEAM, "bob@example.org", per_page=1)]
    while pages[-1]["older"] is not None:
        pages.append(await listing.threads(store, TEAM, "bob@example.org", before=pages[-1]["older"], per_page=1))
    subjects = [page["threads"][0]["subject"] for page in pages]
    assert len(pages) == 3 and subjects[0] == "Newest question" and subjects[2] == "First question"
    assert pages[0]["newer"] is None and pages[1]["newer"] is not None
    assert pages[0]["threads"][0]["posts"] == 2 and pages[1]["threads"][0]["confidential"] is True
    back = await listing.threads(store, TEAM, "bob@example.org", after=pages[2]["newer"], per_page=1)
    assert back["threads"] == pages[1]["threads"] and (back["older"], back["newer"]) == (pages[1]["older"],
                                                                                          pages[1]["newer"])


async def test_newer_pages_come_newest_first_and_stop_at_the_top(store, archive):
    """Paging back from the oldest thread with a page of two gives the two newer threads, newest first, and no
    newer cursor past the newest thread."""
    oldest = (await listing.threads(store, TEAM, "bob@example.org", per_page=3))["threads"][-1]
    back = await listing.threads(store, TEAM, "bob@example.org", after=oldest["last_id"], per_page=2)
    assert [t["subject"] for t in back["threads"]][0] == "Newest question" and len(back["threads"]) == 2
    assert back["newer"] is None and back["older"] == back["threads"][-1]["last_id"]


async def test_a_confidential_post_as_cursor_gives_nothing_to_the_non_entitled(store, archive):
    """nina's page before the confidential post's number is as empty as the page before a number that does not
    exist, so paging cannot tell her that the post exists or when it was sent."""
    hidden = await listing.threads(store, TEAM, NOT_ENTITLED, before=2)
    missing = await listing.threads(store, TEAM, NOT_ENTITLED, before=999)
    assert hidden == missing == {"threads": [], "older": None, "newer": None}
    entitled = await listing.threads(store, TEAM, "bob@example.org", before=2)
    assert [t["subject"] for t in entitled["threads"]] == ["First question"]


async def test_a_non_entitled_member_sees_no_trace_of_a_confidential_thread(store, archive):
    """nina's pages hold the two ordinary threads only (no count, no subject of the other); nothing is audited."""
    found = await listing.threads(store, TEAM, NOT_ENTITLED, per_page=10)
    assert [t["subject"] for t in found["threads"]] == ["Newest question", "First question"]
    assert leaked(str(found)) == [] and found["older"] is None
    assert await audit.entries(store, TEAM, action=access.READ) == []


async def test_an_entitled_members_listing_is_audited(store, archive):
    """Each confidential thread shown in bob's listing is one audit row naming its first post."""
    await listing.threads(store, TEAM, "bob@example.org")
    [entry] = await audit.entries(store, TEAM, action=access.READ)
    assert (entry["actor"], entry["object"], entry["detail"]) == ("bob@example.org", "archive:2",
                                                                  "threads as bob@example.org")


async def test_a_stranger_gets_no_listing(store, archive):
    """Not a member: NoSuchMember (the web page answers 404)."""
    with pytest.raises(NoSuchMember):
        await listing.threads(store, TEAM, "x@elsewhere.example")
