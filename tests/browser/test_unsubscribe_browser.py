"""Leaving a list in a real headless Chromium: a member changes delivery on "Your settings", then unsubscribes and
confirms with the button (goodbye mail, the list gone from their pages); and the one-click link of a received copy,
opened in the browser, changes nothing until its button is pressed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from listserv import audit, membership
from tests.confidential.conftest import TEAM
from tests.web.conftest import OTHER
from tests.web.test_one_click import GOODBYE, link_of, post_and_copies

from .test_archive_browser import _is_png

BOB = "bob@example.org"


@pytest.fixture
def web_settings(web_settings):
    """The web tests' settings with the one-click URL in copies over loopback http ([web] one_click_on_http), as a
    deployment behind https always has it."""
    return replace(web_settings, web=replace(web_settings.web, one_click_on_http=True))


def goodbyes(sink) -> int:
    return sum(GOODBYE in mail for mail in sink.copies_for(BOB))


async def test_a_member_changes_delivery_to_digest_and_sees_it_saved(browser):
    """bob follows "Your settings", ticks the digest and presses Save: the page says the settings are saved with the
    digest ticked, the store has delivery=digest, and the audit row names bob."""
    await browser.login(BOB)
    await browser.follow(TEAM)
    await browser.follow("Your settings")
    assert await browser.chosen("delivery") == "Every post as it comes"
    await browser.choose("A digest now and then")
    await browser.press("Save")
    assert await browser.text("[role=status]") == "Your settings are saved."
    assert await browser.chosen("delivery") == "A digest now and then"
    store = browser.site.daemon.store
    assert (await membership.get(store, TEAM, BOB)).delivery == "digest"
    [row] = await audit.entries(store, TEAM, action="set-member")
    assert (row["actor"], row["detail"]) == (BOB, "delivery = digest (web)")


async def test_a_member_unsubscribes_confirms_with_the_button_and_the_list_is_gone(browser):
    """bob (also on other@) opens "Unsubscribe from team@" on his settings page: the question page changes nothing;
    its button says he left, the goodbye mail reaches the sink and his session ends; logged in again, his lists
    show other@ only and team@'s pages are 'Not found'."""
    store, sink = browser.site.daemon.store, browser.site.sink
    await membership.add(store, OTHER, BOB)
    await browser.login(BOB)
    assert sorted(await browser.texts("ul.lists a")) == sorted([TEAM, OTHER])
    await browser.open(f"/lists/{TEAM}/settings")
    await browser.follow(f"Unsubscribe from {TEAM}")
    assert await browser.heading() == f"Leave {TEAM}?"
    assert await membership.find(store, TEAM, BOB) is not None

    await browser.press("Unsubscribe")
    assert await browser.heading() == f"You have left {TEAM}"
    await sink.wait_for(lambda: goodbyes(sink) == 1)
    assert await membership.find(store, TEAM, BOB) is None
    await browser.open(f"/lists/{TEAM}/")
    assert await browser.path() == "/login"  # leaving ended the session

    await browser.login(BOB)
    assert await browser.texts("ul.lists a") == [OTHER]
    for path in (f"/lists/{TEAM}/", f"/lists/{TEAM}/settings", f"/lists/{TEAM}/leave"):
        await browser.open(path)
        assert await browser.heading() == "Not found", path


async def test_the_one_click_link_of_a_copy_asks_first_and_its_button_unsubscribes(browser):
    """The one-click URL in the List-Unsubscribe header of bob's copy of a post, opened in the browser (twice),
    shows a button and leaves bob a member; pressing it says he left, removes him (audit actor one-click) and mails the
    goodbye."""
    site = browser.site
    copy = (await post_and_copies(site, "Sentencing memo deadlines", (BOB,)))[BOB]
    link = link_of(copy)
    await browser.open(link)
    await browser.open(link)  # a second look, as a mail gateway's scanner and then the member would make
    assert await browser.heading() == f"Unsubscribe from {TEAM}"
    assert await membership.find(site.daemon.store, TEAM, BOB) is not None
    assert goodbyes(site.sink) == 0
    assert _is_png(await browser.screenshot("one-click"))

    await browser.press("Unsubscribe")
    assert await browser.heading() == f"You have left {TEAM}"
    assert await membership.find(site.daemon.store, TEAM, BOB) is None
    [row] = await audit.entries(site.daemon.store, TEAM, action="unsubscribe")
    assert (row["actor"], row["object"]) == ("one-click", f"member:{BOB}")
    await site.sink.wait_for(lambda: goodbyes(site.sink) == 1)
