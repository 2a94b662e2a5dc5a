"""`archive import`'s parse workers end with the importer: kill -9 the importer and none of them is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import write_config

ROOT = Path(__file__).resolve().parents[2]
LIST = "team@example.org"
MESSAGES = 6000  # ~23 MB: above importer.SMALL, so parsed by workers, and seconds of work on 2 cores
WORKERS = 2
BATCH_BACK = 100_000  # bytes: more than a worker writes while it starts, less than one parsed batch


def children(parent: int) -> dict[int, bytes]:
    """The live (not zombie) processes whose parent is `parent`, with their command lines, read from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _state(int(entry)) not in (None, "Z") and _parent(int(entry)) == parent:
            found[int(entry)] = _read(f"/proc/{entry}/cmdline")
    return found


def alive(pids) -> list[int]:
    """The pids still running (a zombie waiting to be reaped has ended)."""
    return [pid for pid in pids if _state(pid) not in (None, "Z")]


def _stat_fields(pid: int) -> list[str] | None:
    text = _read(f"/proc/{pid}/stat").decode(errors="replace")
    return text.rsplit(")", 1)[1].split() if text else None  # the command name may hold spaces and ')'


def _state(pid: int) -> str | None:
    fields = _stat_fields(pid)
    return fields[0] if fields else None


def _parent(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields else None


def written(pid: int) -> int:
    """Bytes the process has written so far (/proc/PID/io wchar): a worker writes each parsed batch back."""
    for line in _read(f"/proc/{pid}/io").decode(errors="replace").splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:  # the process ended while we looked
        return b""


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what} not within {timeout} s"
        time.sleep(0.05)
    return found


@pytest.fixture(scope="module")
def big_mbox(tmp_path_factory) -> Path:
    """A generated discussion mbox (bench/mbox_gen.py), large enough to be parsed by worker processes.

    Made once for the module: only read by the tests, and generating it takes a second or two.
    """
    path = tmp_path_factory.mktemp("mbox") / "big.mbox"
    subprocess.run([sys.executable, str(ROOT / "bench" / "mbox_gen.py"), str(path), "--count", str(MESSAGES)],
                   check=True, capture_output=True, timeout=120)
    return path


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the workers through /proc")
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_importer_leaves_no_worker_behind(tmp_path, settings, big_mbox, signum):
    """kill -9 (or SIGTERM, or Ctrl-C's SIGINT to the importer alone) to `listserv archive import` once its
    workers parse: every child process is gone within seconds."""
    config_file = write_config(tmp_path, settings)
    assert CliRunner().invoke(main, ["--config", str(config_file), "lists", "create", LIST]).exit_code == 0
    importer = subprocess.Popen(
        [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_file),
         "archive", "import", LIST, str(big_mbox), "--workers", str(WORKERS)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        def workers_parsing() -> dict[int, bytes]:
            assert importer.poll() is None, "the import ended before its workers were seen"
            found = children(importer.pid)
            workers = [pid for pid, command in found.items() if b"spawn_main" in command]
            # Both started, and one has written a parsed batch back: the import is under way, not starting.
            return found if len(workers) == WORKERS and any(written(pid) > BATCH_BACK for pid in workers) else {}

        before = wait_for(workers_parsing, 60, f"{WORKERS} workers parsing")
        importer.send_signal(signum)
        status = importer.wait(timeout=30)
        assert status == (-signum if signum != signal.SIGINT else 1)  # Ctrl-C: "listserv: error: aborted"
        wait_for(lambda: not alive(before), 5, f"the end of every child of the importer ({sorted(before)})")
    finally:
        if importer.poll() is None:
            importer.kill()
            importer.wait()


def test_a_worker_whose_parent_is_already_gone_ends_at_once():
    """A worker that starts after its importer died (its parent is not the importer any more) exits at once."""
    gone_parent = os.getpid() + 1  # not this test process, the worker's real parent: as if the importer died
    code = "from listserv.archive import parse_workers as w; w.die_with_parent(%d); import time; time.sleep(60)"
    done = subprocess.run([sys.executable, "-c", code % gone_parent], cwd=ROOT, capture_output=True, timeout=30)
    assert (done.returncode, done.stderr) == (1, b"")


def test_a_worker_with_its_parent_alive_keeps_running():
    """The same start with the real parent's pid: the worker carries on (here: prints and exits 0)."""
    code = "import os; from listserv.archive import parse_workers as w; w.die_with_parent(os.getppid()); print('working')"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, timeout=30)
    assert (done.returncode, done.stdout) == (0, b"working\n")
