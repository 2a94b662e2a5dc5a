"""Leak matrix, propagation rows: confidentiality follows the thread by Message-ID, in order or not, stored or not."""

from __future__ import annotations

from listserv import lists
from listserv.archive import search as archive_search
from listserv.store import confidential as store_confidential
from listserv.store import digests as store_digests
from listserv.store import members, messages

from .conftest import ENTITLED, NOT_ENTITLED, SECRET_BODY, TEAM, compose, leaked, queued, reply, secret


async def _flags(store, team) -> dict[str, int]:
    return {row["message_id"]: row["confidential"] for row in await messages.for_list(store.db, team.id)}


async def test_three_level_reply_chain_without_markers(store, team, submit):
    """Row 'three-level chain': replies naming only their parent (In-Reply-To) are confidential down the chain."""
    await submit(secret("c1@example.org"))
    await submit(reply("r1@example.org", "c1@example.org", body=f"On it. {SECRET_BODY}\n"))
    await submit(reply("r2@example.org", "r1@example.org", body="Quoting: Zanzibarian file\n"))
    await submit(reply("r3@example.org", "r2@example.org", body="Xylophonic record found.\n"))
    assert await _flags(store, team) == {f"{m}@example.org": 1 for m in ("c1", "r1", "r2", "r3")}
    copies = await queued(store)
    assert NOT_ENTITLED not in copies
    assert all(len(copies[address]) == 4 for address in ENTITLED)
    assert all(leaked(content) for content in copies["bob@example.org"][1:])  # the replies did reach bob
    assert await store_digests.pending(store.db, team.id) == []


async def test_references_alone_carry_the_thread(store, team, submit):
    """A reply naming the confidential post only in References (In-Reply-To elsewhere) is confidential."""
    await submit(secret("c1@example.org"))
    raw = compose("Re: x", "Xylophonic notes\n", "r1@example.org",
                  headers=(("In-Reply-To", "<unknown@example.org>"), ("References", "<c1@example.org> <unknown@example.org>")))
    await submit(raw)
    assert (await _flags(store, team))["r1@example.org"] == 1


async def test_reply_archived_before_its_confidential_parent_is_re_marked(store, team, submit):
    """Row 'out of order': replies archived before the confidential post arrives are re-marked, search follows."""
    await submit(reply("r1@example.org", "c1@example.org", body="Zanzibarian question\n"))
    await submit(reply("r2@example.org", "r1@example.org", body="Zanzibarian answer\n"))
    public = await archive_search.search(store.db, team.id, "Zanzibarian")
    assert len(public) == 2  # not confidential yet: nothing marked them
    async with store.db.execute("SELECT count(*) FROM inbound WHERE instr(raw, CAST('Zanzibarian' AS BLOB)) > 0") as cursor:
        assert (await cursor.fetchone())[0] == 0  # processed: the inbound queue keeps no raw bytes of any post
    await submit(secret("c1@example.org"))
    assert await _flags(store, team) == {"r1@example.org": 1, "r2@example.org": 1, "c1@example.org": 1}
    assert await archive_search.search(store.db, team.id, "Zanzibarian") == []
    entitled = await archive_search.search(store.db, team.id, "Zanzibarian", include_confidential=True)
    assert len(entitled) == 3
    assert await store_confidential.known(store.db, ["r1@example.org", "r2@example.org"]) == {
        "r1@example.org", "r2@example.org"}
    async with store.db.execute("SELECT count(*) FROM inbound WHERE instr(raw, CAST('Zanzibarian' AS BLOB)) > 0") as cursor:
        assert (await cursor.fetchone())[0] == 0  # nor does the inbound queue's history keep the replies


async def test_a_later_reply_to_a_re_marked_post_is_confidential(store, team, submit):
    """After the re-marking, a reply naming only a re-marked reply is confidential too."""
    await submit(reply("r1@example.org", "c1@example.org"))
    await submit(secret("c1@example.org"))
    await submit(reply("r2@example.org", "r1@example.org", body="Xylophonic again\n"))
    assert (await _flags(store, team))["r2@example.org"] == 1
    assert all(b"Xylophonic again" not in content for content in (await queued(store)).get(NOT_ENTITLED, []))


async def test_the_whole_thread_becomes_confidential(store, team, submit):
    """A confidential reply to an ordinary post makes its thread confidential: the parent and its other replies too."""
    await submit(compose("Expert witness?", "Who knows one?\n", "p1@example.org"))
    await submit(reply("s1@example.org", "p1@example.org", body="I do.\n"))
    await submit(secret("c1@example.org", headers=(("In-Reply-To", "<p1@example.org>"),)))
    assert set((await _flags(store, team)).values()) == {1}
    await submit(reply("s2@example.org", "s1@example.org"))
    assert (await _flags(store, team))["s2@example.org"] == 1


