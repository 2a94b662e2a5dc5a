"""Membership changed by email goes through the CLI's audited operations: one row each, the member as actor."""

from __future__ import annotations

from listserv import audit, lists, membership

from tests.commands.conftest import TEAM, command_mail, token_of

BOB = "bob@example.org"
CAROL = "carol@example.com"


async def _rows(store, action: str) -> list[tuple[str, str, str]]:
    """(actor, object, detail) of the team list's audit entries of one action, oldest first (as `audit ls` has them)."""
    found = await audit.entries(store, TEAM, action=action)
    return [(row["actor"], row["object"], row["detail"]) for row in reversed(found)]


async def _confirm(submit, take, sender: str, line: str) -> None:
    """Send a (un)subscribe line, then confirm it from the same address, as a member would."""
    await submit(command_mail(sender=sender, subject=line), mail_from=sender)
    token = token_of((await take())[0][0])
    await submit(command_mail(sender=sender, subject=f"Re: confirm {token}"), mail_from=sender)
    await take()


async def test_subscribe_by_email_is_audited_under_the_new_member(store, team, submit, take):
    """A confirmed subscribe (policy confirm) leaves one subscribe row, actor and object the address."""
    await lists.set_setting(store, TEAM, "subscription_policy", "confirm")
    await _confirm(submit, take, CAROL, "subscribe")
    assert (await _rows(store, "subscribe"))[-1] == (CAROL, f"member:{CAROL}", "added (email)")
    assert await membership.find(store, TEAM, CAROL) is not None


async def test_unsubscribe_by_email_is_audited_under_the_member(store, team, submit, take):
    """A confirmed unsubscribe leaves one unsubscribe row under the member who left."""
    await _confirm(submit, take, BOB, "unsubscribe")
    assert await _rows(store, "unsubscribe") == [(BOB, f"member:{BOB}", "removed (email)")]


async def test_set_by_email_is_audited_with_what_changed(store, team, submit, take):
    """`set delivery` and `set ownposts` each leave a set-member row naming the member setting and its new value."""
    await submit(command_mail(sender=BOB, body="set delivery digest\nset ownposts off"), mail_from=BOB)
    await take()
    assert await _rows(store, "set-member") == [
        (BOB, f"member:{BOB}", "delivery = digest (email)"),
        (BOB, f"member:{BOB}", "ownposts = False (email)"),
    ]


async def test_a_refused_set_by_email_leaves_no_row(store, team, submit, take):
    """A set with a bad value changes nothing and records nothing."""
    await submit(command_mail(sender=BOB, body="set delivery weekly\nset ownposts maybe"), mail_from=BOB)
    await take()
    assert await _rows(store, "set-member") == []


async def test_approving_a_request_audits_the_join_and_the_decision(store, settings, team, submit, take):
    """A moderator's approval joins through the same operation: a subscribe row, then the approve-member row."""
    await _confirm(submit, take, CAROL, "subscribe")  # policy moderate: the request waits
    await membership.approve(store, settings, TEAM, CAROL, by="mod@example.org")
    newest = await audit.entries(store, TEAM, limit=2)
    assert [(row["actor"], row["action"], row["detail"]) for row in reversed(newest)] == [
        ("mod@example.org", "subscribe", "added (request approved)"),
        ("mod@example.org", "approve-member", "applicant told"),
    ]
