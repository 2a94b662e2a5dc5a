"""Stage 1: the SMTP/LMTP front door — refuse early, commit the raw message durably, then say 250.

Nothing is parsed here. A MAIL FROM or RCPT TO holding a NUL or another
control character gets a 501; RCPT is checked against the list addresses; the size
limit is aiosmtpd's; DATA is acknowledged only once the raw bytes and the
envelope are committed to the inbound queue. A failure of ours is a 451 so the
sending MTA keeps the message and retries. What a session may cost is bounded:
at most max_sessions at once, idle ones closed, big DATA spooled to disk.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Callable

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import MISSING, SMTP, Envelope, Session

from listserv import lists, replies
from listserv.addresses import candidates, has_control
from listserv.config import Settings
from listserv.wording import plural
from listserv.sessions import Sessions
from listserv.spool import read_data
from listserv.store import Store
from listserv.store import inbound

log = logging.getLogger(__name__)


class _IntakeProtocol:
    """aiosmtpd's server with our 552 reply and a DATA reader that does not go line by line.

    Lines may be far longer than RFC 5321's 1000 octets: web mailers send
    HTML that way, and refusing it with a 500 would lose a colleague's post.
    The message size limit still bounds the total.

    aiosmtpd reads DATA one line at a time (a 5 KB post is ~80 reads); this
    reader (listserv.spool.read_data) searches for the end marker itself, so
    a post is usually one read, which is the whole of RFC 5321 4.5.2. On a
    busy list that is a fifth of intake's CPU.
    """

    line_length_limit = 1 << 15  # the stream's buffer; read_data takes longer lines in pieces
    sessions: Sessions  # shared by every connection of one listener (protocol_factory sets these three)
    spool_dir: str | None
    spool_above: int

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Greet with 421 and hang up when max_sessions are open already; nothing else is read."""
        self._counted = self.sessions.enter()
        if not self._counted:
            log.warning("refused a session: %d open already", self.sessions.open)
            transport.write(f"{replies.S421_TOO_MANY_SESSIONS}\r\n".encode())
            transport.close()
            return
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if not self._counted:  # refused at connection_made: aiosmtpd never started
            return
        self.sessions.leave()
        super().connection_lost(error)

    def data_received(self, data: bytes) -> None:
        """Any bytes restart the idle timer: a big message sent slowly is not cut off (aiosmtpd times per command)."""
        self._reset_timeout()
        super().data_received(data)

    def _timeout_cb(self) -> None:
        """An idle session is told why before it is closed (aiosmtpd just closes)."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(f"{replies.S421_IDLE_TIMEOUT}\r\n".encode())
        super()._timeout_cb()

    async def smtp_MAIL(self, arg: str) -> None:
        """A sender path with a NUL or another control character is refused before aiosmtpd reads it."""
        if arg and has_control(arg):
            log.info("refused sender from %s: control character in MAIL FROM", _peer(self.session))
            await self.push(replies.S501_BAD_SENDER)
            return
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg: str) -> None:
        """A recipient path with a NUL or another control character is refused before aiosmtpd reads it."""
        if arg and has_control(arg):
            log.info("refused recipient from %s: control character in RCPT TO", _peer(self.session))
            await self.push(replies.S501_BAD_ADDRESS)
            return
        await super().smtp_RCPT(arg)

    async def push(self, status: str) -> None:
        if status.startswith(replies.AIOSMTPD_TOO_BIG_PREFIX):
            status = replies.S552_TOO_BIG
        await super().push(status)

    async def smtp_DATA(self, arg: str) -> None:
        """aiosmtpd's DATA with read_data as its reader.

        It leans on aiosmtpd's private _reader, _set_post_data_state and
        _call_handler_hook: setup.cfg pins aiosmtpd's minor version, and
        tests/intake/test_aiosmtpd_internals.py fails by name when one goes.
        """
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        if not self.envelope.rcpt_tos:
            await self.push(replies.S503_NEED_RCPT)
            return
        if arg:
            await self.push(replies.S501_DATA_SYNTAX)
            return
        await self.push(replies.S354_START_DATA)
        content = await read_data(self._reader, self.data_size_limit, self.spool_dir, self.spool_above)
        if content is None:
            self._set_post_data_state()
            await self.push(replies.S552_TOO_BIG)
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(replies.S250_OK if status is MISSING else status)


class ListSMTP(_IntakeProtocol, SMTP):
    """aiosmtpd's SMTP with our DATA reader and replies."""


