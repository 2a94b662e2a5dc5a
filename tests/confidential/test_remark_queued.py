"""Late re-marking reaches queued copies: a post still in the outbound queue or in a digest issue not delivered
yet when its thread turns confidential goes only to the entitled, as the confidential copy."""

from __future__ import annotations

from .conftest import DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, NOT_ENTITLED, TEAM, compose, parsed, queued, secret

PUBLIC = b"Zanzibarian file"  # the body of the post whose thread turns confidential


def _public() -> bytes:
    return compose("Expert witness?", "Zanzibarian file?\n", "p1@example.org")


def _confidential_reply() -> bytes:
    return secret("c1@example.org", headers=(("In-Reply-To", "<p1@example.org>"),))


async def test_a_queued_copy_of_a_re_marked_post_is_withdrawn_from_the_unentitled(store, team, submit):
    """A post still in the outbound queue when its thread turns confidential: nina's copy goes, bob's and the
    others' become the confidential copy; no plain copy of it is left."""
    await submit(_public())
    assert NOT_ENTITLED in await queued(store)
    await submit(_confidential_reply())
    copies = await queued(store)
    assert NOT_ENTITLED not in copies
    plain = [c for cs in copies.values() for c in cs if b"Zanzibarian file" in c and b"Sensitivity" not in c]
    assert plain == []
    assert sum(b"Zanzibarian file" in c for c in copies["bob@example.org"]) == 1


async def test_a_digest_issue_still_queued_loses_the_re_marked_post(store, team, submit, cli):
    """An issue built and queued before the thread turned confidential is rebuilt without the post (its table
    of contents too); dan's digest keeps the other post, dora gets the post as a confidential copy."""
    await submit(_public())
    await submit(compose("Office hours", "Thursday at noon.\n", "o1@example.org"))
    assert (await cli("digests", "send", TEAM)).exit_code == 0
    [digest] = (await queued(store))[DIGEST_NOT_ENTITLED]
    assert PUBLIC in digest and b"Expert witness?" in digest
    await submit(_confidential_reply())
    copies = await queued(store)
    [digest] = copies[DIGEST_NOT_ENTITLED]
    assert PUBLIC not in digest and b"Expert witness?" not in digest and b"Thursday at noon." in digest
    assert b"(1 message)" in digest
    [individual] = [c for c in copies[DIGEST_ENTITLED] if PUBLIC in c and b"multipart/digest" not in c]
    assert parsed(individual)["Sensitivity"] == "Company-Confidential"


async def test_a_digest_issue_left_empty_is_withdrawn(store, team, submit, cli):
    """An issue whose only post is re-marked goes: the unentitled digest reader gets nothing of it."""
    await submit(_public())
    assert (await cli("digests", "send", TEAM)).exit_code == 0
    await submit(_confidential_reply())
    assert DIGEST_NOT_ENTITLED not in await queued(store)


async def test_a_queued_digest_sharing_a_held_posts_subject_is_left_whole(store, team, submit, cli):
    """Hiding a re-marked held post's subject rewrites notices only: an unrelated post with the same subject in
    a queued digest issue still goes out, and the held post's notice loses the subject."""
    await submit(compose("Office hours", "Thursday at noon.\n", "o1@example.org"))
    assert (await cli("digests", "send", TEAM)).exit_code == 0
    held_reply = compose("Office hours", "Zanzibarian?\n", "h1@example.org", sender="x@elsewhere.example",
                         headers=(("In-Reply-To", "<c1@example.org>"),))
    assert set((await submit(held_reply, mail_from="x@elsewhere.example")).values()) == {"held"}
    await submit(secret("c1@example.org"))
    copies = await queued(store)
    [digest] = copies[DIGEST_NOT_ENTITLED]
    assert b"Office hours" in digest and b"Thursday at noon." in digest
    [note] = [c for c in copies["mod@example.org"] if b"is waiting for a moderator" in c]
    assert b"Office hours" not in note


async def test_queued_get_and_search_replies_naming_a_re_marked_post_go_only_to_the_entitled(store, team, submit):
    """nina's `get 1` and `search` replies (the post attached, its subject listed) still queued when the thread
    turns confidential are withdrawn from her; bob's reply with the same post still goes to bob."""
    await submit(_public())  # archive:1
    for sender, message_id in ((NOT_ENTITLED, "q1@x.example"), ("bob@example.org", "q2@x.example")):
        raw = compose("commands", "get 1\nsearch witness\n", message_id, sender=sender, to="team-request@example.org")
        await submit(raw, rcpts=("team-request@example.org",), mail_from=sender)
    replies = [c for c in (await queued(store))[NOT_ENTITLED] if b"Results of your commands" in c]
    assert len(replies) == 1 and PUBLIC in replies[0]
    await submit(_confidential_reply())
    copies = await queued(store)
    assert NOT_ENTITLED not in copies
    assert any(b"Results of your commands" in c and PUBLIC in c for c in copies["bob@example.org"])
