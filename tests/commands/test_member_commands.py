"""set, who, info and help by email: what members and non-members may do and what they are told."""

from __future__ import annotations

import pytest

from listserv import membership

from tests.commands.conftest import TEAM, command_mail, text_of

BOB = "bob@example.org"


async def _reply(submit, take, body, sender=BOB) -> str:
    await submit(command_mail(sender=sender, body=body), mail_from=sender)
    [(reply, to, _)] = await take()
    assert to == [sender]
    return text_of(reply)


@pytest.mark.parametrize("value", ["digest", "nomail", "regular"])
async def test_set_delivery_changes_the_members_delivery(store, team, submit, take, value):
    """set delivery regular|digest|nomail changes the member's delivery and says so."""
    await membership.set_setting(store, TEAM, BOB, "delivery", "digest" if value == "regular" else "regular")
    assert f"Your delivery is now {value}." in await _reply(submit, take, f"set delivery {value}")
    assert (await membership.get(store, TEAM, BOB)).delivery == value


@pytest.mark.parametrize("value, own", [("off", False), ("on", True), ("OFF", False)])
async def test_set_ownposts_changes_whether_own_posts_come_back(store, team, submit, take, value, own):
    """set ownposts on|off changes whether the member gets their own posts."""
    await membership.set_setting(store, TEAM, BOB, "ownposts", str(not own))
    text = await _reply(submit, take, f"set ownposts {value}")
    assert ("now get" if own else "no longer get") in text
    assert (await membership.get(store, TEAM, BOB)).receive_own is own


async def test_set_receive_own_is_an_alias_of_ownposts(store, team, submit, take):
    """The store's older name works by email too (any case), and the reply and info speak of ownposts."""
    assert "You will no longer get a copy of your own posts." in await _reply(submit, take, "set receive_own off")
    assert (await membership.get(store, TEAM, BOB)).receive_own is False
    assert "delivery regular, ownposts off." in await _reply(submit, take, "info")
    assert "You will now get" in await _reply(submit, take, "set RECEIVE_OWN on")


@pytest.mark.parametrize("line, words", [
    ("set delivery weekly", "delivery: expected one of regular, digest, nomail, got 'weekly'"),
    ("set ownposts maybe", "ownposts: expected one of on, off, got 'maybe'"),
    ("set colour blue", 'set takes "delivery regular|digest|nomail" or "ownposts on|off"'),
    ("set delivery", 'set takes "delivery regular|digest|nomail"'),
])
async def test_bad_set_is_explained_and_changes_nothing(store, team, submit, take, line, words):
    """A bad set line gets a one-line explanation; the member's settings stay as they were."""
    before = await membership.get(store, TEAM, BOB)
    assert words in await _reply(submit, take, line)
    assert await membership.get(store, TEAM, BOB) == before


async def test_one_bad_command_does_not_undo_the_others(store, team, submit, take):
    """Commands run in order; a refused one between two good ones leaves both good changes in place."""
    text = await _reply(submit, take, "set delivery digest\nset delivery weekly\nset ownposts off")
    assert "now digest" in text and "got 'weekly'" in text and "no longer get" in text
    member = await membership.get(store, TEAM, BOB)
    assert member.delivery == "digest" and member.receive_own is False


async def test_who_is_refused_for_a_plain_member(store, team, submit, take):
    """A plain member asking `who` is told only owners and moderators may; no address is listed."""
    text = await _reply(submit, take, "who")
    assert "Only the owners and moderators" in text and "ann@example.org" not in text


@pytest.mark.parametrize("manager", ["mod@example.org", "olga@example.org"])
async def test_who_lists_every_member_for_owners_and_moderators(store, team, submit, take, manager):
    """An owner or moderator gets every member with role and delivery."""
    text = await _reply(submit, take, "who", sender=manager)
    assert "4 members of team@example.org" in text
    for address in ("ann@example.org", BOB, "mod@example.org", "olga@example.org"):
        assert address in text
    assert "olga@example.org  owner, regular" in text


async def test_member_only_commands_from_a_stranger_get_no_reply(store, team, submit, take):
    """who, set, search and get from a non-member: nothing runs and nobody is mailed (no backscatter)."""
    body = "who\nset delivery nomail\nsearch records\nget 1"
    await submit(command_mail(sender="stranger@example.com", body=body), mail_from="stranger@example.com")
    assert await take() == []


async def test_stranger_gets_help_and_info_with_member_commands_marked(store, team, submit, take):
    """help and info are answered for a stranger; a member-only command in the same message is named as such."""
    text = await _reply(submit, take, "help\ninfo\nwho", sender="stranger@example.com")
    assert "search QUERY" in text and "Only members may post" in text
    assert "who is for members of team@example.org only." in text
    assert "You are a member" not in text


async def test_info_for_a_member_shows_their_settings(store, team, submit, take):
    """info tells a member their own role, delivery and own-posts setting."""
    text = await _reply(submit, take, "info")
    assert "Sentencing advocates" in text and "You are a member (member): delivery regular, ownposts on." in text
