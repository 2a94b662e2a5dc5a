"""Files that hold posts are the server's user's only: modes as created, the CLI's umask, serve's warning."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from listserv import lists, private_files
from listserv.archive import exporter
from listserv.daemon import Daemon
from listserv.delivery.maildir import MaildirTransport
from listserv.store import Store
from tests.conftest import write_config
from tests.e2e.helpers import LIST, make_list, message, send

ROOT = Path(__file__).resolve().parents[1]
WARNING = "group or others can read or change"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def loose_umask():
    """The umask most shells have (022), restored afterwards: without our own care files would be 0644/0755."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def data_settings(settings, tmp_path):
    """settings with the database in an owner-only directory (as `listserv init` makes it) and the maildir outbox
    in directories the code under test must create."""
    data = tmp_path / "data"
    private_files.make_dir(data / "db")
    return replace(
        settings,
        storage=replace(settings.storage, database=str(data / "db" / "listserv.db")),
        delivery=replace(settings.delivery, transport=f"maildir:{data / 'mail' / 'outbox'}"),
    )


async def test_store_creates_owner_only_database_wal_and_shm(loose_umask, tmp_path):
    """Store.open under umask 022: the database 0600, and SQLite's -wal and -shm 0600."""
    database = tmp_path / "listserv.db"
    store = await Store.open(database)
    try:
        for name in ("listserv.db", "listserv.db-wal", "listserv.db-shm"):
            assert mode(database.parent / name) == 0o600, name
    finally:
        await store.close()


async def test_maildir_copies_are_owner_only(loose_umask, tmp_path):
    """The maildir transport under umask 022: the outbox, its parents and tmp/new/cur 0700, every copy 0600."""
    outbox = tmp_path / "mail" / "outbox"
    results = await MaildirTransport(outbox).send("list@example.org", ["a@example.org", "b@example.org"], b"Subject: x\n\nhi\n")
    assert set(results) == {"a@example.org", "b@example.org"}
    for directory in (tmp_path / "mail", outbox, outbox / "tmp", outbox / "new", outbox / "cur"):
        assert mode(directory) == 0o700, directory
    copies = list((outbox / "new").iterdir())
    assert len(copies) == 2 and all(mode(copy) == 0o600 for copy in copies)


async def test_export_file_is_owner_only(loose_umask, store, tmp_path):
    """An export written through the package (no CLI, umask 022) is 0600."""
    await lists.create(store, LIST)
    await exporter.export_mbox(store, LIST, tmp_path / "out.mbox")
    assert mode(tmp_path / "out.mbox") == 0o600


def test_every_cli_command_sets_an_owner_only_umask(loose_umask, tmp_path, settings):
    """After any command of the CLI ran, the process umask is 077: whatever it creates is owner-only."""
    result = CliRunner().invoke(main, ["--config", str(write_config(tmp_path, settings)), "lists", "ls"])
    assert result.exit_code == 0, result.output
    assert os.umask(0o022) == 0o077


def test_real_cli_creates_owner_only_database_and_export(loose_umask, tmp_path):
    """The CLI as a process under umask 022: `init` makes the data directory 0700, then database 0600, export 0600."""
    command = [sys.executable, "-c", "import cli; cli.main()"]
    site = tmp_path / "site"
    done = subprocess.run(command + ["init", str(site)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    command += ["--config", str(site / "config" / "listserv.toml")]
    for args in (("lists", "create", LIST), ("archive", "export", LIST, str(tmp_path / "out.mbox"))):
        done = subprocess.run(command + list(args), cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    database = site / "archives" / "listserv.db"
    assert (mode(site / "archives"), mode(database), mode(tmp_path / "out.mbox")) == (0o700, 0o600, 0o600)


@pytest.mark.slow
async def test_serving_daemon_keeps_every_file_owner_only_and_does_not_warn(loose_umask, tmp_path, data_settings):
    """`serve` as a process under umask 022 delivering a post to the maildir: database, -wal, -shm, the outbox
    and its copies are owner-only, and it prints no permission warning."""
    config_file = write_config(tmp_path, data_settings)

    async def cli(*args: str):
        return await asyncio.to_thread(CliRunner().invoke, main, ["--config", str(config_file), *args])

    await make_list(cli)
    proc = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_file), "serve"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert "serving" in proc.stdout.readline()
        await send(data_settings.server.port, message("ann@example.org", "hello"), "ann@example.org")
        outbox = Path(data_settings.delivery.transport.partition(":")[2])
        copies = await wait_for_copies(outbox / "new", 3)
        database = Path(data_settings.storage.database)
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm"), *copies]
        assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}
        directories = [database.parent, outbox.parent, outbox, outbox / "tmp", outbox / "new", outbox / "cur"]
        assert {str(path): mode(path) for path in directories} == {str(path): 0o700 for path in directories}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert WARNING not in stderr and "chmod" not in stderr


async def wait_for_copies(new: Path, count: int, timeout: float = 20.0) -> list[Path]:
    """The files in a maildir's new/ once there are `count` of them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = list(new.iterdir()) if new.exists() else []
        if len(found) >= count:
            return found
        assert loop.time() < deadline, f"{len(found)} copies in {new} after {timeout}s"
        await asyncio.sleep(0.05)


async def test_serve_warns_once_naming_every_open_file(tmp_path, data_settings, caplog):
    """A database, -wal, -shm, directory and outbox others can read: one WARNING at start names each, with chmod."""
    database = Path(data_settings.storage.database)
    store = await Store.open(database)
    await store.close()
    outbox = Path(data_settings.delivery.transport.partition(":")[2])
    outbox.mkdir(parents=True)
    os.chmod(database, 0o644)  # SQLite gives the -wal and -shm files it makes next the database's mode
    for directory in (database.parent, outbox):
        os.chmod(directory, 0o755)
    daemon = Daemon(data_settings)
    with caplog.at_level(logging.WARNING):
        await daemon.start()
        await daemon.stop()
    (line,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert WARNING in line
    listed = line.split("posts: ", 1)[1].split("; ", 1)[0].split()
    # outbox/new and the others are not there yet: nothing to warn about
    assert sorted(listed) == sorted(map(str, (database, f"{database}-wal", f"{database}-shm", database.parent, outbox)))
    assert line.endswith("with: chmod go-rwx " + " ".join(listed))


async def test_serve_does_not_warn_when_every_file_is_owner_only(tmp_path, data_settings, caplog):
    """Files created by the package itself draw no warning at start."""
    daemon = Daemon(data_settings)
    with caplog.at_level(logging.WARNING):
        await daemon.start()
        await daemon.stop()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("file_mode, flagged", [
    (0o600, False), (0o400, False), (0o640, True), (0o604, True), (0o620, True), (0o602, True), (0o610, True),
])
def test_any_permission_of_group_or_others_is_flagged(tmp_path, file_mode, flagged):
    """Reading is the leak, but writing lets others alter posts: any group/other bit puts a path in the warning."""
    path = tmp_path / "listserv.db"
    path.write_bytes(b"")
    os.chmod(path, file_mode)
    assert private_files.open_to_others([path, tmp_path / "missing"]) == ([path] if flagged else [])
