"""Shared steps of the signing tests: make a domain's keys with the CLI, serve their records to dkimpy, verify."""

from __future__ import annotations

import re

import dkim

RECORD = re.compile(r'^(\S+) IN TXT ((?:"[^"]*" ?)+)$')


def records(output: str) -> dict[str, bytes]:
    """The TXT records `dkim keygen` printed: name -> value (its quoted strings joined, as DNS gives them)."""
    found = {}
    for line in output.splitlines():
        match = RECORD.match(line)
        if match:
            found[match.group(1).casefold()] = "".join(re.findall(r'"([^"]*)"', match.group(2))).encode("ascii")
    return found


def dns_from(published: dict[str, bytes]):
    """A dnsfunc for dkimpy that answers from the published records, as a resolver would."""
    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return published.get(name.decode("ascii").rstrip(".").casefold())
    return lookup


async def keygen(cli, domain: str = "example.org", *options: str):
    """Run `listserv dkim keygen DOMAIN` and return a dnsfunc that serves the records it printed."""
    result = await cli("dkim", "keygen", domain, *options)
    assert result.exit_code == 0, result.output
    return dns_from(records(result.output))


def signatures(raw: bytes) -> int:
    return sum(1 for line in raw.splitlines() if line.lower().startswith(b"dkim-signature:"))


def verified_algorithms(raw: bytes, dns) -> list[bytes]:
    """The a= of each DKIM signature of raw that verifies against the published keys (d= example.org)."""
    passed = []
    for index in range(signatures(raw)):
        checker = dkim.DKIM(raw)
        if checker.verify(idx=index, dnsfunc=dns) and checker.domain == b"example.org":
            passed.append(checker.signature_fields[b"a"])
    return passed


def signed_names(raw: bytes) -> list[bytes]:
    """The h= of the first DKIM signature, lowercase."""
    checker = dkim.DKIM(raw)
    checker.verify(idx=0, dnsfunc=lambda name, timeout=5: None)
    return [name.strip().lower() for name in checker.signature_fields[b"h"].split(b":")]


def well_signed(raw: bytes, dns) -> bool:
    """Both signatures (RSA and Ed25519) verify."""
    return sorted(verified_algorithms(raw, dns)) == [b"ed25519-sha256", b"rsa-sha256"]


def sealed(raw: bytes, dns) -> bool:
    """The ARC chain of raw verifies (dkimpy's arc_verify says pass)."""
    return dkim.arc_verify(raw, dnsfunc=dns)[0] == dkim.CV_Pass
