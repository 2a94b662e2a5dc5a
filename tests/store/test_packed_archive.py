"""The packed archive (0018_packed_archive.sql, listserv.store.packing): raw messages come back byte for byte,
with or without a trained dictionary, in any process; an archive of the old layout is packed in place, with
progress, and searches as before."""

from __future__ import annotations

import sqlite3
import threading

import aiosqlite
import pytest

from listserv import lists
from listserv.archive.compact import compact
from listserv.archive.search import search
from listserv.store import Store, dictionaries, messages, migrate, packing, repack, search_index
from tests.conftest import CORPUS

LIST = "team@example.org"


def corpus() -> list[bytes]:
    """Every real message of the test corpus (odd charsets, 8-bit bytes, bare LF and CRLF, broken MIME)."""
    return [p.read_bytes() for folder in ("cpython-email", "bounces") for p in sorted((CORPUS / folder).iterdir())
            if p.name != "manifest.json"]


def generated(number: int) -> bytes:
    """A post of a discussion: enough alike for a dictionary to learn from, each one different."""
    return (f"From: Member {number % 7} <m{number % 7}@example.org>\r\nSubject: Re: expert witness fees {number}\r\n"
            f"Message-ID: <g{number}@example.org>\r\n\r\nOn the budget for case {number}: the psychologist's"
            f" report costs {number * 13} dollars.\r\n> earlier question {number - 1}\r\n-- \r\nMember {number % 7}\r\n"
            ).encode()


def forget_dictionaries(monkeypatch) -> None:
    """As in a process that has not met the archive's dictionaries yet (the pipeline's, a CLI command's)."""
    monkeypatch.setattr(packing, "_dictionaries", {})
    monkeypatch.setattr(packing, "_local", threading.local())


async def test_every_corpus_message_comes_back_byte_for_byte(store):
    """Packed without a dictionary and with one trained on the archive: raw() and the export give the exact bytes."""
    team = await lists.create(store, LIST)
    originals = corpus()
    await _add_all(store, team.id, originals, "plain")
    samples = [generated(n) for n in range(packing.TRAIN_MIN + 50)]
    await store.write(dictionaries.add, packing.train(samples), len(samples))
    await _add_all(store, team.id, originals + samples, "trained")
    rows = await messages.for_list(store.db, team.id)
    for row in rows:
        kind, number = row["message_id"].split("-")
        assert await messages.raw(store.db, row["id"]) == (originals + samples)[int(number)], row["message_id"]
    exported = await messages.export_page(store.db, team.id, (0.0, 0), 1000, None, None, True)
    assert sorted(row["raw"] for row in exported) == sorted(originals * 2 + samples)


async def _add_all(store: Store, list_id: int, raws: list[bytes], kind: str) -> None:
    for number, raw in enumerate(raws):
        await store.write(messages.add, list_id, {"message_id": f"{kind}-{number}", "date": float(number),
                                                  "raw": raw, "search_text": "words"})


async def test_a_dictionary_packs_small_posts_smaller_and_is_found_by_another_process(store, monkeypatch):
    """Posts packed with the trained dictionary take less room than without it; a process that has not met the
    dictionary reads it from the database, for raw() and for search snippets (the SQL function)."""
    team = await lists.create(store, LIST)
    samples = [generated(n) for n in range(packing.TRAIN_MIN + 50)]
    without = sum(len(packing.pack(raw, "", None)) for raw in samples)
    trained = packing.train(samples)
    with_it = sum(len(packing.pack(raw, "", trained)) for raw in samples)
    assert with_it < without * 0.6
    await store.write(dictionaries.add, trained, len(samples))
    archive_id = await store.write(messages.add, team.id, {
        "message_id": "new@example.org", "date": 1.0, "raw": generated(9999), "search_text": "fees for the psychologist"})
    forget_dictionaries(monkeypatch)
    assert await messages.raw(store.db, archive_id) == generated(9999)
    forget_dictionaries(monkeypatch)
    [found] = await search(store.db, team.id, "psychologist")
    assert found["id"] == archive_id and "**psychologist**" in found["snippet"]


