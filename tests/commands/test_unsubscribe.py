"""unsubscribe by email on a real store: confirmed by the member concerned only, then they are removed."""

from __future__ import annotations

from listserv import membership

from tests.commands.conftest import TEAM, command_mail, text_of, token_of

BOB = "bob@example.org"


async def test_member_unsubscribes_after_confirming(store, team, submit, take):
    """unsubscribe -> a confirmation to the member (the reply says so) -> confirm -> removed, told in the reply."""
    await submit(command_mail(sender=BOB, subject="unsubscribe"), mail_from=BOB)
    [(confirmation, rcpts, _), (reply, to, _)] = await take()
    assert rcpts == [BOB] == to
    assert "unsubscribe bob@example.org from" in text_of(confirmation)
    assert "mailed to you" in text_of(reply)
    assert await membership.find(store, TEAM, BOB) is not None  # nothing changes before the confirmation
    token = token_of(confirmation)
    await submit(command_mail(sender=BOB, subject=f"Re: confirm {token}"), mail_from=BOB)
    [(reply, to, _)] = await take()
    assert to == [BOB] and "is no longer a member" in text_of(reply)
    assert await membership.find(store, TEAM, BOB) is None


async def test_forged_unsubscribe_of_a_member_mails_only_the_member(store, team, submit, take):
    """A stranger asking to unsubscribe a member: only the member is asked; the stranger hears nothing."""
    await submit(command_mail(sender="mallory@example.net", body=f"unsubscribe {BOB}"), mail_from="mallory@example.net")
    [(confirmation, rcpts, _)] = await take()
    assert rcpts == [BOB] and token_of(confirmation)


async def test_unsubscribe_of_a_non_member_by_a_stranger_mails_nobody(store, team, submit, take):
    """Nobody learns whether an address is a member: for a non-member nothing is sent at all."""
    await submit(command_mail(sender="mallory@example.net", body="unsubscribe carol@example.com"),
                 mail_from="mallory@example.net")
    await submit(command_mail(sender="carol@example.com", subject="unsubscribe"), mail_from="carol@example.com")
    assert await take() == []


async def test_member_unsubscribing_another_address_gets_the_uniform_answer(store, team, submit, take):
    """A member naming another address gets the same words for a member and a stranger address."""
    await submit(command_mail(body=f"unsubscribe {BOB}\nunsubscribe carol@example.com"))
    sent = await take()
    reply = text_of(sent[-1][0])
    assert [rcpts for _, rcpts, _ in sent] == [[BOB], ["ann@example.org"]]
    assert f"If {BOB} can be unsubscribed" in reply and "If carol@example.com can be unsubscribed" in reply


async def test_confirming_an_unsubscribe_from_another_address_tells_the_member(store, team, submit, take):
    """The member concerned gets a goodbye notice when the confirmation came from elsewhere."""
    await submit(command_mail(sender=BOB, subject="unsubscribe"), mail_from=BOB)
    token = token_of((await take())[0][0])
    confirm_at = f"team-confirm+{token}@example.org"
    await submit(command_mail(sender="bob.home@example.net", to=confirm_at), rcpts=(confirm_at,),
                 mail_from="bob.home@example.net")
    sent = {tuple(rcpts): msg for msg, rcpts, _ in await take()}
    assert "no longer a member" in text_of(sent[(BOB,)])
    assert "is no longer a member" in text_of(sent[("bob.home@example.net",)])


async def test_confirming_after_the_member_left_anyway(store, team, submit, take):
    """An unsubscribe confirmed after an administrator removed the member says there is nothing to do."""
    await submit(command_mail(sender=BOB, subject="unsubscribe"), mail_from=BOB)
    token = token_of((await take())[0][0])
    await membership.remove(store, TEAM, BOB)
    await submit(command_mail(sender=BOB, subject=f"confirm {token}"), mail_from=BOB)
    [(reply, _, _)] = await take()
    assert "not a member of team@example.org any more" in text_of(reply)


async def test_no_usable_from_means_no_reply_but_the_confirmation_still_works(store, team, submit, take):
    """A confirm by NAME-confirm+TOKEN@ with an unusable From: still confirms; the outcome goes to the address."""
    await submit(command_mail(sender=BOB, subject="unsubscribe"), mail_from=BOB)
    token = token_of((await take())[0][0])
    confirm_at = f"team-confirm+{token}@example.org"
    outcome = await submit(command_mail(sender="not an address", to=confirm_at), rcpts=(confirm_at,),
                           mail_from="bob@example.org")
    assert outcome == {confirm_at: "processed"}
    [(goodbye, rcpts, _)] = await take()
    assert rcpts == [BOB] and await membership.find(store, TEAM, BOB) is None
