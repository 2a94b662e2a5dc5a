"""A held post produces one notice to the moderators: sender, subject, reasons, held ID and the commands."""

from __future__ import annotations

import pytest

from listserv import lists
from listserv.outgoing import moderator_notices
from listserv.store import audit, held, members
from tests.bounces.helpers import LIST, make_team, post, queued, submit

STRANGER = "x@stranger.example"


@pytest.fixture
async def team(store):
    return await make_team(store)


async def test_one_notice_to_every_moderator_and_owner(store, settings, team):
    """One outbound message, to the moderator and the owner, naming everything a moderator needs."""
    await submit(store, settings, post(sender=f"Xavier <{STRANGER}>", subject="Can I join?"), mail_from=STRANGER)
    [row] = await held.waiting(store.db)
    [note] = await queued(store)
    assert note["recipients"] == ["mod@example.org", "olga@example.org"]
    message = note["message"]
    assert message["To"] == "team-owner@example.org" and message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == f"{LIST}: post held ({row['id']})"
    text = message.get_content()
    assert STRANGER in text and "Can I join?" in text
    assert f"nonmember: {STRANGER} is not a member of {LIST}" in text
    assert f"Held ID:   {row['id']}" in text
    for command in ("show", "approve", "reject", "discard"):
        assert f"listserv held {command} {row['id']}" in text
    entry = (await audit.entries(store.db, team.id))[0]
    assert entry["action"] == "hold" and "moderators: told" in entry["detail"]


async def test_a_confidential_post_is_named_not_described(store, settings, team):
    """For a confidential held post the notice says 'confidential post' and never carries its subject."""
    secret = "Client J. Doe psych eval"
    await submit(store, settings, post(sender=STRANGER, subject=secret, to="team+confidential@example.org"),
                 rcpts=("team+confidential@example.org",), mail_from=STRANGER)
    [note] = await queued(store)
    assert secret.encode() not in note["content"] and b"J. Doe" not in note["content"]
    assert "confidential post held" in note["message"]["Subject"]
    assert "subject not shown" in note["message"].get_content()


async def test_each_held_post_gets_exactly_one(store, settings, team):
    """Two held posts: two notices, one each; a post that is accepted produces none."""
    for n in range(2):
        await submit(store, settings, post(sender=STRANGER, message_id=f"s{n}@x"), mail_from=STRANGER)
    await submit(store, settings, post(message_id="member@x"))
    subjects = [q["message"]["Subject"] for q in await queued(store)]
    assert sum("held" in s for s in subjects) == 2


async def test_notices_can_be_turned_off(store, settings, team):
    """moderator_notices off: the post is held, nobody is mailed, the audit says so."""
    await lists.set_setting(store, LIST, "moderator_notices", "off")
    await submit(store, settings, post(sender=STRANGER), mail_from=STRANGER)
    assert await queued(store) == [] and len(await held.waiting(store.db)) == 1
    assert "moderators: not told" in (await audit.entries(store.db, team.id))[0]["detail"]


async def test_no_moderators_no_notice(store, settings, team):
    """A list without moderators or owners holds the post and mails nobody."""
    for address in ("mod@example.org", "olga@example.org"):
        await store.write(members.remove, team.id, address)
    await submit(store, settings, post(sender=STRANGER), mail_from=STRANGER)
    assert await queued(store) == []


def test_commands_for_mail_that_cannot_be_approved():
    """Held -bounces or -request mail can be shown and discarded; the notice offers no approve for it."""
    assert moderator_notices.commands(5, "request") == ["    listserv held show 5", "    listserv held discard 5"]
