"""mbox reading, import and export on a real store: the corpus, malformed entries, duplicates, round trips."""

from __future__ import annotations

import email.utils
import io
import os
import stat
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from listserv import lists, membership
from listserv.archive import exporter, importer, mbox
from listserv.archive.extract import Context, archive_row
from listserv.errors import BadMbox, CannotExport, NotAllowed, NoSuchList
from listserv.store import audit, messages, search_index
from listserv.store import confidential as store_confidential
from tests.archive.conftest import day
from tests.conftest import CORPUS, mbox_messages

LIST = "team@example.org"
NESTED = b"From: a@x.org\nSubject: deep\n" + b"".join(
    b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n) for n in range(3000))
MALFORMED = (  # entries an mbox from the wild may hold, each with the reason the import gives
    (b"", "empty message"),
    (NESTED, "cannot be parsed (RecursionError)"),
    (b"the second half of a message whose From line was not escaped\nmore body\n", "no header lines"),
    (b"\x00\xff\xfe garbage \x80\x81\n\n\n", "no header lines"),
)


def post(mid: str, subject: str, when: str, body: str = "Plain text.", sender: str = "ann@example.org", **headers) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = LIST
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(day(when))
    msg["Message-ID"] = f"<{mid}>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return bytes(msg)


def as_mbox(messages_: list[bytes], envelope: bytes = b"From ann@example.org Tue Jan  1 10:00:00 2019") -> bytes:
    """An mboxrd file of these messages (the way our export writes one)."""
    return b"".join(envelope + b"\n" + mbox.escape(raw) for raw in messages_)


def corpus_files() -> list[Path]:
    """Every message file of both corpus folders (the manifests are not messages)."""
    return sorted(p for folder in ("cpython-email", "bounces") for p in (CORPUS / folder).iterdir()
                  if p.name != "manifest.json")


@pytest.fixture
async def team(store):
    return await lists.create(store, LIST)


