"""Where the server's log lines go and how much of them: the `[log]` table applied to the root logger.

One line per event, with the time in the server's local zone and the zone's
name or offset, so an owner reading the file (or journalctl) sees when things
happened as their clock says. Lines name lists, archive ids, addresses and
SMTP replies, never a subject or a body; logscrub keeps the libraries that
log content at DEBUG level from doing so.
"""

from __future__ import annotations

import logging
import sys

from listserv import logscrub, private_files
from listserv.config import LogSettings
from listserv.errors import CannotLog

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
QUIET = {"mail.log": logging.WARNING}  # aiosmtpd's per-command chatter unless something goes wrong


def configure(settings: LogSettings) -> logging.Handler:
    """Send the root logger's lines at `level` and above to `file` (appended, owner-only) or stderr.

    Returns the handler, so a caller that configures twice (tests) can remove it.
    """
    logscrub.install()  # before any handler can see a library's DEBUG line
    handler = _handler(settings.file)
    handler.setFormatter(logging.Formatter(FORMAT, DATE_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(settings.level)
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(max(level, logging.getLevelName(settings.level)))
    return handler


def _handler(path: str) -> logging.Handler:
    """A handler for the file (created 0600 if new: it names members), or for stderr when path is empty."""
    if not path:
        return logging.StreamHandler(sys.stderr)
    try:
        private_files.create_file(path)
        return logging.FileHandler(path, mode="a", encoding="utf-8")
    except OSError as exc:
        raise CannotLog(f"cannot write the log file {path}: {exc.strerror or exc}") from None


def remove(handler: logging.Handler) -> None:
    """Detach and close a handler that configure() returned."""
    logging.getLogger().removeHandler(handler)
    handler.close()

