"""SMTP to the smarthost with aiosmtplib: a small pool of reusable connections, one transaction per batch.

Each send borrows one connection (at most `connections` exist), runs MAIL, one
RCPT per recipient and a single DATA, and returns it to the pool. A VERP'd
batch instead runs one MAIL/RCPT/DATA per recipient, each MAIL with that
recipient's own envelope sender, back to back on the borrowed connection; when
the smarthost offers XVERP (Postfix does, to its smtpd_authorized_verp_clients),
a VERP'd batch is one transaction instead and the smarthost writes each
recipient's envelope sender with the delimiters listserv.verp decodes. A pooled
connection is RSET before its next transaction: that starts a clean envelope
and proves the connection is still alive; a dead one is replaced at once.

A smarthost that offers PIPELINING gets every batch through
listserv.delivery.pipelined instead (aiosmtplib cannot pipeline): a VERP'd
batch without XVERP one round trip per member rather than five, any other
batch one round trip for MAIL, all its RCPTs and DATA rather than one per
RCPT. Which way a smarthost goes is learned from the first EHLO; the
pipelined connections have their own pool, under the same `connections`
limit on sends at once.

The transaction is driven command by command (`execute_command`) rather than
with `sendmail()`, because sendmail hides the RCPT replies when DATA fails and
raises instead of answering per recipient; here every recipient gets the reply
that decided it. Addresses are checked and encoded here, not by aiosmtplib's
lenient parser, so a recipient is never silently rewritten into another one.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import re
import socket
import ssl

import aiosmtplib
from aiosmtplib import SMTPDataError, SMTPException, SMTPHeloError

from listserv import verp
from listserv.config import DeliverySettings
from listserv.delivery import Personal, Results, TransportError
from listserv.delivery.pipelined import ConnectionLost, PipelinedConnection, SenderRefused, Transaction, prepare

log = logging.getLogger(__name__)

_CTL = r"\x00-\x20\x7f"
_LOCAL = rf'(?:"(?:[^"\\{_CTL}]|\\[^{_CTL}]| )*"|[^{_CTL}\s"<>()\[\]\\,;:@]+)'
_DOMAIN = rf"(?:\[[^{_CTL}\s\[\]\\<>]+\]|[^{_CTL}\s\"<>()\[\]\\,;:@]+)"
MAILBOX = re.compile(f"{_LOCAL}@{_DOMAIN}")
ENHANCED = re.compile(r"[245]\.\d{1,3}\.\d{1,3}\b")  # an RFC 3463 status code opening a reply text
BAD_ADDRESS = (553, "5.1.3 address cannot be sent safely on an SMTP command line (not tried)")
NEEDS_SMTPUTF8 = (553, "5.6.7 non-ASCII address and the smarthost does not offer SMTPUTF8 (not tried)")
QUIT_TIMEOUT = 2.0
# Postfix's XVERP with the delimiters listserv.verp uses: NAME-bounces+LOCAL=DOMAIN@DOMAIN, so bounces decode alike.
XVERP = (b"XVERP=+=",)


class SmtpTransport:
    """Sends batches to one smarthost over at most `settings.connections` kept-open connections."""

    def __init__(self, host: str, port: int, settings: DeliverySettings) -> None:
        self.host = host
        self.port = port
        self.timeout = float(max(1, settings.timeout))
        self._slots = asyncio.Semaphore(max(1, settings.connections))
        self._idle: list[aiosmtplib.SMTP] = []
        # STARTTLS whenever a remote smarthost offers it (certificates checked):
        # case details must not cross a network in clear. Loopback needs none.
        self._start_tls = None if not _is_loopback(host) else False
        self._helo_name = socket.gethostname() or "localhost"
        self._pipelines = False  # learned from EHLO: batches go pipelined (PIPELINING offered)
        self._piped_idle: list[PipelinedConnection] = []
        self._prepared: tuple[bytes, bytes] = (b"", prepare(b""))  # the last message and its DATA form

    async def send(self, mail_from: str, recipients: list[str], content: bytes, verp: bool = False,
                   xverp: bool = False, personal: Personal | None = None) -> Results:
        """One transaction (or more if the smarthost says 452 too many recipients) on a pooled connection.

        verp: each recipient gets its own envelope sender: through the
        smarthost's XVERP when it offers it (still one transaction per batch),
        else one transaction per recipient. xverp: the same when XVERP is
        offered, one plain transaction otherwise. personal: one transaction per
        recipient whatever the smarthost offers, each copy with its own headers.
        """
        if not recipients:
            return {}
        if personal is not None:
            verp, xverp = True, False
        async with self._slots:
            if self._pipelines:
                results = await self._pipelined(mail_from, recipients, content, verp, xverp, personal)
                if results is not None:
                    return results
            client = await self._checkout()
            self._pipelines = client.supports_extension("pipelining")
            if self._pipelines:
                self._idle.append(client)  # kept for when the smarthost stops offering PIPELINING
                results = await self._pipelined(mail_from, recipients, content, verp, xverp, personal)
                if results is not None:
                    return results
                client = await self._checkout()
            try:
                if (verp or xverp) and mail_from and client.supports_extension("xverp") and personal is None:
                    results = await self._transactions(client, mail_from, recipients, content, XVERP)
                elif verp:
                    results = await self._each(client, mail_from, recipients, content, personal)
                else:
                    results = await self._transactions(client, mail_from, recipients, content)
            except TransportError:
                self._idle.append(client)  # the sender was refused; the connection itself is fine
                raise
            except (SMTPException, OSError) as exc:
                client.close()
                raise TransportError(f"connection to smarthost {self.host}:{self.port} failed: {_why(exc)}") from None
            except BaseException:
                client.close()  # cancelled or a bug: the connection's state is unknown
                raise
            self._idle.append(client)
            return results

    async def close(self) -> None:
        """QUIT every idle connection (politely, briefly) and close it."""
        idle, self._idle = self._idle, []
        piped, self._piped_idle = self._piped_idle, []
        await asyncio.gather(*(_quit(client) for client in idle), *(connection.quit() for connection in piped))

    async def _pipelined(self, mail_from: str, recipients: list[str], content: bytes, verp: bool, xverp: bool,
                         personal: Personal | None = None) -> Results | None:
        """The batch on a pipelined connection: VERP'd without XVERP, a transaction per member; else one
        transaction (XVERP'd when asked and offered). Exact per member; the unconfirmed ones wait for the next try.

        None when the smarthost (restarted, say) no longer offers PIPELINING:
        the caller sends the batch through aiosmtplib instead.
        """
        connection = await self._piped_checkout()
        if "pipelining" not in connection.extensions:
            log.info("smarthost %s:%d no longer offers PIPELINING; batches go one command at a time",
                     self.host, self.port)
            self._pipelines = False
            await connection.quit()
            return None
        xverp_offered = "xverp" in connection.extensions and bool(mail_from)
        try:
            if personal is not None or (verp and not xverp_offered):
                results = await self._piped_each(connection, mail_from, recipients, content, personal)
            else:
                extra = XVERP if (verp or xverp) and xverp_offered else ()
                results = await self._piped_batch(connection, mail_from, recipients, content, extra)
        except TransportError:
            if not connection.writer.is_closing():
                self._piped_idle.append(connection)  # the sender was refused; the connection itself is fine
            raise
        except BaseException:
            connection.writer.close()  # cancelled or a bug: the connection's state is unknown
            raise
        if not connection.writer.is_closing():
            self._piped_idle.append(connection)
        return results

    async def _piped_each(self, connection: PipelinedConnection, mail_from: str, recipients: list[str],
                          content: bytes, personal: Personal | None = None) -> Results:
        results, transactions = _verp_transactions(mail_from, recipients, content, connection.extensions)
        decided, waiting, why = await connection.each(transactions, self._message(content), personal)
        results.update(decided)
        if waiting:
            log.info("VERP'd batch to %s:%d stopped: %s", self.host, self.port, why)
            _waiting(results, waiting, why)
        return results

    async def _piped_batch(self, connection: PipelinedConnection, mail_from: str, recipients: list[str],
                           content: bytes, extra: tuple[bytes, ...]) -> Results:
        """One pipelined transaction, repeated for the recipients a smarthost deferred with 452 too many
        (while each round delivers someone, as _transactions does); a refused sender is a TransportError."""
        results: Results = {}
        pending = list(dict.fromkeys(recipients))
        while pending:
            utf8 = "smtputf8" in connection.extensions
            refused, wire = _encode_recipients(pending, utf8)
            sender = _encoded(mail_from, utf8) if mail_from else b""
            if sender is None:
                raise TransportError(f"envelope sender {mail_from!r} cannot be sent to this smarthost")
            if not wire:  # nobody left that can be sent: no transaction
                results.update(refused)
                break
            non_ascii = any(not w.isascii() for w in (sender, *wire.values()))
            offered = _options(connection.extensions, content, non_ascii)
            options = b"".join(b" " + option for option in [*offered, *extra])
            mail = b"MAIL FROM:<" + sender + b">" + options + b"\r\n"
            lines = [(rcpt, b"RCPT TO:<" + address + b">\r\n") for rcpt, address in wire.items()]
            try:
                decided, waiting, why = await connection.transaction(mail, lines, self._message(content))
            except SenderRefused as exc:
                raise TransportError(str(exc)) from None
            round_results = {**refused, **decided}
            _waiting(round_results, waiting, why)
            results.update(round_results)
            over_limit = [r for r in pending if _too_many(*round_results[r])]
            progressed = any(200 <= round_results[r][0] < 300 for r in pending)
            if not (over_limit and progressed) or not await connection.reset():
                break
            pending = over_limit
        return results

    async def _piped_checkout(self) -> PipelinedConnection:
        """A live pipelined connection: a pooled one that answers RSET, else a new one."""
        while self._piped_idle:
            connection = self._piped_idle.pop()
            if await connection.reset():
                return connection
            log.info("pooled connection to %s:%d was lost; opening another", self.host, self.port)
        try:
            return await PipelinedConnection.open(self.host, self.port, self.timeout, self._helo_name,
                                                  self._start_tls)
        except ConnectionLost as exc:
            why = _why(exc.__cause__) if exc.__cause__ is not None else str(exc)
            raise TransportError(f"cannot connect to smarthost {self.host}:{self.port}: {why}") from None

    def _message(self, content: bytes) -> bytes:
        """The message dot-stuffed for DATA, once per post: the batches of one post share it."""
        if self._prepared[0] != content:
            self._prepared = (content, prepare(content))
        return self._prepared[1]

    async def _checkout(self) -> aiosmtplib.SMTP:
        """A live connection: a pooled one that answers RSET, else a new one."""
        while self._idle:
            client = self._idle.pop()
            if await _reset(client):
                return client
            log.info("pooled connection to %s:%d was lost; opening another", self.host, self.port)
        return await self._connect()

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self.host, port=self.port, timeout=self.timeout,
            local_hostname=self._helo_name, start_tls=self._start_tls,
        )
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                await _greet(client)
        except (SMTPException, OSError) as exc:
            client.close()
            where = f"{self.host}:{self.port}"
            raise TransportError(f"cannot connect to smarthost {where}: {_why(exc)}") from None
        log.debug("connected to %s:%d", self.host, self.port)
        return client

    async def _transactions(self, client: aiosmtplib.SMTP, mail_from: str, recipients: list[str], content: bytes,
                            extra: tuple[bytes, ...] = ()) -> Results:
        """Repeat the transaction for recipients a smarthost deferred with 452 (RFC 5321 4.5.3.1.10).

        Only while each round delivers someone, so a smarthost that answers 452
        to everything cannot keep us here.
        """
        results: Results = {}
        pending = list(dict.fromkeys(recipients))
        while pending:
            round_results = await self._transaction(client, mail_from, pending, content, extra)
            results.update(round_results)
            over_limit = [r for r in pending if _too_many(*round_results[r])]
            progressed = any(200 <= round_results[r][0] < 300 for r in pending)
            if not (over_limit and progressed) or not await _reset(client):
                break
            pending = over_limit
        return results

    async def _each(self, client: aiosmtplib.SMTP, mail_from: str, recipients: list[str], content: bytes,
                    personal: Personal | None = None) -> Results:
        """VERP: a transaction per recipient, each with its own sender, back to back on this connection.

        A copy is settled as soon as its DATA is answered, so when the sender is
        refused or the connection is lost midway, only the recipients not yet
        served wait for the next try; those already served get no second copy.
        """
        results: Results = {}
        pending = list(dict.fromkeys(recipients))
        for index, rcpt in enumerate(pending):
            sender = verp.encode(mail_from, rcpt) if mail_from else ""
            try:
                copy = personal(rcpt) + content if personal is not None else content
                results.update(await self._transaction(client, sender, [rcpt], copy))
            except TransportError as exc:  # the smarthost refused this sender: the rest wait
                return _waiting(results, pending[index:], str(exc))
            except (SMTPException, OSError) as exc:
                client.close()
                why = f"connection to smarthost {self.host}:{self.port} failed: {_why(exc)}"
                return _waiting(results, pending[index:], why)
            # Refused at RCPT leaves the transaction open; RSET closes it (harmless after DATA).
            if not 200 <= results[rcpt][0] < 300 and not await _reset(client):
                return _waiting(results, pending[index + 1 :], "connection to the smarthost was lost")
        return results

    async def _transaction(self, client: aiosmtplib.SMTP, mail_from: str, recipients: list[str], content: bytes,
                           extra: tuple[bytes, ...] = ()) -> Results:
        """MAIL, one RCPT each, one DATA for everyone accepted; the reply that decided each recipient.

        extra: more MAIL parameters (XVERP).
        """
        utf8 = client.supports_extension("smtputf8")
        results, wire = _encode_recipients(recipients, utf8)
        sender = _encoded(mail_from, utf8) if mail_from else b""
        if sender is None:
            raise TransportError(f"envelope sender {mail_from!r} cannot be sent to this smarthost")
        options = _mail_options(client, content, any(not w.isascii() for w in (sender, *wire.values()))) + list(extra)
        reply = await client.execute_command(b"MAIL", b"FROM:<" + sender + b">", *options)
        if reply.code != 250:
            raise TransportError(f"smarthost refused the sender: {reply.code} {reply.message}")
        accepted = []
        for rcpt, address in wire.items():
            reply = await client.execute_command(b"RCPT", b"TO:<" + address + b">")
            if reply.code in (250, 251):
                accepted.append(rcpt)
            else:
                results[rcpt] = (reply.code, reply.message)
        if accepted:
            outcome = await _data(client, content)
            results.update((rcpt, outcome) for rcpt in accepted)
        return results


def _verp_transactions(mail_from: str, recipients: list[str], content: bytes, offered: set[str]
                       ) -> tuple[Results, list[Transaction]]:
    """Each member's envelope on the wire, with its own VERP sender; members that cannot be sent get their answer."""
    utf8 = "smtputf8" in offered
    results, wire = _encode_recipients(list(dict.fromkeys(recipients)), utf8)
    options = b"".join(b" " + option for option in _options(offered, content, False))  # the same for every member
    transactions = []
    for rcpt, address in wire.items():
        envelope_from = verp.encode(mail_from, rcpt) if mail_from else ""
        sender = _encoded(envelope_from, utf8) if envelope_from else b""
        if sender is None:  # waits, as aiosmtplib's path has it: the smarthost may offer SMTPUTF8 later
            results[rcpt] = (0, f"envelope sender {envelope_from!r} cannot be sent to this smarthost")
            continue
        smtputf8 = b"" if (sender + address).isascii() else b" SMTPUTF8"
        mail = b"MAIL FROM:<" + sender + b">" + options + smtputf8 + b"\r\n"
        transactions.append(Transaction(rcpt, mail, b"RCPT TO:<" + address + b">\r\n"))
    return results, transactions


def _waiting(results: Results, rest: list[str], why: str) -> Results:
    """results, with every recipient in rest waiting for the next try (code 0: no reply decided it)."""
    results.update((rcpt, (0, why)) for rcpt in rest)
    return results


def _too_many(code: int, text: str) -> bool:
    """452 "too many recipients" (4.5.3, or no enhanced code), not 452 4.2.2 "mailbox full".

    >>> _too_many(452, "4.5.3 Error: too many recipients"), _too_many(452, "Too many"), _too_many(452, "4.2.2 full")
    (True, True, False)
    """
    return code == 452 and (text.startswith("4.5.3") or not ENHANCED.match(text))


def _encode_recipients(recipients: list[str], utf8: bool) -> tuple[Results, dict[str, bytes]]:
    """Recipients that cannot be sent get their (local, permanent) answer; the rest their wire form."""
    refused: Results = {}
    wire: dict[str, bytes] = {}
    for rcpt in recipients:
        encoded = _encoded(rcpt, utf8)
        if encoded is None:
            refused[rcpt] = BAD_ADDRESS if not MAILBOX.fullmatch(rcpt) else NEEDS_SMTPUTF8
        else:
            wire[rcpt] = encoded
    return refused, wire


def _encoded(address: str, utf8: bool) -> bytes | None:
    """The address as it goes between < and >, or None when it cannot be sent safely.

    >>> _encoded("ann@example.org", False)
    b'ann@example.org'
    >>> _encoded("ann@bücher.example", False)
    b'ann@xn--bcher-kva.example'
    >>> _encoded("zoë@example.org", False) is None, _encoded("zoë@example.org", True)
    (True, b'zo\\xc3\\xab@example.org')
    >>> _encoded("ann@example.org>\\r\\nRCPT TO:<eve@example.org", True) is None
    True
    """
    if not MAILBOX.fullmatch(address):
        return None
    if address.isascii():
        return address.encode("ascii")
    if utf8:
        return address.encode("utf-8")
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        return None
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}".encode("ascii")
    except UnicodeError:
        return None


