"""process() end to end on a real SQLite store: decisions, effects, one transaction, idempotent redo."""

import email
import json
import sqlite3
from dataclasses import replace
from email import policy

import pytest

from listserv import lists, pipeline
from listserv.errors import StoreError
from listserv.pipeline import to_outbound
from listserv.store import audit, held, inbound, members, messages, outbound

from .conftest import TEAM, compose


async def _queued(store) -> list[tuple[bytes, list[str], str]]:
    """Every queued outbound message: (content, all recipients, envelope sender).

    exclude=[-1] keeps this independent of how due() renders an empty exclusion
    (it once rendered `NOT IN (NULL)`, which matches no row).
    """
    result = {}
    for batch in await outbound.due(store.db, now=1e12, exclude=[-1], limit=1000):
        content = await outbound.content(store.db, batch["outbound_message_id"])
        entry = result.setdefault(batch["outbound_message_id"], (content, [], batch["mail_from"]))
        entry[1].extend(batch["recipients"])
    return list(result.values())


async def test_member_post_is_archived_once_and_queued_for_every_member(store, settings, team, submit):
    """A member's post: accepted, one archive row of the raw bytes, one outbound message for all regular members."""
    raw = compose(subject="Re: [team] expert witness")
    item, outcome = await submit(raw)
    assert outcome == {TEAM: "accepted"}
    [row] = await messages.for_list(store.db, team.id)
    assert row["subject"] == "Re: expert witness" and row["sender"] == "ann@example.org"
    assert row["inbound_id"] == item["id"] and await messages.raw(store.db, row["id"]) == raw
    [(content, rcpts, mail_from)] = await _queued(store)
    assert sorted(rcpts) == ["ann@example.org", "bob@example.org", "mod@example.org", "olga@example.org"]
    assert mail_from == "team-bounces@example.org" and b"List-Id:" in content
    assert (await inbound.get(store.db, item["id"]))["processed_at"] is not None


async def test_recipients_are_batched_by_max_recipients(store, settings, team, submit):
    """The outbound queue holds batches of at most delivery.max_recipients addresses."""
    small = replace(settings, delivery=replace(settings.delivery, max_recipients=3))
    inbound_id = await store.write(inbound.enqueue, "ann@example.org", [TEAM], compose())
    [item] = await inbound.pending(store.db)
    await pipeline.process(store, small, item)
    batches = await outbound.due(store.db, now=1e12, exclude=[-1])
    assert [len(b["recipients"]) for b in batches] == [3, 1] and inbound_id == item["id"]


async def test_nonmember_post_is_held_with_the_reason(store, team, submit):
    """A stranger's post is held (the default nonmember_action) with the nonmember reason; nothing sent."""
    _, outcome = await submit(compose(sender="x@elsewhere.example"), mail_from="x@elsewhere.example")
    assert outcome == {TEAM: "held"}
    [row] = await held.waiting(store.db)
    assert row["reasons"] == [{"rule": "nonmember", "text": "x@elsewhere.example is not a member of team@example.org"}]
    assert row["sender"] == "x@elsewhere.example" and row["role"] == "post"
    assert await _queued(store) == [] and await messages.count(store.db, team.id) == 0


async def test_nonmember_reject_sends_no_backscatter_by_default(store, team, submit):
    """nonmember_action reject: rejected, and a stranger gets no notice unless the list asks for it."""
    await lists.set_setting(store, TEAM, "nonmember_action", "reject")
    _, outcome = await submit(compose(sender="x@elsewhere.example"), mail_from="x@elsewhere.example")
    assert outcome == {TEAM: "rejected"} and await _queued(store) == []
    assert (await audit.entries(store.db, team.id))[0]["action"] == "reject"


async def test_nonmember_reject_notifies_when_the_list_says_so(store, team, submit):
    """With notify_rejected_nonmembers the stranger gets one notice, from -owner, via -bounces; robots never."""
    await lists.set_setting(store, TEAM, "nonmember_action", "reject")
    await lists.set_setting(store, TEAM, "notify_rejected_nonmembers", "on")
    await submit(compose(sender="x@elsewhere.example", message_id="n1@x"), mail_from="x@elsewhere.example")
    await submit(compose(sender="x@elsewhere.example", message_id="n2@x"), mail_from="")
    [(content, rcpts, mail_from)] = await _queued(store)
    notice = email.message_from_bytes(content, policy=policy.default)
    assert rcpts == ["x@elsewhere.example"] and mail_from == "team-bounces@example.org"
    assert notice["From"].addresses[0].addr_spec == "team-owner@example.org"
    assert notice["Auto-Submitted"] == "auto-replied" and notice["In-Reply-To"] == "<n1@x>"
    assert "not a member" in notice.get_content()


