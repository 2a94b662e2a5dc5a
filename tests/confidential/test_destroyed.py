"""Destroyed means destroyed, while the server runs: read every file next to the database as bytes, as an
auditor would, after each way content is destroyed (CLI purge, the daemon's retention, inbound processing,
delivery, giving up, lists delete) and find none of the words.

The archive keeps posts compressed (listserv.store.packing: zstd frames), in which a word is not found by
reading bytes; so every zstd frame found anywhere in a file (live rows, free pages, the write-ahead log) is
decompressed too, with the database's dictionaries, and the words looked for in what it holds.

The daemon is the real one (intake over SMTP, pipeline, delivery to the sink) and keeps running while the
files are read; the CLI runs as a separate set of connections, as `listserv archive purge` would.
"""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
import time
from dataclasses import replace
from email.utils import formatdate
from pathlib import Path

import zstandard
from click.testing import CliRunner

from cli import main
from listserv import audit, config, lists
from listserv.daemon import Daemon
from listserv.pipeline import process
from listserv.store import Store, dictionaries, members, messages, migrate, outbound, packing, threads
from listserv.store import confidential as confidential_ids
from listserv.store import inbound as store_inbound
from tests.conftest import write_config
from tests.delivery.helpers import Clock
from tests.e2e.helpers import LIST, make_list, send

DAY = 86400.0
WORDS = ("Quillfeather", "Zanzibarian", "Xylophonic")  # found in no other text of these tests
STEMS = tuple(word[:8].casefold().encode() for word in WORDS)  # the search index keeps stems, lower-cased
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # the start of every zstd frame


def post(subject: str = f"[CONFIDENTIAL] {WORDS[0]} sentencing", when: float | None = None, number: int = 1) -> bytes:
    """A post from ann carrying the secret words in subject and body, dated `when` (default now)."""
    lines = ["From: Ann <ann@example.org>", f"To: {LIST}", f"Subject: {subject}",
             f"Date: {formatdate(when or time.time())}", f"Message-ID: <d{number}@example.org>"]
    body = f"Defendant {WORDS[1]} disclosed a prior {WORDS[2]} conviction.\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def leftovers(directory: Path) -> dict[str, list[bytes]]:
    """Every file under directory (database, -wal, -shm, outbox, anything) that holds a secret stem, plainly or
    in a zstd frame, and which."""
    found, known = {}, _dictionaries(directory)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        data = path.read_bytes()
        content = (data + unpacked(data, known)).lower()
        if hits := [stem for stem in STEMS if stem in content]:
            found[path.name] = hits
    return found


def unpacked(data: bytes, known: dict[int, bytes]) -> bytes:
    """What every zstd frame in these bytes holds, as far as each decompresses (a frame cut by a page
    boundary still gives its beginning)."""
    found, start = [], data.find(ZSTD_MAGIC)
    while start >= 0:
        found.append(_frame(data[start:], known))
        start = data.find(ZSTD_MAGIC, start + 1)
    return b"".join(found)


def _frame(data: bytes, known: dict[int, bytes]) -> bytes:
    try:
        dictionary_id = zstandard.get_frame_parameters(data).dict_id
        dictionary = zstandard.ZstdCompressionDict(known[dictionary_id]) if dictionary_id else None
        reader = zstandard.ZstdDecompressor(dict_data=dictionary).stream_reader(io.BytesIO(data), read_across_frames=False)
    except (zstandard.ZstdError, KeyError):  # not a frame after all, or an unknown dictionary: not readable
        return b""
    out = b""
    try:
        while chunk := reader.read(256):
            out += chunk
    except zstandard.ZstdError:
        pass
    return out


def _dictionaries(directory: Path) -> dict[int, bytes]:
    """The archive's packing dictionaries (listserv.store.dictionaries), read from the database if there is one."""
    path = directory / "listserv.db"
    if not path.exists():
        return {}
    reader = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)
    try:
        return dict(reader.execute("SELECT id, data FROM archive_dictionaries").fetchall())
    except sqlite3.OperationalError:  # a database from before the dictionaries
        return {}
    finally:
        reader.close()