def _mail_options(client: aiosmtplib.SMTP, content: bytes, utf8: bool) -> list[bytes]:
    """SIZE lets the smarthost refuse a too-big message before it is sent; BODY/SMTPUTF8 say what comes."""
    offered = {name for name in ("size", "8bitmime") if client.supports_extension(name)}
    return _options(offered, content, utf8)


def _options(offered: set[str], content: bytes, utf8: bool) -> list[bytes]:
    """The MAIL parameters for content, given the extensions (lower case) the smarthost offered."""
    options = []
    if "size" in offered:
        # The size on the wire: bare LFs become CRLF (an estimate is all RFC 1870 asks).
        options.append(b"SIZE=%d" % (len(content) + content.count(b"\n") - content.count(b"\r\n")))
    if not content.isascii() and "8bitmime" in offered:
        options.append(b"BODY=8BITMIME")
    if utf8:
        options.append(b"SMTPUTF8")
    return options


async def _data(client: aiosmtplib.SMTP, content: bytes) -> tuple[int, str]:
    """DATA and the message in one write; a refusal (at DATA or after the dot) is the answer, not an error."""
    try:
        reply = await client.data(content)
    except SMTPDataError as exc:
        return exc.code, exc.message
    return reply.code, reply.message


async def _greet(client: aiosmtplib.SMTP) -> None:
    """EHLO, falling back to HELO for a server that does not speak ESMTP."""
    try:
        await client.ehlo()
    except SMTPHeloError:
        await client.helo()


