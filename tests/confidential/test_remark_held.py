"""Late re-marking reaches held posts: a reply held before its thread turned confidential (a late parent, a merge,
an import, another list, a held parent) is then masked, audited, noticed without its subject, purged once decided,
delivered only as a confidential copy; its inbound row, queued notices and queued copies follow."""

from __future__ import annotations

import json
import time

from listserv import lists, reminders
from listserv.archive import mbox, retention
from listserv.store import held, members, messages

from .conftest import (
    DIGEST_ENTITLED, DIGEST_NOT_ENTITLED, NOT_ENTITLED, SECRET_BODY, SECRET_SUBJECT, SECRET_WORDS, TEAM, compose,
    leaked, parsed, queued, reply, secret,
)

STRANGER = "x@elsewhere.example"
DAY = 86400.0
WAITING = b"is waiting for a moderator"  # the held notice's first line


def stranger_reply(message_id: str, parent: str, refs: str = "") -> bytes:
    """A non-member's unmarked reply carrying the secret words in its subject and body: it is held."""
    headers = [("In-Reply-To", f"<{parent}>")] + ([("References", refs)] if refs else [])
    return compose(f"Re: {SECRET_SUBJECT}", SECRET_BODY + "\n", message_id, sender=STRANGER, headers=tuple(headers))


async def _hold_reply(submit, parent: str = "c1@example.org", message_id: str = "h1@example.org", **extra) -> None:
    outcome = await submit(stranger_reply(message_id, parent, **extra), mail_from=STRANGER)
    assert set(outcome.values()) == {"held"}


async def _flag(store, held_id: int = 1) -> bool:
    return (await held.get(store.db, held_id))["confidential"]


async def _notices(store, address: str = "mod@example.org") -> list[bytes]:
    return [content for content in (await queued(store)).get(address, []) if WAITING in content]


async def _inbound_leaks(store) -> list[str]:
    rows = await store.db.execute_fetchall("SELECT raw FROM inbound")
    return [word for row in rows for word in leaked(bytes(row[0]))]


async def test_a_reply_held_before_its_confidential_parent_is_masked_after_it(store, team, submit, cli):
    """held ls (table and --json) masks the re-marked post; held show needs --body, and that read is audited."""
    await _hold_reply(submit)
    before = json.loads((await cli("held", "ls", "--json")).output)
    assert before[0]["confidential"] is False and leaked(before[0]["subject"])  # visible until the parent comes
    await submit(secret("c1@example.org"))
    assert await _flag(store)
    [row] = json.loads((await cli("held", "ls", "--json")).output)
    assert row["confidential"] is True and leaked(json.dumps(row)) == []
    assert leaked((await cli("held", "ls")).output) == []
    masked = await cli("held", "show", "1")
    assert masked.exit_code == 0 and leaked(masked.output) == [] and "--body" in masked.output
    full = await cli("held", "show", "1", "--body", "--by", "mod@example.org")
    assert set(leaked(full.output)) == set(SECRET_WORDS)
    reads = json.loads((await cli("audit", "ls", TEAM, "--json", "--action", "read-confidential")).output)
    assert [(r["actor"], r["object"]) for r in reads] == [("mod@example.org", "held:1")]


async def test_the_held_posts_inbound_copy_and_queued_notice_lose_the_text(store, team, submit):
    """No inbound copy of the re-marked post is left; its held notice still queued no longer names the subject."""
    await _hold_reply(submit)
    [note] = await _notices(store)
    assert leaked(parsed(note).get_content())  # the notice named the subject while the post was ordinary
    await submit(secret("c1@example.org"))
    assert await _inbound_leaks(store) == []
    [note] = await _notices(store)
    assert leaked(note) == [] and "subject not shown" in parsed(note).get_content()
    assert (await _notices(store, "olga@example.org")) == [note]  # the owner's batch is the same message


async def test_reminders_after_the_re_marking_hide_the_subject(store, settings, team, submit):
    """The daily reminder lists the re-marked post without its subject."""
    await _hold_reply(submit)
    await submit(secret("c1@example.org"))
    assert await reminders.remind(store, settings, time.time() + 2 * DAY) == 1
    [reminder] = [c for c in (await queued(store))["mod@example.org"] if b"waited more than a day" in c]
    assert leaked(reminder) == [] and "subject not shown" in parsed(reminder).get_content()