async def test_policy_none_stores_only_the_thread_map_and_a_reply_is_confidential(store, team, submit):
    """Row 'policy none then a reply': no raw, subject or body stored; the Message-ID and date are; the reply is marked."""
    await lists.set_setting(store, TEAM, "confidential_archive", "none")
    await submit(secret("c1@example.org"))
    assert await messages.for_list(store.db, team.id) == []
    assert [(r["message_id"], r["date"]) for r in await store_confidential.for_list(store.db, team.id)] == [
        ("c1@example.org", 1700000000.0)]
    await submit(reply("r1@example.org", "c1@example.org", body="Xylophonic reply\n"))
    assert await messages.for_list(store.db, team.id) == []
    copies = await queued(store)
    assert NOT_ENTITLED not in copies and len(copies["bob@example.org"]) == 2
    assert "Xylophonic" in leaked(copies["bob@example.org"][1])
    async with store.db.execute("SELECT count(*) FROM inbound WHERE raw <> X''") as cursor:
        assert (await cursor.fetchone())[0] == 0  # nor does the inbound queue keep the bytes


async def test_a_cross_posted_reply_is_confidential_on_the_other_list(store, team, submit):
    """A reply to a confidential thread of one list, cross-posted to another list, is confidential there too."""
    other = await lists.create(store, "other@example.org")
    await store.write(members.add, other.id, {"address": "ann@example.org"})
    await store.write(members.add, other.id, {"address": "out@example.org", "confidential": 0})
    await submit(secret("c1@example.org"))
    await submit(reply("r1@example.org", "c1@example.org", body="Zanzibarian\n"), rcpts=("other@example.org",))
    assert "out@example.org" not in await queued(store)
    [row] = await messages.for_list(store.db, other.id)
    assert row["confidential"] == 1


async def test_a_reply_to_a_held_confidential_post_is_confidential(store, team, submit):
    """A confidential post still waiting for a moderator already marks its thread."""
    await store.write(members.update, team.id, "ann@example.org", "moderated", 1)
    await submit(secret("c1@example.org"))
    await submit(reply("r1@example.org", "c1@example.org", sender="bob@example.org"), mail_from="bob@example.org")
    assert (await _flags(store, team)) == {"r1@example.org": 1}


async def test_a_subject_alone_neither_marks_nor_unmarks(store, team, submit):
    """Choice: sharing a confidential thread's subject does not mark a post (copies carry the tag and a
    +confidential Reply-To, so a real reply keeps a marker), and never makes the thread non-confidential."""
    from listserv.store import threads

    await submit(compose("[CONFIDENTIAL] Parole hearing", "Details.\n", "c1@example.org"))
    await submit(compose("Re: Parole hearing", "A public question.\n", "s1@example.org"))
    await submit(compose("Re: [team] [CONFIDENTIAL] Parole hearing", "Tag kept, refs lost.\n", "s2@example.org"))
    await submit(compose("Re: Parole hearing", "Sent to Reply-To.\n", "s3@example.org",
                         to="team+confidential@example.org"), rcpts=("team+confidential@example.org",))
    assert await _flags(store, team) == {
        "c1@example.org": 1, "s1@example.org": 0, "s2@example.org": 1, "s3@example.org": 1}
    [own] = await threads.map_rows(store.db, team.id, ["c1@example.org"])
    assert (await threads.get(store.db, own["thread_id"]))["confidential"] == 1


async def test_a_re_marked_reply_leaves_the_digest_queue(store, settings, team, submit):
    """A reply queued for the digest, re-marked when its confidential parent arrives, never reaches a digest;
    the entitled digest reader gets it as a confidential copy instead."""
    from listserv import digests

    from .conftest import DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, parsed

    await submit(reply("r1@example.org", "c1@example.org", body="Zanzibarian question\n"))
    assert len(await store_digests.pending(store.db, team.id)) == 1
    await submit(secret("c1@example.org"))
    assert await store_digests.pending(store.db, team.id) == []
    copies = await queued(store)
    late = [parsed(c) for c in copies[DIGEST_ENTITLED] if b"Zanzibarian question" in c]
    assert len(late) == 1 and late[0]["Sensitivity"] == "Company-Confidential"
    assert await digests.send_now(store, settings, TEAM) == []  # nothing left for a digest
    assert DIGEST_NOT_ENTITLED not in await queued(store)
