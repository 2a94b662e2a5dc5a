"""subscribe by email on a real store: a confirmation only to the address concerned; confirming joins or queues."""

from __future__ import annotations

import time

import pytest

from listserv import lists, membership
from listserv.store import audit

from tests.commands.conftest import REQUEST, TEAM, command_mail, text_of, token_of

CAROL = "carol@example.com"


async def _subscribe(submit, take, sender=CAROL, line="subscribe"):
    """Send one subscribe command and return everything it queued."""
    outcome = await submit(command_mail(sender=sender, subject=line), mail_from=sender)
    assert outcome == {REQUEST: "processed"}
    return await take()


async def test_non_member_subscribe_mails_only_the_confirmation_to_that_address(store, team, submit, take):
    """A stranger's "subscribe": one confirmation to them, no reply besides it, nobody joins yet."""
    [(confirmation, rcpts, envelope)] = await _subscribe(submit, take)
    assert rcpts == [CAROL] and envelope == "team-bounces@example.org"
    token = token_of(confirmation)
    assert confirmation["From"].addresses[0].addr_spec == REQUEST
    assert confirmation["Reply-To"] == f"team-confirm+{token}@example.org"
    assert confirmation["Auto-Submitted"] == "auto-replied"
    body = text_of(confirmation)
    assert f"confirm {token}" in body and "expires on" in body and "moderator" in body
    assert await membership.find(store, TEAM, CAROL) is None


@pytest.mark.parametrize("way", ["reply", "confirm-address", "command"])
async def test_each_way_of_confirming_queues_the_applicant_for_a_moderator(store, team, submit, take, way):
    """Reply with the subject, mail NAME-confirm+TOKEN@, or a `confirm TOKEN` line: each makes a pending request."""
    token = token_of((await _subscribe(submit, take))[0][0])
    if way == "reply":
        raw, rcpts = command_mail(sender=CAROL, subject=f"Re: confirm {token}", body="> quoted text\n"), (REQUEST,)
    elif way == "confirm-address":
        confirm_at = f"team-confirm+{token}@example.org"
        raw, rcpts = command_mail(sender=CAROL, subject="anything", body="yes please", to=confirm_at), (confirm_at,)
    else:
        raw, rcpts = command_mail(sender=CAROL, subject="Hello", body=f"confirm {token}\n"), (REQUEST,)
    assert await submit(raw, rcpts=rcpts, mail_from=CAROL) == {rcpts[0]: "processed"}
    [(notice, managers, _), (reply, to, _)] = await take()
    assert sorted(managers) == ["mod@example.org", "olga@example.org"]
    assert f"listserv members approve {TEAM} {CAROL}" in text_of(notice)
    assert to == [CAROL] and "waits for a moderator" in text_of(reply)
    assert [row["address"] for row in await membership.pending(store, TEAM)] == [CAROL]
    assert await membership.find(store, TEAM, CAROL) is None


async def test_policy_confirm_joins_at_once_with_a_welcome(store, team, submit, take):
    """With subscription_policy confirm, confirming makes a member (display name kept) and welcomes them."""
    await lists.set_setting(store, TEAM, "subscription_policy", "confirm")
    token = token_of((await _subscribe(submit, take, sender=f"Carol Diaz <{CAROL}>"))[0][0])
    await submit(command_mail(sender=CAROL, subject=f"confirm {token}"), mail_from=CAROL)
    [(welcome, to, _), (reply, _, _)] = await take()
    assert to == [CAROL] and "You are now a member" in text_of(welcome)
    assert "is now a member" in text_of(reply)
    member = await membership.get(store, TEAM, CAROL)
    assert (member.name, member.role, member.delivery, member.confidential) == (
        "Carol Diaz", "member", "regular", True)
    assert (await audit.entries(store.db, team.id))[0]["action"] == "subscribe"


async def test_closed_list_refuses_subscribe_by_email(store, team, submit, take):
    """subscription_policy closed: no token; the stranger is told to write to the owners."""
    await lists.set_setting(store, TEAM, "subscription_policy", "closed")
    [(reply, to, _)] = await _subscribe(submit, take)
    assert to == [CAROL] and "does not take subscriptions by email" in text_of(reply)
    assert "team-owner@example.org" in text_of(reply)


async def test_forged_subscribe_for_someone_else_mails_only_that_person(store, team, submit, take):
    """A stranger subscribing someone else: the confirmation goes to that person only; the requester gets nothing."""
    [(confirmation, rcpts, _)] = await _subscribe(submit, take, sender="mallory@example.net", line=f"subscribe {CAROL}")
    assert rcpts == [CAROL]
    assert "mallory" not in confirmation.as_string()


async def test_member_subscribing_someone_else_gets_an_answer_that_reveals_nothing(store, team, submit, take):
    """A member asking for another address: the same words whether it is a member or not, and never the token."""
    [(confirmation, rcpts, _), (reply, to, _)] = await _subscribe(submit, take, "ann@example.org", f"subscribe {CAROL}")
    assert rcpts == [CAROL] and to == ["ann@example.org"]
    assert token_of(confirmation) not in reply.as_string()
    [(reply_for_member, _, _)] = await _subscribe(submit, take, "ann@example.org", "subscribe bob@example.org")
    uniform = "a confirmation request was mailed to that address"
    assert uniform in text_of(reply) and uniform in text_of(reply_for_member)