class ListLMTP(_IntakeProtocol, LMTP):
    """aiosmtpd's LMTP with our DATA reader and replies."""


async def is_ours(store: Store, address: str) -> bool:
    """True when some reading of the address names an existing list (see addresses.candidates)."""
    for candidate in candidates(address):
        if await lists.find(store, candidate.list_address) is not None:
            return True
    return False


class KnownAddresses:
    """Recipient addresses already found to be ours, so a busy list costs no query per RCPT.

    A miss always asks the store, so a list created a moment ago by the CLI is
    never refused; the memory is forgotten every `ttl` seconds, so a deleted
    list stops being accepted soon after (the pipeline copes with the few that
    arrive meanwhile).
    """

    def __init__(self, store: Store, ttl: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.ttl, self.clock = store, ttl, clock
        self._known: set[str] = set()
        self._since = clock()

    async def __call__(self, address: str) -> bool:
        if self.clock() - self._since > self.ttl:
            self._known.clear()
            self._since = self.clock()
        key = address.strip().casefold()
        if key in self._known:
            return True
        if await is_ours(self.store, key):
            self._known.add(key)
            return True
        return False


class IntakeHandler:
    """aiosmtpd handler: checks recipients, enqueues messages, calls on_enqueued after each commit."""

    def __init__(self, store: Store, settings: Settings, on_enqueued: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.settings = settings
        self.on_enqueued = on_enqueued
        self.lmtp = settings.server.lmtp
        self.is_ours = KnownAddresses(store)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list) -> str:
        if len(envelope.rcpt_tos) >= self.settings.server.max_recipients:
            return replies.S452_TOO_MANY_RECIPIENTS
        try:
            ours = await self.is_ours(address)
        except Exception:
            log.exception("recipient lookup failed")
            return replies.S451_TRY_AGAIN
        if not ours:
            log.info("refused recipient from %s: no such list address", _peer(session))
            return replies.S550_NO_SUCH_LIST
        envelope.rcpt_tos.append(address)
        return replies.S250_RCPT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = bytes(envelope.original_content or b"")
        if len(raw) > self.settings.server.max_message_size:
            return self._per_recipient(envelope, replies.S552_TOO_BIG)
        try:
            inbound_id = await self.store.write_one(
                inbound.enqueue, envelope.mail_from or "", envelope.rcpt_tos, raw, _peer(session),
                session.host_name or "",
            )
        except Exception:
            log.exception("could not store a message from %s", _peer(session))
            return self._per_recipient(envelope, replies.S451_TRY_AGAIN)
        log.info("queued inbound %d (%s, %s)", inbound_id, plural(len(raw), "byte"),
                 plural(len(envelope.rcpt_tos), "recipient"))
        self.on_enqueued()
        return self._per_recipient(envelope, replies.S250_OK)

    def _per_recipient(self, envelope: Envelope, reply: str) -> str:
        """LMTP answers DATA once per recipient (RFC 2033 4.2); SMTP once."""
        if not self.lmtp:
            return reply
        return "\r\n".join(reply for _ in envelope.rcpt_tos)


def _peer(session: Session) -> str:
    peer = session.peer
    if isinstance(peer, tuple):
        return f"{peer[0]}:{peer[1]}"
    return str(peer or "")


def protocol_factory(handler: IntakeHandler, settings: Settings, hostname: str) -> Callable[[], SMTP]:
    """What asyncio's create_server needs: a new SMTP (or LMTP) protocol per connection."""
    cls = ListLMTP if settings.server.lmtp else ListSMTP

    sessions = Sessions(settings.server.max_sessions)
    spool_dir = str(Path(settings.storage.database).resolve().parent)

    def make() -> SMTP:
        protocol = cls(
            handler,
            data_size_limit=settings.server.max_message_size,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=hostname,
            ident="listserv",
            timeout=max(settings.server.idle_timeout, 1),
        )
        protocol.sessions, protocol.spool_dir, protocol.spool_above = sessions, spool_dir, settings.server.spool_above
        return protocol

    return make