async def _reset(client: aiosmtplib.SMTP) -> bool:
    """RSET: True when the connection is alive and its envelope clean, else it is closed."""
    if client.is_connected:
        try:
            reply = await client.execute_command(b"RSET")
            if reply.code == 250:
                return True
        except (SMTPException, OSError):
            pass  # a dead connection: closed below and replaced by the caller
    client.close()
    return False


async def _quit(client: aiosmtplib.SMTP) -> None:
    # Best effort: the server may already have gone; the socket is closed either way.
    with contextlib.suppress(SMTPException, OSError):
        await client.quit(timeout=QUIT_TIMEOUT)
    client.close()


def _is_loopback(host: str) -> bool:
    """localhost or a loopback IP: no network to protect the message from."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _why(exc: BaseException) -> str:
    """One line for last_error and the log: the reply or the reason an owner can act on, never message content.

    aiosmtplib wraps the socket's error (refused, unreachable, TLS) in its own;
    the socket's is the one that says what to fix.
    """
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{exc.code} {exc.message}".replace("\n", " ")
    cause = exc.__cause__ if isinstance(exc, SMTPException) and exc.__cause__ is not None else exc
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused (is the smarthost running and listening on that port?)"
    if isinstance(cause, ssl.SSLError):
        return f"TLS failed: {cause}".replace("\n", " ")
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return f"no answer within the timeout ({exc})".replace("\n", " ")
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    text = str(exc).replace("\n", " ") or type(exc).__name__
    return text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"
