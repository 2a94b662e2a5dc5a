"""Confirmation tokens on a real store: signed, single-use, expiring, bound to their list, shared by every process."""

from __future__ import annotations

import doctest

import pytest

from listserv import confirm, lists
from listserv.store import Store, confirmations

NOW = 1_800_000_000.0
DAY = confirm.DAY


async def _issue(store, mlist, action="subscribe", address="carol@example.com", now=NOW):
    return await store.write(confirm.issue, mlist, action, address, now)


async def _redeem(store, mlist, token, now=NOW + 60):
    return await store.write(confirm.redeem, mlist, token, now)


async def test_valid_token_works_once(store, team):
    """A fresh token redeems once, with its action and address; the second time it is 'used'."""
    token, expires_at = await _issue(store, team)
    assert expires_at == NOW + 7 * DAY and confirm.looks_like_token(token)
    first = await _redeem(store, team, token)
    assert first.status == confirm.VALID
    assert (first.row["action"], first.row["address"]) == ("subscribe", "carol@example.com")
    again = await _redeem(store, team, token)
    assert again.status == confirm.USED and again.row["used_at"] == NOW + 60


async def test_expired_token_is_refused_and_stays_unused(store, team):
    """At the expiry second and later a token is 'expired' (the clock is injected) and is not used up."""
    token, expires_at = await _issue(store, team)
    assert (await _redeem(store, team, token, now=expires_at)).status == confirm.EXPIRED
    assert (await _redeem(store, team, token, now=expires_at - 1)).status == confirm.VALID


async def test_confirm_days_setting_sets_the_expiry(store, team):
    """confirm_days is the list's validity; 0 counts as one day rather than a token dead on arrival."""
    await lists.set_setting(store, team.address, "confirm_days", "2")
    _, expires_at = await _issue(store, await lists.get(store, team.address))
    assert expires_at == NOW + 2 * DAY
    await lists.set_setting(store, team.address, "confirm_days", "0")
    _, expires_at = await _issue(store, await lists.get(store, team.address))
    assert expires_at == NOW + DAY


@pytest.mark.parametrize("position", [0, 5, 11, 12, 20, 31])
async def test_any_altered_digit_makes_a_token_invalid(store, team, position):
    """Changing any one hex digit (nonce or MAC) gives 'invalid', and the real token still works after."""
    token, _ = await _issue(store, team)
    digit = "0" if token[position] != "0" else "1"
    altered = token[:position] + digit + token[position + 1:]
    assert (await _redeem(store, team, altered)).status == confirm.INVALID
    assert (await _redeem(store, team, token)).status == confirm.VALID


@pytest.mark.parametrize("text", ["", "abc", "z" * 32, "0" * 31, "0" * 33, "0123456789abcdef 0123456789abcde"])
async def test_malformed_tokens_are_invalid(store, team, text):
    """Anything not shaped like a token is 'invalid' without a lookup."""
    assert (await _redeem(store, team, text)).status == confirm.INVALID


async def test_upper_case_token_is_accepted(store, team):
    """A token typed in upper case (some clients shout subjects) is the same token."""
    token, _ = await _issue(store, team)
    assert (await _redeem(store, team, token.upper())).status == confirm.VALID


async def test_token_of_another_list_is_invalid(store, team):
    """A token is bound to its list: presented to another list it is 'invalid' and stays usable at home."""
    other = await lists.create(store, "other@example.org")
    token, _ = await _issue(store, team)
    assert (await _redeem(store, other, token)).status == confirm.INVALID
    assert (await _redeem(store, team, token)).status == confirm.VALID


async def test_a_token_whose_row_was_changed_fails_its_mac(store, team):
    """The MAC covers the address: a row edited to another address no longer matches its token."""
    token, _ = await _issue(store, team)

    async def forge(db):
        await db.execute("UPDATE confirmations SET address = 'mallory@example.com'")

    await store.write(forge)
    assert (await _redeem(store, team, token)).status == confirm.INVALID


async def test_rotating_the_secret_invalidates_tokens_still_out(store, team):
    """After replace_secret, tokens signed with the old secret are refused."""
    token, _ = await _issue(store, team)
    await store.write(confirmations.replace_secret, confirm.SECRET_NAME, b"n" * 32)
    assert (await _redeem(store, team, token)).status == confirm.INVALID


async def test_the_secret_is_made_once_and_shared_by_every_process(store, team, settings):
    """A second Store on the same file (another process: the CLI) sees the secret the first one created."""
    token, _ = await _issue(store, team)
    other = await Store.open(settings.storage.database)
    try:
        assert (await other.write(confirm.redeem, team, token, NOW + 1)).status == confirm.VALID
        first = await other.write(confirmations.secret, confirm.SECRET_NAME, b"x" * 32)
    finally:
        await other.close()
    assert first != b"x" * 32 and len(first) == 32


async def test_recently_sent_throttles_for_an_hour(store, team):
    """A second request within RESEND_AFTER finds the first; after it, or once used, none is found."""
    token, _ = await _issue(store, team)
    assert await store.write(confirm.recently_sent, team, "subscribe", "carol@example.com", NOW + 10) is not None
    assert await store.write(confirm.recently_sent, team, "unsubscribe", "carol@example.com", NOW + 10) is None
    assert await store.write(confirm.recently_sent, team, "subscribe", "carol@example.com", NOW + 3601) is None
    await _redeem(store, team, token)
    assert await store.write(confirm.recently_sent, team, "subscribe", "carol@example.com", NOW + 20) is None


async def test_rows_long_expired_are_purged_when_new_tokens_are_issued(store, team):
    """Issuing purges confirmations expired more than KEEP_AFTER_EXPIRY ago; then the old token is 'invalid'."""
    old, expires_at = await _issue(store, team, now=NOW)
    later = expires_at + confirm.KEEP_AFTER_EXPIRY + 1
    assert (await _redeem(store, team, old, now=later - 2)).status == confirm.EXPIRED
    await _issue(store, team, address="dave@example.com", now=later)
    assert (await _redeem(store, team, old, now=later)).status == confirm.INVALID


async def test_issue_refuses_an_unknown_action(store, team):
    """Only subscribe and unsubscribe can be confirmed."""
    with pytest.raises(ValueError, match="not a confirmable action"):
        await _issue(store, team, action="set")


def test_doctests():
    """The examples in listserv.confirm hold."""
    assert doctest.testmod(confirm).failed == 0
