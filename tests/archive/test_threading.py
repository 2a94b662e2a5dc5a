"""Threading on a real store: references, placeholders, out-of-order arrival, subject fallback, merges, the tree."""

from __future__ import annotations

import email.utils
import time
from email.message import EmailMessage

import pytest

from listserv import message
from listserv.archive.search import index_fields, search
from listserv.archive.importer import _store_batch
from listserv.archive.threading import MAX_REFERENCES, WINDOW, archive_posts, assign_thread, thread_unthreaded
from listserv.archive.tree import tree
from listserv.store import messages, search_index
from listserv.store import threads as store_threads
from tests.archive.conftest import day


def mail(mid: str, subject: str, when: str, sender: str = "Ann Lee <ann@fd.org>", reply_to: str = "",
         refs: tuple[str, ...] = (), body: str = "Thanks for the help.") -> bytes:
    """A realistic post as a mail client writes it (Message-ID, Date, In-Reply-To, References)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "team@example.org"
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(day(when))
    msg["Message-ID"] = f"<{mid}>"
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg.set_content(body)
    return bytes(msg)


def row(raw: bytes, confidential: bool = False) -> dict:
    """The archive row of a raw post, built with the same helpers as the pipeline's archive step."""
    msg = message.parse(raw)
    sender, name = message.sender(msg)
    body = message.body_text(msg)
    return {
        "message_id": message.message_id(msg), "date": message.date(msg, time.time()), "sender": sender or "",
        "sender_name": name, "subject": message.subject(msg), "in_reply_to": message.in_reply_to(msg),
        "refs": " ".join(message.references(msg)), "body_text": body, "confidential": confidential, "raw": raw,
        **index_fields(msg, body),
    }


async def put(arch, *raws: bytes, confidential: bool = False) -> list[int]:
    """Archive posts one transaction each, as the pipeline does."""
    ids = []
    for raw in raws:
        ids += await arch.store.write(archive_posts, arch.list_id, [row(raw, confidential)])
    return ids


async def thread_of(arch, archive_id: int) -> int:
    return (await search_index.fields(arch.store.db, archive_id))["thread_id"]


async def shape(arch, thread_id: int) -> list[tuple[int, str]]:
    """The thread tree as (depth, Message-ID) lines."""
    return [(depth, post["message_id"]) for depth, post in tree(await messages.in_thread(arch.store.db, thread_id))]


CONVERSATION = (  # a real shape: a question, two answers, follow-ups, an Outlook reply without References
    mail("q@fd.org", "Looking for a mitigation psychologist in Ohio", "2024-03-01T09:00",
         body="Does anyone know a psychologist who has testified on adolescent trauma in Ohio?"),
    mail("a1@pd.gov", "Re: Looking for a mitigation psychologist in Ohio", "2024-03-01T11:00",
         "Bob Ruiz <bob@pd.gov>", "q@fd.org", ("q@fd.org",), "Dr. Lane in Columbus; she did a capital case with us."),
    mail("a1-1@fd.org", "Re: Looking for a mitigation psychologist in Ohio", "2024-03-01T12:30",
         reply_to="a1@pd.gov", refs=("q@fd.org", "a1@pd.gov"), body="Thanks Bob, is she taking CJA rates?"),
    mail("a2@mit.org", "RE: Looking for a mitigation psychologist in Ohio", "2024-03-01T13:00",
         "Cy Park <cy@mit.org>", "q@fd.org", ("q@fd.org",), "Try the state association's referral list."),
    mail("a1-1-1@pd.gov", "Re: Looking for a mitigation psychologist in Ohio", "2024-03-02T08:00",
         "Bob Ruiz <bob@pd.gov>", "a1-1@fd.org", ("q@fd.org", "a1@pd.gov", "a1-1@fd.org"), "Yes, she does."),
    mail("a2-1@out.com", "AW: Looking for a mitigation psychologist in Ohio", "2024-03-02T10:00",
         "Dee <dee@out.com>", "a2@mit.org", (), "The list is out of date, careful."),
)