async def gone(directory: Path, timeout: float = 10.0) -> dict[str, list[bytes]]:
    """Wait until no file holds a secret stem (the daemon acts on its own time); returns what is left then."""
    deadline = time.monotonic() + timeout
    while (left := leftovers(directory)) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return left


async def test_cli_purge_while_the_daemon_runs_leaves_no_word_in_any_file(server, sink, cli, tmp_path):
    """`archive purge` from the CLI while the daemon serves: at once, no file holds a word, and the daemon goes on."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "confidential_retention_days", "1")).exit_code == 0
    await send(server.port, post(when=time.time() - 3 * DAY), "ann@example.org")
    await sink.wait_for(lambda: len(sink.received) >= 1)
    assert "listserv.db" in leftovers(tmp_path) or "listserv.db-wal" in leftovers(tmp_path)  # archived: it is there
    result = await cli("archive", "purge", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"list": LIST, "archived": 1, "held": 0}]
    assert leftovers(tmp_path) == {}
    await send(server.port, post("Still serving", number=2).replace(WORDS[1].encode(), b"someone"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.received) >= 2)


async def test_the_daemons_own_retention_run_leaves_no_word_in_any_file(smtp_settings, sink, cli, tmp_path):
    """The daemon's daily retention, its clock moved two days on: the words leave every file while it runs."""
    clock = Clock()
    daemon = Daemon(smtp_settings, clock=clock, tick=0.05)
    await daemon.start()
    try:
        await make_list(cli)
        assert (await cli("lists", "set", LIST, "confidential_retention_days", "1")).exit_code == 0
        await send(daemon.port, post(), "ann@example.org")
        await sink.wait_for(lambda: len(sink.received) >= 1)
        await asyncio.sleep(0.2)  # a few ticks: nothing is due yet
        assert leftovers(tmp_path) != {}
        clock.advance(2 * DAY)
        assert await gone(tmp_path) == {}
    finally:
        await daemon.stop()


async def test_processed_and_delivered_posts_leave_no_copy_outside_the_archive(server, sink, cli, tmp_path):
    """A list that keeps no archive: once the post is processed and delivered, neither the inbound queue
    nor the outbound queue keeps its bytes in any file, while the daemon runs."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "archive", "no")).exit_code == 0
    await send(server.port, post("Ordinary words: Quillfeather notes"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.received) >= 1)
    assert await gone(tmp_path) == {}


async def test_a_given_up_delivery_leaves_no_copy(server, sink, cli, tmp_path):
    """Every recipient refused for good (550): the batch is given up and its content leaves every file."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "archive", "no")).exit_code == 0
    for address in ("ann@example.org", "bob@example.org", "cy@example.org"):
        sink.fail_rcpt[address] = "550 5.1.1 no such user"
    await send(server.port, post(), "ann@example.org")
    await _wait_until(lambda: _count(tmp_path, "SELECT count(*) FROM delivery_failures") >= 2)
    assert await gone(tmp_path) == {}


async def test_lists_delete_while_the_daemon_runs_removes_every_word_and_reports_the_space(server, sink, cli, tmp_path):
    """`lists delete` with the daemon running: archive, held post and index go from every file at once,
    the file shrinks, and --json reports the bytes before and after."""
    await make_list(cli)
    for number in range(1, 21):
        await send(server.port, post(number=number) + b"x" * 20000 + b"\r\n", "ann@example.org")
    await send(server.port, post(number=99).replace(b"ann@example.org", b"stranger@example.com"), "stranger@example.com")
    await _wait_until(lambda: _count(tmp_path, "SELECT count(*) FROM held") == 1)
    await sink.wait_for(lambda: len(sink.received) >= 20)
    assert leftovers(tmp_path) != {}
    result = await cli("lists", "delete", LIST, "--yes", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["address"] == LIST and report["bytes_before"] - report["bytes_after"] == report["bytes_freed"]
    assert report["bytes_freed"] > 20 * 20000
    assert leftovers(tmp_path) == {}
    assert _count(tmp_path, "SELECT count(*) FROM inbound") == 0  # its processed rows named only this list


def _count(directory: Path, sql: str) -> int:
    """One number read with a plain, short-lived connection (closed at once: it must not hold a snapshot)."""
    db = sqlite3.connect(directory / "listserv.db")
    try:
        return db.execute(sql).fetchone()[0]
    finally:
        db.close()


async def _wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_a_reader_holding_an_old_snapshot_makes_purge_fail_with_one_line(smtp_settings, store, tmp_path):
    """A connection that keeps reading an old snapshot keeps the log from emptying: `archive purge` says so
    in one line, exit 1, after [storage] checkpoint_wait; once the reader lets go, `archive compact` cleans up."""
    await _archive_confidential(store)
    await store.write(outbound.withdraw, 1)  # bob's copy, as if delivered: the archived text is all that is left
    listserv = _impatient_cli(smtp_settings, tmp_path)
    reader = _old_snapshot(tmp_path)
    result = await listserv("archive", "purge")
    assert result.exit_code == 1
    _assert_busy_line(result.stderr)
    assert leftovers(tmp_path) != {}  # the old pages: exactly what the error warns of
    reader.close()
    result = await listserv("archive", "compact", "--json")
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.output)) == {"bytes_before", "bytes_after", "bytes_freed"}
    assert leftovers(tmp_path) == {}