async def test_already_a_member_and_already_waiting(store, team, submit, take):
    """A member's own subscribe says so; an applicant who already waits is not sent another token."""
    [(reply, _, _)] = await _subscribe(submit, take, sender="ann@example.org")
    assert "already a member" in text_of(reply)
    token = token_of((await _subscribe(submit, take))[0][0])
    await submit(command_mail(sender=CAROL, subject=f"confirm {token}"), mail_from=CAROL)
    await take()
    assert await _subscribe(submit, take) == []  # the stranger is not answered, and nothing is sent


async def test_a_second_subscribe_within_the_hour_sends_no_second_token(store, team, submit, take):
    """Subscribe twice quickly: one confirmation only (no mail-bombing); a member is told when it went out."""
    assert len(await _subscribe(submit, take)) == 1
    assert await _subscribe(submit, take) == []
    await _subscribe(submit, take, "ann@example.org", "subscribe dave@example.com")
    [(reply, to, _)] = await _subscribe(submit, take, "ann@example.org", "subscribe dave@example.com")
    assert to == ["ann@example.org"] and "If dave@example.com can be subscribed" in text_of(reply)


async def test_bad_address_is_explained_to_the_requester(store, team, submit, take):
    """subscribe with an unusable address gets the validator's one-line reason, even for a stranger."""
    [(reply, to, _)] = await _subscribe(submit, take, line="subscribe not-an-address")
    assert to == [CAROL] and "bad address 'not-an-address'" in text_of(reply)


async def test_confirmation_outcome_goes_to_the_address_when_someone_else_confirms(store, team, submit, take):
    """Confirming from another address: the address concerned gets its own notice; the confirmer the reply."""
    token = token_of((await _subscribe(submit, take))[0][0])
    home = "carol.home@example.net"
    await submit(command_mail(sender=home, body=f"confirm {token}"), mail_from=home)
    sent = {tuple(rcpts): msg for msg, rcpts, _ in await take()}
    assert "waits for a moderator" in text_of(sent[(CAROL,)])
    assert "waits for a moderator" in text_of(sent[("carol.home@example.net",)])


@pytest.mark.parametrize("address, owner", [
    (TEAM, TEAM), (REQUEST, TEAM), ("team-owner@example.org", TEAM), ("Team+Confidential@example.org", TEAM),
    ("team-bounces+ann=example.com@example.org", TEAM), ("team-confirm+abc123@example.org", TEAM),
    ("other@lists.example.net", "other@lists.example.net"),
    ("other-request@lists.example.net", "other@lists.example.net"),
])
async def test_list_addresses_cannot_be_subscribed(store, team, submit, take, address, owner):
    """subscribe of any address of any list on the server: refused in the reply, no confirmation mailed (no loop)."""
    await lists.create(store, "other@lists.example.net")
    [(reply, to, _)] = await _subscribe(submit, take, line=f"subscribe {address}")
    assert to == [CAROL] and f"is an address of the list {owner} and cannot be subscribed" in text_of(reply)


async def test_two_tokens_confirmed_queue_one_request(store, team, submit, take):
    """Two confirmations an hour apart, both confirmed: one request waits; the second confirm says so."""
    start = time.time()
    tokens = []
    for offset in (0, 3700):
        await submit(command_mail(sender=CAROL, subject="subscribe"), mail_from=CAROL, received_at=start + offset)
        tokens.append(token_of((await take())[0][0]))
    for token in tokens:
        await submit(command_mail(sender=CAROL, subject=f"confirm {token}"), mail_from=CAROL, received_at=start + 4000)
    sent = [text_of(msg) for msg, rcpts, _ in await take() if rcpts == [CAROL]]
    assert "now waits for a moderator" in sent[0] and "already waits for a moderator" in sent[1]
    assert len(await membership.pending(store, TEAM)) == 1


@pytest.mark.parametrize("policy", ["confirm", "moderate"])
async def test_confirming_an_address_that_became_a_list_joins_nobody(store, team, submit, take, policy):
    """A token issued before its address became a list is refused at confirm: no member, no waiting request."""
    await lists.set_setting(store, TEAM, "subscription_policy", policy)
    address = "cases@example.org"
    [(confirmation, rcpts, _)] = await _subscribe(submit, take, line=f"subscribe {address}")
    assert rcpts == [address]
    await lists.create(store, address)
    raw = command_mail(sender=CAROL, subject="Hello", body=f"confirm {token_of(confirmation)}\n")
    assert await submit(raw, mail_from=CAROL) == {REQUEST: "processed"}
    [(reply, to, _)] = await take()
    assert to == [CAROL] and f"{address} is an address of the list {address}" in text_of(reply)
    assert await membership.find(store, TEAM, address) is None and await membership.pending(store, TEAM) == []
