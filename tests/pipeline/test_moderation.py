"""Moderation on a real store: waiting, show, approve, reject (with notices), discard, and their refusals."""

import email
from email import policy

import pytest

from listserv import lists, moderation
from listserv.errors import AlreadyDecided, NoSuchHeld, NoSuchList, Refused
from listserv.store import audit, held, members, messages, outbound

from .conftest import TEAM, compose

STRANGER = "x@elsewhere.example"


async def _queued(store) -> list[tuple[bytes, list[str]]]:
    """(content, recipients) of every queued batch (exclude=[-1]: see test_process._queued)."""
    return [
        (await outbound.content(store.db, b["outbound_message_id"]), b["recipients"])
        for b in await outbound.due(store.db, now=1e12, exclude=[-1])
    ]


@pytest.fixture
async def stranger_post(store, team, submit):
    """A non-member's post held for a moderator; its held id."""
    await submit(compose(sender=f"Xavier <{STRANGER}>", subject="Question for the list"), mail_from=STRANGER)
    return (await held.waiting(store.db))[0]["id"]


async def test_waiting_lists_held_posts(store, team, stranger_post):
    """waiting() gives the documented fields, for all lists or one; an unknown list is NoSuchList."""
    [row] = await moderation.waiting(store)
    assert row["id"] == stranger_post and row["list"] == TEAM and row["sender"] == STRANGER
    assert row["subject"] == "Question for the list" and row["reasons"][0]["rule"] == "nonmember"
    assert isinstance(row["received_at"], float) and row["confidential"] is False
    assert await moderation.waiting(store, TEAM) == [row]
    other = await lists.create(store, "other@example.org")
    assert await moderation.waiting(store, other.address) == []
    with pytest.raises(NoSuchList):
        await moderation.waiting(store, "nope@example.org")


async def test_show_gives_headers_text_and_decision(store, stranger_post):
    """show() adds headers, readable text and the (empty) decision; an unknown id is NoSuchHeld."""
    found = await moderation.show(store, stranger_post)
    assert ["Subject", "Question for the list"] in found["headers"]
    assert found["text"].startswith("Does anyone know") and found["decision"] is None
    with pytest.raises(NoSuchHeld, match="999"):
        await moderation.show(store, 999)


async def test_approve_sends_as_if_accepted_and_records_who(store, settings, team, stranger_post):
    """Approval archives, queues the decorated post for the members, and records decision and audit."""
    await moderation.approve(store, settings, stranger_post, by="mod@example.org")
    [row] = await messages.for_list(store.db, team.id)
    assert row["sender"] == STRANGER and row["subject"] == "Question for the list"
    [(content, rcpts)] = await _queued(store)
    sent = email.message_from_bytes(content, policy=policy.default)
    assert sent["List-Id"] and sent["Subject"] == "[team] Question for the list"
    assert sorted(rcpts) == ["ann@example.org", "bob@example.org", "mod@example.org", "olga@example.org"]
    decided = await moderation.show(store, stranger_post)
    assert (decided["decision"], decided["decided_by"]) == ("approved", "mod@example.org") and decided["decided_at"]
    entry = (await audit.entries(store.db, team.id))[0]
    assert (entry["actor"], entry["action"], entry["object"]) == ("mod@example.org", "approve", f"held:{stranger_post}")
    assert await moderation.waiting(store) == []


async def test_decided_and_unknown_posts_are_refused(store, settings, stranger_post):
    """A second decision is AlreadyDecided; an unknown id is NoSuchHeld for every operation."""
    await moderation.discard(store, stranger_post, by="mod")
    with pytest.raises(AlreadyDecided):
        await moderation.approve(store, settings, stranger_post, by="mod")
    with pytest.raises(AlreadyDecided):
        await moderation.reject(store, settings, stranger_post, by="mod")
    with pytest.raises(AlreadyDecided):
        await moderation.discard(store, stranger_post, by="mod")
    for call in (moderation.approve(store, settings, 999, "m"), moderation.reject(store, settings, 999, "m"),
                 moderation.discard(store, 999, "m")):
        with pytest.raises(NoSuchHeld):
            await call


async def test_approving_an_archived_message_id_sends_nothing_twice(store, settings, team, submit):
    """A held copy of a post that is archived meanwhile is marked approved but not sent again."""
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    await submit(compose())
    held_id = (await held.waiting(store.db))[0]["id"]
    await store.write(members.update, team.id, "ann@example.org", "moderated", 0)
    await submit(compose(subject="resent"))
    await moderation.approve(store, settings, held_id, by="mod")
    assert await messages.count(store.db, team.id) == 1 and len(await _queued(store)) == 1
    assert "not sent again" in (await audit.entries(store.db, team.id))[0]["detail"]