async def test_a_reader_holding_an_old_snapshot_makes_lists_delete_fail_with_one_line(smtp_settings, store, tmp_path):
    """The same for `lists delete`: the list is gone, the one-line error names the remedy, and compact finishes it."""
    await _archive_confidential(store)
    listserv = _impatient_cli(smtp_settings, tmp_path)
    reader = _old_snapshot(tmp_path)
    result = await listserv("lists", "delete", LIST, "--yes")
    assert result.exit_code == 1
    _assert_busy_line(result.stderr)
    reader.close()
    result = await listserv("archive", "compact")
    assert result.exit_code == 0 and result.output.startswith("database "), result.output
    assert leftovers(tmp_path) == {} and await lists.find(store, LIST) is None


def _impatient_cli(smtp_settings, directory: Path):
    """Run the CLI (in a thread) with a configuration whose checkpoint_wait is 0.2 s."""
    storage = replace(smtp_settings.storage, checkpoint_wait=0.2)
    path = write_config(directory, replace(smtp_settings, storage=storage))

    async def invoke(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, main, ["--config", str(path), *args])

    return invoke


def _old_snapshot(directory: Path) -> sqlite3.Connection:
    """Another program's connection in the middle of a read transaction begun now (close it to let go)."""
    reader = sqlite3.connect(directory / "listserv.db", isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM messages").fetchone()
    return reader


def _assert_busy_line(stderr: str) -> None:
    assert len(stderr.splitlines()) == 1
    assert stderr.startswith("listserv: error: deleted content may still be in listserv.db-wal:")
    assert stderr.endswith("run `listserv archive compact` once it is done\n")


async def test_lists_delete_takes_the_queue_failures_audit_and_inbound_rows_of_the_list(store, tmp_path):
    """Deleting a list also drops its queued copies, delivery failures, audit rows and the inbound rows
    addressed to it alone; a row also addressed to another list keeps its metadata; nothing is left in any file."""
    mlist = await _archive_confidential(store)
    other = await lists.create(store, "other@example.org")
    both = await store.write(store_inbound.enqueue, "ann@example.org", [LIST, other.address], b"x", "127.0.0.1")
    await store.write(store_inbound.mark_processed, both, {})
    await store.write(outbound.record_failures, mlist.id, 1, [("bob@example.org", 550, "no such user")])
    assert await outbound.count(store.db) == 1 and await audit.entries(store, LIST) != []
    deleted = await lists.delete(store, LIST)
    assert deleted.space.bytes_freed > 0 and deleted.space.bytes_after == store.size()
    assert await outbound.count(store.db) == 0 and await outbound.failures(store.db) == []
    left = [(row["action"], row["list"], row["object"]) for row in await audit.entries(store)]
    assert left == [("delete-list", None, f"list:{LIST}"), ("create-list", other.address, f"list:{other.address}")]
    assert await threads.for_list(store.db, mlist.id) == [] and await confidential_ids.for_list(store.db, mlist.id) == []
    assert [row["id"] for row in await store_inbound.processed_envelopes(store.db, 0, 10)] == [both]
    assert leftovers(tmp_path) == {}
    reused = await lists.create(store, LIST)  # may be given the same id: inherits nothing
    assert [row["action"] for row in await audit.entries(store, reused.address)] == ["create-list"]
    assert await messages.count(store.db, reused.id) == 0


async def test_old_processed_inbound_rows_lose_their_raw_bytes_on_upgrade(tmp_path, monkeypatch):
    """Migration 0007: rows processed before this version kept their bytes; the upgrade empties them, while
    an unprocessed row keeps its bytes for the pipeline to redo."""
    path = tmp_path / "old.db"
    everything = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: [m for m in everything if m[0] < 7])
    old = await Store.open(path)
    done = await old.write(_old_enqueue, post())
    second = post(number=2)  # built once: its Date header is the current second
    waiting = await old.write(_old_enqueue, second)
    await old.write(lambda db: db.execute("UPDATE inbound SET processed_at = 1 WHERE id = ?", (done,)))
    await old.close()
    monkeypatch.setattr(migrate, "migrations", lambda: everything)
    upgraded = await Store.open(path)
    try:
        assert (await store_inbound.get(upgraded.db, done))["raw"] == b""
        assert (await store_inbound.get(upgraded.db, waiting))["raw"] == second
    finally:
        await upgraded.close()


