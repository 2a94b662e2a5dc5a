"""`serve` as a real process: every configuration or start-up error is one line and an exit, never a hang.

Each run has a timeout: a server that keeps running after its error (a stray
task, an open database thread) fails the test instead of hanging the suite.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
EXIT_WITHIN = 30  # seconds; a healthy failure takes well under one


def serve(config_file: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `listserv --config F serve ARGS` to its end; TimeoutExpired (a failed test) if it does not end."""
    command = [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_file), "serve", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=EXIT_WITHIN)


def error_lines(done: subprocess.CompletedProcess) -> list[str]:
    return [line for line in done.stderr.splitlines() if line.startswith("listserv: error: ")]


def write(tmp_path: Path, text: str) -> Path:
    """A configuration with the given tables, its database in tmp_path/data (existing) unless text sets one, and
    the web pages on any free port (not the default 8080, which another process on the machine may hold)."""
    (tmp_path / "data").mkdir(exist_ok=True)
    storage = "" if "[storage]" in text else f'[storage]\ndatabase = "{tmp_path / "data" / "listserv.db"}"\n'
    path = tmp_path / "listserv.toml"
    path.write_text(storage + text + ("" if "[web]" in text else "[web]\nport = 0\n"))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("text, fragment", [
    ('[delivery]\ntransport = "ftp://x"\n', "[delivery] transport: expected"),
    ("[server]\nport = 99999\n", "[server] port: expected a port number from 0 to 65535, got 99999"),
    ("[server]\nmax_message_size = 0\n", "[server] max_message_size"),
    ('[delivery]\ntransport = "smtp://relay.example.org:70000"\n', "[delivery] transport"),
    ("[delivery]\nconnections = 0\n", "[delivery] connections"),
], ids=["transport-scheme", "port-range", "size-zero", "smarthost-port", "no-connections"])
def test_a_configuration_error_exits_2_before_anything_starts(tmp_path, text, fragment):
    """A bad value: exit 2, exactly one error line naming it, no database created, and the process ends."""
    done = serve(write(tmp_path, text))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == error_lines(done) and len(error_lines(done)) == 1, done.stderr
    assert fragment in done.stderr
    assert not (tmp_path / "data" / "listserv.db").exists()


@pytest.mark.slow
def test_an_outbox_that_cannot_be_made_exits_1(tmp_path):
    """A maildir outbox under a file: exit 1 at start, one line naming it, rather than a server failing every copy."""
    (tmp_path / "blocker").write_text("a file where the outbox's parent should be")
    done = serve(write(tmp_path, f'[delivery]\ntransport = "maildir:{tmp_path / "blocker" / "outbox"}"\n'
                                 f"[server]\nport = {free_port()}\n"))
    assert done.returncode == 1, done.stderr
    assert error_lines(done) == [error_lines(done)[0]] and "cannot create the outbox" in done.stderr
    assert str(tmp_path / "blocker" / "outbox") in done.stderr


@pytest.mark.slow
def test_a_taken_port_exits_1_before_any_worker_runs(tmp_path):
    """Port in use: one error line, exit 1; the workers never started (a second server must not deliver)."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = serve(write(tmp_path, ""), "--port", str(port))
    assert done.returncode == 1
    assert error_lines(done) == [error_lines(done)[0]] and f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "delivery started" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("setup, fragment", [
    ("missing-directory", "does not exist"),
    ("not-a-database", "file is not a database"),
    ("a-directory", "cannot open database"),
], ids=["missing-directory", "not-a-database", "a-directory"])
def test_a_database_that_cannot_be_opened_exits_1(tmp_path, setup, fragment):
    """Database directory missing, file not SQLite, path a directory: exit 1, one error line, the process ends."""
    database = tmp_path / "data" / "listserv.db"
    if setup == "missing-directory":
        database = tmp_path / "gone" / "listserv.db"
    else:
        database.parent.mkdir()
        if setup == "not-a-database":
            database.write_text("these are not the pages of an SQLite database, and never were\n" * 20)
        else:
            database.mkdir()
    config_file = tmp_path / "listserv.toml"
    config_file.write_text(f'[storage]\ndatabase = "{database}"\n[server]\nport = {free_port()}\n')
    done = serve(config_file)
    assert done.returncode == 1
    assert len(error_lines(done)) == 1 and fragment in error_lines(done)[0], done.stderr
    assert not (tmp_path / "gone").exists()


# A bug put into the periodic jobs of a real `serve` process (there is no real one to trigger from outside).
BROKEN_WORKER = """
import cli
from listserv import periodic

async def broken(*args, **kwargs):
    raise RuntimeError("a bug in a periodic job")

periodic.tick = broken
cli.main()
"""


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_whole_server_with_exit_1(tmp_path):
    """A worker ending on a bug (here: the periodic jobs) stops serve with one error line and exit 1, not a
    server that goes on listening without it."""
    config_file = write(tmp_path, f"[server]\nport = {free_port()}\n")
    command = [sys.executable, "-c", BROKEN_WORKER, "--config", str(config_file), "serve"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=EXIT_WITHIN)
    assert done.returncode == 1, done.stderr
    [line] = error_lines(done)
    assert line.startswith("listserv: error: the server stopped: its periodic worker failed with RuntimeError at ")
    assert line.endswith(" in broken")
    assert "a bug in a periodic job" not in done.stderr  # a worker's exception text may hold content
