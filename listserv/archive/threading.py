"""Put every post in a thread: by In-Reply-To and References (JWZ-like, with placeholders), else by subject.

How a post finds its thread (Threader.assign):
1. Every Message-ID it references (References, then In-Reply-To; the nearest
   MAX_REFERENCES) that the thread map knows, and the post's own placeholder if
   an earlier reply referenced it, name threads. One: the post joins it.
   Several: they are MERGED into the oldest (lowest number); the others'
   map rows and archived posts are re-pointed, their figures added, their
   confidential flags ORed, and their numbers kept as redirects.
2. None known, and the subject is reply-like (Re:, Fwd:, AW:, SV: ... after any
   [tags]): the post joins the live thread of the list with the same normalised
   subject whose last post is within WINDOW of it (the latest such), but only a
   thread whose confidential flag equals the post's: the subject fallback never
   changes what is confidential, in either direction. The map row records
   joined_by_subject, so later code can tell such a join from a reference.
   A confidential post never joins by subject, and a confidential thread
   stores no subject (it is cleared when a thread turns confidential):
   threads.subject must not keep what retention purges or what a list keeping
   no confidential content never stores.
3. Otherwise the post starts a new thread.
Every referenced Message-ID not yet known gets a placeholder row in the post's
thread, so a parent that arrives late (out of order) finds its replies, and a
post that links two conversations merges them. Nothing recurses: each step is a
loop over a post's references, and thread merges are an alias table.

Performance: a Threader works on a batch. load() reads the map rows, threads and
subject candidates the whole batch needs in three queries; assign() runs in
memory; save() writes with a few executemany calls. The pipeline threads a batch
of one post, `archive import` batches of hundreds; both run the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import aiosqlite

from listserv.confidential import thread as confidential_thread
from listserv.store import Store, messages
from listserv.store import confidential as store_confidential
from listserv.store import threads as store

WINDOW = 30 * 86400  # seconds: a reply found by subject only joins a thread active within this time of it
MAX_REFERENCES = 100  # referenced ids considered per post, the nearest ones: bounds what one message can cost
# One leading reply/forward marker ("Re:", "RE[2]:", "Fwd:", "AW:", "SV:", "Antw:", "WG:", "Rif:", "Odp:")
_REPLY = re.compile(r"(?:re|fwd?|aw|sv|antw|wg|rif|odp)\s*(?:\[\d+\]|\^\d+)?\s*:\s*", re.IGNORECASE)
_TAG = re.compile(r"\[[^\[\]]{0,80}\]\s*")  # one leading [list] or [CONFIDENTIAL] tag
_SPACE = re.compile(r"\s+")


def _strip(subject: str) -> tuple[str, bool]:
    """(subject without leading tags and reply markers, whether a reply marker was among them)."""
    text, reply = subject.strip(), False
    while True:  # each round removes one prefix, so this ends within len(subject) rounds
        found = _TAG.match(text) or _REPLY.match(text)
        if not found or found.end() == 0:
            return text, reply
        reply = reply or found.re is _REPLY
        text = text[found.end():]


def normalised_subject(subject: str) -> str:
    """The subject as threads compare it: tags and reply markers removed, case and spacing folded.

    >>> normalised_subject("Re: [team] RE: Fwd:  Looking for an  Expert ")
    'looking for an expert'
    >>> normalised_subject("AW: SV: Re[2]: Records")
    'records'
    >>> normalised_subject("[CONFIDENTIAL] Re: help")
    'help'
    >>> normalised_subject("Regarding the hearing")
    'regarding the hearing'
    """
    return _SPACE.sub(" ", _strip(subject)[0]).strip().casefold()


def is_reply_subject(subject: str) -> bool:
    """True when the subject carries a reply or forward marker (possibly after [tags]).

    >>> is_reply_subject("[team] Re: school records"), is_reply_subject("Fwd: notes")
    (True, True)
    >>> is_reply_subject("School records"), is_reply_subject("Report: Re: x"), is_reply_subject("Regarding x")
    (False, False, False)
    """
    return _strip(subject)[1]


@dataclass(frozen=True)
class Post:
    """What threading needs to know of one post."""

    message_id: str  # without angle brackets; never empty
    in_reply_to: str = ""  # In-Reply-To Message-ID, '' when absent
    references: tuple[str, ...] = ()  # References Message-IDs, oldest first
    subject: str = ""  # decoded subject (list prefix or not: both are stripped)
    date: float = 0.0  # Date as unix time
    confidential: bool = False  # the post itself is confidential
    archive_id: int | None = None  # messages.id when its content is stored

    def parents(self) -> list[str]:
        """The referenced Message-IDs, without repeats or the post's own, the nearest MAX_REFERENCES.

        >>> Post("c", "b", ("a", "b", "c")).parents()
        ['a', 'b']
        """
        ids = [*self.references, self.in_reply_to]
        unique = list(dict.fromkeys(i for i in ids if i and i != self.message_id))
        return unique[-MAX_REFERENCES:]


def post_from_row(row: dict) -> Post:
    """The Post of an archive row (the dict given to store.messages.add, or a messages row)."""
    return Post(
        message_id=row["message_id"], in_reply_to=row.get("in_reply_to") or "",
        references=tuple((row.get("refs") or "").split()), subject=row.get("subject") or "",
        date=float(row["date"]), confidential=bool(row.get("confidential")), archive_id=row.get("id"),
    )


class Threader:
    """Threads a batch of posts of one list against a snapshot of the thread map, then writes the result."""

    def __init__(self, list_id: int, found: list[dict], threads: list[dict], next_id: int) -> None:
        self.list_id = list_id
        self.map = {row["message_id"]: row for row in found}  # Message-ID -> thread_map row (thread may be an alias)
        self.threads = {row["id"]: row for row in threads}  # thread id -> threads row, with running figures
        self.subjects: dict[str, list[int]] = {}  # normalised subject -> thread ids (subject fallback)
        for row in threads:
            if row["merged_into"] is None and row["subject"]:
                self.subjects.setdefault(row["subject"], []).append(row["id"])
        self.alias: dict[int, int] = {}  # merged thread -> the thread it went into
        self.next_id = next_id
        self.new: set[int] = set()  # threads created in this batch and still live
        self.merged: list[int] = []  # stored threads merged away in this batch
        self.changed: set[int] = set()  # threads whose figures changed
        self.dirty: set[str] = set()  # Message-IDs whose map row must be written

    @classmethod
    async def load(cls, db: aiosqlite.Connection, list_id: int, posts: Sequence[Post]) -> "Threader":
        """Read what threading these posts can touch: their map rows, those rows' threads, subject candidates."""
        ids = {post.message_id for post in posts} | {ref for post in posts for ref in post.parents()}
        found = await store.map_rows(db, list_id, ids)
        subjects = {normalised_subject(p.subject) for p in posts if is_reply_subject(p.subject)} - {""}
        since = min((post.date for post in posts), default=0.0) - WINDOW
        candidates = await store.by_subjects(db, list_id, subjects, since) if subjects else []
        wanted = {row["thread_id"] for row in found} - {row["id"] for row in candidates}
        threads = candidates + (await store.by_ids(db, wanted) if wanted else [])
        return cls(list_id, found, threads, await store.next_id(db))

    def find(self, thread: int) -> int:
        """The live thread a (possibly merged) thread id stands for now."""
        root = thread
        while root in self.alias:
            root = self.alias[root]
        while thread != root:  # shorten the path for the next lookup
            self.alias[thread], thread = root, self.alias[thread]
        return root

    def thread_of(self, message_id: str) -> int:
        """The live thread of a Message-ID this threader has seen or loaded."""
        return self.find(self.map[message_id]["thread_id"])

    def is_confidential(self, thread: int) -> bool:
        """Whether the live thread a (possibly merged) thread id stands for is confidential now."""
        return bool(self.threads[self.find(thread)]["confidential"])

    def assign(self, post: Post) -> int:
        """Put one post in a thread (see the module docstring); returns the thread id as of now."""
        own = self.map.get(post.message_id)
        if own is not None and own["seen"]:
            return self._seen_again(own, post)
        known = [self.find(self.map[ref]["thread_id"]) for ref in post.parents() if ref in self.map]
        if own is not None:
            known.append(self.find(own["thread_id"]))
        by_subject = False
        if known:
            thread = self._merge(known)
        else:
            thread = self._by_subject(post)
            by_subject = thread is not None
            thread = thread if thread is not None else self._new(post)
        self._record(post, thread, by_subject)
        for ref in post.parents():
            self._reference(ref, thread, post.confidential)
        return thread

    def _seen_again(self, own: dict, post: Post) -> int:
        """A post already in the map (e.g. kept without content before): only add what is new."""
        thread = self.find(own["thread_id"])
        if post.archive_id is not None or post.confidential:
            own["archive_id"] = post.archive_id if post.archive_id is not None else own["archive_id"]
            own["confidential"] = max(own["confidential"], int(post.confidential))
            self.threads[thread]["confidential"] |= int(post.confidential)
            self.dirty.add(post.message_id)
            self.changed.add(thread)
        return thread

    def _merge(self, found: list[int]) -> int:
        """One live thread for all of found: the oldest (lowest id) takes in the others."""
        target, *others = sorted(set(found))
        into = self.threads[target]
        for other in others:
            row = self.threads[other]
            into["started"], into["last"] = min(into["started"], row["started"]), max(into["last"], row["last"])
            into["messages"] += row["messages"]
            into["confidential"] = max(into["confidential"], row["confidential"])
            self.alias[other] = target
            if other in self.new:
                self.new.discard(other)  # never written: nothing to re-point
            else:
                self.merged.append(other)
        self.changed.add(target)
        return target

    def _by_subject(self, post: Post) -> int | None:
        """The latest live thread with the post's normalised subject, in the time window, equally confidential."""
        subject = normalised_subject(post.subject)
        if not subject or post.confidential or not is_reply_subject(post.subject):
            return None
        best = None
        for thread in {self.find(t) for t in self.subjects.get(subject, ())}:
            row = self.threads[thread]
            if bool(row["confidential"]) != post.confidential:
                continue
            if row["last"] < post.date - WINDOW or row["started"] > post.date + WINDOW:
                continue
            if best is None or (row["last"], row["id"]) > (best["last"], best["id"]):
                best = row
        return None if best is None else best["id"]

    def _new(self, post: Post) -> int:
        thread, subject = self.next_id, "" if post.confidential else normalised_subject(post.subject)
        self.next_id += 1
        self.threads[thread] = {
            "id": thread, "list_id": self.list_id, "subject": subject, "started": post.date, "last": post.date,
            "messages": 0, "confidential": 0, "merged_into": None,
        }
        self.new.add(thread)
        if subject:
            self.subjects.setdefault(subject, []).append(thread)
        return thread

    def _record(self, post: Post, thread: int, by_subject: bool) -> None:
        """The post's own map row (seen) and its thread's figures."""
        row = self.map.setdefault(post.message_id, {"message_id": post.message_id, "archive_id": None, "confidential": 0})
        row.update(
            thread_id=thread, seen=1, date=post.date, joined_by_subject=int(by_subject),
            archive_id=post.archive_id if post.archive_id is not None else row["archive_id"],
            confidential=max(row["confidential"], int(post.confidential)),
        )
        figures = self.threads[thread]
        figures["messages"] += 1
        figures["started"], figures["last"] = min(figures["started"], post.date), max(figures["last"], post.date)
        figures["confidential"] = max(figures["confidential"], int(post.confidential))
        self.changed.add(thread)
        self.dirty.add(post.message_id)

    def _reference(self, ref: str, thread: int, confidential: bool) -> None:
        """A referenced id: a placeholder in the thread when unknown; a confidential post marks its placeholders."""
        row = self.map.get(ref)
        if row is None:
            self.map[ref] = {
                "message_id": ref, "thread_id": thread, "seen": 0, "archive_id": None, "date": None,
                "confidential": int(confidential), "joined_by_subject": 0,
            }
            self.dirty.add(ref)
        elif confidential and not row["seen"] and not row["confidential"]:
            row["confidential"] = 1
            self.dirty.add(ref)

    def set_archive_id(self, message_id: str, archive_id: int) -> None:
        """Record where a threaded post's content was stored."""
        self.map[message_id]["archive_id"] = archive_id
        self.dirty.add(message_id)

    async def save(self, db: aiosqlite.Connection) -> None:
        """Write the batch: new threads, merges, changed figures, then every touched map row."""
        await store.insert_threads(db, [self.threads[t] for t in sorted(self.new)])
        for old in self.merged:
            await store.merge(db, old, self.find(old))
        live = sorted({self.find(t) for t in self.changed} - self.new)
        await store.update_threads(db, [self.threads[t] for t in live])
        rows = [{**self.map[m], "thread_id": self.thread_of(m)} for m in sorted(self.dirty)]
        await store.upsert_map(db, self.list_id, rows)


