"""README's five-minute tour, pasted as it is into a shell beside a running `listserv serve`, does what it says."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli_console import console_script
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
MAILDIR_NAME = re.compile(r"\d+\.M\d+P\d+Q\d+")  # a file name in a maildir, as `ls` lists it
TOUR_PORT = "8025"  # the port the tour's commands name (the configuration's default)
WEB_PORT = "8080"  # [web] port of the shipped file: another test run may hold it


def tour_blocks() -> list[str]:
    """The ```sh blocks of README's "A five-minute tour", in order."""
    readme = (ROOT / "README.md").read_text()
    tour = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", tour, re.S)


def tour_directory(tmp_path: Path, port: int) -> Path:
    """A directory laid out like the repository root for the tour: config/listserv.toml on a free port."""
    config = (ROOT / "config" / "listserv.toml").read_text()
    assert f"port = {TOUR_PORT}\n" in config
    (tmp_path / "config").mkdir()
    config = config.replace(f"port = {TOUR_PORT}\n", f"port = {port}\n", 1)
    assert f"port = {WEB_PORT}\n" in config
    config = config.replace(f"port = {WEB_PORT}\n", f"port = {free_port()}\n", 1)  # the web pages: any free port
    (tmp_path / "config" / "listserv.toml").write_text(config)
    (tmp_path / "archives").mkdir(mode=0o700)
    return tmp_path


@pytest.mark.slow
def test_the_tour_runs_as_written(tmp_path):
    """Every command of the tour succeeds in order (the shell stops at the first failure): the members are
    listed, the outbox holds the four copies when `ls` looks, and the stranger's post is held, shown and
    approved."""
    port = free_port()
    where = tour_directory(tmp_path, port)
    script = "\n".join(block.replace(TOUR_PORT, str(port)) for block in tour_blocks())
    env = {**os.environ, "PATH": f"{Path(console_script()).parent}{os.pathsep}{Path(sys.executable).parent}"
                                 f"{os.pathsep}{os.environ.get('PATH', '')}"}
    with subprocess.Popen([console_script(), "serve"], cwd=where, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout.readline().strip() == f"listserv: serving on 127.0.0.1:{port}"
            done = subprocess.run(["bash", "-e", "-c", script], cwd=where, env=env, capture_output=True, text=True,
                                  timeout=120)
        finally:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=30)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "imported 2, already members 0, repeated in file 0, invalid 0" in out
    assert re.search(r"eve@example\.org\s+Eve Chan\s+member\s+regular", out)
    listed = [line for line in out.splitlines() if MAILDIR_NAME.match(line)]
    assert len(listed) == 4, out  # what `ls archives/outbox/new/` showed: ann, bob, dee, eve
    assert "nonmember: stranger@example.com is not a member of team@example.org" in out
    assert "approved 1" in out
