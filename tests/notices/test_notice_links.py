"""With the web pages on, the held-post notice and the daily reminder link each held post's page under
[web] base_url (the commands stay); with them off, they name only the commands."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from listserv import reminders
from listserv.store import held
from tests.bounces.helpers import LIST, make_team, post, queued, submit

STRANGER = "x@stranger.example"
BASE = "https://lists.example.org"


@pytest.fixture
async def team(store):
    return await make_team(store)


@pytest.fixture
def web_on(settings):
    """settings with the web pages on under an https base_url (trailing slash: links must not double it)."""
    return replace(settings, web=replace(settings.web, enabled=True, base_url=BASE + "/"))


async def _hold(store, settings, **fields) -> int:
    await submit(store, settings, post(sender=STRANGER, **fields), rcpts=(fields.get("to", LIST),), mail_from=STRANGER)
    return (await held.waiting(store.db))[-1]["id"]


async def test_the_held_notice_links_the_post_page(store, web_on, team):
    """The notice carries BASE/lists/LIST/held/ID and still the commands to paste."""
    held_id = await _hold(store, web_on, subject="Records for client")
    [note] = await queued(store)
    text = note["message"].get_content()
    assert f"    {BASE}/lists/{LIST}/held/{held_id}\n" in text
    assert f"listserv held approve {held_id}" in text


async def test_a_confidential_notice_links_by_number_only(store, web_on, team):
    """For a confidential post the link is the held number: the subject stays out of the notice."""
    held_id = await _hold(store, web_on, subject="Client J. Doe psych eval", to="team+confidential@example.org")
    [note] = await queued(store)
    assert f"{BASE}/lists/{LIST}/held/{held_id}".encode() in note["content"]
    assert b"J. Doe" not in note["content"]


async def test_without_the_web_pages_no_link(store, settings, team):
    """[web] enabled = false (the test default): the notice names the commands and no web page."""
    held_id = await _hold(store, settings)
    [note] = await queued(store)
    text = note["message"].get_content()
    assert "/held/" not in text and "on the web" not in text and f"listserv held show {held_id}" in text


async def test_the_reminder_links_each_post_and_the_queue(store, web_on, team):
    """The daily reminder links every waiting post's page and the list's held queue, beside `held ls`."""
    held_id = await _hold(store, web_on)
    assert await reminders.remind(store, web_on, time.time() + 86400 + 60) == 1
    [note] = [q for q in await queued(store) if q["message"]["Subject"] == f"{LIST}: held posts waiting"]
    text = note["message"].get_content()
    assert f"{BASE}/lists/{LIST}/held/{held_id}\n" in text and f"    {BASE}/lists/{LIST}/held\n" in text
    assert f"listserv held ls {LIST}" in text