async def test_approve_refuses_request_mail_and_forwards_owner_mail(store, settings, team, submit):
    """-request mail cannot be approved; held -owner mail is forwarded once an owner exists."""
    # -request mail is held only when it cannot be parsed; such a row, as the pipeline writes it:
    await store.write(held.hold, team.id, {
        "role": "request", "sender": "ann@example.org", "mail_from": "ann@example.org", "subject": "help",
        "reasons": [{"rule": "unparseable", "text": "kept"}], "raw": compose(message_id="r@x"), "received_at": 1.0,
    })
    await store.write(members.remove, team.id, "olga@example.org")
    await store.write(members.remove, team.id, "mod@example.org")
    await submit(compose(message_id="o@x"), rcpts=("team-owner@example.org",))
    request_id, owner_id = [row["id"] for row in await held.waiting(store.db)]
    with pytest.raises(Refused, match="-request"):
        await moderation.approve(store, settings, request_id, by="mod")
    with pytest.raises(Refused, match="no owner"):
        await moderation.approve(store, settings, owner_id, by="mod")
    await store.write(members.add, team.id, {"address": "new-owner@example.org", "role": "owner"})
    await moderation.approve(store, settings, owner_id, by="mod")
    [(_, rcpts)] = await _queued(store)
    assert rcpts == ["new-owner@example.org"] and await messages.count(store.db, team.id) == 0


async def test_reject_tells_a_member_why(store, settings, team, submit):
    """Rejecting a member's held post queues a notice to them with the moderator's reason."""
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    await submit(compose())
    held_id = (await held.waiting(store.db))[0]["id"]
    await moderation.reject(store, settings, held_id, by="mod", reason="Please move this to the jobs list.")
    [(content, rcpts)] = await _queued(store)
    notice = email.message_from_bytes(content, policy=policy.default)
    assert rcpts == ["ann@example.org"] and "Please move this to the jobs list." in notice.get_content()
    assert "Mitigation expert in Ohio?" in notice.get_content()
    assert (await moderation.show(store, held_id))["decision_reason"] == "Please move this to the jobs list."


async def test_reject_tells_a_stranger_only_when_asked(store, settings, team, submit, stranger_post):
    """A non-member hears nothing unless notify=True; a null-sender post never gets a notice."""
    await moderation.reject(store, settings, stranger_post, by="mod")
    assert await _queued(store) == []
    await submit(compose(sender=STRANGER, message_id="s2@x"), mail_from=STRANGER)
    await submit(compose(sender=STRANGER, message_id="s3@x"), mail_from="")
    second, third = [row["id"] for row in await held.waiting(store.db)]
    await moderation.reject(store, settings, second, by="mod", notify=True)
    await moderation.reject(store, settings, third, by="mod", notify=True)
    [(_, rcpts)] = await _queued(store)
    assert rcpts == [STRANGER]


async def test_reject_notice_of_a_confidential_post_leaves_out_the_subject(store, settings, team, submit):
    """A confidential post's rejection notice names no subject and quotes nothing."""
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    await submit(compose(subject="Client J.D. competency eval"), rcpts=("team+confidential@example.org",))
    [row] = await held.waiting(store.db)
    assert row["confidential"] is True
    await moderation.reject(store, settings, row["id"], by="mod")
    [(content, _)] = await _queued(store)
    assert b"J.D." not in content and b"competency" not in content and b"Does anyone" not in content


async def test_discard_records_and_sends_nothing(store, team, stranger_post):
    """Discard records the decision and an audit row and queues nothing."""
    await moderation.discard(store, stranger_post, by="mod")
    assert (await moderation.show(store, stranger_post))["decision"] == "discarded"
    assert await _queued(store) == [] and (await audit.entries(store.db, team.id))[0]["action"] == "discard"


async def test_8bit_headers_are_held_and_shown_as_text(store, team, submit):
    """A stranger's post with raw Latin-1 header bytes is held, and show() gives clean text for terminals and JSON."""
    raw = b"From: Ren\xe9e <renee@elsewhere.example>\nSubject: r\xe9sum\xe9 \xff\nMessage-ID: <l1@x>\n\nbody\n"
    _, outcome = await submit(raw, mail_from="renee@elsewhere.example")
    assert outcome == {TEAM: "held"}
    [row] = await moderation.waiting(store)
    found = await moderation.show(store, row["id"])
    assert row["subject"] == "résumé ÿ" and ["From", "Renée <renee@elsewhere.example>"] in found["headers"]
    assert str(found).encode("utf-8")
