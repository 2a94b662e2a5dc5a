"""`archive export` onto a name that is taken: a symlink (dangling or not) or a file is refused, and left as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

LIST = "team@example.org"
SECRET = b"someone else's file\n"


@pytest.fixture
def team(listserv):
    assert listserv("lists", "create", LIST).exit_code == 0


def untouched_link(link: Path, target: Path) -> None:
    assert link.is_symlink() and os.readlink(link) == str(target)


def no_leftovers(directory: Path, *expected: str) -> None:
    """Nothing but the expected names in directory: no temporary file stayed behind."""
    assert sorted(p.name for p in directory.iterdir()) == sorted(expected)


def test_dangling_symlink_is_refused_and_not_followed(listserv, team, tmp_path, fails):
    """A symlink pointing nowhere: exit 1, one line; the link stays and nothing is created where it points."""
    (tmp_path / "out").mkdir()
    link, target = tmp_path / "out" / "export.mbox", tmp_path / "elsewhere.mbox"
    link.symlink_to(target)
    fails(listserv("archive", "export", LIST, str(link)), 1, "symbolic link", str(link))
    untouched_link(link, target)
    assert not target.exists()
    no_leftovers(tmp_path / "out", "export.mbox")


def test_symlink_to_an_existing_file_is_refused_and_the_file_kept(listserv, team, tmp_path, fails):
    """A symlink to someone's file: exit 1, one line; the link and the file it points to are unchanged."""
    (tmp_path / "out").mkdir()
    link, target = tmp_path / "out" / "export.mbox", tmp_path / "victim"
    target.write_bytes(SECRET)
    link.symlink_to(target)
    fails(listserv("archive", "export", LIST, str(link)), 1, "symbolic link")
    untouched_link(link, target)
    assert target.read_bytes() == SECRET
    no_leftovers(tmp_path / "out", "export.mbox")


def test_existing_file_is_refused_and_kept(listserv, team, tmp_path, fails):
    """A regular file at FILE: exit 1, one line naming it; its bytes are unchanged."""
    (tmp_path / "out").mkdir()
    taken = tmp_path / "out" / "export.mbox"
    taken.write_bytes(SECRET)
    fails(listserv("archive", "export", LIST, str(taken)), 1, "exists already", str(taken))
    assert taken.read_bytes() == SECRET and not taken.is_symlink()
    no_leftovers(tmp_path / "out", "export.mbox")


def test_symlink_to_a_directory_is_refused(listserv, team, tmp_path, fails):
    """A symlink to a directory is a taken name too: nothing is written into the directory."""
    (tmp_path / "out").mkdir()
    (tmp_path / "dir").mkdir()
    link = tmp_path / "out" / "export.mbox"
    link.symlink_to(tmp_path / "dir")
    fails(listserv("archive", "export", LIST, str(link)), 1, "symbolic link")
    assert list((tmp_path / "dir").iterdir()) == []
    no_leftovers(tmp_path / "out", "export.mbox")


def test_existing_directory_is_refused(listserv, team, tmp_path, fails):
    """A directory at FILE is a taken name like a file: exit 1, one line, nothing written into it."""
    (tmp_path / "dir").mkdir()
    fails(listserv("archive", "export", LIST, str(tmp_path / "dir")), 1, "exists already")
    assert list((tmp_path / "dir").iterdir()) == []
