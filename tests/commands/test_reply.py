"""The one reply to a command message: its headers, whom it goes to, and how it reports each command."""

from __future__ import annotations

from listserv.pipeline import process
from listserv.store import inbound

from tests.commands.conftest import REQUEST, command_mail, text_of


async def test_reply_goes_to_from_never_reply_to_with_list_headers(store, team, submit, take):
    """To: the From: address (not Reply-To), From: NAME-request@, In-Reply-To the command, envelope -bounces@."""
    raw = command_mail(body="info", headers=(("Reply-To", "elsewhere@example.net"),), message_id="ask-7@example.org")
    await submit(raw, mail_from="ann@example.org")
    [(reply, to, envelope)] = await take()
    assert to == ["ann@example.org"] and reply["To"] == "ann@example.org"
    assert envelope == "team-bounces@example.org"
    assert reply["From"].addresses[0].addr_spec == REQUEST
    assert reply["In-Reply-To"] == "<ask-7@example.org>" and reply["References"] == "<ask-7@example.org>"
    assert reply["Auto-Submitted"] == "auto-replied" and reply["X-BeenThere"] == REQUEST
    assert reply["Subject"] == f"The results of your commands to {REQUEST}"


async def test_each_command_is_quoted_then_answered_in_order(store, team, submit, take):
    """The reply quotes each command line and puts its answer under it, in the order given."""
    await submit(command_mail(subject="Re: [team] info", body="set delivery digest\nwho"))
    text = text_of((await take())[0][0])
    assert text.index("> info") < text.index("> set delivery digest") < text.index("> who")
    assert text.index("> set delivery digest") < text.index("Your delivery is now digest.") < text.index("> who")


async def test_unknown_command_is_named_with_a_pointer_to_help(store, team, submit, take):
    """The first line that is not a command is quoted, reading stops there, and `help` is pointed to."""
    await submit(command_mail(body="info\nPlease add my colleague\nset delivery nomail"))
    text = text_of((await take())[0][0])
    assert "> Please add my colleague\nThis is not a command, so reading stopped here." in text
    assert f'Send "help" to {REQUEST}' in text and "nomail" not in text


async def test_more_than_ten_commands_are_cut_with_a_note(store, team, submit, take):
    """Eleven commands: ten run, the reply says only the first ten were carried out."""
    body = "\n".join(["info"] + [f"get {n}" for n in range(1, 11)])
    await submit(command_mail(body=body))
    text = text_of((await take())[0][0])
    assert text.count("\n> ") == 10 and "> get 10" not in text
    assert "Only the first 10 commands were carried out" in text


async def test_member_without_commands_is_pointed_to_help(store, team, submit, take):
    """A member's message without commands gets a short reply that points to help."""
    await submit(command_mail(subject="hello", body=""))
    text = text_of((await take())[0][0])
    assert "No commands were found in your message." in text and 'Send "help"' in text


async def test_stranger_without_commands_gets_nothing(store, team, submit, take):
    """A stranger's message without commands (spam to -request) gets no reply."""
    await submit(command_mail(sender="spam@example.net", subject="Great offer", body="Buy now"),
                 mail_from="spam@example.net")
    assert await take() == []


async def test_redo_after_a_crash_runs_commands_once(store, settings, team, submit, take):
    """Processing the same inbound row again (a redo) neither runs the commands again nor replies twice."""
    await submit(command_mail(body="set delivery digest"))
    row = await inbound.get(store.db, 1)
    assert await process(store, settings, row) == {REQUEST: "processed"}
    assert len(await take()) == 1
