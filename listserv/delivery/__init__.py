"""Delivery hands queued copies to a transport: an SMTP smarthost, or a maildir while developing.

A Transport sends one batch (one envelope sender, many recipients, one copy of
the bytes) and answers per recipient with the SMTP code and text it got, so the
worker can tell delivered (2xx) from failed for good (5xx) from try-again
(anything else). When nothing could be tried at all (no connection, a timeout,
the sender refused) it raises TransportError instead, and every recipient of
the batch waits for the next try.

With verp=True (or personal copies) every recipient gets its own envelope sender
(listserv.verp.encode of the batch's sender), so each copy is a transaction
of its own; the SMTP transport runs them back to back on a pooled connection.
"""

from __future__ import annotations

from typing import Callable, Protocol

from listserv.config import DeliverySettings
from listserv.endpoints import maildir_path, smtp_address, transport_problem
from listserv.errors import ConfigError

Results = dict[str, tuple[int, str]]
Personal = Callable[[str], bytes]  # a recipient -> the header lines on top of their own copy (one-click unsubscribe)


class TransportError(Exception):
    """Nothing of the batch could be tried: a temporary failure for all of its recipients.

    Its text (one line, the smarthost's reply when there was one, never message
    content) becomes the batch's last_error in `queue ls`.
    """


class Transport(Protocol):
    """Where copies go. One instance is shared by every concurrent send of a worker."""

    async def send(self, mail_from: str, recipients: list[str], content: bytes, verp: bool = False,
                   xverp: bool = False, personal: Personal | None = None) -> Results:
        """Send content to recipients; the (SMTP code, text) each one got. verp: one envelope sender each.

        xverp: one envelope sender each too, but only where the smarthost offers
        XVERP and builds them itself; elsewhere one sender for the batch.
        personal: each recipient's copy is personal(recipient) + content, in a
        transaction of its own with its own envelope sender (as verp).
        """
        ...

    async def close(self) -> None:
        """Release connections and files; the worker calls it once, when it stops."""
        ...


def transport_from_url(url: str, settings: DeliverySettings) -> Transport:
    """The transport a `[delivery] transport` value names: "smtp://HOST[:PORT]" or "maildir:PATH".

    >>> transport_from_url("ftp://example.org", DeliverySettings())
    Traceback (most recent call last):
    ...
    listserv.errors.ConfigError: [delivery] transport: expected "smtp://HOST:PORT" or "maildir:PATH", got 'ftp://example.org'
    """
    problem = transport_problem(url)
    if problem is not None:
        raise ConfigError(f"[delivery] transport: expected {problem}, got {url!r}")
    # Imported here: both modules import TransportError from this one, and a
    # maildir set-up never needs the SMTP client loaded.
    maildir = maildir_path(url)
    if maildir is not None:
        from listserv.delivery.maildir import MaildirTransport

        return MaildirTransport(maildir)
    from listserv.delivery.smtp import SmtpTransport

    host, port = smtp_address(url)
    return SmtpTransport(host, port, settings)
