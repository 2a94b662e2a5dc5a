"""Copies over one SMTP connection with PIPELINING (RFC 2920): one round trip per member or per batch.

aiosmtplib waits for each reply before it sends the next command (its
protocol drops replies that arrive for commands written ahead), so a VERP'd
batch of 500 members cost 2,500 round trips. This small client, over plain
asyncio streams, writes each member's transaction as one buffer: the message
of the previous member (already dot-stuffed, with its final dot), then MAIL,
RCPT and DATA of the next, and reads the replies in order. The message never
goes before its 354: if a RCPT is refused the smarthost answers DATA with an
error, and message lines sent anyway would be read as commands.

A batch (one transaction for up to max_recipients members) goes the same
way: MAIL, every RCPT and DATA in one write, the replies read while the
write drains (so neither side can stall with a full buffer), then the
message once DATA is answered 354. aiosmtplib took a round trip per RCPT:
10,000 members cost 10,000 of them.

The SmtpTransport uses it for a smarthost whose EHLO offered PIPELINING;
every other smarthost gets aiosmtplib's command-by-command transactions.
"""

from __future__ import annotations

import asyncio
import re
import ssl
from dataclasses import dataclass

from listserv.delivery import Personal, Results

MAX_REPLY_LINES = 100  # a reply longer than this is not from an SMTP server
_BARE_NEWLINE = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


class ConnectionLost(Exception):
    """The smarthost closed the connection, did not answer in time, or answered with something not SMTP."""


class SenderRefused(Exception):
    """The smarthost refused a transaction's MAIL: no member of it was served (the reply is the text)."""


def prepare(content: bytes) -> bytes:
    """The message as DATA sends it: CRLF line ends, leading dots doubled, then the final dot line.

    >>> prepare(b"a\\n.b\\r\\n..c")
    b'a\\r\\n..b\\r\\n...c\\r\\n.\\r\\n'
    """
    text = _BARE_NEWLINE.sub(b"\r\n", content)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    return _LEADING_DOT.sub(b"..", text) + b".\r\n"


def _on_top(personal: Personal | None, rcpt: str) -> bytes:
    """The member's own header lines in their wire form (CRLF; a header line never starts with a dot)."""
    return _BARE_NEWLINE.sub(b"\r\n", personal(rcpt)) if personal is not None else b""


@dataclass
class Transaction:
    """One member's copy: the wire forms of the envelope, ready to be written."""

    rcpt: str  # the member, as the batch names it (the key of its result)
    mail: bytes  # "MAIL FROM:<...> options\r\n"
    rcpt_line: bytes  # "RCPT TO:<...>\r\n"