async def assign_thread(
    db: aiosqlite.Connection, list_id: int, message_id: str, in_reply_to: str, references: Sequence[str],
    subject: str, date: float, confidential: bool = False, archive_id: int | None = None,
) -> int:
    """Thread one post and record it in the thread map (inside the caller's write transaction); returns its thread.

    For a post kept without content (archive_id None); archive_posts() threads
    and stores posts together. Raises ValueError for an empty Message-ID.
    """
    if not message_id:
        raise ValueError("a post needs a Message-ID to be threaded")
    post = Post(message_id, in_reply_to, tuple(references), subject, date, confidential, archive_id)
    threader = await Threader.load(db, list_id, [post])
    threader.assign(post)
    await threader.save(db)
    return threader.thread_of(message_id)


async def archive_posts(
    db: aiosqlite.Connection, list_id: int, rows: Sequence[dict], thread_confidential: bool = False
) -> list[int]:
    """Thread and store posts (dicts as for store.messages.add, new Message-IDs only), in order; returns their ids.

    Runs inside the caller's write transaction: the rows, the threads and the
    map commit together. thread_confidential (the importer's choice; the
    pipeline decides confidentiality in its confidential stage): a post in a
    confidential thread is stored confidential and recorded with the
    Message-IDs it names in the confidential ids (store.confidential), as the
    pipeline's confidential stage records the posts it distributes. The other
    stored copies of a thread that becomes confidential here (posts archived
    before, held posts, queued copies) are the caller's to re-mark, with
    listserv.confidential.thread.remark, as the importer does.
    """
    posts = [post_from_row(row) for row in rows]
    threader = await Threader.load(db, list_id, posts)
    for post in posts:
        threader.assign(post)
    for row in rows:
        row["thread_id"] = threader.thread_of(row["message_id"])
        if thread_confidential and threader.is_confidential(row["thread_id"]):
            row["confidential"] = True
    ids = await messages.add_many(db, list_id, rows)
    for row in rows:
        threader.set_archive_id(row["message_id"], ids[row["message_id"]])
    await threader.save(db)
    if thread_confidential:
        await _remember_confidential(db, list_id, [row for row in rows if row["confidential"]])
    return [ids[row["message_id"]] for row in rows]


