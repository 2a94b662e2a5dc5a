"""search and get by email on a real archive: results, attachments, confidential posts only for the entitled."""

from __future__ import annotations

from listserv import membership
from listserv.commands import handle, parser
from listserv.commands.context import Result

from tests.commands.conftest import TEAM, command_mail, text_of
from tests.pipeline.conftest import compose


async def _archive(submit, subject, body, message_id, rcpt=TEAM) -> None:
    outcome = await submit(compose(subject=subject, body=body, message_id=message_id), rcpts=(rcpt,))
    assert outcome == {rcpt: "accepted"}


async def _ask(submit, take, body, sender="bob@example.org"):
    await submit(command_mail(sender=sender, body=body), mail_from=sender)
    return [(msg, rcpts) for msg, rcpts, _ in await take() if rcpts == [sender]]


async def _posts(submit, take):
    await _archive(submit, "Juvenile records in Ohio", "Has anyone obtained school records?\n", "p1@example.org")
    await _archive(submit, "Expert witness", "Looking for a mitigation expert.\n", "p2@example.org")
    await take()


async def test_search_lists_number_date_sender_subject(store, team, submit, take):
    """search QUERY: one line per match with its archive number, day, sender and subject, and how to get it."""
    await _posts(submit, take)
    [(reply, _)] = await _ask(submit, take, "search school records")
    text = text_of(reply)
    assert "1 post matches:" in text
    assert "     1  2023-11-14  ann@example.org  Juvenile records in Ohio" in text
    assert "Expert witness" not in text and 'Send "get N"' in text


async def test_bad_query_gets_the_same_explanation_as_the_cli(store, team, submit, take):
    """A malformed query gets BadQuery's one-line message; the commands after it still run."""
    [(reply, _)] = await _ask(submit, take, "search records*\ninfo")
    text = text_of(reply)
    assert "> search records*\n'records*' contains '*', which is not search syntax here" in text
    assert "Only members may post" in text


async def test_a_pasted_subject_or_url_is_told_to_use_quotes(store, team, submit, take):
    """search Re: ... and search URL: the reply says which quoted query to send instead; the quoted one finds it."""
    await _archive(submit, "Re: school records", "Ohio answered.\n", "p3@example.org")
    await take()
    [(reply, _)] = await _ask(submit, take, 'search Re: school\nsearch https://example.org/x\nsearch "Re: school"')
    refused, answered = text_of(reply).split('> search "Re: school"')
    assert 'use "Re: school" in quotes to search for the words' in refused
    assert 'use "https://example.org/x" in quotes to search for the words' in refused
    assert "Re: school records" not in refused and "Re: school records" in answered


async def test_empty_search_and_no_match(store, team, submit, take):
    """search without a query shows an example; a query without matches says so."""
    [(reply, _)] = await _ask(submit, take, "search\nsearch nothingmatchesthis")
    text = text_of(reply)
    assert "search needs a query" in text and "No post matches." in text


async def test_get_attaches_the_archived_post_byte_for_byte(store, team, submit, take):
    """get N: the post is attached as message/rfc822, its bytes as archived (line ends aside)."""
    await _posts(submit, take)
    [(reply, _)] = await _ask(submit, take, "get 1")
    assert reply.get_content_type() == "multipart/mixed"
    [attachment] = list(reply.iter_attachments())
    assert attachment.get_content_type() == "message/rfc822" and attachment.get_filename() == "post-1.eml"
    enclosed = attachment.get_content()
    assert enclosed["Message-ID"] == "<p1@example.org>" and "school records" in enclosed.get_content()
    assert "Post 1 is attached." in text_of(reply)
    raw = reply.as_bytes()
    assert compose(subject="Juvenile records in Ohio", body="Has anyone obtained school records?\n",
                   message_id="p1@example.org").rstrip(b"\n") in raw


async def test_get_of_a_missing_number_or_bad_argument(store, team, submit, take):
    """get of a number not in this list's archive, or of a word, is answered without an attachment."""
    [(reply, _)] = await _ask(submit, take, "get 99\nget three")
    text = text_of(reply)
    assert "There is no post number 99 in the archive of team@example.org." in text
    assert "get needs the number of a post" in text and reply.get_content_type() == "text/plain"


async def test_confidential_post_only_for_entitled_members(store, team, submit, take):
    """A confidential post: found and sent to an entitled member; invisible (no number, no match) to one who is not."""
    await _archive(submit, "Client psych report", "the psych evaluation of my client\n", "c1@example.org",
                   rcpt="team+confidential@example.org")
    await take()
    [(reply, _)] = await _ask(submit, take, "search psych\nget 1")
    assert "Client psych report" in text_of(reply) and len(list(reply.iter_attachments())) == 1
    await membership.set_setting(store, TEAM, "bob@example.org", "confidential", "false")
    [(reply, _)] = await _ask(submit, take, "search psych\nget 1")
    text = text_of(reply)
    assert "psych report" not in text and "No post matches." in text
    assert "There is no post number 1" in text and list(reply.iter_attachments()) == []


async def test_non_member_search_and_get_get_no_reply(store, team, submit, take):
    """A stranger's search or get: no reply at all, nothing from the archive leaves."""
    await _posts(submit, take)
    assert await _ask(submit, take, "search records\nget 1", sender="stranger@example.com") == []


def test_gets_beyond_the_size_budget_are_not_attached():
    """Posts are attached while they fit in max_message_size; the rest say to ask for them singly."""
    results = [(parser.Command("get", str(n), f"get {n}"), Result("ok", attached=((f"{n}.eml", b"x" * 60),)))
               for n in (1, 2)]
    fitted = handle.fit(results, 100)
    assert fitted[0][1].attached and not fitted[1][1].attached
    assert 'send "get 2" on its own' in fitted[1][1].text
    assert "too large to send by mail" in handle.fit(results[:1], 10)[0][1].text
    assert handle.fit(results, 0) == results
