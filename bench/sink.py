"""A counting smarthost for benchmarks: accepts everything, prints one line per transaction.

Each line is `RCPTS UNIX_TIME`, so the benchmark (reading our stdout) knows how
many recipients have arrived and when, without sharing memory with the daemon.
It offers PIPELINING, as Postfix and every common smarthost do (aiosmtpd reads
pipelined commands in order; it does not say so in its EHLO by itself).
Run: python bench/sink.py PORT
"""

from __future__ import annotations

import asyncio
import sys
import time

from aiosmtpd.smtp import SMTP


class CountingHandler:
    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING", responses[-1]]

    async def handle_DATA(self, server, session, envelope) -> str:
        sys.stdout.write(f"{len(envelope.rcpt_tos)} {time.time():.6f}\n")
        sys.stdout.flush()
        return "250 2.0.0 OK"


async def main(port: int) -> None:
    handler = CountingHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, hostname="sink", ident="sink"), "127.0.0.1", port)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
