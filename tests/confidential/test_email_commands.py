"""Leak matrix, email rows: `search` and `get` to NAME-request@ by a member who is not entitled, and by one who is."""

from __future__ import annotations

from .conftest import NOT_ENTITLED, compose, leaked, parsed, queued, secret

REQUEST = "team-request@example.org"


async def _ask(store, submit, sender: str, body: str, message_id: str) -> list[bytes]:
    """Send commands as sender; the reply (or replies) queued for sender."""
    before = len((await queued(store)).get(sender, []))
    raw = compose("commands", body, message_id, sender=sender, to=REQUEST)
    assert await submit(raw, rcpts=(REQUEST,), mail_from=sender) == {REQUEST: "processed"}
    return (await queued(store)).get(sender, [])[before:]


async def test_search_and_get_by_a_member_not_entitled(store, team, submit):
    """Row 'email search/get, non-entitled': nina finds nothing confidential and cannot get it by number."""
    await submit(secret("c1@example.org"))  # archive:1
    await submit(compose("Memo template", "A public memo template.\n", "o1@example.org"))  # archive:2
    commands = "search conviction\nsearch subject:sentencing\nget 1\nget 2\n"  # words of the post, not secret ones
    [reply] = await _ask(store, submit, NOT_ENTITLED, commands, "q1@x")
    assert leaked(reply) == []
    assert reply.count(b"No post matches.") == 2 and b"There is no post number 1 " in reply
    assert b"Post 2 is attached." in reply


async def test_search_and_get_by_an_entitled_member(store, team, submit):
    """The same commands by bob, who is entitled: the confidential post is listed and attached."""
    await submit(secret("c1@example.org"))
    [reply] = await _ask(store, submit, "bob@example.org", "search conviction\nget 1\n", "q2@x")
    assert b"Quillfeather" in reply and b"Post 1 is attached." in reply
    assert "Zanzibarian" in leaked(reply)


async def test_get_returns_a_confidential_post_marked_like_a_list_copy(store, team, submit):
    """`get` of a confidential post attaches it with the tag, Sensitivity and notice, and no read-receipt headers."""
    spy = "spy@elsewhere.example"
    receipts = (("Disposition-Notification-To", spy), ("Return-Receipt-To", spy))
    await submit(compose("Quillfeather sentencing", "Zanzibarian text.\n", "c1@example.org",
                         headers=(("Sensitivity", "Private"), *receipts)))
    [reply] = await _ask(store, submit, "bob@example.org", "get 1\n", "q3@x")
    attached = parsed(reply).get_payload()[1].get_payload()[0]
    assert attached["Sensitivity"] == "Company-Confidential" and "[CONFIDENTIAL]" in attached["Subject"]
    assert b"spy@elsewhere.example" not in reply and b"Confidential thread" in reply


async def test_a_confidential_command_message_is_not_quoted_back(store, team, submit):
    """A reply-all that reached -request from a confidential thread: the answer repeats none of its lines."""
    await submit(secret("c1@example.org"))
    raw = compose("Re: x", "Zanzibarian said more.\n", "q4@x", sender=NOT_ENTITLED, to=REQUEST,
                  headers=(("In-Reply-To", "<c1@example.org>"),))
    assert await submit(raw, rcpts=(REQUEST,), mail_from=NOT_ENTITLED) == {REQUEST: "processed"}
    [reply] = (await queued(store))[NOT_ENTITLED]
    assert leaked(reply) == [] and b"A line of your confidential message is not a command" in reply