async def test_a_multi_level_conversation_is_one_thread_with_its_tree(archive):
    """Six posts linked by In-Reply-To/References form one thread; the tree follows the reply structure."""
    ids = await put(archive, *CONVERSATION)
    other = (await put(archive, mail("t@x.org", "Training in Texas", "2024-03-01T10:00")))[0]
    threads = {await thread_of(archive, i) for i in ids}
    assert len(threads) == 1
    (thread,) = threads
    assert await thread_of(archive, other) != thread
    assert await shape(archive, thread) == [
        (0, "q@fd.org"), (1, "a1@pd.gov"), (2, "a1-1@fd.org"), (3, "a1-1-1@pd.gov"),
        (1, "a2@mit.org"), (2, "a2-1@out.com"),
    ]
    figures = await store_threads.get(archive.store.db, thread)
    assert figures["messages"] == 6 and figures["subject"] == "looking for a mitigation psychologist in ohio"
    assert (figures["started"], figures["last"]) == (day("2024-03-01T09:00"), day("2024-03-02T10:00"))
    found = await search(archive.store.db, archive.list_id, f"thread:{thread} rates")
    assert [r["id"] for r in found] == [ids[2]]


async def test_a_reply_archived_before_its_parents_joins_them_when_they_arrive(archive):
    """Out of order: the grandchild first leaves placeholders; parent and root then land in its thread."""
    root, child, grandchild = CONVERSATION[0], CONVERSATION[1], CONVERSATION[2]
    late = await put(archive, grandchild)
    placeholders = {r["message_id"]: r for r in await store_threads.map_for_list(archive.store.db, archive.list_id)}
    assert placeholders["q@fd.org"]["seen"] == 0 and placeholders["a1@pd.gov"]["archive_id"] is None
    ids = late + await put(archive, root, child)
    assert len({await thread_of(archive, i) for i in ids}) == 1
    rows = await store_threads.map_for_list(archive.store.db, archive.list_id)
    assert all(r["seen"] == 1 and r["archive_id"] is not None for r in rows)
    assert (await store_threads.get(archive.store.db, await thread_of(archive, ids[0])))["messages"] == 3
    assert [mid for _, mid in await shape(archive, await thread_of(archive, ids[0]))] == [
        "q@fd.org", "a1@pd.gov", "a1-1@fd.org"]


async def test_a_reply_without_references_joins_by_subject_within_the_window(archive):
    """No known parent + a reply-like subject: joins the latest thread of that subject, marked joined_by_subject."""
    (first,) = await put(archive, mail("s1@x.org", "Juvenile records request", "2024-01-10T10:00"))
    (reply,) = await put(archive, mail("s2@x.org", "Re: [team] Juvenile  RECORDS request", "2024-01-20T10:00"))
    (outside_refs,) = await put(archive, mail("s3@x.org", "Re: Juvenile records request", "2024-01-21T10:00",
                                                  reply_to="never-seen@x.org"))
    assert await thread_of(archive, reply) == await thread_of(archive, first)
    assert await thread_of(archive, outside_refs) == await thread_of(archive, first)
    flags = {r["message_id"]: r["joined_by_subject"] for r in await store_threads.map_for_list(archive.store.db, archive.list_id)}
    assert flags["s2@x.org"] == 1 and flags["s1@x.org"] == 0


async def test_no_subject_join_without_a_reply_marker_or_outside_the_window(archive):
    """The same subject without Re:, or a reply more than WINDOW after the thread's last post, starts a new thread."""
    (first,) = await put(archive, mail("n1@x.org", "Budget for experts", "2024-01-10T10:00"))
    (same,) = await put(archive, mail("n2@x.org", "Budget for experts", "2024-01-11T10:00"))
    late_day = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(day("2024-01-11T10:00") + WINDOW + 86400))
    (late,) = await put(archive, mail("n3@x.org", "Re: Budget for experts", late_day))
    assert len({await thread_of(archive, i) for i in (first, same, late)}) == 3


