"""The export file cannot be steered elsewhere: a name taken while the export runs, a planted temporary name."""

from __future__ import annotations

import os
import stat

import pytest

from listserv.archive import exporter
from listserv.errors import CannotExport

LIST = "team@example.org"
RAW = b"From: ann@example.org\nSubject: post\n\nThe body.\n"


async def test_a_symlink_planted_while_the_export_runs_is_left_alone(archive, tmp_path):
    """A dangling symlink made at FILE during the export: refused, the link unchanged, no temporary file left."""
    await archive.add("The body.", raw=RAW)
    target, elsewhere = tmp_path / "out.mbox", tmp_path / "elsewhere"

    def plant(written: int) -> None:
        if not os.path.lexists(target):
            target.symlink_to(elsewhere)

    with pytest.raises(CannotExport, match="symbolic link"):
        await exporter.export_mbox(archive.store, LIST, target, progress=plant)
    assert target.is_symlink() and os.readlink(target) == str(elsewhere) and not elsewhere.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


async def test_a_file_made_while_the_export_runs_is_kept(archive, tmp_path):
    """A file made at FILE during the export: refused and its bytes kept (a rename would have replaced it)."""
    await archive.add("The body.", raw=RAW)
    target = tmp_path / "out.mbox"

    def occupy(written: int) -> None:
        if not target.exists():
            target.write_bytes(b"theirs")

    with pytest.raises(CannotExport, match="exists already"):
        await exporter.export_mbox(archive.store, LIST, target, progress=occupy)
    assert target.read_bytes() == b"theirs"


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