class PipelinedConnection:
    """One connection to the smarthost, greeted with EHLO (and STARTTLS when asked), whose replies are read in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float) -> None:
        self.reader = reader
        self.writer = writer
        self.timeout = timeout
        self.extensions: set[str] = set()

    @classmethod
    async def open(cls, host: str, port: int, timeout: float, helo_name: str, start_tls: bool | None
                   ) -> PipelinedConnection:
        """Connect, read the greeting, EHLO; with start_tls None, STARTTLS if offered (certificates checked)."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ConnectionLost(str(exc) or type(exc).__name__) from exc
        connection = cls(reader, writer, timeout)
        try:
            await connection._expect(220)
            await connection._ehlo(helo_name)
            if start_tls is None and "starttls" in connection.extensions:
                connection.writer.write(b"STARTTLS\r\n")
                await connection._expect(220)
                context = ssl.create_default_context()
                await asyncio.wait_for(writer.start_tls(context, server_hostname=host), timeout)
                await connection._ehlo(helo_name)
        except (ConnectionLost, OSError, ssl.SSLError, asyncio.TimeoutError) as exc:
            await connection.close()
            cause = None if isinstance(exc, ConnectionLost) else exc  # the socket's or TLS's reason, for the log
            raise ConnectionLost(str(exc) or type(exc).__name__) from cause
        return connection

    async def _ehlo(self, helo_name: str) -> None:
        self.writer.write(b"EHLO " + helo_name.encode("ascii", "replace") + b"\r\n")
        _, text = await self._expect(250)
        self.extensions = {line.split(" ", 1)[0].lower() for line in text.split("\n")[1:]}

    async def _expect(self, code: int) -> tuple[int, str]:
        reply = await self.reply()
        if reply[0] != code:
            raise ConnectionLost(f"{reply[0]} {reply[1]}".replace("\n", " "))
        return reply

    async def reply(self) -> tuple[int, str]:
        """The next reply, waiting at most the timeout."""
        return (await self._within(self._reply()))[0]

    async def send(self, data: bytes) -> None:
        """Write data and wait (at most the timeout) until the socket took it."""
        await self._within(self._send(data))

    async def _within(self, step) -> tuple:
        """Run one step of the conversation under the timeout; any way it fails is ConnectionLost."""
        try:
            async with asyncio.timeout(self.timeout):
                return (await step,)
        except TimeoutError:
            raise ConnectionLost(f"no answer within {self.timeout:g}s") from None
        except (OSError, ValueError, ssl.SSLError) as exc:
            raise ConnectionLost(str(exc) or type(exc).__name__) from None

    async def _reply(self) -> tuple[int, str]:
        """The next reply: its code and its text, the lines of a multi-line reply joined by newlines."""
        lines = []
        while len(lines) < MAX_REPLY_LINES:
            line = await self.reader.readline()
            if not line.endswith(b"\n"):
                raise ConnectionLost("the smarthost closed the connection")
            if len(line) < 4 or not line[:3].isdigit() or line[3:4] not in (b" ", b"-", b"\r", b"\n"):
                raise ConnectionLost("the smarthost's answer is not an SMTP reply")
            lines.append(line[4:].strip(b" \t\r\n").decode("utf-8", "replace"))
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(lines)
        raise ConnectionLost("the smarthost's reply is too long")

    async def _send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def reset(self) -> bool:
        """RSET: True when the connection is alive and its envelope clean; else it is closed."""
        try:
            await self.send(b"RSET\r\n")
            if (await self.reply())[0] == 250:
                return True
        except ConnectionLost:
            pass  # a dead connection: closed here and replaced by the caller
        await self.close()
        return False

    async def quit(self) -> None:
        """QUIT, briefly; the connection is closed either way."""
        try:
            await self.send(b"QUIT\r\n")
            await self.reply()
        except ConnectionLost:
            pass  # the server may already have gone
        await self.close()

    async def close(self) -> None:
        self.writer.close()
        try:
            await asyncio.wait_for(self.writer.wait_closed(), self.timeout)
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            pass  # closed from our side already; what the peer did no longer matters

    async def each(self, transactions: list[Transaction], message: bytes, personal: Personal | None = None
                   ) -> tuple[Results, list[str], str]:
        """Run the transactions pipelined; the reply that decided each member, and the members left waiting.

        Returns (results, waiting, why): waiting are the members no reply
        decided (the sender was refused, or the connection was lost: then the
        member whose message went out but whose answer never came is among
        them, as aiosmtplib's path would have it), why says what stopped us.
        message is prepare()'d. personal: the header lines each member's copy
        gets on top of message (one-click unsubscribe), made as it is written.
        """
        results: Results = {}
        sent: str | None = None  # the member whose message is in the buffer being written
        dirty = False  # the last transaction ended without its message: RSET before the next MAIL
        for index, txn in enumerate(transactions):
            copy = _on_top(personal, sent) + message if sent else b""
            buffer = copy + (b"RSET\r\n" if dirty else b"") + txn.mail + txn.rcpt_line + b"DATA\r\n"
            replies: list[tuple[int, str]] = []
            try:
                await self._within(self._group(buffer, 3 + (sent is not None) + dirty, replies))
            except ConnectionLost as exc:
                await self.close()  # replies may still come, out of step with any later command
                if sent and replies:  # the previous message was answered before the connection went
                    results[sent], sent = replies[0], None
                return results, ([sent] if sent else []) + [t.rcpt for t in transactions[index:]], str(exc)
            if sent:
                results[sent] = replies.pop(0)
                sent = None
            if dirty:
                replies.pop(0)  # RSET's
            mail, rcpt, data = replies
            if mail[0] != 250:
                if data[0] == 354:  # a smarthost that opens DATA without a sender: its state is unknown
                    await self.close()
                why = f"smarthost refused the sender: {mail[0]} {mail[1]}".replace("\n", " ")
                return results, [t.rcpt for t in transactions[index:]], why
            if data[0] == 354:
                sent = txn.rcpt
                dirty = False
            else:
                results[txn.rcpt] = rcpt if rcpt[0] not in (250, 251) else data
                dirty = True
        if sent:
            try:
                await self.send(_on_top(personal, sent) + message)
                results[sent] = await self.reply()
            except ConnectionLost as exc:
                await self.close()
                return results, [sent], str(exc)
        elif dirty and not await self.reset():
            return results, [], "connection to the smarthost was lost"
        return results, [], ""

    async def transaction(self, mail: bytes, rcpt_lines: list[tuple[str, bytes]], message: bytes
                          ) -> tuple[Results, list[str], str]:
        """One transaction for many members, pipelined: MAIL, each RCPT and DATA in one write, then the message.

        Returns (results, waiting, why) as each() does; a refused sender
        raises SenderRefused; a member refused at RCPT gets its reply;
        the others get DATA's refusal or the reply to the message. When the
        connection is lost after the message went out, the accepted members
        wait (a copy may go twice, never zero times). message is prepare()'d.
        """
        members = [rcpt for rcpt, _ in rcpt_lines]
        replies: list[tuple[int, str]] = []
        buffer = mail + b"".join(line for _, line in rcpt_lines) + b"DATA\r\n"
        try:
            await self._within(self._group(buffer, 2 + len(rcpt_lines), replies))
        except ConnectionLost as exc:
            await self.close()
            return {}, members, str(exc)
        mail_reply, data_reply = replies[0], replies[-1]
        if mail_reply[0] != 250:
            if data_reply[0] == 354:  # a smarthost that opens DATA without a sender: its state is unknown
                await self.close()
            raise SenderRefused(f"smarthost refused the sender: {mail_reply[0]} {mail_reply[1]}".replace("\n", " "))
        results: Results = {}
        accepted = []
        for rcpt, reply in zip(members, replies[1:-1]):
            if reply[0] in (250, 251):
                accepted.append(rcpt)
            else:
                results[rcpt] = reply
        if data_reply[0] != 354 or not accepted:
            if data_reply[0] == 354:  # DATA opened with no recipient: what a message would become is unknown
                await self.close()
            results.update((rcpt, data_reply) for rcpt in accepted)
            return results, [], ""
        try:
            await self.send(message)
            final = await self.reply()
        except ConnectionLost as exc:
            await self.close()
            return results, accepted, str(exc)
        results.update((rcpt, final) for rcpt in accepted)
        return results, [], ""

    async def _group(self, buffer: bytes, count: int, replies: list[tuple[int, str]]) -> None:
        """Write one group and read its count replies in order into replies (kept when the connection fails).

        The replies are read while the write drains: a long group (a batch's
        RCPTs) must not wait for its whole buffer to be taken before the
        smarthost's answers, which it may stop sending when nobody reads them.
        """
        self.writer.write(buffer)
        while len(replies) < count:
            replies.append(await self._reply())
        await self.writer.drain()