async def _old_enqueue(db, raw: bytes) -> int:
    """An inbound row as a version before migration 0012 (no helo column) wrote it."""
    row = await db.execute_insert(
        "INSERT INTO inbound (received_at, mail_from, rcpt_tos, peer, raw) VALUES (?, ?, ?, ?, ?)",
        (time.time(), "ann@example.org", json.dumps([LIST]), "127.0.0.1", raw),
    )
    return row[0]


async def _archive_confidential(store) -> lists.MailingList:
    """LIST with members ann and bob, purging after a day, and one back-dated confidential post through the
    real pipeline: archived, queued for bob, inbound row processed."""
    mlist = await lists.create(store, LIST)
    for address in ("ann@example.org", "bob@example.org"):
        await store.write(members.add, mlist.id, {"address": address})
    await lists.set_setting(store, LIST, "confidential_retention_days", "1")
    inbound_id = await store.write(store_inbound.enqueue, "ann@example.org", [LIST], post(when=time.time() - 3 * DAY),
                                   "127.0.0.1")
    settings = config.Settings()
    await process(store, settings, await store_inbound.get(store.db, inbound_id))
    assert await messages.count(store.db, mlist.id) == 1
    return mlist


async def test_the_file_check_reads_packed_posts(store, tmp_path):
    """The check is not blind to compression: an archived post's words are not in its packed bytes, yet the
    check finds them in the zstd frames of the files, with or without a trained dictionary."""
    mlist = await _archive_confidential(store)
    [row] = await messages.for_list(store.db, mlist.id)
    packed = await store.db.execute_fetchall("SELECT packed FROM messages WHERE id = ?", (row["id"],))
    assert not [stem for stem in STEMS if stem in packed[0][0].lower()]
    framed = b"".join(unpacked(path.read_bytes(), {}) for path in tmp_path.glob("listserv.db*")).lower()
    assert [stem for stem in STEMS if stem in framed] == list(STEMS)
    await _archive_with_dictionary(store, mlist)
    known = _dictionaries(tmp_path)
    assert known, "a dictionary was trained and kept"
    framed = b"".join(unpacked(path.read_bytes(), known) for path in tmp_path.glob("listserv.db*")).lower()
    assert WORDS[2].casefold().encode() + b" dictionary" in framed


async def _archive_with_dictionary(store, mlist: lists.MailingList) -> None:
    """A dictionary trained as an import trains it, then one post packed with it."""
    samples = [post(f"Sample {n}", number=n + 10) for n in range(packing.TRAIN_MIN + 20)]
    await store.write(dictionaries.add, packing.train(samples), len(samples))
    body = f"{WORDS[2]} dictionary words".encode()
    await store.write(messages.add, mlist.id, {"message_id": "dict@example.org", "date": time.time(),
                                               "raw": b"Subject: s\r\n\r\n" + body, "search_text": body.decode()})
    assert packing.dictionary_of((await store.db.execute_fetchall("SELECT packed FROM messages ORDER BY id DESC"))[0][0])
