"""The export file cannot be steered elsewhere: a name taken while the export runs, a planted temporary name."""

from __future__ import annotations

import os
import stat

import pytest

from listserv.archive import exporter
from listserv.errors import CannotExport

LIST = "team@example.org"
RAW = b"From: ann@example.org\nSubject: post\n\nThe body.\n"


async def test_file_is_claimed_before_the_posts_are_read(archive, tmp_path):
    """FILE exists (empty, 0600) from the moment the export starts: no link or file can be put there meanwhile."""
    await archive.add("The body.", raw=RAW)
    target = tmp_path / "out.mbox"
    seen = []

    def plant(written: int) -> None:
        seen.append((target.is_symlink(), target.stat().st_size, stat.S_IMODE(target.stat().st_mode)))
        with pytest.raises(FileExistsError):
            target.symlink_to(tmp_path / "elsewhere")

    report = await exporter.export_mbox(archive.store, LIST, target, progress=plant)
    assert seen == [(False, 0, 0o600)] and report.exported == 1 and RAW.split(b"\n", 1)[1] in target.read_bytes()


@pytest.mark.parametrize("swap", ["dangling symlink", "symlink to a file", "file"])
async def test_a_file_swapped_in_while_the_export_runs_is_left_alone(archive, tmp_path, swap):
    """Someone who can write the directory replaces the claimed FILE during the export: refused, their FILE
    kept as it is (link and link target unchanged), no temporary file left."""
    await archive.add("The body.", raw=RAW)
    target, elsewhere = tmp_path / "out.mbox", tmp_path / "elsewhere"
    if swap == "symlink to a file":
        elsewhere.write_bytes(b"theirs")

    def replace_it(written: int) -> None:
        target.unlink()
        if swap == "file":
            target.write_bytes(b"theirs")
        else:
            target.symlink_to(elsewhere)

    with pytest.raises(CannotExport, match="was replaced while the export ran"):
        await exporter.export_mbox(archive.store, LIST, target, progress=replace_it)
    if swap == "file":
        assert target.read_bytes() == b"theirs" and not target.is_symlink()
    else:
        assert target.is_symlink() and os.readlink(target) == str(elsewhere)
    assert (elsewhere.read_bytes() == b"theirs") if swap == "symlink to a file" else not elsewhere.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if "out.mbox" in p.name) == ["out.mbox"]


async def test_a_failed_export_removes_its_claim(archive, tmp_path):
    """An export that fails half-way leaves neither FILE nor a temporary file."""
    await archive.add("The body.", raw=RAW)

    def fail(written: int) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        await exporter.export_mbox(archive.store, LIST, tmp_path / "out.mbox", progress=fail)
    assert [p.name for p in tmp_path.iterdir() if "out.mbox" in p.name] == []


async def test_old_temporary_names_planted_as_symlinks_are_not_used(archive, tmp_path):
    """Symlinks at the names a temporary file could take are never written through: the export lands in FILE."""
    await archive.add("The body.", raw=RAW)
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    (tmp_path / ".out.mbox.partial").symlink_to(victim)
    report = await exporter.export_mbox(archive.store, LIST, tmp_path / "out.mbox")
    assert report.exported == 1 and victim.read_bytes() == b"keep me"
    written = tmp_path / "out.mbox"
    assert RAW.split(b"\n", 1)[1] in written.read_bytes() and not written.is_symlink()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
