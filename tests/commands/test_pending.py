"""Subscriptions waiting for a moderator: members pending / approve / deny, in the package and on the CLI."""

from __future__ import annotations

import json

import pytest

from listserv import lists, membership
from listserv.errors import BadAddress, NoSuchList, NoSuchRequest
from listserv.store import audit

from tests.commands.conftest import TEAM, command_mail, text_of, token_of

CAROL = "carol@example.com"


async def _applied(submit, take, sender=f"Carol Diaz <{CAROL}>") -> None:
    """Carol asks to join and confirms; the moderators' notice and her reply are taken away."""
    await submit(command_mail(sender=sender, subject="subscribe"), mail_from=CAROL)
    token = token_of((await take())[0][0])
    await submit(command_mail(sender=CAROL, subject=f"confirm {token}"), mail_from=CAROL)
    await take()


async def test_pending_lists_confirmed_applicants(store, team, submit, take):
    """pending: address, name and both times of each confirmed request, oldest first."""
    assert await membership.pending(store, TEAM) == []
    await _applied(submit, take)
    [row] = await membership.pending(store, TEAM)
    assert row["address"] == CAROL and row["name"] == "Carol Diaz"
    assert row["requested_at"] <= row["confirmed_at"]


async def test_approve_makes_a_member_and_welcomes_them(store, settings, team, submit, take):
    """approve: Carol becomes a regular member, is welcomed by mail, leaves the queue; audited under the moderator."""
    await _applied(submit, take)
    member = await membership.approve(store, settings, TEAM, "Carol@Example.com", by="mod@example.org")
    assert (member.address, member.name, member.role) == (CAROL, "Carol Diaz", "member")
    [(welcome, to, _)] = await take()
    assert to == [CAROL] and "You are now a member of the mailing list team@example.org" in text_of(welcome)
    assert await membership.pending(store, TEAM) == []
    entry = (await audit.entries(store.db, team.id))[0]
    assert (entry["actor"], entry["action"]) == ("mod@example.org", "approve-member")
    assert entry["object"] == f"member:{CAROL}"


async def test_deny_tells_the_applicant_why_and_adds_nobody(store, settings, team, submit, take):
    """deny --reason: Carol is told the reason by mail, is not a member, and may ask again later."""
    await _applied(submit, take)
    await membership.deny(store, settings, TEAM, CAROL, by="mod", reason="Members must belong\nto the association.")
    [(notice, to, _)] = await take()
    assert to == [CAROL] and "Members must belong to the association." in text_of(notice)
    assert await membership.find(store, TEAM, CAROL) is None and await membership.pending(store, TEAM) == []
    await _applied(submit, take)
    assert [row["address"] for row in await membership.pending(store, TEAM)] == [CAROL]


async def test_deciding_twice_or_without_a_request_is_refused(store, settings, team, submit, take):
    """A second decision, or one for an address with no request, raises NoSuchRequest and sends nothing."""
    await _applied(submit, take)
    await membership.approve(store, settings, TEAM, CAROL, by="mod")
    await take()
    with pytest.raises(NoSuchRequest, match=f"no subscription request from {CAROL} waits on {TEAM}"):
        await membership.deny(store, settings, TEAM, CAROL, by="mod")
    with pytest.raises(NoSuchRequest):
        await membership.approve(store, settings, TEAM, "dave@example.com", by="mod")
    with pytest.raises(BadAddress):
        await membership.approve(store, settings, TEAM, "not an address", by="mod")
    with pytest.raises(NoSuchList):
        await membership.pending(store, "nope@example.org")
    assert await take() == []


async def test_cli_pending_approve_deny(store, team, submit, take, cli):
    """The CLI: pending as a table and as JSON (ISO times), approve and deny with one line each."""
    await _applied(submit, take)
    await _applied(submit, take, sender="dave@example.com")
    result = await cli("members", "pending", TEAM, "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["address"] for row in rows] == [CAROL, "dave@example.com"]
    assert set(rows[0]) == {"address", "name", "requested_at", "confirmed_at"} and rows[0]["confirmed_at"].endswith("Z")
    table = await cli("members", "pending", TEAM)
    assert table.output.splitlines()[0].split() == ["ADDRESS", "NAME", "REQUESTED", "CONFIRMED"]
    result = await cli("members", "approve", TEAM, CAROL, "--by", "mod@example.org")
    assert (result.exit_code, result.output) == (0, f"approved {CAROL} on {TEAM}\n")
    result = await cli("members", "deny", TEAM, "dave@example.com", "--reason", "not a member of the association")
    assert (result.exit_code, result.output) == (0, f"denied dave@example.com on {TEAM}\n")
    assert (await cli("members", "pending", TEAM)).output == "no requests waiting\n"
    sent = {tuple(rcpts): text_of(msg) for msg, rcpts, _ in await take()}
    assert "You are now a member" in sent[(CAROL,)] and "not a member of the association" in sent[("dave@example.com",)]


@pytest.mark.parametrize("args, code, words", [
    (("members", "approve", TEAM, CAROL), 1, f"no subscription request from {CAROL} waits on {TEAM}"),
    (("members", "deny", TEAM, "not-an-address"), 2, "bad address 'not-an-address'"),
    (("members", "pending", "nope@example.org"), 1, "no such list: nope@example.org"),
    (("members", "approve", TEAM), 2, "Missing argument 'ADDRESS'"),
    (("members", "approve", TEAM, CAROL, "--by", " "), 2, "--by: expected a printable name"),
])
async def test_cli_errors_are_one_line_with_the_exit_code(team, cli, args, code, words):
    """Refusals exit 1, bad usage exits 2; each prints one `listserv: error:` line naming the problem."""
    result = await cli(*args)
    assert result.exit_code == code
    [line] = result.stderr.splitlines()
    assert line.startswith("listserv: error: ") and words in line
    assert result.stdout == ""


async def test_cli_approve_of_an_address_that_became_a_list_exit_1(store, team, submit, take, cli):
    """An applicant whose address has since become a list is not approved: exit 1, one line; still waiting."""
    await _applied(submit, take)
    await lists.create(store, CAROL)
    result = await cli("members", "approve", TEAM, CAROL)
    assert result.exit_code == 1 and result.stdout == ""
    refusal = f"{CAROL} is an address of the list {CAROL} and cannot be a member of a list"
    assert result.stderr == f"listserv: error: {refusal}\n"
    assert await membership.find(store, TEAM, CAROL) is None
    assert [row["address"] for row in await membership.pending(store, TEAM)] == [CAROL]
