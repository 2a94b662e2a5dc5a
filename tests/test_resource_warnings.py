"""The suite's own configuration fails a test that leaks a file or a socket, even one found only by the
garbage collector, so the suite stays clean under `-W error::ResourceWarning` without anyone passing it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LEAKS = '''
import gc
import socket


def test_leaks_a_file():
    open(__file__, "rb")  # never closed: the warning comes from the file object's __del__
    gc.collect()


def test_leaks_a_socket():
    socket.socket()
    gc.collect()


def test_closes_what_it_opens():
    with open(__file__, "rb") as handle, socket.socket() as sock:
        assert handle.read(1) and sock.fileno() >= 0
'''


def test_setup_cfg_turns_leaks_into_failures(tmp_path):
    """With setup.cfg's filterwarnings alone, a leaked file and a leaked socket fail their tests; a test that
    closes what it opens passes."""
    (tmp_path / "test_leaky.py").write_text(LEAKS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(ROOT / "setup.cfg"),
         "--rootdir", str(tmp_path), str(tmp_path / "test_leaky.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1, done.stdout
    assert "2 failed, 1 passed" in done.stdout, done.stdout
    assert "ResourceWarning: unclosed file" in done.stdout and "ResourceWarning: unclosed <socket.socket" in done.stdout
