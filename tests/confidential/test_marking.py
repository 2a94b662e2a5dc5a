"""Leak matrix, marker rows: every way of marking a post makes it confidential, and an ordinary post stays ordinary.

Each row checks both sides: the secret words reach the entitled members'
copies and the archive, and never the unentitled member, the digest queue or
an unentitled digest reader.
"""

from __future__ import annotations

import pytest

from listserv import lists
from listserv.confidential.markers import folded
from listserv.store import held, messages, search_index
from listserv.store import digests as store_digests

from .conftest import (
    DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, ENTITLED, NOT_ENTITLED, SECRET_BODY, SECRET_SUBJECT, TEAM, compose,
    leaked, parsed, queued,
)

NOTICE = "Confidential thread: do not forward outside the list."


async def assert_confidential(store, team, subject_words: bool = True) -> None:
    """Delivered to the entitled only (the digest reader individually), marked, archived as confidential."""
    copies = await queued(store)
    assert sorted(copies) == sorted((*ENTITLED, DIGEST_ENTITLED))
    for address in (*ENTITLED, DIGEST_ENTITLED):
        [content] = copies[address]
        copy = parsed(content)
        assert copy["Sensitivity"] == "Company-Confidential"
        assert "[confidential]" in folded(copy["Subject"])
        assert copy["Reply-To"] == "team+confidential@example.org"
        assert copy.get_body(("plain",)).get_content().startswith(NOTICE)
        assert "Zanzibarian" in leaked(content)  # the body does reach the entitled
    assert NOT_ENTITLED not in copies and DIGEST_NOT_ENTITLED not in copies
    assert await store_digests.pending(store.db, team.id) == []
    [row] = await messages.for_list(store.db, team.id)
    assert row["confidential"] == 1
    assert ("Zanzibarian" in (await search_index.fields(store.db, row["id"]))["search_text"]) and (not subject_words or SECRET_SUBJECT in row["subject"])


async def test_subject_tag_marks_the_post(store, team, submit):
    """Row 'tag': [CONFIDENTIAL] in the subject makes the post confidential."""
    raw = compose(f"[CONFIDENTIAL] {SECRET_SUBJECT}", SECRET_BODY, "c1@example.org")
    assert await submit(raw) == {TEAM: "accepted"}
    await assert_confidential(store, team)


@pytest.mark.parametrize("subject", [
    "=?utf-8?q?=5BConfidential=5D_Quillfeather_sentencing?=",  # the tag inside an encoded word
    "=?utf-8?b?W2NvbmZpZGVudGlhbF0gUXVpbGxmZWF0aGVyIHNlbnRlbmNpbmc=?=",  # base64, lower case
    "Re: =?iso-8859-1?q?=5BCONFIDENTIAL=5D?= Quillfeather sentencing",
    "Re: ［CONFIDENTIAL］ Quillfeather sentencing",  # full-width brackets
], ids=["q-encoded", "b-encoded", "latin1-word", "full-width"])
async def test_encoded_or_unusual_tag_marks_the_post(store, team, submit, subject):
    """Row 'encoded tag': the tag is found in the decoded subject, in any case and width."""
    assert await submit(compose(subject, SECRET_BODY, "c1@example.org")) == {TEAM: "accepted"}
    await assert_confidential(store, team)


@pytest.mark.parametrize("value", ["Private", "Company-Confidential", "company-confidential", " PRIVATE (Outlook)"])
async def test_sensitivity_header_marks_the_post(store, team, submit, value):
    """Rows 'Sensitivity': Private and Company-Confidential (any case) mark a post without a tag."""
    raw = compose(SECRET_SUBJECT, SECRET_BODY, "c1@example.org", headers=(("Sensitivity", value),))
    assert await submit(raw) == {TEAM: "accepted"}
    await assert_confidential(store, team)


async def test_confidential_address_marks_the_post(store, team, submit):
    """Row '+confidential': mail to NAME+confidential@ is confidential, its copies tagged."""
    raw = compose(SECRET_SUBJECT, SECRET_BODY, "c1@example.org", to="team+confidential@example.org")
    assert await submit(raw, rcpts=("team+confidential@example.org",)) == {"team+confidential@example.org": "accepted"}
    await assert_confidential(store, team)


