"""DKIM signatures and the ARC seal, added once to the final bytes of a message before it is queued.

The signature covers the bytes every recipient gets: VERP changes only the
envelope, never the content, so one signature serves all the copies of a
post. relaxed/relaxed canonicalization survives the re-folding and
whitespace changes of relays. From and Subject are signed once more than
they occur (oversigned), so nobody on the way can add a second one that a
mail program would show instead.

The DKIM signatures are made by listserv.outgoing.dkim_signer and the ARC
set by listserv.outgoing.arc_seal, both on OpenSSL (~0.2 ms an RSA
signature, against ~5.5 ms for dkimpy's Python RSA, three per post); dkimpy
stays what the tests verify with. prepare() reads a message once for mail
that differs per recipient only in header fields on top (a List-Unsubscribe
URL each): the body is hashed once, and each variant costs its signatures
alone.
"""

from __future__ import annotations

from listserv.auth.result import AuthResult
from listserv.config import Settings
from listserv.outgoing import arc_seal, dkim_signer, keys

SIGNED = (  # the headers receivers check (RFC 6376 5.4.1, Gmail/Yahoo sender rules), each when present
    "from", "to", "cc", "subject", "date", "message-id", "reply-to", "sensitivity", "mime-version",
    "content-type", "content-transfer-encoding", "in-reply-to", "references",
)
SIGNED_PREFIX = "list-"  # List-Id, List-Unsubscribe, List-Unsubscribe-Post ...: all of them
OVERSIGNED = ("from", "subject")
ARC_ALGORITHM = b"rsa-sha256"  # the only one RFC 8617 allows


def finish(
    settings: Settings, domain: str, content: bytes, seal: bool = False, auth: AuthResult | None = None
) -> bytes:
    """The content as it leaves: DKIM-signed with each key of the domain, and ARC-sealed when seal
    (every copy of a post) with what listserv.auth found of the post as it arrived (auth; None: nothing
    checked); the content unchanged when the domain has no key."""
    signer = prepare(settings, domain, content)
    if not signer.keys:
        return content
    signed = signer.sign()
    rsa = [key for key in signer.keys if key.algorithm == ARC_ALGORITHM]
    if not (seal and rsa and signer.prepared):
        return signed
    checked = auth is not None and bool(auth.author_domain)
    results, chain = (auth.results(), auth.arc) if checked else ("arc=none", "none")
    return arc_seal.arc_set(signer.prepared, rsa[0].private, domain, rsa[0].selector, signed_headers(content),
                            signer.linesep, results, chain) + signed


class Signer:
    """A message read once for DKIM signing with the domain's keys; sign() gives each variant its signatures."""

    def __init__(self, found: list[keys.Key], domain: str, content: bytes) -> None:
        self.keys = found
        self.domain = domain
        self.content = content
        self.linesep = _linesep(content)
        self.prepared = dkim_signer.Prepared(content) if found else None

    def sign(self, extra_headers: bytes = b"") -> bytes:
        """extra_headers (whole header fields, each line ended like the message's) put on top of the content,
        and the DKIM signatures of the whole on top of them; the body is not read again. Without keys, the
        two joined unsigned."""
        message = extra_headers + self.content
        if self.prepared is None:
            return message
        extra, _ = dkim_signer.split(extra_headers)
        names = signed_headers(message)
        return b"".join(
            self.prepared.signature(key.algorithm, key.private, self.domain, key.selector, names, self.linesep, extra)
            for key in self.keys
        ) + message


def prepare(settings: Settings, domain: str, content: bytes) -> Signer:
    """content read once for signing with the domain's keys (none: sign() adds no signature)."""
    return Signer(keys.of_domain(settings, domain), domain, content)


def signed_headers(content: bytes) -> list[bytes]:
    """The names to sign, as often as each occurs in the header block, From and Subject once more.

    >>> signed_headers(b"From: a@b.org\\nSubject: s\\nX-Other: 1\\nList-Id: <l.b.org>\\n\\nbody\\n")
    [b'from', b'subject', b'list-id', b'from', b'subject']
    """
    head = content.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    names = []
    for line in head.splitlines():
        name = line.partition(b":")[0].strip().lower().decode("ascii", "replace")
        if line[:1].isspace() or not name:
            continue
        if name in SIGNED or name.startswith(SIGNED_PREFIX):
            names.append(name.encode("ascii"))
    return names + [name.encode("ascii") for name in OVERSIGNED]


def _linesep(content: bytes) -> bytes:
    """CRLF when the content's first line ends so, LF otherwise: the added headers match the message."""
    first = content.split(b"\n", 1)[0]
    return b"\r\n" if first.endswith(b"\r") else b"\n"


def unsigned(content: bytes) -> bytes:
    """The content without the DKIM-Signature and ARC header fields on top (mail the list wrote itself,
    about to be signed again after a change).

    >>> unsigned(b"DKIM-Signature: v=1;\\n b=x\\nFrom: a@b.org\\n\\nbody\\n")
    b'From: a@b.org\\n\\nbody\\n'
    """
    return _without(content, _linesep(content), (b"dkim-signature:", b"arc-"))


def _without(content: bytes, linesep: bytes, prefixes: tuple[bytes, ...]) -> bytes:
    """The content without the header fields whose lines start with one of the (lowercase) prefixes."""
    head, _, body = content.partition(linesep + linesep)
    kept, skipping = [], False
    for line in head.split(linesep):
        if not line[:1].isspace():
            skipping = line.lower().startswith(prefixes)
        if not skipping:
            kept.append(line)
    return linesep.join(kept) + linesep + linesep + body