@pytest.mark.parametrize("action, outcome", [("discard", "discarded"), ("accept", "accepted")])
async def test_nonmember_discard_and_accept(store, team, submit, action, outcome):
    """nonmember_action discard drops the stranger's post quietly; accept distributes it."""
    await lists.set_setting(store, TEAM, "nonmember_action", action)
    _, result = await submit(compose(sender="x@elsewhere.example"), mail_from="x@elsewhere.example")
    assert result == {TEAM: outcome}
    assert len(await _queued(store)) == (1 if action == "accept" else 0)
    assert await held.waiting(store.db) == []


async def test_moderated_member_is_held(store, team, submit):
    """A member with the moderated flag has the post held with that reason."""
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    _, outcome = await submit(compose())
    assert outcome == {TEAM: "held"}
    assert [r["rule"] for r in (await held.waiting(store.db))[0]["reasons"]] == ["moderated"]


async def test_emergency_moderation_holds_with_every_reason(store, team, submit):
    """Emergency moderation holds a member's post; a moderated member's post shows both reasons at once."""
    await lists.set_setting(store, TEAM, "emergency_moderation", "on")
    await store.write(members.update, team.id, "bob@example.org", "moderated", 1)
    await submit(compose(message_id="e1@x"))
    await submit(compose(sender="bob@example.org", message_id="e2@x"), mail_from="bob@example.org")
    rules = [[r["rule"] for r in row["reasons"]] for row in await held.waiting(store.db)]
    assert rules == [["emergency"], ["emergency", "moderated"]]


async def test_loop_is_discarded(store, team, submit):
    """Our own List-Id coming back is discarded: not held, not sent."""
    _, outcome = await submit(compose(headers=(("List-Id", "<team.example.org>"),)))
    assert outcome == {TEAM: "discarded"} and await _queued(store) == [] and await held.waiting(store.db) == []


async def test_duplicate_is_discarded(store, team, submit):
    """The same Message-ID posted again is discarded; the archive and the queue keep the first only."""
    await submit(compose())
    _, outcome = await submit(compose(subject="resent"))
    assert outcome == {TEAM: "discarded"}
    assert await messages.count(store.db, team.id) == 1 and len(await _queued(store)) == 1


async def test_nomail_digest_and_receive_own_are_excluded(store, team, submit):
    """nomail and digest members get no copy; the sender with receive_own off gets none either."""
    await store.write(members.add, team.id, {"address": "nomail@example.org", "delivery": "nomail"})
    await store.write(members.add, team.id, {"address": "digest@example.org", "delivery": "digest"})
    await store.write(members.update, team.id, "ann@example.org", "receive_own", 0)
    await submit(compose())
    [(_, rcpts, _)] = await _queued(store)
    assert sorted(rcpts) == ["bob@example.org", "mod@example.org", "olga@example.org"]


async def test_confidential_address_reaches_only_entitled_members_once(store, team, submit):
    """NAME@ and NAME+confidential@ together are one confidential post, for entitled members only."""
    await store.write(members.update, team.id, "bob@example.org", "confidential", 0)
    _, outcome = await submit(compose(), rcpts=(TEAM, "team+confidential@example.org"))
    assert outcome == {TEAM: "accepted", "team+confidential@example.org": "accepted"}
    [(_, rcpts, _)] = await _queued(store)
    assert "bob@example.org" not in rcpts and len(rcpts) == 3
    assert (await messages.for_list(store.db, team.id))[0]["confidential"] == 1


async def test_owner_mail_is_forwarded_to_owners(store, team, submit):
    """Mail to -owner goes to the owners only, the original attached byte for byte."""
    raw = compose(sender="x@elsewhere.example", subject="How do I join?")
    _, outcome = await submit(raw, rcpts=("team-owner@example.org",), mail_from="x@elsewhere.example")
    assert outcome == {"team-owner@example.org": "forwarded"}
    [(content, rcpts, mail_from)] = await _queued(store)
    assert rcpts == ["olga@example.org"] and mail_from == "team-bounces@example.org"
    wrapper = email.message_from_bytes(content, policy=policy.default)
    attached = [p for p in wrapper.iter_parts() if p.get_content_type() == "message/rfc822"]
    assert attached and raw.rstrip(b"\n") in content and "How do I join?" in wrapper["Subject"]


async def test_owner_mail_goes_to_moderators_without_owner_and_is_held_without_either(store, team, submit):
    """No owner: the moderators get -owner mail; nobody at all: it is held, not lost."""
    await store.write(members.remove, team.id, "olga@example.org")
    await submit(compose(message_id="o1@x"), rcpts=("team-owner@example.org",))
    assert (await _queued(store))[0][1] == ["mod@example.org"]
    await store.write(members.remove, team.id, "mod@example.org")
    _, outcome = await submit(compose(message_id="o2@x"), rcpts=("team-owner@example.org",))
    assert outcome == {"team-owner@example.org": "held"}
    assert (await held.waiting(store.db))[0]["reasons"][0]["rule"] == "owner"


