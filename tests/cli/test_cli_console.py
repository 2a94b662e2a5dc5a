"""The installed `listserv` console script as a real process: help, first use, and `serve` up and down."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port


def console_script() -> str:
    """The `listserv` script installed next to this interpreter (setup.cfg's console_scripts entry)."""
    beside = Path(sys.executable).with_name("listserv")
    found = str(beside) if beside.exists() else shutil.which("listserv")
    assert found, "the listserv console script is not installed: pip install -e '.[test]'"
    return found


def fresh_config(tmp_path: Path) -> Path:
    """A configuration whose database does not exist yet, in a directory that does (as `listserv init` leaves it);
    the web pages on any free port, not the default 8080 another process on the machine may hold."""
    (tmp_path / "new-dir").mkdir()
    config_file = tmp_path / "listserv.toml"
    config_file.write_text(f'[storage]\ndatabase = "{tmp_path / "new-dir" / "listserv.db"}"\n[web]\nport = 0\n')
    return config_file


def test_console_script_help_and_first_use(tmp_path):
    """`listserv --help` works, and `lists ls` on a fresh configuration creates the database and lists nothing."""
    script = console_script()
    shown = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "Usage: listserv" in shown.stdout
    config_file = fresh_config(tmp_path)
    listed = subprocess.run([script, "--config", str(config_file), "lists", "ls"], capture_output=True, text=True, timeout=60)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "no lists\n", "")
    assert (tmp_path / "new-dir" / "listserv.db").exists()


def test_console_script_error_contract(tmp_path):
    """The real process keeps the contract too: an unknown list exits 1 with one stderr line."""
    command = [console_script(), "--config", str(fresh_config(tmp_path)), "lists", "show", "nope@example.org"]
    shown = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert shown.returncode == 1
    assert shown.stderr == "listserv: error: no such list: nope@example.org\n"


@pytest.mark.slow
def test_serve_with_overrides_then_sigterm(tmp_path):
    """`serve --port P --lmtp` listens on P speaking LMTP, and SIGTERM stops it with exit 0."""
    port = free_port()
    command = [console_script(), "--config", str(fresh_config(tmp_path)), "serve", "--port", str(port), "--lmtp"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout.readline().strip() == f"listserv: serving on 127.0.0.1:{port}"
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn, conn.makefile("rb") as greeting:
                assert greeting.readline().startswith(b"220")
                conn.sendall(b"LHLO test.example\r\n")
                assert greeting.readline().startswith(b"250")
                conn.sendall(b"QUIT\r\n")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_serve_on_a_taken_port_exits_1(tmp_path):
    """`serve` on a port someone else holds ends with exit 1 and a last stderr line naming the address."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        command = [console_script(), "--config", str(fresh_config(tmp_path)), "serve", "--port", str(port)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1].startswith(f"listserv: error: cannot listen on 127.0.0.1:{port}")
