"""A deliberately thin SMTP client for load generation, so the benchmark measures the server.

aiosmtplib costs more CPU per message than our whole intake path; a real MTA
in front (Postfix) is far lighter. This client speaks the minimum: EHLO once
per connection, then MAIL, RCPT, DATA per message, each command in one write.
"""

from __future__ import annotations

import asyncio


class ThinClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, host: str = "127.0.0.1") -> "ThinClient":
        reader, writer = await asyncio.open_connection(host, port)
        client = cls(reader, writer)
        await client._reply()
        await client._command(b"EHLO bench.client\r\n")
        return client

    async def _reply(self) -> bytes:
        """Read one (possibly multi-line) reply; return its last line."""
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionError("server closed the connection")
            if line[3:4] != b"-":
                return line

    async def _command(self, data: bytes, expect: bytes = b"2") -> bytes:
        self.writer.write(data)
        line = await self._reply()
        if not line.startswith(expect):
            raise RuntimeError(f"unexpected reply {line!r} to {data[:40]!r}")
        return line

    async def send(self, sender: str, recipient: str, message: bytes) -> bytes:
        """One transaction; returns the final reply to DATA."""
        await self._command(f"MAIL FROM:<{sender}>\r\n".encode())
        await self._command(f"RCPT TO:<{recipient}>\r\n".encode())
        await self._command(b"DATA\r\n", expect=b"354")
        body = message.replace(b"\r\n.", b"\r\n..")
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        return await self._command(body + b".\r\n")

    async def quit(self) -> None:
        self.writer.write(b"QUIT\r\n")
        await self.writer.drain()
        self.writer.close()
