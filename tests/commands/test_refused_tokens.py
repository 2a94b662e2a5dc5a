"""Expired, reused and altered tokens by email: refused with a clear reply, and nothing changes."""

from __future__ import annotations

import time

from listserv import lists, membership

from tests.commands.conftest import REQUEST, TEAM, command_mail, text_of, token_of

CAROL = "carol@example.com"
DAY = 86400


async def _token(submit, take, received_at=None) -> str:
    await submit(command_mail(sender=CAROL, subject="subscribe"), mail_from=CAROL, received_at=received_at)
    return token_of((await take())[0][0])


async def _confirm(submit, take, token, received_at=None) -> str:
    outcome = await submit(command_mail(sender=CAROL, subject=f"Re: confirm {token}"), mail_from=CAROL,
                           received_at=received_at)
    assert outcome == {REQUEST: "processed"}
    sent = await take()
    return text_of(sent[-1][0])


async def test_expired_token_is_refused_with_the_date_and_what_to_do(store, team, submit, take):
    """Eight days later (the message's arrival time is the clock) the token has expired; nobody joins."""
    issued = time.time()
    token = await _token(submit, take, received_at=issued)
    text = await _confirm(submit, take, token, received_at=issued + 8 * DAY)
    assert "This confirmation expired on" in text and 'send "subscribe" to team-request@example.org' in text
    assert await membership.pending(store, TEAM) == []


async def test_token_confirmed_before_expiry_still_counts_when_processed_late(store, team, submit, take):
    """A confirmation that arrived in time counts even if the daemon processes it later."""
    issued = time.time() - 30 * DAY
    token = await _token(submit, take, received_at=issued)
    assert "waits for a moderator" in await _confirm(submit, take, token, received_at=issued + 6 * DAY)


async def test_reused_token_is_refused_as_already_used(store, team, submit, take):
    """The second confirmation with the same token says it was used already, and when."""
    token = await _token(submit, take)
    await _confirm(submit, take, token)
    text = await _confirm(submit, take, token)
    assert "This confirmation was used already, on" in text
    assert len(await membership.pending(store, TEAM)) == 1


async def test_altered_token_is_refused_as_not_valid(store, team, submit, take):
    """One changed digit: 'not a valid confirmation'; the genuine token still works afterwards."""
    token = await _token(submit, take)
    altered = token[:-1] + ("0" if token[-1] != "0" else "1")
    text = await _confirm(submit, take, altered)
    assert "This is not a valid confirmation for team@example.org" in text and "Nothing was changed" in text
    assert await membership.pending(store, TEAM) == []
    assert "waits for a moderator" in await _confirm(submit, take, token)


async def test_garbage_and_missing_tokens_get_a_clear_reply(store, team, submit, take):
    """confirm with no token, or with two words, says what confirm needs; a short word is not valid."""
    assert "confirm needs the token" in await _confirm(submit, take, "")
    assert "confirm needs the token" in await _confirm(submit, take, "a b")
    assert "not a valid confirmation" in await _confirm(submit, take, "xyz")


async def test_token_sent_to_another_lists_confirm_address_is_not_valid(store, team, submit, take):
    """A token mailed to another list's -confirm address is refused there."""
    await lists.create(store, "other@example.org")
    token = await _token(submit, take)
    confirm_at = f"other-confirm+{token}@example.org"
    await submit(command_mail(sender=CAROL, to=confirm_at), rcpts=(confirm_at,), mail_from=CAROL)
    [(reply, _, _)] = await take()
    assert "not a valid confirmation for other@example.org" in text_of(reply)
