"""The held queue in a real headless Chromium: a moderator logs in through the mailed link, follows "Held posts",
approves a non-member's post sent over SMTP to the running daemon (the members get it, the page and the audit log
name the moderator), and reveals a confidential held post that stays masked until the button is pressed."""

from __future__ import annotations

import asyncio
import time

from listserv import audit, moderation
from listserv.archive import access
from tests.confidential.conftest import TEAM, compose, leaked, secret
from tests.e2e.helpers import send

from .test_archive_browser import _is_png

MOD = "mod@example.org"
STRANGER = "x@stranger.example"
PLAIN = "Parole hearing question"
SECRET_WORDS = ["Quillfeather", "Xylophonic", "Zanzibarian"]


async def held_over_smtp(site) -> dict[str, int]:
    """A stranger's ordinary post and confidential post, sent over SMTP to the daemon; their held ids by kind,
    once the pipeline has held both."""
    await send(site.daemon.port, compose(PLAIN, "Who covers the parole board?\n", "b1@stranger.example",
                                         sender=f"Xavier <{STRANGER}>"), STRANGER, (TEAM,))
    await send(site.daemon.port, secret("b2@stranger.example", sender=f"Xavier <{STRANGER}>"), STRANGER, (TEAM,))
    deadline = time.monotonic() + 30
    while len(rows := [r for r in await moderation.waiting(site.daemon.store, TEAM) if r["sender"] == STRANGER]) < 2:
        if time.monotonic() > deadline:
            raise AssertionError(f"the stranger's posts were not held within 30 s: {rows}")
        await asyncio.sleep(0.05)
    return {("secret" if row["confidential"] else "plain"): row["id"] for row in rows}


async def held_reads(store, held_id: int) -> list[dict]:
    """The audit rows of reads of one held post's content (the list's threads page, opened by a moderator, writes
    rows of its own)."""
    return [e for e in await audit.entries(store, TEAM, action=access.READ) if e["object"] == f"held:{held_id}"]


async def test_a_moderator_approves_a_held_post_and_the_members_get_it(browser):
    """mod@ follows "Held posts" from the list's page, opens the stranger's post and presses Approve: the page says
    'Approved by mod@example.org' with no buttons left, ann receives the post, and the audit row's actor is mod@."""
    held = await held_over_smtp(browser.site)
    await browser.login(MOD)
    await browser.follow(TEAM)
    await browser.follow("Held posts")
    assert await browser.heading() == f"Held posts of {TEAM}"
    assert await browser.path() == f"/lists/{TEAM}/held"
    assert _is_png(await browser.screenshot("held-queue"))

    await browser.follow(PLAIN)
    assert await browser.path() == f"/lists/{TEAM}/held/{held['plain']}"
    assert "Who covers the parole board?" in await browser.text(".body")
    await browser.press("Approve")
    assert await browser.path() == f"/lists/{TEAM}/held/{held['plain']}"
    assert (await browser.text("p.notice")).startswith(f"Approved by {MOD}")
    assert await browser.texts(".decide button") == []

    sink = browser.site.sink
    await sink.wait_for(lambda: any(PLAIN.encode() in raw for raw in sink.copies_for("ann@example.org")))
    [entry] = await audit.entries(browser.site.daemon.store, TEAM, action="approve")
    assert (entry["actor"], entry["object"]) == (MOD, f"held:{held['plain']}")
    assert (await moderation.summary(browser.site.daemon.store, held["secret"]))["decision"] is None


async def test_a_confidential_held_post_is_masked_until_reveal_is_pressed(browser):
    """In the queue and on its page the confidential post shows '(confidential)' and no secret word, and nothing
    is audited; "Reveal the post" shows its subject and text and writes the audit row naming mod@; the page opened
    again is masked again."""
    held = await held_over_smtp(browser.site)
    store = browser.site.daemon.store
    await browser.login(MOD)
    await browser.follow(TEAM)
    await browser.follow("Held posts")
    assert leaked(await browser.source()) == []
    assert any("Confidential" in item and "(confidential)" in item for item in await browser.texts("ol.held > li"))

    await browser.follow("(confidential)")
    assert await browser.path() == f"/lists/{TEAM}/held/{held['secret']}"
    assert await browser.heading() == "(confidential)" and leaked(await browser.source()) == []
    assert await held_reads(store, held["secret"]) == []
    assert _is_png(await browser.screenshot("held-masked"))

    await browser.press("Reveal the post")
    assert sorted(leaked(await browser.text("main"))) == SECRET_WORDS
    assert "Zanzibarian" in await browser.text(".body")
    [entry] = await held_reads(store, held["secret"])
    assert (entry["actor"], entry["detail"]) == (MOD, "held show --body")

    await browser.follow("all held posts")
    await browser.follow("(confidential)")
    assert leaked(await browser.source()) == [] and len(await held_reads(store, held["secret"])) == 1