def write(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# ---- reading -----------------------------------------------------------------------------


def test_entries_are_cut_at_envelope_lines_whatever_the_block_size():
    """From_ lines (also pipermail's 'x at y' and CRLF files) separate messages; block size changes nothing."""
    data = (b"From ann at example.org  Tue Jan  1 10:00:00 2019\nSubject: a\n\nbody a\n\n"
            b"From bob@example.org Wed Jan  2 11:00:00 2019\r\nSubject: b\r\n\r\nbody b\r\n\r\n"
            b"From MAILER-DAEMON Thu Jan  3 12:00 +0000 2019\nSubject: c\n\nbody c\n")
    expected = [(1, 0, b"Subject: a\n\nbody a\n"), (2, data.index(b"From bob"), b"Subject: b\r\n\r\nbody b\r\n"),
                (3, data.index(b"From MAILER"), b"Subject: c\n\nbody c\n")]
    for block in (1, 7, 64, 1 << 20):
        found = [(e.number, e.offset, e.data) for e in mbox.entries(io.BytesIO(data), block)]
        assert found == expected, block
        assert [data[offset:offset + 5] for _, offset, _ in found] == [b"From "] * 3


def test_a_body_line_starting_with_from_does_not_split_a_message():
    """mboxo archives leave 'From the ...' in bodies unescaped; only envelope-looking lines separate."""
    data = b"From a@x Tue Jan  1 10:00:00 2019\nSubject: a\n\nHello,\n\nFrom the records we got:\nmore\n"
    (entry,) = mbox.entries(io.BytesIO(data))
    assert entry.data.endswith(b"From the records we got:\nmore\n")


def test_mboxrd_unescaping_and_escaping_are_inverse():
    """>From loses one '>' on reading; export adds one to ^>*From lines; the bytes survive a round trip."""
    raw = b"Subject: x\n\nFrom here\n>From quoted\n>>From twice\nnot From\n"
    exported = b"From a@x Tue Jan  1 10:00:00 2019\n" + mbox.escape(raw)
    assert b"\n>From here\n>>From quoted\n>>>From twice\nnot From\n\n" in exported
    (entry,) = mbox.entries(io.BytesIO(exported))
    assert entry.data == raw


def test_the_first_line_starts_a_message_even_without_a_date():
    """The file's first 'From ' line need not look like an envelope; later ones must."""
    data = b"\n\nFrom someone\nSubject: a\n\nbody\nFrom nobody in particular\n"
    (entry,) = mbox.entries(io.BytesIO(data))
    assert entry.offset == 2 and entry.data == b"Subject: a\n\nbody\nFrom nobody in particular\n"


def test_an_entry_over_the_size_limit_is_reported_and_the_next_is_read(monkeypatch):
    """A message larger than MAX_ENTRY (or a single endless line) is skipped as data=None, never held whole."""
    monkeypatch.setattr(mbox, "MAX_ENTRY", 1000)
    big = b"From a@x Tue Jan  1 10:00:00 2019\nSubject: big\n\n" + b"x" * 5000 + b"\n" + b"y\n" * 3000
    long_line = b"From b@x Tue Jan  1 10:00:00 2019\nSubject: long\n\n" + b"z" * 5000 + b"\n"
    small = b"From c@x Tue Jan  1 10:00:00 2019\nSubject: small\n\nok\n"
    found = list(mbox.entries(io.BytesIO(big + long_line + small), 100))
    assert [(e.number, e.offset, e.data) for e in found] == [
        (1, 0, None), (2, len(big), None), (3, len(big + long_line), b"Subject: small\n\nok\n")]


def test_the_envelope_date_is_read_for_messages_without_a_date_header():
    """The From_ line's date (asctime, optional zone) becomes the post's date when Date: is missing."""
    entry = mbox.Entry(1, 0, b"From ann at x.org  Tue Jan  1 10:00:00 2019", b"")
    assert entry.envelope_date() == day("2019-01-01T10:00")
    assert mbox.Entry(1, 0, b"From someone", b"").envelope_date() is None
    row, _ = archive_row(b"From: ann@x.org\nSubject: no date\n\nbody\n", entry.envelope_date(), Context("", "x", 5.0))
    assert row["date"] == day("2019-01-01T10:00")


def test_archive_row_reads_pipermail_addresses_and_strips_the_list_prefix():
    """'ann at example.org (Ann Lee)' is ann@example.org; '[team] Re: x' is stored as 'Re: x'."""
    raw = b"From: ann at example.org (Ann Lee)\nSubject: [team] Re: =?utf-8?q?caf=C3=A9?=\n\nbody\n"
    row, defective = archive_row(raw, None, Context("[team]", "example.org", 0.0))
    assert (row["sender"], row["sender_name"], row["subject"]) == ("ann@example.org", "Ann Lee", "Re: café")
    assert row["message_id"].startswith("listserv.") and row["message_id"].endswith("@example.org")
    assert defective is False


# ---- import ------------------------------------------------------------------------------


async def test_the_whole_corpus_imports_without_stopping(settings, store, team, tmp_path):
    """Every corpus file (both folders) plus three malformed entries: all accounted for, nothing stops the import.

    cpython-email/msg_19.txt is a digest body without a single header line:
    inside an mbox that is a fragment, so it is reported like the three others.
    """
    files = corpus_files()
    data = as_mbox([p.read_bytes() for p in files] + [raw for raw, _ in MALFORMED])
    report = await importer.import_mbox(store, LIST, write(tmp_path, "corpus.mbox", data), workers=1, settings=settings)
    headerless = [n + 1 for n, p in enumerate(files) if p.name == "msg_19.txt"]
    assert len(files) == 107
    assert report.imported + report.duplicates + len(headerless) == len(files)
    assert [(number, reason) for number, _, reason in report.malformed] == [
        (headerless[0], "no header lines (a piece of another message?)"),
        *((len(files) + n + 1, f"{reason} (a piece of another message?)" if reason.startswith("no header") else reason)
          for n, (_, reason) in enumerate(MALFORMED))]
    offsets = [offset for _, offset, _ in report.malformed]
    assert all(data[offset:offset + 5] == b"From " for offset in offsets)
    assert report.defective > 0 and await messages.count(store.db, team.id) == report.imported
    assert report.malformed_lines()[1] == f"skipped message {len(files) + 1} at byte {offsets[1]}: empty message"


async def test_worker_processes_give_the_same_result(settings, store, team, tmp_path, monkeypatch):
    """The pool path (spawned parse workers) imports exactly what the in-process path does."""
    data = as_mbox([p.read_bytes() for p in corpus_files()] + [raw for raw, _ in MALFORMED])
    path = write(tmp_path, "corpus.mbox", data)
    monkeypatch.setattr(importer, "SMALL", 0)
    monkeypatch.setattr(importer, "BATCH", 16)
    pooled = await importer.import_mbox(store, LIST, path, workers=2, settings=settings)
    other = await lists.create(store, "other@example.org")
    here = await importer.import_mbox(store, other.address, path, workers=1, settings=settings)
    assert (pooled.imported, pooled.duplicates, pooled.malformed, pooled.defective) == (
        here.imported, here.duplicates, here.malformed, here.defective)
    ours = {r["message_id"]: await _search_text(store, r) for r in await messages.for_list(store.db, team.id)}
    theirs = {r["message_id"]: await _search_text(store, r) for r in await messages.for_list(store.db, other.id)}
    assert ours == theirs


async def test_duplicates_are_skipped_and_counted(settings, store, team, tmp_path):
    """A Message-ID seen earlier in the file or already archived is skipped; a second run imports nothing."""
    posts = [post("d1@x.org", "one", "2024-01-01"), post("d2@x.org", "two", "2024-01-02")]
    path = write(tmp_path, "dups.mbox", as_mbox(posts + [posts[0]]))
    first = await importer.import_mbox(store, LIST, path, settings=settings)
    again = await importer.import_mbox(store, LIST, path, settings=settings)
    assert (first.imported, first.duplicates) == (2, 1)
    assert (again.imported, again.duplicates) == (0, 3)
    assert await messages.count(store.db, team.id) == 2


async def test_import_refuses_what_is_not_an_mbox(settings, store, team, tmp_path):
    """An empty file, a single message without a From_ line, and a directory: BadMbox, nothing imported."""
    empty = write(tmp_path, "empty.mbox", b"\n\n")
    single = write(tmp_path, "one.eml", post("x@x.org", "x", "2024-01-01"))
    for path, text in ((empty, "is empty"), (single, "is not an mbox"), (tmp_path, "cannot read")):
        with pytest.raises(BadMbox, match=text):
            await importer.import_mbox(store, LIST, path, settings=settings)
    with pytest.raises(NoSuchList):
        await importer.import_mbox(store, "nope@example.org", single, settings=settings)
    assert await messages.count(store.db, team.id) == 0


async def test_imported_posts_are_threaded_and_confidential_threads_marked(settings, store, team, tmp_path):
    """Threads come from the references; a [CONFIDENTIAL] reply hides its whole thread, replies included."""
    posts = [
        post("c1@x.org", "Expert needed", "2024-01-01T10:00"),
        post("c2@x.org", "Re: [CONFIDENTIAL] Expert needed", "2024-01-02T10:00", In_Reply_To="<c1@x.org>"),
        post("c3@x.org", "Re: Expert needed", "2024-01-03T10:00", References="<c1@x.org> <c2@x.org>"),
        post("p1@x.org", "Training", "2024-01-04T10:00", Sensitivity="Company-Confidential"),
        post("o1@x.org", "Other", "2024-01-05T10:00"),
    ]
    await importer.import_mbox(store, LIST, write(tmp_path, "c.mbox", as_mbox(posts)), settings=settings)
    rows = {r["message_id"]: r for r in await messages.for_list(store.db, team.id)}
    assert {m: r["confidential"] for m, r in rows.items()} == {
        "c1@x.org": 1, "c2@x.org": 1, "c3@x.org": 1, "p1@x.org": 1, "o1@x.org": 0}
    known = await store_confidential.known(store.db, ["c1@x.org", "c3@x.org", "p1@x.org", "o1@x.org"])
    assert known == {"c1@x.org", "c3@x.org", "p1@x.org"}


async def test_progress_reports_bytes_and_messages(settings, store, team, tmp_path, monkeypatch):
    """The progress callback gets (bytes read, messages) after every batch."""
    monkeypatch.setattr(importer, "BATCH", 2)
    posts = [post(f"g{n}@x.org", f"s{n}", "2024-01-01") for n in range(5)]
    calls = []
    await importer.import_mbox(store, LIST, write(tmp_path, "p.mbox", as_mbox(posts)),
                               progress=lambda done, count: calls.append(count), settings=settings)
    assert calls == [2, 4, 5]


# ---- export ------------------------------------------------------------------------------


async def test_export_then_import_gives_the_same_messages(settings, store, team, tmp_path):
    """Round trip: the corpus imported, exported and imported into another list has the same ids and bodies."""
    data = as_mbox([p.read_bytes() for p in corpus_files()])
    await importer.import_mbox(store, LIST, write(tmp_path, "corpus.mbox", data), settings=settings)
    report = await exporter.export_mbox(store, LIST, tmp_path / "out.mbox")
    other = await lists.create(store, "copy@example.org")
    again = await importer.import_mbox(store, other.address, tmp_path / "out.mbox", settings=settings)
    before = {r["message_id"]: (await _search_text(store, r), r["subject"]) for r in await messages.for_list(store.db, team.id)}
    after = {r["message_id"]: (await _search_text(store, r), r["subject"]) for r in await messages.for_list(store.db, other.id)}
    assert report.exported == again.imported == len(before) and again.malformed == []
    assert after == before
    raws = {r["message_id"]: await messages.raw(store.db, r["id"]) for r in await messages.for_list(store.db, team.id)}
    copies = {r["message_id"]: await messages.raw(store.db, r["id"]) for r in await messages.for_list(store.db, other.id)}
    assert {m: raw.rstrip(b"\r\n") for m, raw in raws.items()} == {m: raw.rstrip(b"\r\n") for m, raw in copies.items()}


async def test_mailbox_reads_the_export_back_in_date_order(settings, store, team, tmp_path):
    """Python's mailbox.mbox finds every exported message, oldest first, bodies with From lines intact."""
    posts = [post("late@x.org", "late", "2024-03-01", body="From the start\n>From quoted\n"),
             post("early@x.org", "early", "2024-01-01"), post("mid@x.org", "mid", "2024-02-01")]
    await importer.import_mbox(store, LIST, write(tmp_path, "in.mbox", as_mbox(posts)), settings=settings)
    await exporter.export_mbox(store, LIST, tmp_path / "out.mbox")
    box = mbox_messages(tmp_path / "out.mbox")
    assert [m["Message-ID"] for m in box] == ["<early@x.org>", "<mid@x.org>", "<late@x.org>"]
    assert box[2].get_payload().startswith(">From the start\n>>From quoted")  # mboxrd escaping, as stored
    assert stat.S_IMODE(os.stat(tmp_path / "out.mbox").st_mode) == 0o600


async def test_export_dates_and_confidential_posts(settings, store, team, tmp_path):
    """--after/--before bound the export; confidential posts only for a moderator, each export read audited."""
    posts = [post("e1@x.org", "one", "2024-01-01"), post("e2@x.org", "[CONFIDENTIAL] two", "2024-02-01"),
             post("e3@x.org", "three", "2024-03-01")]
    await importer.import_mbox(store, LIST, write(tmp_path, "in.mbox", as_mbox(posts)), settings=settings)
    ranged = await exporter.export_mbox(store, LIST, tmp_path / "a.mbox", date(2024, 1, 15), date(2024, 3, 1))
    assert (ranged.exported, ranged.confidential_left_out) == (0, 1)
    public = await exporter.export_mbox(store, LIST, tmp_path / "b.mbox")
    assert [m["Message-ID"] for m in mbox_messages(tmp_path / "b.mbox")] == ["<e1@x.org>", "<e3@x.org>"]
    with pytest.raises(NotAllowed):
        await exporter.export_mbox(store, LIST, tmp_path / "c.mbox", moderator="ann@example.org")
    await membership.add(store, LIST, "mod@example.org", role="moderator")
    full = await exporter.export_mbox(store, LIST, tmp_path / "d.mbox", moderator="mod@example.org")
    assert (public.exported, full.exported, full.confidential_left_out) == (2, 3, 0)
    reads = [r for r in await audit.entries(store.db, team.id) if r["action"] == "read-confidential"]
    assert [(r["actor"], r["detail"]) for r in reads] == [("mod@example.org", "export as moderator")]
    assert not (tmp_path / "c.mbox").exists()


async def test_export_never_overwrites_and_leaves_nothing_on_failure(store, team, tmp_path):
    """An existing file is refused; an unwritable place is refused; no partial file is left behind."""
    (tmp_path / "taken.mbox").write_bytes(b"mine")
    with pytest.raises(CannotExport, match="exists"):
        await exporter.export_mbox(store, LIST, tmp_path / "taken.mbox")
    with pytest.raises(CannotExport, match="cannot write"):
        await exporter.export_mbox(store, LIST, tmp_path / "no-such-dir" / "x.mbox")
    assert (tmp_path / "taken.mbox").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["listserv.db", "listserv.db-shm", "listserv.db-wal", "taken.mbox"]


async def _search_text(store, row: dict) -> str:
    """The text extracted from an archived post for search (the body text itself is not stored)."""
    return (await search_index.fields(store.db, row["id"]))["search_text"]
