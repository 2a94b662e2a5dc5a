"""Moderation reply tokens on the real store and pipeline, with the clock injected (a message's arrival time):
expiry with the held post, one token per post across notice and reminder, and no crossing with `confirm`."""

from __future__ import annotations

import time

from listserv import expiry, membership, reminders
from listserv.addresses import split
from listserv.auth.result import AuthResult
from listserv.auth.verify import Authenticator
from listserv.pipeline import process
from listserv.store import held, inbound
from tests.commands.conftest import REQUEST, TEAM, command_mail, text_of, token_of

DAY = 86400.0
STRANGER = "zed@stranger.example"
MOD = "mod@example.org"


async def _hold(submit, take, received_at: float) -> str:
    """A stranger's post held at received_at; returns the Reply-To of the notice the moderators got."""
    raw = command_mail(sender=STRANGER, subject="A question", body="Hello.", to=TEAM, message_id="q1@stranger.example")
    assert await submit(raw, rcpts=(TEAM,), mail_from=STRANGER, received_at=received_at) == {TEAM: "held"}
    notice = next(msg for msg, rcpts, _ in await take() if MOD in rcpts)
    return str(notice["Reply-To"])


async def _reply(submit, take, to: str, body: str, received_at: float, sender: str = MOD) -> str:
    raw = command_mail(sender=sender, subject="Re: held", body=body, to=to, message_id=f"r{received_at}@example.org")
    assert await submit(raw, rcpts=(to,), mail_from=sender, received_at=received_at) == {to: "processed"}
    return text_of((await take())[-1][0])


async def _waiting_id(store) -> int:
    return (await held.waiting(store.db))[-1]["id"]


async def test_the_token_expires_with_the_held_post(store, team, submit, take):
    """A stranger's post expires after hold_expiry_days (14): a reply after that is told the address expired, and
    nothing changes even though the expiry job has not run yet."""
    now = time.time()
    reply_to = await _hold(submit, take, now)
    held_id = await _waiting_id(store)
    text = await _reply(submit, take, reply_to, "approve", now + 14 * DAY + 60)
    assert f"The reply address for held message {held_id} on {TEAM} expired on" in text
    assert (await held.get(store.db, held_id))["decision"] is None


async def test_a_post_discarded_by_expiry_says_so(store, settings, team, submit, take):
    """Once the expiry job discarded the post, a reply is told it was already discarded by auto-expiry."""
    now = time.time()
    reply_to = await _hold(submit, take, now)
    held_id = await _waiting_id(store)
    assert await expiry.expire_held(store, settings, now + 14 * DAY + 60) == 1
    text = await _reply(submit, take, reply_to, "approve", now + 14 * DAY + 120)
    assert f"Held message {held_id} on {TEAM} was already discarded by auto-expiry" in text


async def test_the_reminder_names_the_same_address(store, settings, team, submit, take):
    """The daily reminder of a lone waiting post names the notice's reply address and sets it as Reply-To."""
    now = time.time()
    reply_to = await _hold(submit, take, now)
    assert await reminders.remind(store, settings, now + DAY + 60) == 1
    reminder = (await take())[0][0]
    assert str(reminder["Reply-To"]) == reply_to and reply_to in text_of(reminder)


async def test_confirm_never_redeems_a_moderation_token(store, team, submit, take):
    """`confirm TOKEN` at -request with a moderation token is "not a valid confirmation"; the post waits on."""
    now = time.time()
    reply_to = await _hold(submit, take, now)
    token = split(reply_to).extra
    text = await _reply(submit, take, REQUEST, f"confirm {token}", now + 60)
    assert f"This is not a valid confirmation for {TEAM}" in text
    assert (await held.get(store.db, await _waiting_id(store)))["decision"] is None


async def test_a_subscription_confirmation_saying_approve_still_confirms(store, team, submit, take):
    """A reply to a subscription confirmation whose first line happens to be "approve" confirms as before."""
    carol = "carol@example.com"
    await submit(command_mail(sender=carol, subject="subscribe"), mail_from=carol)
    token = token_of((await take())[0][0])
    confirm_at = f"team-confirm+{token}@example.org"
    text = await _reply(submit, take, confirm_at, "approve", time.time(), sender=carol)
    assert "Confirmed: the request of carol@example.com to join" in text


async def test_a_post_that_never_expires_gets_a_fresh_address_after_30_days(store, settings, team, submit, take):
    """A moderated member's held post does not expire; its first address lives 30 days, then the reminder names a
    new one, which decides the post while the old one is told it expired."""
    await membership.set_setting(store, TEAM, "ann@example.org", "moderated", "true")
    now = time.time()
    raw = command_mail(subject="Member post", body="Hello.", to=TEAM, message_id="m1@example.org")
    assert await submit(raw, rcpts=(TEAM,), received_at=now) == {TEAM: "held"}
    first = str(next(msg for msg, rcpts, _ in await take() if MOD in rcpts)["Reply-To"])
    later = now + 30 * DAY + 60
    assert await reminders.remind(store, settings, later) == 1
    second = str((await take())[0][0]["Reply-To"])
    assert second != first
    assert "expired on" in await _reply(submit, take, first, "approve", later + 60)
    assert "is discarded" in await _reply(submit, take, second, "discard", later + 120)


class BrokenChecker(Authenticator):
    """Stands in for a bug in the DKIM/DMARC checker (the real one never raises for a message's sake)."""

    async def check(self, raw: bytes, mail_from: str = "", peer: str = "", helo: str = "") -> AuthResult:
        raise RuntimeError("checker bug")


async def test_a_reply_whose_authentication_failed_to_check_is_held(store, settings, team, submit, take):
    """When checking DKIM/DMARC fails, a moderation reply is held with that reason, never run (fail closed)."""
    reply_to = await _hold(submit, take, time.time())
    raw = command_mail(sender=MOD, subject="Re: held", body="approve", to=reply_to, message_id="r@example.org")
    inbound_id = await store.write(inbound.enqueue, MOD, [reply_to], raw, "127.0.0.1")
    item = await inbound.get(store.db, inbound_id)
    checker = BrokenChecker.from_settings(settings)
    assert await process(store, settings, item, authenticator=checker) == {reply_to: "held"}
    rows = await held.waiting(store.db)
    assert [row["decision"] for row in rows] == [None, None]
    assert [reason["rule"] for reason in rows[1]["reasons"]] == ["authenticate", "unauthenticated"]
