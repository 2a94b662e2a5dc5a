"""`archive export`: a list's archived messages, as received, into a new mbox file in date order.

The file is mboxrd (listserv.archive.mbox.escape): mailbox.mbox, mutt and
`archive import` read it back, and an export re-imports to the same
Message-IDs and bodies. Posts are read a page at a time (memory stays flat)
and written to a hidden temporary file that becomes FILE only when the export
finished, so a failed export leaves nothing behind. FILE must not exist: an
existing file is never overwritten and a symbolic link (dangling or not) is
never followed nor replaced, so an export cannot be steered onto another file
(see _NewFile). The file is readable by its owner only: the archive
of a members-only list is not for everyone on the machine. export_stream()
writes the same mbox onto a stream instead (`archive export LIST -`, standard
output, to pipe into gzip or ssh); there the caller owns where it ends up.

Left out: confidential posts, unless a moderator of the list asks for them
(--include-confidential --by MODERATOR; listserv.archive.access decides, and
each confidential post exported is written to the audit log); and posts whose
content is not stored (purged by retention, or kept as a thread-map entry only).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable

from listserv import lists, private_files
from listserv.archive import access
from listserv.archive.mbox import escape, from_line
from listserv.errors import CannotExport
from listserv.lists import MailingList
from listserv.wording import plural
from listserv.store import Store, messages

PAGE = 200  # posts read per query
STREAM_NAME = "standard output"  # what the summary and errors call the stream of `archive export LIST -`
Progress = Callable[[int], None]  # posts written so far


@dataclass
class ExportReport:
    """What an export wrote and what it left out."""

    exported: int = 0  # messages written
    confidential_left_out: int = 0  # confidential posts in the date range that were not asked for
    without_content: int = 0  # posts in the range whose content is not stored (purged, or map only)

    def summary(self, path: str | os.PathLike) -> str:
        """One line: how many exported where, and what was left out."""
        return (
            f"exported {plural(self.exported, 'message')} to {path}; left out {self.confidential_left_out} confidential"
            f" and {self.without_content} without stored content"
        )


def _midnight(day: date | None) -> float | None:
    return None if day is None else datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp()


async def export_mbox(
    store: Store, list_address: str, path: str | os.PathLike, after: date | None = None, before: date | None = None,
    moderator: str | None = None, by: str = "", progress: Progress | None = None,
) -> ExportReport:
    """Write the list's posts dated on or after `after` and before `before` (UTC days) to a new mbox at path.

    moderator: include confidential posts, for this moderator of the list
    (NotAllowed otherwise). NoSuchList, CannotExport (FILE exists or cannot
    be written) before anything is written.
    """
    mlist, who, dates, report = await _prepare(store, list_address, after, before, moderator, by)
    new = _NewFile(path)
    finished = False
    try:
        shown = await _write_all(store, mlist.id, new.out, dates, who.sees_confidential, report, progress)
        finished = True
    finally:
        new.finish(finished)
    await access.record_reads(store, who, mlist.id, shown, "export")
    return report


async def export_stream(
    store: Store, list_address: str, out: BinaryIO, after: date | None = None, before: date | None = None,
    moderator: str | None = None, by: str = "", progress: Progress | None = None,
) -> ExportReport:
    """export_mbox() onto an open stream (`archive export LIST -`: standard output, for a pipe).

    A stream cannot be claimed or replaced, so what was written before a
    failure stays written: CannotExport says so, and the reads of confidential
    posts already written are audited all the same.
    """
    mlist, who, dates, report = await _prepare(store, list_address, after, before, moderator, by)
    shown: list[int] = []
    try:
        await _write_all(store, mlist.id, out, dates, who.sees_confidential, report, progress, shown)
        out.flush()
    except OSError as exc:
        raise CannotExport(f"cannot write to {STREAM_NAME}: {exc.strerror or exc}; "
                           f"{plural(report.exported, 'message')} written before") from None
    finally:
        await access.record_reads(store, who, mlist.id, shown, "export")
    return report


async def _prepare(
    store: Store, list_address: str, after: date | None, before: date | None, moderator: str | None, by: str,
) -> tuple[MailingList, access.Reader, tuple[float | None, float | None], ExportReport]:
    """Everything refused before a byte is written: the list, the reader's right, the count left out."""
    mlist = await lists.get(store, list_address)
    who = await access.reader(store, mlist, moderator=moderator, by=by) if moderator else access.Reader()
    since, until = _midnight(after), _midnight(before)
    report = ExportReport()
    if not who.sees_confidential:
        report.confidential_left_out = await messages.count_confidential(store.db, mlist.id, since, until)
    return mlist, who, (since, until), report