async def test_the_subject_fallback_never_crosses_confidentiality(archive):
    """By subject alone a public reply never joins a confidential thread, nor a confidential reply any thread."""
    (secret,) = await put(archive, mail("c1@x.org", "Help with a case", "2024-01-10T10:00"), confidential=True)
    (public,) = await put(archive, mail("p1@x.org", "Re: Help with a case", "2024-01-11T10:00"))
    (secret_reply,) = await put(archive, mail("c2@x.org", "Re: Help with a case", "2024-01-12T10:00"),
                                confidential=True)
    threads = {await thread_of(archive, i) for i in (secret, public, secret_reply)}
    assert len(threads) == 3
    subjects = {t["id"]: t["subject"] for t in await store_threads.for_list(archive.store.db, archive.list_id)}
    assert subjects[await thread_of(archive, secret)] == "" and subjects[await thread_of(archive, public)]


async def test_a_late_post_referencing_two_threads_merges_them(archive):
    """References naming posts of two threads merge them into the older; figures add up, old number redirects."""
    (a,) = await put(archive, mail("m-a@x.org", "Expert fees", "2024-02-01T10:00"))
    (b,) = await put(archive, mail("m-b@x.org", "Fee schedule", "2024-02-02T10:00"), confidential=True)
    older, younger = await thread_of(archive, a), await thread_of(archive, b)
    (link,) = await put(archive, mail("m-c@x.org", "Re: Expert fees", "2024-02-03T10:00",
                                          reply_to="m-b@x.org", refs=("m-a@x.org", "m-b@x.org")))
    assert {await thread_of(archive, i) for i in (a, b, link)} == {older}
    merged = await store_threads.get(archive.store.db, younger)
    assert merged["id"] == older and merged["messages"] == 3 and merged["confidential"] == 1
    raw_rows = await store_threads.for_list(archive.store.db, archive.list_id)
    assert {r["id"]: r["merged_into"] for r in raw_rows} == {older: None, younger: older}
    assert all(r["thread_id"] == older for r in await store_threads.map_for_list(archive.store.db, archive.list_id))


async def test_merges_inside_one_batch_resolve_every_row(archive):
    """In one import batch, posts threaded before a merge end in the merged thread too."""
    rows = [row(mail("x1@x.org", "One", "2024-01-01T10:00")), row(mail("y1@x.org", "Two", "2024-01-01T11:00")),
            row(mail("x2@x.org", "Re: One", "2024-01-01T12:00", reply_to="x1@x.org")),
            row(mail("z@x.org", "Both", "2024-01-01T13:00", refs=("x2@x.org", "y1@x.org")))]
    ids = await archive.store.write(archive_posts, archive.list_id, rows)
    assert len({await thread_of(archive, i) for i in ids}) == 1
    live = [t for t in await store_threads.for_list(archive.store.db, archive.list_id) if t["merged_into"] is None]
    assert len(live) == 1 and live[0]["messages"] == 4


async def test_a_5000_deep_chain_builds_a_tree_without_recursion(archive):
    """A 5,000-post reply chain is threaded and laid out iteratively: no RecursionError, depth 0..4999."""
    start = day("2024-01-01")
    rows = [{"message_id": f"d{n}@x.org", "date": start + n, "subject": "Re: deep", "body_text": "x",
             "in_reply_to": f"d{n - 1}@x.org" if n else "",
             "refs": " ".join(f"d{k}@x.org" for k in range(max(0, n - 20), n))} for n in range(5000)]
    ids = await archive.store.write(archive_posts, archive.list_id, rows)
    thread = await thread_of(archive, ids[-1])
    laid_out = tree(await messages.in_thread(archive.store.db, thread))
    assert [depth for depth, _ in laid_out] == list(range(5000))


def test_reference_loops_are_cut():
    """Forged headers making two posts each other's parent still give a finite tree with both posts."""
    posts = [{"id": 1, "message_id": "a", "date": 1.0, "in_reply_to": "b", "refs": ""},
             {"id": 2, "message_id": "b", "date": 2.0, "in_reply_to": "a", "refs": ""},
             {"id": 3, "message_id": "c", "date": 3.0, "in_reply_to": "b", "refs": "a b"}]
    assert [(d, p["message_id"]) for d, p in tree(posts)] == [(0, "a"), (1, "b"), (2, "c")]