async def test_a_purged_or_rawless_post_has_no_raw(store):
    """A post stored without its raw message gives None, not empty bytes; purged, its text is gone too."""
    team = await lists.create(store, LIST)
    archive_id = await store.write(messages.add, team.id, {"message_id": "t@x", "date": 1.0, "body_text": "only text"})
    assert await messages.raw(store.db, archive_id) is None
    assert (await search_index.fields(store.db, archive_id))["search_text"] == "only text"
    await store.write(messages.mark_confidential, ["t@x"])
    assert await store.write(messages.purge_confidential, team.id, 10.0**10, 10.0**10) == [archive_id]
    assert (await search_index.fields(store.db, archive_id))["search_text"] == ""
    assert await search(store.db, team.id, "text", include_confidential=True) == []
    await store.write(search_index.integrity_check)


async def test_the_migration_packs_an_archive_of_the_old_layout_in_place(tmp_path, monkeypatch, capsys):
    """An archive written by the code before migration 0018 (raw, body_text, search_text columns) is packed on
    open: every raw message exact, a dictionary trained on it, progress lines on stderr, the old columns gone,
    the index rebuilt (search and snippets as before), a purged post still without content."""
    path = tmp_path / "old.db"
    everything = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: [m for m in everything if m[0] < 18])
    old = await Store.open(path)
    team = await lists.create(old, LIST)
    raws = corpus() + [generated(n) for n in range(packing.TRAIN_MIN * 2)]
    await old.write(_old_posts, team.id, raws)
    await old.close()
    monkeypatch.setattr(migrate, "migrations", lambda: everything)
    monkeypatch.setattr(repack, "PROGRESS_EVERY", 100)
    monkeypatch.setattr(repack, "BATCH", 50)
    forget_dictionaries(monkeypatch)
    upgraded = await Store.open(path)
    try:
        rows = await messages.for_list(upgraded.db, team.id)
        assert [await messages.raw(upgraded.db, row["id"]) for row in rows] == raws + [None]
        assert await dictionaries.current(upgraded.db) is not None
        lines = capsys.readouterr().err.splitlines()
        total = len(raws) + 1
        assert lines[-2] == f"listserv: packing the archive (migration 0018): {total} of {total} posts"
        assert lines[-1].endswith("`listserv archive compact` gives them back to the disk")
        assert len(lines) == total // 100 + 2
        columns = [row[1] for row in await upgraded.db.execute_fetchall("PRAGMA table_info(messages)")]
        assert not {"raw", "body_text", "search_text"} & set(columns)
        found = await search(upgraded.db, team.id, '"expert witness" psychologist')
        assert len(found) == 20 and all("**psychologist**" in row["snippet"] for row in found)
        assert await search(upgraded.db, team.id, "vanished", include_confidential=True) == []
        await upgraded.write(search_index.integrity_check)
    finally:
        await upgraded.close()


async def _old_posts(db: aiosqlite.Connection, list_id: int, raws: list[bytes]) -> None:
    """The posts as the code before 0018 archived them (its triggers index them), then a purged one."""
    for number, raw in enumerate(raws):
        body = raw.split(b"\r\n\r\n", 1)[-1].decode("utf-8", "replace")
        await db.execute(
            "INSERT INTO messages (list_id, message_id, date, received_at, subject, body_text, search_text, raw)"
            " VALUES (?, ?, ?, 0, 'expert witness', ?, ?, ?)", (list_id, f"old-{number}", float(number), body, body, raw),
        )
    await db.execute(
        "INSERT INTO messages (list_id, message_id, date, received_at, confidential, purged_at, raw)"
        " VALUES (?, 'purged@x', 0, 0, 1, 5.0, NULL)", (list_id,),
    )


@pytest.mark.parametrize("raw", [b"", b"\x00\xff\r\n", "caf\u00e9 \u2013 na\u00efve".encode() * 500])
def test_pack_and_unpack_are_exact(raw):
    """Any bytes and any text come back exactly, split where they were joined."""
    text = "search words, caf\u00e9"
    assert packing.unpack(packing.pack(raw, text, None), len(raw)) == (raw, text)


