"""Copies personalised per recipient: their own List-Unsubscribe headers, under a DKIM signature that covers them.

RFC 8058 wants List-Unsubscribe and List-Unsubscribe-Post signed, and the
one-click URL differs per member, so such a copy cannot share the one
signature of a post (listserv.outgoing.sign). prepare() does the work of a
post once: the canonical body hash (bh=) and the canonical form of every other
signed header fed into a SHA-256 that each copy continues from a copy of it.
on_top() then adds one member's two headers, hashes them and the signature's
own header, and signs (dkim_signer.Prepared.with_last): per copy and key, one
signature operation and a few hundred bytes of hashing.

The per-post DKIM signatures that queue() put on the content are dropped
(they do not cover the member's headers); its ARC set stays, as ARC does not
sign List-Unsubscribe. relaxed/relaxed canonicalization, as sign.py signs.
"""

from __future__ import annotations

from dataclasses import dataclass

from listserv.config import Settings
from listserv.outgoing import dkim_signer, keys, sign

PERSONAL = (b"list-unsubscribe", b"list-unsubscribe-post")  # the headers a copy gets for its recipient


@dataclass(frozen=True)
class Prepared:
    """A post ready to be personalised: content (without our per-post signatures) and, per key, its signing."""

    content: bytes
    signers: tuple[dkim_signer.Variants, ...]
    linesep: bytes

    def on_top(self, fields: list[tuple[str, str]]) -> bytes:
        """The header lines that go on top of content for one recipient: a DKIM-Signature per key covering the
        recipient's fields (ASCII header values, e.g. listserv.one_click.headers), then the fields."""
        lines = b"".join(name.encode("ascii") + b": " + value.encode("ascii") + self.linesep for name, value in fields)
        own, _ = dkim_signer.split(lines)
        return b"".join(signer.sign(own) for signer in self.signers) + lines


def prepare(settings: Settings, domain: str, content: bytes, now: float | None = None) -> Prepared:
    """The per-post work for every key of the domain (none: copies get their headers unsigned)."""
    linesep = b"\r\n" if content.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    content = _without_ours(content, linesep)
    prepared = dkim_signer.Prepared(content)
    names = sign.signed_headers(content)
    last = [*PERSONAL, *PERSONAL]  # each personal header oversigned, as From is
    signers = tuple(
        prepared.with_last(key.algorithm, key.private, domain, key.selector, names, last, linesep, now)
        for key in keys.of_domain(settings, domain)
    )
    return Prepared(content, signers, linesep)


def without_personal(content: bytes) -> bytes:
    """The content without List-Unsubscribe(-Post): what queue() keeps of a copy personalised at delivery.

    >>> without_personal(b"From: a@b.org\\nList-Unsubscribe: <mailto:x>\\nList-Id: <l>\\n\\nbody\\n")
    b'From: a@b.org\\nList-Id: <l>\\n\\nbody\\n'
    """
    linesep = b"\r\n" if content.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    return _without_ours(content, linesep, on_top=False)


def _without_ours(content: bytes, linesep: bytes, on_top: bool = True) -> bytes:
    """The content without any List-Unsubscribe(-Post) (each copy gets its own) and, with on_top, without the
    DKIM-Signature fields queue() put on top (those among the ARC and DKIM fields that open the header
    block; an author's own signature further down stays)."""
    head, _, body = content.partition(linesep + linesep)
    kept, skipping = [], False
    for line in head.split(linesep):
        if not line[:1].isspace():
            low = line.lower()
            on_top = on_top and low.startswith((b"dkim-signature:", b"arc-"))
            name = low.partition(b":")[0].strip()
            skipping = (on_top and low.startswith(b"dkim-signature:")) or name in PERSONAL
        if not skipping:
            kept.append(line)
    return linesep.join(kept) + linesep + linesep + body