async def test_the_thread_map_is_kept_for_posts_without_content(archive):
    """assign_thread records a post kept without content, and a later reply joins its thread."""
    first = await archive.store.write(
        assign_thread, archive.list_id, "kept@x.org", "", (), "Case question", day("2024-01-01"), True)
    (reply,) = await put(archive, mail("r@x.org", "Re: Case question", "2024-01-02T10:00", reply_to="kept@x.org"))
    assert await thread_of(archive, reply) == first
    kept = {r["message_id"]: r for r in await store_threads.map_for_list(archive.store.db, archive.list_id)}["kept@x.org"]
    assert kept["seen"] == 1 and kept["archive_id"] is None and kept["confidential"] == 1
    assert await store_threads.confidential_referenced(archive.store.db, archive.list_id, ["kept@x.org"])


async def test_assign_thread_refuses_an_empty_message_id(archive):
    """A post without a Message-ID cannot be in the map: ValueError, nothing written."""
    with pytest.raises(ValueError):
        await archive.store.write(assign_thread, archive.list_id, "", "", (), "x", 0.0)
    assert await store_threads.map_for_list(archive.store.db, archive.list_id) == []


async def test_a_post_with_thousands_of_references_costs_a_bounded_amount(archive):
    """Only the nearest MAX_REFERENCES referenced ids become placeholders."""
    refs = " ".join(f"r{n}@x.org" for n in range(5000))
    await archive.store.write(archive_posts, archive.list_id, [
        {"message_id": "many@x.org", "date": 1.0, "subject": "x", "refs": refs}])
    rows = await store_threads.map_for_list(archive.store.db, archive.list_id)
    assert len(rows) == MAX_REFERENCES + 1 and "r4999@x.org" in {r["message_id"] for r in rows}


async def test_thread_confidential_marks_the_whole_thread(settings, archive):
    """An import batch (thread_confidential, then remark): a late confidential post marks its thread's posts."""
    public = row(mail("tc1@x.org", "Question", "2024-01-01T10:00"))
    await archive.store.write(_store_batch, settings, archive.list_id, [public])
    secret = row(mail("tc2@x.org", "Re: Question", "2024-01-02T10:00", reply_to="tc1@x.org"), confidential=True)
    after = row(mail("tc3@x.org", "Re: Question", "2024-01-03T10:00", reply_to="tc2@x.org"))
    await archive.store.write(_store_batch, settings, archive.list_id, [secret, after])
    flags = [r["confidential"] for r in await messages.for_list(archive.store.db, archive.list_id)]
    assert flags == [1, 1, 1]


async def test_reindex_threads_posts_archived_before_threading(archive):
    """Posts stored without a thread (before 0003) get threads from thread_unthreaded, oldest first."""
    raws = CONVERSATION[:3] + (mail("lone@x.org", "Unrelated", "2024-03-05T10:00"),)
    ids = [await archive.store.write(messages.add, archive.list_id, row(raw)) for raw in raws]
    assert {await thread_of(archive, i) for i in ids} == {None}
    assert await thread_unthreaded(archive.store, archive.list_id, batch=2) == 4
    threads = [await thread_of(archive, i) for i in ids]
    assert threads[0] == threads[1] == threads[2] != threads[3] and None not in threads
    assert await thread_unthreaded(archive.store) == 0
    mapped = {r["message_id"]: r["archive_id"] for r in await store_threads.map_for_list(archive.store.db, archive.list_id)}
    assert mapped["q@fd.org"] == ids[0]


async def test_a_thread_turning_confidential_forgets_its_subject(archive):
    """Once a thread is confidential its stored subject is cleared (merges and later marks alike)."""
    (public,) = await put(archive, mail("f1@x.org", "Client Smith juvenile history", "2024-01-01T10:00"))
    thread = await thread_of(archive, public)
    subjects = {t["id"]: t["subject"] for t in await store_threads.for_list(archive.store.db, archive.list_id)}
    assert subjects[thread] == "client smith juvenile history"
    await put(archive, mail("f2@x.org", "Re: Client Smith", "2024-01-02T10:00", reply_to="f1@x.org"), confidential=True)
    (other,) = await put(archive, mail("g1@x.org", "Budget", "2024-01-03T10:00"))
    await archive.store.write(store_threads.raise_confidential, [await thread_of(archive, other)])
    assert {t["subject"] for t in await store_threads.for_list(archive.store.db, archive.list_id)} == {""}