async def _write_all(
    store: Store, list_id: int, out: BinaryIO, dates: tuple[float | None, float | None], confidential: bool,
    report: ExportReport, progress: Progress | None, shown: list[int] | None = None,
) -> list[int]:
    """Write every post page by page in (date, id) order; returns the ids of confidential posts written
    (appended to `shown` as they go, so that a caller still has them when a write fails)."""
    key = (float("-inf"), 0)
    shown = [] if shown is None else shown
    while page := await messages.export_page(store.db, list_id, key, PAGE, *dates, confidential):
        for row in page:
            if row["raw"] is None:
                report.without_content += 1
                continue
            out.write(from_line(row["sender"], row["date"]) + escape(row["raw"]))
            report.exported += 1
            if row["confidential"]:
                shown.append(row["id"])
        key = (page[-1]["date"], page[-1]["id"])
        if progress:
            progress(report.exported)
    return shown


class _NewFile:
    """FILE claimed at once, written through a hidden temporary file that replaces the claim when complete.

    The claim is FILE opened O_CREAT|O_EXCL|O_NOFOLLOW (private_files.open_new):
    an existing name, a symlink (dangling or not) or a directory is refused in
    the same step that creates the file, so nothing can be put there between a
    check and the write, and nothing is ever written through a link. The
    temporary file is opened the same way under a random name. Only our own
    claim is ever replaced or removed: if FILE is no longer it (someone with
    write access to the directory swapped it), the export is refused and FILE
    left as it is.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.target = Path(path)
        self.claim = _create(self.target)
        self.partial = self.target.with_name(f".{self.target.name}.{secrets.token_hex(8)}.partial")
        try:
            self.out: BinaryIO = os.fdopen(_create(self.partial, name=self.target), "wb")
        except CannotExport:
            self._unclaim()
            os.close(self.claim)
            raise

    def finish(self, ok: bool) -> None:
        """Move the complete file onto the claim (ok), or remove both: a failed export leaves nothing."""
        done = False
        try:
            self.out.close()
            if ok and not self._still_ours():
                raise CannotExport(f"{self.target} was replaced while the export ran; it is left as it is")
            if ok:
                os.replace(self.partial, self.target)
                done = True
        except OSError as exc:
            raise CannotExport(f"cannot write {self.target}: {exc.strerror}") from None
        finally:
            self.partial.unlink(missing_ok=True)
            if not done:
                self._unclaim()
            os.close(self.claim)

    def _still_ours(self) -> bool:
        """Is the name FILE still our claim (same file), not something put in its place?"""
        try:
            now, ours = os.lstat(self.target), os.fstat(self.claim)
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == (ours.st_dev, ours.st_ino)

    def _unclaim(self) -> None:
        """Remove the claim, and only the claim: whatever replaced it is someone else's."""
        if self._still_ours():
            self.target.unlink(missing_ok=True)


def _create(path: Path, name: Path | None = None) -> int:
    """private_files.open_new(path), its refusals as CannotExport naming the export (name, default path)."""
    name = name or path
    try:
        return private_files.open_new(path)
    except FileExistsError:
        raise CannotExport(_taken(name)) from None
    except OSError as exc:
        raise CannotExport(f"cannot write {name}: {exc.strerror}") from None


def _taken(target: Path) -> str:
    """Why target cannot be the export: it exists, or it is a symbolic link (even one pointing nowhere)."""
    if target.is_symlink():
        return f"{target} is a symbolic link, and export never writes through one; remove it or choose another file"
    return f"{target} exists already; remove it or choose another file"