async def _remember_confidential(db: aiosqlite.Connection, list_id: int, rows: list[dict]) -> None:
    """Record confidential posts and the ids they name, so replies on any list are recognised as confidential."""
    for row in rows:
        named = [*(row.get("refs") or "").split(), row.get("in_reply_to") or ""]
        await store_confidential.add(db, list_id, row["message_id"], row.get("date"), named)


async def thread_unthreaded(store: Store, list_id: int | None = None, batch: int = 1000) -> int:
    """Thread the archived posts that have no thread yet (archived before threading existed), oldest first.

    `archive reindex` runs it; returns how many posts were threaded.
    """
    done = 0
    while rows := await messages.unthreaded(store.db, list_id, batch):
        await store.write(_thread_rows, rows)
        done += len(rows)
    return done


async def _thread_rows(db: aiosqlite.Connection, rows: list[dict]) -> None:
    by_list: dict[int, list[dict]] = {}
    for row in rows:
        by_list.setdefault(row["list_id"], []).append(row)
    for list_id, group in by_list.items():
        posts = [post_from_row(row) for row in group]
        threader = await Threader.load(db, list_id, posts)
        for post in posts:
            threader.assign(post)
        await threader.save(db)
        await messages.set_thread_ids(db, [(threader.thread_of(row["message_id"]), row["id"]) for row in group])
        # a post joining a confidential thread (a merge ORs the flag) takes every stored copy of it along
        joined = [r["message_id"] for r in group if threader.is_confidential(threader.thread_of(r["message_id"]))]
        if joined:
            await confidential_thread.remark(db, list_id, joined)

