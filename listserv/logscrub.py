"""Keep message content out of the log lines that libraries write at DEBUG level.

listserv's own log lines name ids, addresses, rules and error types, never a
subject or a body. Two libraries are not so careful at DEBUG level:

- aiosmtpd (`mail.log`) logs every line of DATA: the whole message;
- aiosqlite (`aiosqlite`) logs every call with its arguments: every SQL
  parameter, subjects, bodies and raw messages included.

install() puts a filter on those two loggers that drops the DATA lines and
reduces aiosqlite's lines to the name of the call. A filter on the logger
itself runs before any handler sees the record, whatever handlers an
administrator or a test attaches. The daemon and the command line install it.
"""

from __future__ import annotations

import logging

CONTENT_LOGGERS = ("mail.log", "aiosqlite")


class ContentFilter(logging.Filter):
    """Drops records that carry message bytes; rewrites aiosqlite's to name the call only."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = str(record.msg)
        if record.name == "mail.log":
            return not text.startswith("DATA readline")
        if record.name == "aiosqlite" and record.args:
            record.args = tuple(_call_name(arg) for arg in _as_tuple(record.args))
        return True


def _as_tuple(args: object) -> tuple:
    return args if isinstance(args, tuple) else (args,)


def _call_name(arg: object) -> str:
    """A functools.partial(method, sql, params) as the method's name; anything else as its type name.

    >>> import functools
    >>> _call_name(functools.partial(print, "SELECT ?", ("secret",)))
    'print'
    """
    func = getattr(arg, "func", None)
    if func is not None:
        return getattr(func, "__name__", type(func).__name__)
    return type(arg).__name__


_FILTER = ContentFilter()


def install() -> None:
    """Attach the filter to each content-logging library logger (idempotent)."""
    for name in CONTENT_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