async def test_forward_loop_is_discarded(store, team, submit):
    """Our own forward coming back to -owner is discarded, so two addresses cannot mail each other forever."""
    raw = compose(headers=(("X-BeenThere", "team-owner@example.org"),))
    _, outcome = await submit(raw, rcpts=("team-owner@example.org",))
    assert outcome == {"team-owner@example.org": "discarded"} and await _queued(store) == []


async def test_request_mail_is_processed_not_held(store, team, submit):
    """-request mail runs its email commands (outcome "processed"); nothing is held (details: tests/commands/)."""
    _, outcome = await submit(compose(subject="subscribe"), rcpts=("team-request@example.org",))
    assert outcome == {"team-request@example.org": "processed"}
    assert await held.waiting(store.db) == []


async def test_redo_is_idempotent(store, settings, team, submit):
    """Processing the same inbound row twice gives one archive row and one set of outbound rows."""
    item, first = await submit(compose())
    again = await pipeline.process(store, settings, item)
    assert again == first == {TEAM: "accepted"}
    assert await messages.count(store.db, team.id) == 1 and await outbound.count(store.db) == 1


async def test_failing_stage_holds_naming_it(store, team, submit, monkeypatch, caplog):
    """A stage that raises ends in a hold naming the stage and the error type; the log quotes no content."""

    async def broken(store, data):
        raise UnicodeError(f"cannot encode {data.subject}")

    broken.__name__ = "decorate"
    monkeypatch.setitem(pipeline.STAGES, "post", pipeline.POST[:-1] + (broken,))
    raw = compose()
    _, outcome = await submit(raw)
    assert outcome == {TEAM: "held"}
    [row] = await held.waiting(store.db)
    assert row["reasons"] == [{"rule": "decorate", "text": "stage decorate failed: UnicodeError"}]
    assert await held.raw(store.db, row["id"]) == raw
    assert "UnicodeError at test_process.py" in caplog.text and "Mitigation expert" not in caplog.text


async def test_failing_handler_rolls_back_and_holds(store, team, submit, monkeypatch):
    """A handler failing inside the transaction undoes its writes (no archive row) and the post is held."""

    async def broken(db, settings, data):
        raise KeyError("bug")

    monkeypatch.setattr(pipeline, "ACCEPTED", (pipeline.to_archive.to_archive, broken))
    _, outcome = await submit(compose())
    assert outcome == {TEAM: "held"}
    assert await messages.count(store.db, team.id) == 0 and await outbound.count(store.db) == 0
    assert (await held.waiting(store.db))[0]["reasons"][0]["text"] == "acting on the decision 'accept' failed: KeyError"


async def test_store_failure_raises_store_error_and_commits_nothing(store, settings, team, monkeypatch):
    """A database failure inside the transaction raises StoreError and leaves the row pending for a retry."""

    async def locked(db, settings, data):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(to_outbound, "to_outbound", locked)
    monkeypatch.setattr(pipeline, "ACCEPTED", (pipeline.to_archive.to_archive, locked))
    await store.write(inbound.enqueue, "ann@example.org", [TEAM], compose())
    [item] = await inbound.pending(store.db)
    with pytest.raises(StoreError):
        await pipeline.process(store, settings, item)
    assert await inbound.pending(store.db) and await messages.count(store.db, team.id) == 0


async def test_recipient_of_a_deleted_list_is_discarded(store, team, submit):
    """A list deleted between RCPT and processing: its recipient is recorded as discarded, others go on."""
    other = await lists.create(store, "other@example.org")
    await lists.delete(store, "other@example.org")
    _, outcome = await submit(compose(), rcpts=(TEAM, other.address))
    assert outcome == {TEAM: "accepted", "other@example.org": "discarded"}


async def test_crossposted_to_two_lists(store, team, submit):
    """One inbound message to two lists is archived and sent for each (inbound_id kept by the first)."""
    second = await lists.create(store, "board@example.org", nonmember_action="accept")
    _, outcome = await submit(compose(), rcpts=(TEAM, second.address))
    assert outcome == {TEAM: "accepted", "board@example.org": "accepted"}
    assert await messages.count(store.db, team.id) == 1 and await messages.count(store.db, second.id) == 1
    assert json.loads((await inbound.get(store.db, 1))["outcome"]) == outcome


async def test_list_deleted_mid_flight_is_retried_then_settled(store, settings, team, monkeypatch):
    """If even the hold cannot be written (its list vanished), process raises StoreError; the retry settles it."""
    original = pipeline.prepare

    async def prepare_then_delete(store, item, found, *rest):
        data = await original(store, item, found, *rest)
        await lists.delete(store, TEAM)
        return data

    monkeypatch.setattr(pipeline, "prepare", prepare_then_delete)
    await store.write(inbound.enqueue, "ann@example.org", [TEAM], compose())
    [item] = await inbound.pending(store.db)
    with pytest.raises(StoreError, match="holding inbound"):
        await pipeline.process(store, settings, item)
    assert await inbound.pending(store.db)
    monkeypatch.setattr(pipeline, "prepare", original)
    assert await pipeline.process(store, settings, item) == {TEAM: "discarded"}