async def test_approving_a_re_marked_post_sends_only_confidential_copies(store, team, submit, cli):
    """Approval of a re-marked held post: tagged, Sensitivity, only to entitled members (digest readers too)."""
    await _hold_reply(submit)
    await submit(secret("c1@example.org"))
    before = {address: len(copies) for address, copies in (await queued(store)).items()}
    assert (await cli("held", "approve", "1", "--by", "mod@example.org")).exit_code == 0
    after = await queued(store)
    got = {address for address, copies in after.items() if len(copies) > before.get(address, 0)}
    assert got == {"ann@example.org", "bob@example.org", "mod@example.org", "olga@example.org", DIGEST_ENTITLED}
    assert NOT_ENTITLED not in after and DIGEST_NOT_ENTITLED not in after
    copy = parsed(after["bob@example.org"][-1])
    assert copy["Sensitivity"] == "Company-Confidential" and "[CONFIDENTIAL]" in copy["Subject"]
    [archived] = [r for r in await messages.for_list(store.db, team.id) if r["message_id"] == "h1@example.org"]
    assert archived["confidential"] == 1


async def test_retention_purges_a_re_marked_held_post_once_decided(store, team, submit, cli):
    """A re-marked held post, once rejected, loses its raw message and subject to retention like any other."""
    await lists.set_setting(store, TEAM, "confidential_retention_days", "1")
    await _hold_reply(submit)
    await submit(secret("c1@example.org"))
    assert (await cli("held", "reject", "1", "--by", "mod@example.org")).exit_code == 0
    assert (await retention.purge(store, TEAM, now=time.time() + 2 * DAY))[TEAM]["held"] == 1
    assert await held.raw(store.db, 1) == b"" and leaked(str(await held.get(store.db, 1))) == []


async def test_a_decided_held_post_and_one_on_another_list_are_re_marked(store, team, submit, cli):
    """Held rows of any list, decided or not, are re-marked: the rejected one here, the waiting one elsewhere."""
    other = await lists.create(store, "other@example.org")
    await store.write(members.add, other.id, {"address": "mod@example.org", "role": "moderator"})
    await _hold_reply(submit)
    assert (await cli("held", "reject", "1", "--by", "mod@example.org")).exit_code == 0
    outcome = await submit(stranger_reply("h2@example.org", "c1@example.org"), ("other@example.org",), STRANGER)
    assert set(outcome.values()) == {"held"}
    await submit(secret("c1@example.org"))
    assert await _flag(store, 1) and await _flag(store, 2)
    assert leaked((await cli("held", "ls", "other@example.org")).output) == []


async def test_a_held_confidential_parent_re_marks_its_held_replies(store, team, submit):
    """The parent held too (a stranger's tagged post): the reply held before it is re-marked all the same."""
    await _hold_reply(submit)
    await submit(secret("c1@example.org", sender=STRANGER), mail_from=STRANGER)
    assert await _flag(store, 1) and await _flag(store, 2)


async def test_replies_of_replies_are_re_marked_round_after_round(store, team, submit):
    """A held reply to a held reply (References lost), both before the parent: the second round takes it."""
    await _hold_reply(submit)
    await _hold_reply(submit, parent="h1@example.org", message_id="h2@example.org")
    await submit(secret("c1@example.org"))
    assert await _flag(store, 1) and await _flag(store, 2)


async def test_a_thread_merge_re_marks_held_replies_of_the_other_thread(store, team, submit):
    """A post naming both a confidential thread and an ordinary one merges them: held replies of the ordinary
    thread are re-marked with its archived posts."""
    await submit(compose("Expert witness?", "Who knows one?\n", "p1@example.org"))
    await _hold_reply(submit, parent="p1@example.org")
    await submit(secret("c1@example.org", sender="Bob <bob@example.org>"), mail_from="bob@example.org")
    assert not await _flag(store)
    await submit(reply("m1@example.org", "c1@example.org", refs="<p1@example.org> <c1@example.org>"))
    assert await _flag(store)
    flags = {r["message_id"]: r["confidential"] for r in await messages.for_list(store.db, team.id)}
    assert flags["p1@example.org"] == 1


async def test_an_ordinary_post_leaves_held_posts_alone(store, team, submit):
    """Nothing confidential arrives: the held reply stays ordinary (re-marking only follows confidential ids)."""
    await _hold_reply(submit)
    await submit(compose("Unrelated", "Lunch?\n", "u1@example.org", headers=(("In-Reply-To", "<c1@example.org>"),)))
    assert not await _flag(store)


def _mbox(tmp_path, *raws: bytes):
    path = tmp_path / "import.mbox"
    path.write_bytes(b"".join(b"From ann@example.org Tue Jan  1 10:00:00 2019\n" + mbox.escape(r) for r in raws))
    return str(path)


