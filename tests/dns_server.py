"""A real DNS server on loopback (dnslib, UDP and TCP) answering from a dict a test fills and changes.

Records are keyed by (name, type): `zone.add("_dmarc.example.com", "TXT", "v=DMARC1; p=reject")`.
A name with no records of any type answers NXDOMAIN; a name in `zone.failing` answers SERVFAIL;
every question asked is kept in `zone.asked`, so a test can see what was (not) looked up.
"""

from __future__ import annotations

import threading

from dnslib import AAAA, MX, PTR, QTYPE, RCODE, RR, TXT, A, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class Zone(BaseResolver):
    """The records served, by (lowercase name without trailing dot, type)."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], list[tuple[str, int]]] = {}
        self.failing: set[str] = set()
        self.asked: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def add(self, name: str, rdtype: str, value: str, ttl: int = 300) -> None:
        with self._lock:
            self.records.setdefault((name.lower().rstrip("."), rdtype), []).append((value, ttl))

    def replace(self, name: str, rdtype: str, value: str, ttl: int = 300) -> None:
        with self._lock:
            self.records[(name.lower().rstrip("."), rdtype)] = [(value, ttl)]

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        rdtype = QTYPE[request.q.qtype]
        with self._lock:
            self.asked.append((name, rdtype))
            found = list(self.records.get((name, rdtype), ()))
            exists = any(key[0] == name for key in self.records)
        if name in self.failing:
            reply.header.rcode = RCODE.SERVFAIL
        elif not exists:
            reply.header.rcode = RCODE.NXDOMAIN
        for value, ttl in found:
            reply.add_answer(RR(DNSLabel(name), getattr(QTYPE, rdtype), rdata=_rdata(rdtype, value), ttl=ttl))
        return reply


def _rdata(rdtype: str, value: str):
    if rdtype == "TXT":  # strings of at most 255 bytes, as a long DKIM key is published
        data = value.encode()
        return TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])
    if rdtype == "MX":
        preference, _, exchange = value.partition(" ")
        return MX(exchange, int(preference))
    return {"A": A, "AAAA": AAAA, "PTR": PTR}[rdtype](value)


class LoopbackDns:
    """Zone served over UDP and TCP on 127.0.0.1:port until stop()."""

    def __init__(self, zone: Zone, port: int) -> None:
        self.zone, self.port = zone, port
        quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", logf=lambda text: None)
        self._servers: list[DNSServer] = []
        try:
            for tcp in (False, True):
                self._servers.append(DNSServer(zone, address="127.0.0.1", port=port, tcp=tcp, logger=quiet))
        except OSError:  # the port is taken for one protocol: close what was opened, the caller tries another
            for server in self._servers:
                server.server.server_close()
            raise
        self._threads = [  # a short poll: shutdown() waits for it, and every test's teardown with it
            threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
            for server in self._servers
        ]
        for thread in self._threads:
            thread.start()

    @property
    def nameserver(self) -> str:
        """The `[dns] nameservers` entry that points here."""
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        for server in self._servers:
            server.server.shutdown()
            server.server.server_close()
        for thread in self._threads:
            thread.join()