async def test_compact_packs_a_mail_fed_archive_with_its_first_dictionary(store):
    """An archive without a dictionary (no import, posts by mail): compact trains one on its posts and packs them
    again with it: smaller, every raw message exact, the index untouched and consistent, a second compact a no-op."""
    team = await lists.create(store, LIST)
    raws = [generated(n) for n in range(packing.TRAIN_MIN + 50)]
    for number, raw in enumerate(raws):
        await store.write(messages.add, team.id, {"message_id": f"p{number}@x", "date": float(number), "raw": raw,
                                                  "search_text": f"psychologist report {number}"})
    before = await _packed_bytes(store)
    await compact(store)
    assert await dictionaries.current(store.db) is not None
    assert await _packed_bytes(store) < before * 0.6
    rows = await messages.for_list(store.db, team.id)
    assert [await messages.raw(store.db, row["id"]) for row in rows] == raws
    assert len(await search(store.db, team.id, "psychologist", limit=500)) == len(raws)
    await store.write(search_index.integrity_check)
    assert await store.write(repack.with_first_dictionary) == 0


async def _packed_bytes(store: Store) -> int:
    rows = await store.db.execute_fetchall("SELECT sum(length(packed)) FROM messages")
    return rows[0][0]


async def test_the_dictionary_is_found_in_a_directory_with_uri_characters(tmp_path, monkeypatch):
    """A database whose path holds '#', '?', '%' and a space: the SQL function still reads its dictionary."""
    directory = tmp_path / "lists #1?a%20b"
    directory.mkdir()
    store = await Store.open(directory / "listserv.db")
    try:
        team = await lists.create(store, LIST)
        samples = [generated(n) for n in range(packing.TRAIN_MIN + 20)]
        await store.write(dictionaries.add, packing.train(samples), len(samples))
        await store.write(messages.add, team.id, {"message_id": "u@x", "date": 1.0, "raw": generated(1),
                                                  "search_text": "the psychologist's fees"})
        forget_dictionaries(monkeypatch)
        [found] = await search(store.db, team.id, "psychologist")
        assert "**psychologist's**" in found["snippet"] or "**psychologist**" in found["snippet"]
    finally:
        await store.close()


async def test_a_failing_python_step_leaves_the_old_database(tmp_path, monkeypatch):
    """A Python step that fails rolls the whole migration back: the next open finds the old layout and packs it."""
    path = tmp_path / "old.db"
    everything = migrate.migrations()
    monkeypatch.setattr(migrate, "migrations", lambda: [m for m in everything if m[0] < 18])
    old = await Store.open(path)
    team = await lists.create(old, LIST)
    await old.write(_old_posts, team.id, [generated(1)])
    await old.close()
    monkeypatch.setattr(migrate, "migrations", lambda: everything)

    async def broken(db):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(migrate.STEPS, "pack_archive", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        await Store.open(path)
    monkeypatch.setitem(migrate.STEPS, "pack_archive", repack.pack_archive)
    again = await Store.open(path)
    try:
        [row, _] = await messages.for_list(again.db, team.id)
        assert await messages.raw(again.db, row["id"]) == generated(1)
    finally:
        await again.close()


async def test_another_program_can_read_but_not_change_archived_posts(store, tmp_path):
    """A plain SQLite connection (the sqlite3 shell) reads the archive's rows, but a change that would leave the
    index out of step fails: only listserv's connections have the function that unpacks the indexed text."""
    team = await lists.create(store, LIST)
    await store.write(messages.add, team.id, {"message_id": "r@x", "date": 1.0, "raw": generated(1), "search_text": "w"})
    other = sqlite3.connect(tmp_path / "listserv.db")
    try:
        assert other.execute("SELECT message_id FROM messages").fetchall() == [("r@x",)]
        with pytest.raises(sqlite3.OperationalError, match="no such function: archive_search_text"):
            other.execute("DELETE FROM messages")
    finally:
        other.close()
    assert await messages.count(store.db, team.id) == 1
