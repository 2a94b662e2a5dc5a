"""Development transport: one file per recipient in a maildir, so you can see exactly who got what.

Each copy is the queued bytes with `Delivered-To: RECIPIENT` and
`X-Listserv-Envelope-From: SENDER` (the recipient's own VERP sender when the
batch is VERP'd) prepended, written to PATH/tmp, flushed to
disk and renamed into PATH/new (the Maildir convention: a reader never sees a
half-written file). Any mail reader that opens a maildir (mutt -f PATH) shows
the copies. Every copy is a whole post: the maildir's directories are created
0700 and each copy 0600 (listserv.private_files), readable by the server's user only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import time
from pathlib import Path

from listserv import private_files
from listserv.delivery import Personal, Results, TransportError
from listserv.verp import encode

DELIVERED = (250, "2.0.0 written to the maildir")
BAD_ADDRESS = (553, "5.1.3 address cannot be written into a header (not written)")
_sequence = itertools.count(1)


class MaildirTransport:
    """Writes each recipient's copy into a maildir at path (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        host = socket.gethostname() or "localhost"
        self._host = host.replace("/", r"\057").replace(":", r"\072")

    async def send(self, mail_from: str, recipients: list[str], content: bytes, verp: bool = False,
                   xverp: bool = False, personal: Personal | None = None) -> Results:
        """Write every copy in a worker thread: file I/O must not stall the event loop."""
        if not recipients:
            return {}
        return await asyncio.to_thread(self._write_all, mail_from, recipients, content, verp or personal is not None,
                                       personal)

    async def close(self) -> None:
        """Nothing stays open between sends."""

    def _write_all(self, mail_from: str, recipients: list[str], content: bytes, verp: bool = False,
                   personal: Personal | None = None) -> Results:
        try:
            for sub in ("tmp", "new", "cur"):
                private_files.make_dir(self.path / sub)
        except OSError as exc:
            raise TransportError(f"cannot create maildir {self.path}: {exc.strerror or exc}") from None
        sender = _header_value(mail_from or "<>")
        if sender is None:
            raise TransportError(f"envelope sender {mail_from!r} cannot be written into a header")
        newline = b"\r\n" if content.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
        results: Results = {}
        for index, rcpt in enumerate(recipients):
            value = _header_value(rcpt)
            if value is None:
                results[rcpt] = BAD_ADDRESS
                continue
            own = _header_value(encode(mail_from, rcpt)) if verp and mail_from else sender
            head = b"Delivered-To: " + value + newline + b"X-Listserv-Envelope-From: " + (own or sender) + newline
            try:
                self._write_one(head + (personal(rcpt) if personal is not None else b"") + content)
            except OSError as exc:
                failed = (451, f"4.3.0 cannot write to the maildir: {exc.strerror or exc}")
                results.update((r, failed) for r in recipients[index:])
                break
            results[rcpt] = DELIVERED
        self._sync_directory(self.path / "new")
        return results

    def _write_one(self, data: bytes) -> None:
        """tmp/NAME, fsync, rename to new/NAME: the copy is either complete in new/ or absent."""
        name = self._unique_name()
        tmp = self.path / "tmp" / name
        try:
            with os.fdopen(private_files.open_new(tmp), "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, self.path / "new" / name)
        except OSError:
            tmp.unlink(missing_ok=True)
            raise

    def _unique_name(self) -> str:
        """TIME.M<usec>P<pid>Q<seq>R<random>.HOST, unique across processes and restarts."""
        now = time.time()
        return f"{int(now)}.M{int(now % 1 * 1e6)}P{os.getpid()}Q{next(_sequence)}R{os.urandom(4).hex()}.{self._host}"

    @staticmethod
    def _sync_directory(path: Path) -> None:
        """fsync the directory so the renames themselves survive a power cut.

        The copies are already in new/ when this runs: a failure here only
        weakens that guarantee, and must not turn delivered copies into retries.
        """
        with contextlib.suppress(OSError):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _header_value(address: str) -> bytes | None:
    """The address as a header value, or None if it would break the header (CR, LF, other controls)."""
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in address):
        return None
    return address.encode("utf-8")