async def test_archive_import_of_the_confidential_parent_re_marks_the_held_reply(store, team, submit, cli, tmp_path):
    """`archive import` of an mbox holding the tagged parent: the reply held before is re-marked."""
    await _hold_reply(submit)
    result = await cli("archive", "import", TEAM, _mbox(tmp_path, secret("c1@example.org")))
    assert result.exit_code == 0, result.output
    assert await _flag(store) and leaked((await cli("held", "ls")).output) == []
    assert await _inbound_leaks(store) == []


async def test_archive_import_that_merges_threads_re_marks_held_and_queued_copies(store, team, submit, cli, tmp_path):
    """An imported tagged reply to an ordinary archived post turns its thread confidential: the held reply of
    that thread is re-marked, and the post's copy still queued for nina is withdrawn (bob's is the confidential one)."""
    await submit(compose("Expert witness?", "Zanzibarian file?\n", "p1@example.org"))
    await _hold_reply(submit, parent="p1@example.org")
    raw = secret("c1@example.org", headers=(("In-Reply-To", "<p1@example.org>"),))
    assert (await cli("archive", "import", TEAM, _mbox(tmp_path, raw))).exit_code == 0
    assert await _flag(store)
    copies = await queued(store)
    assert NOT_ENTITLED not in copies
    [bob] = copies["bob@example.org"]
    assert parsed(bob)["Sensitivity"] == "Company-Confidential" and leaked(bob)


async def test_a_post_held_before_its_ids_were_kept_is_read_at_the_re_marking(store, team, submit):
    """A held row without held_ids (held before migration 0008, or by a stage that failed before reading it)
    is read from its raw message at the next re-marking, and re-marked."""
    await _hold_reply(submit, message_id="h1@example.org", refs="<x@example.org> <c1@example.org>")
    await store.db.execute("DELETE FROM held_ids")
    await store.db.execute("UPDATE held SET ids_indexed = 0")
    await store.db.commit()
    await submit(secret("c1@example.org"))
    assert await _flag(store)


async def test_archive_reindex_joining_a_confidential_thread_re_marks(store, team, submit, cli):
    """`archive reindex` threads a post archived before threading existed (naming the confidential post only in
    References) into its confidential thread: the post and a held reply to it are re-marked."""
    await submit(secret("c1@example.org"))
    old = {"message_id": "r0@example.org", "date": 1700000100.0, "subject": "Re: follow-up",
           "sender": "bob@example.org", "in_reply_to": "x@example.org", "refs": "x@example.org c1@example.org",
           "body_text": SECRET_BODY, "raw": compose("Re: follow-up", SECRET_BODY, "r0@example.org")}
    await store.write(messages.add, team.id, old)
    await _hold_reply(submit, parent="r0@example.org")
    assert not await _flag(store)
    assert (await cli("archive", "reindex", TEAM)).exit_code == 0
    flags = {r["message_id"]: r["confidential"] for r in await messages.for_list(store.db, team.id)}
    assert flags["r0@example.org"] == 1 and await _flag(store)


async def test_a_held_reply_to_an_archived_reply_is_re_marked_in_the_next_round(store, team, submit):
    """Chain c1 <- r1 (archived, ordinary) <- h1 (held), then c1: r1 is re-marked, and h1 with it."""
    await submit(reply("r1@example.org", "c1@example.org"))
    await _hold_reply(submit, parent="r1@example.org")
    await submit(secret("c1@example.org"))
    assert await _flag(store)


async def test_a_held_post_quoting_the_parents_message_id_is_re_marked(store, team, submit):
    """No threading headers at all, only the parent's Message-ID quoted in the text (as markers read it)."""
    raw = compose(f"Fwd: {SECRET_SUBJECT}", "> Message-ID: <c1@example.org>\n> Zanzibarian\n", "h1@example.org",
                  sender=STRANGER)
    assert set((await submit(raw, mail_from=STRANGER)).values()) == {"held"}
    await submit(secret("c1@example.org"))
    assert await _flag(store)


async def test_a_strangers_held_posts_cannot_hide_a_public_post(store, team, submit):
    """A stranger's held reply naming a public post too, then the stranger's tagged (held) parent: the held
    reply is re-marked, the public post it names stays ordinary (a held post's ids re-mark no archived post)."""
    await submit(compose("Expert witness?", "Who knows one?\n", "p2@example.org"))
    await _hold_reply(submit, parent="c9@example.org", refs="<p2@example.org> <c9@example.org>")
    await submit(secret("c9@example.org", sender=STRANGER), mail_from=STRANGER)
    assert await _flag(store)
    flags = {r["message_id"]: r["confidential"] for r in await messages.for_list(store.db, team.id)}
    assert flags == {"p2@example.org": 0}
