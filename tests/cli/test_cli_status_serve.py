"""`listserv status` and `[log]` against `listserv serve` run as its own process, as an owner runs them."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from listserv import runstate
from tests.conftest import write_config

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30  # seconds; a command still running after that fails the test instead of hanging it


def listserv(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", "--config", str(config), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def start(config: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--config", str(config), "serve"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert "serving" in proc.stdout.readline()
    return proc


def stop(proc: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    proc.send_signal(signum)
    proc.wait(timeout=TIMEOUT)
    proc.stdout.close()


@pytest.fixture
def config(tmp_path, settings) -> Path:
    return write_config(tmp_path, settings)


def test_status_of_a_running_then_stopped_server(config, settings):
    """Running: exit 0 with serve's pid and address, state file owner-only; after SIGTERM: file gone, exit 1."""
    proc = start(config)
    try:
        result = listserv(config, "status", "--json")
        assert result.returncode == 0, result.stdout + result.stderr
        found = json.loads(result.stdout)
        assert found["server"]["state"] == "running" and found["server"]["pid"] == proc.pid
        assert (found["server"]["host"], found["server"]["port"]) == ("127.0.0.1", settings.server.port)
        state_file = runstate.path_for(settings.storage.database)
        assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
        human = listserv(config, "status")
        assert human.returncode == 0 and human.stdout.splitlines()[0] == "all is well"
    finally:
        stop(proc)
    assert not state_file.exists()
    result = listserv(config, "status")
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "needs attention: the server is not running (start it with `listserv serve`)"


def test_status_after_kill_9_reports_a_crash(config, settings):
    """A server killed with SIGKILL leaves its state file; status sees the pid gone and says so, exit 1."""
    proc = start(config)
    stop(proc, signal.SIGKILL)
    result = listserv(config, "status")
    assert result.returncode == 1
    assert f"process {proc.pid} ended without stopping cleanly" in result.stdout.splitlines()[0]
    restarted = start(config)  # the stale file is replaced by the new server's
    try:
        found = json.loads(listserv(config, "status", "--json").stdout)
        assert found["server"]["state"] == "running" and found["server"]["pid"] == restarted.pid
    finally:
        stop(restarted)


def test_log_file_gets_the_lines_owner_only(tmp_path, settings):
    """[log] file: serve appends its lines there (created 0600), with the local zone's offset in each time."""
    log_file = tmp_path / "listserv.log"
    config = write_config(tmp_path, replace(settings, log=replace(settings.log, file=str(log_file))))
    stop(start(config))
    text = log_file.read_text()
    assert "INFO listserv.daemon: listening on 127.0.0.1:" in text and "+0000 INFO" in text
    assert "listserv.daemon: stopped" in text
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600


def test_log_level_warning_leaves_out_info(tmp_path, settings):
    """[log] level = "WARNING": the routine INFO lines are not written."""
    log_file = tmp_path / "listserv.log"
    config = write_config(tmp_path, replace(settings, log=replace(settings.log, file=str(log_file), level="WARNING")))
    stop(start(config))
    assert "listening on" not in log_file.read_text()


def test_unwritable_log_file_ends_serve_with_one_line(tmp_path, settings):
    """A log file in a directory that does not exist: one error line, exit 1, nothing left running."""
    missing = tmp_path / "no-such-dir" / "listserv.log"
    config = write_config(tmp_path, replace(settings, log=replace(settings.log, file=str(missing))))
    result = listserv(config, "serve")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"listserv: error: cannot write the log file {missing}: No such file or directory"]
    assert not runstate.path_for(settings.storage.database).exists()


def test_bad_log_level_is_a_configuration_error(tmp_path):
    """[log] level must be one of the level names: anything else is one line, exit 2."""
    config = tmp_path / "bad.toml"
    config.write_text('[log]\nlevel = "LOUD"\n')
    result = listserv(config, "status")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"listserv: error: {config}: [log] level: expected one of DEBUG, INFO, WARNING, ERROR, got 'LOUD'"]


def test_default_log_goes_to_stderr_in_local_time(config, time_zone):
    """[log] file = "": the lines go to standard error, each time with the zone offset (CET: +0100, summer +0200)."""
    time_zone("CET-1CEST,M3.5.0,M10.5.0/3")
    proc = subprocess.Popen([sys.executable, "-c", "import cli; cli.main()", "--config", str(config), "serve"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "serving" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0100 INFO listserv.daemon: listening on ", err, re.MULTILINE)
