"""`archive export LIST -`: the mbox on standard output (for a pipe), the summary on standard error."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from tests.cli.test_cli_archive import LIST, archive  # noqa: F401 (the fixture)

ROOT = Path(__file__).resolve().parents[2]


def test_dash_writes_the_same_mbox_to_stdout_and_the_summary_to_stderr(listserv, archive, tmp_path):  # noqa: F811
    """stdout carries exactly the bytes a file export writes, nothing else; the summary is on stderr."""
    to_file = tmp_path / "file.mbox"
    assert listserv("archive", "export", LIST, str(to_file)).exit_code == 0
    result = listserv("archive", "export", LIST, "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == to_file.read_bytes() and result.stdout_bytes.startswith(b"From ")
    assert result.stderr == "exported 2 messages to standard output; left out 1 confidential and 0 without stored content\n"


def test_dash_takes_the_same_options_and_audits_confidential_reads(listserv, archive):  # noqa: F811
    """--include-confidential --by MODERATOR puts the confidential post on stdout too, and its read is audited."""
    result = listserv("archive", "export", LIST, "-", "--include-confidential", "--by", "mod@example.org")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.count(b"\nFrom ") + 1 == 3 and b"juvenile trauma records" in result.stdout_bytes
    assert "exported 3 messages to standard output" in result.stderr
    audited = json.loads(listserv("audit", "ls", LIST, "--json").stdout)
    assert any(row["action"] == "read-confidential" and "export" in row["detail"] for row in audited)
    ranged = listserv("archive", "export", LIST, "-", "--after", "2024-01-11", "--before", "2024-01-12")
    assert ranged.stdout_bytes.count(b"From ") == 1 and "exported 1 message to standard output" in ranged.stderr


def test_dash_errors_leave_stdout_empty(listserv, archive, fails):  # noqa: F811
    """An unknown list (exit 1) or a confidential export without a moderator's right (exit 1) writes no byte."""
    fails(listserv("archive", "export", "nosuch@example.org", "-"), 1, "nosuch@example.org")
    fails(listserv("archive", "export", LIST, "-", "--include-confidential", "--by", "ann@example.org"), 1)
    fails(listserv("archive", "export", LIST, "-", "--include-confidential"), 2, "--by")


def test_a_file_named_dash_is_written_as_a_path(listserv, archive, tmp_path):  # noqa: F811
    """Only the bare "-" means stdout: a path ending in a file named "-" is a file like any other."""
    result = listserv("archive", "export", LIST, str(tmp_path / "-"))
    assert result.exit_code == 0 and result.stdout.startswith("exported 2 messages to ")
    assert (tmp_path / "-").read_bytes().startswith(b"From ")


def test_a_closed_pipe_is_one_error_line_without_traceback(archive, config_path):  # noqa: F811
    """The reader of the pipe went away (`| head`): one error line, exit 1, and no traceback at exit."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_path), "archive", "export", LIST, "-"],
            cwd=ROOT, stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 1
    assert done.stderr.startswith("listserv: error: cannot write to standard output: ")
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_a_terminal_is_refused_before_anything_is_written(archive, config_path):  # noqa: F811
    """Standard output on a terminal: exit 2 with one line saying to pipe it; no message reaches the screen."""
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import cli; cli.main()", "--config", str(config_path), "archive", "export", LIST, "-"],
            cwd=ROOT, stdout=secondary, stderr=subprocess.PIPE, text=True, timeout=60,
        )
        os.set_blocking(primary, False)
        try:
            shown = os.read(primary, 65536)
        except BlockingIOError:
            shown = b""
    finally:
        os.close(primary)
        os.close(secondary)
    assert done.returncode == 2
    assert done.stderr == ("listserv: error: standard output is a terminal: pipe the export (| gzip > FILE.mbox.gz) "
                           "or name a file\n")
    assert b"From " not in shown