async def test_list_wide_setting_marks_every_post(store, team, submit):
    """Row 'list-wide': with all_confidential every post is confidential."""
    await lists.set_setting(store, TEAM, "all_confidential", "true")
    assert await submit(compose(SECRET_SUBJECT, SECRET_BODY, "c1@example.org")) == {TEAM: "accepted"}
    await assert_confidential(store, team)


async def test_the_list_chooses_its_tag(store, team, submit):
    """confidential_tag is a list setting: [SEALED] marks, and is what the copies carry."""
    await lists.set_setting(store, TEAM, "confidential_tag", "[SEALED]")
    await submit(compose(f"[sealed] {SECRET_SUBJECT}", SECRET_BODY, "c1@example.org"))
    [content] = (await queued(store))["ann@example.org"]
    assert parsed(content)["Subject"] == f"[team] [sealed] {SECRET_SUBJECT}"
    assert NOT_ENTITLED not in await queued(store)


async def test_a_cross_posted_confidential_address_marks_the_other_list_too(store, team, submit):
    """One envelope to team+confidential@ and to another list: the sender marked the message, both copies are."""
    other = await lists.create(store, "other@example.org")
    from listserv.store import members

    await store.write(members.add, other.id, {"address": "ann@example.org"})
    await store.write(members.add, other.id, {"address": "out@example.org", "confidential": 0})
    rcpts = ("team+confidential@example.org", "other@example.org")
    await submit(compose(SECRET_SUBJECT, SECRET_BODY, "c1@example.org"), rcpts=rcpts)
    copies = await queued(store)
    assert "out@example.org" not in copies and NOT_ENTITLED not in copies
    assert all(row["confidential"] for row in await messages.for_list(store.db, other.id))


async def test_held_confidential_post_is_marked_held(store, team, submit):
    """A confidential post held for a moderator (a stranger's) is held with its confidential flag."""
    raw = compose(f"[CONFIDENTIAL] {SECRET_SUBJECT}", SECRET_BODY, "c1@example.org", sender="x@elsewhere.example")
    assert await submit(raw, mail_from="x@elsewhere.example") == {TEAM: "held"}
    [row] = await held.waiting(store.db, team.id)
    assert row["confidential"] is True
    notices = await queued(store)  # the moderators' held notice, without subject or body
    assert set(notices) <= {"mod@example.org", "olga@example.org"}
    assert all(leaked(content) == [] for copies in notices.values() for content in copies)


async def test_unparseable_message_mentioning_the_tag_is_held_confidential(store, team, submit):
    """A message too broken to read that mentions the tag in its header block is held as confidential."""
    raw = b"From: \x00\r\nSubject: [CONFIDENTIAL] " + SECRET_SUBJECT.encode() + b"\r\n\r\n" + SECRET_BODY.encode()
    assert await submit(raw) == {TEAM: "held"}
    [row] = await held.waiting(store.db, team.id)
    assert row["confidential"] is True


@pytest.mark.parametrize("value", ["Personal", "Normal", ""])
async def test_other_sensitivity_values_do_not_mark(store, team, submit, value):
    """Sensitivity: Personal (or Normal) is not a confidential marker."""
    raw = compose("Lunch?", "Anyone free?\n", "o1@example.org", headers=(("Sensitivity", value),))
    await submit(raw)
    [row] = await messages.for_list(store.db, team.id)
    assert row["confidential"] == 0 and NOT_ENTITLED in await queued(store)


async def test_ordinary_post_is_unaffected(store, team, submit):
    """A member's ordinary post: every regular member, no notice, no Sensitivity, archived, in the digest queue."""
    raw = compose("Training in May", "The workshop is on the 3rd.\n", "o1@example.org")
    assert await submit(raw) == {TEAM: "accepted"}
    copies = await queued(store)
    assert sorted(copies) == sorted((*ENTITLED, NOT_ENTITLED))
    copy = parsed(copies[NOT_ENTITLED][0])
    assert copy["Sensitivity"] is None and copy["Reply-To"] is None
    assert copy["Subject"] == "[team] Training in May" and copy["To"] == TEAM
    assert copy.get_content() == "The workshop is on the 3rd.\n" and NOTICE not in copies[NOT_ENTITLED][0].decode()
    [row] = await messages.for_list(store.db, team.id)
    assert row["confidential"] == 0
    [pending] = await store_digests.pending(store.db, team.id)
    assert b"workshop" in pending["content"]
