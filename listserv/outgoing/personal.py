"""Copies personalised per recipient: their own List-Unsubscribe headers, under a DKIM signature that covers them.

RFC 8058 wants List-Unsubscribe and List-Unsubscribe-Post signed, and the
one-click URL differs per member, so such a copy cannot share the one
signature of a post (listserv.outgoing.sign). prepare() does the work of a
post once: the canonical body hash (bh=) and the canonical form of every other
signed header fed into a SHA-256 that each copy continues from a copy of it.
on_top() then adds one member's two headers, hashes them and the signature's
own header, and signs (sign.sign_digest): per copy and key, one signature
operation and a few hundred bytes of hashing.

The per-post DKIM signatures that queue() put on the content are dropped
(they do not cover the member's headers); its ARC set stays, as ARC does not
sign List-Unsubscribe. relaxed/relaxed canonicalization, as sign.py signs.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from dataclasses import dataclass

from listserv.config import Settings
from listserv.outgoing import keys, sign

PERSONAL = (b"list-unsubscribe", b"list-unsubscribe-post")  # the headers a copy gets for its recipient
_NEWLINE = re.compile(rb"\r\n|\r|\n")  # what the wire makes of every line end (delivery.pipelined.prepare)
_WSP = re.compile(rb"[ \t]+")
_FOLD = re.compile(rb"\r\n(?=[ \t])")


@dataclass(frozen=True)
class _Signer:
    """One key's part of a post: the signature's header up to `b=`, and the hash of the post's headers."""

    key: keys.Key
    head: bytes  # "DKIM-Signature: v=1; ... bh=...; b=" with the content's line ends
    hashed: "hashlib._Hash"  # SHA-256 fed with the post's signed headers, canonical; copied per recipient


@dataclass(frozen=True)
class Prepared:
    """A post ready to be personalised: content (without our per-post signatures) and its signers."""

    content: bytes
    signers: tuple[_Signer, ...]
    linesep: bytes

    def on_top(self, fields: list[tuple[str, str]]) -> bytes:
        """The header lines that go on top of content for one recipient: a DKIM-Signature per key covering the
        recipient's fields (ASCII header values, e.g. listserv.one_click.headers), then the fields."""
        lines = b"".join(name.encode("ascii") + b": " + value.encode("ascii") + self.linesep for name, value in fields)
        canonical = b"".join(_relaxed(field) for field in _fields(_NEWLINE.sub(b"\r\n", lines)))
        signatures = []
        for signer in self.signers:
            hashed = signer.hashed.copy()
            hashed.update(canonical)
            hashed.update(_relaxed(signer.head).removesuffix(b"\r\n"))
            value = base64.b64encode(sign.sign_digest(signer.key, hashed.digest()))
            folded = (self.linesep + b" ").join(value[i : i + 72] for i in range(0, len(value), 72))
            signatures.append(signer.head + folded + self.linesep)
        return b"".join(signatures) + lines


def prepare(settings: Settings, domain: str, content: bytes, now: float | None = None) -> Prepared:
    """The per-post work for every key of the domain (none: copies get their headers unsigned)."""
    linesep = b"\r\n" if content.split(b"\n", 1)[0].endswith(b"\r") else b"\n"
    content = _without_ours(content, linesep)
    wire = _NEWLINE.sub(b"\r\n", content)
    head, _, body = wire.partition(b"\r\n\r\n")
    fields = _fields(head + b"\r\n")
    names = sign.signed_headers(content) + [*PERSONAL, *PERSONAL]  # each personal header oversigned, as From is
    common = _selected(fields, [name for name in names if name not in PERSONAL])
    body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest())
    stamp = int(time.time() if now is None else now)
    signers = []
    for key in keys.of_domain(settings, domain):
        hashed = hashlib.sha256(b"".join(_relaxed(field) for field in common))
        signers.append(_Signer(key, _head(key, domain, names, body_hash, stamp, linesep), hashed))
    return Prepared(content, tuple(signers), linesep)


def _head(key: keys.Key, domain: str, names: list[bytes], body_hash: bytes, stamp: int, linesep: bytes) -> bytes:
    """The signature's header field up to `b=` (its value is appended after signing)."""
    fold = linesep + b" "
    rows = [[]]
    for name in names:  # folded between names, where RFC 6376 3.5 allows FWS
        if sum(len(n) + 1 for n in rows[-1]) + len(name) > 70:
            rows.append([])
        rows[-1].append(name)
    h = (b":" + fold).join(b":".join(row) for row in rows if row)
    return (b"DKIM-Signature: v=1; a=" + key.algorithm + b"; c=relaxed/relaxed; d=" + domain.encode("ascii")
            + b"; s=" + key.selector.encode("ascii") + b";" + fold + b"t=" + str(stamp).encode("ascii")
            + b"; h=" + h + b";" + fold + b"bh=" + body_hash + b";" + fold + b"b=")


def _fields(head: bytes) -> list[bytes]:
    """The header fields of a CRLF header block, each with its folds and its final CRLF."""
    fields: list[bytes] = []
    for line in head.split(b"\r\n")[:-1]:
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line + b"\r\n"
        else:
            fields.append(line + b"\r\n")
    return fields


def _selected(fields: list[bytes], names: list[bytes]) -> list[bytes]:
    """The fields h= names, in its order, each name taking that name's last field not taken yet (RFC 6376 5.4.2)."""
    left: dict[bytes, list[bytes]] = {}
    for field in fields:
        left.setdefault(field.partition(b":")[0].strip().lower(), []).append(field)
    return [left[name].pop() for name in names if left.get(name)]


def _relaxed(field: bytes) -> bytes:
    """A header field in relaxed canonical form (RFC 6376 3.4.2).

    >>> _relaxed(b"Subject :  A\\r\\n \\tb  \\r\\n")
    b'subject:A b\\r\\n'
    """
    name, _, value = _NEWLINE.sub(b"\r\n", field).partition(b":")
    value = _WSP.sub(b" ", _FOLD.sub(b"", value).removesuffix(b"\r\n")).strip(b" ")
    return name.strip(b" \t").lower() + b":" + value + b"\r\n"


def _relaxed_body(body: bytes) -> bytes:
    """A CRLF body in relaxed canonical form (RFC 6376 3.4.4): spaces squeezed, none at line ends, no empty
    lines at the end, a final CRLF unless the body is empty.

    >>> _relaxed_body(b"a  b \\r\\n\\r\\n\\r\\n"), _relaxed_body(b"x"), _relaxed_body(b"\\r\\n")
    (b'a b\\r\\n', b'x\\r\\n', b'')
    """
    lines = [_WSP.sub(b" ", line).rstrip(b" ") for line in body.split(b"\r\n")]
    while lines and not lines[-1]:
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


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
