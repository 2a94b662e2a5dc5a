"""Our own DKIM signer (RFC 6376 relaxed/relaxed; rsa-sha256, and ed25519-sha256 of RFC 8463) on OpenSSL.

dkimpy signs RSA with Python integers (~5.5 ms a signature); `cryptography`
calls OpenSSL (~0.2 ms). Only signing is ours: every test verifies what this
module writes with dkimpy, the reference we check against.

A message is prepared once (its header fields split, its body canonicalized
and hashed), then signed for any number of header variants: the body hash
does not change when per-recipient header fields are added on top.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from dataclasses import dataclass

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

RSA, ED25519 = b"rsa-sha256", b"ed25519-sha256"
_NEWLINE = re.compile(rb"\r?\n")
_WSP_BEFORE_CRLF = re.compile(rb"[\t ]+\r\n")
_WSP = re.compile(rb"[\t ]+")
_FIELD_NAME = re.compile(rb"([\x21-\x39\x3b-\x7e]+)[\t ]*:")
B64_LINE = 72  # characters of the b= value per folded line


@dataclass(frozen=True)
class Field:
    """One header field as it stands in the message: its name as written and its value with folding kept."""

    name: bytes  # e.g. b"Subject"
    value: bytes  # everything after the colon, continuation lines joined with CRLF


def split(content: bytes) -> tuple[list[Field], bytes]:
    """The header fields and the body (CRLF line ends), read as dkimpy and receivers read them.

    A line that is neither a field nor a continuation (an mbox "From " line)
    starts no field and is skipped.

    >>> split(b"From: a@b.org\\nSubject: one\\n two\\n\\nbody\\n")
    ([Field(name=b'From', value=b' a@b.org'), Field(name=b'Subject', value=b' one\\r\\n two')], b'body\\r\\n')
    """
    lines = _NEWLINE.split(content)
    fields: list[Field] = []
    for index, line in enumerate(lines):
        if not line:
            return fields, b"\r\n".join(lines[index + 1 :])
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] = Field(fields[-1].name, fields[-1].value + b"\r\n" + line)
            continue
        match = _FIELD_NAME.match(line)
        if match:
            fields.append(Field(match.group(1), line[match.end() :]))
    return fields, b""


def relaxed_header(name: bytes, value: bytes) -> bytes:
    """RFC 6376 3.4.2: name in lower case, value unfolded, whitespace runs to one space, trimmed; CRLF ended.

    >>> relaxed_header(b"SubJect ", b" Two\\r\\n  words\\t here ")
    b'subject:Two words here\\r\\n'
    """
    unfolded = value.replace(b"\r\n", b"").replace(b"\n", b"")
    return name.lower().rstrip() + b":" + _WSP.sub(b" ", unfolded).strip() + b"\r\n"


def relaxed_body(body: bytes) -> bytes:
    """RFC 6376 3.4.4: trailing whitespace of each line gone, inner runs to one space, empty lines at the end
    gone; an empty body stays empty. A last line without its CRLF is read as SMTP sends it, with one.

    >>> relaxed_body(b"a  b \\t\\r\\n\\r\\n\\r\\n"), relaxed_body(b"\\r\\n\\r\\n"), relaxed_body(b"x ")
    (b'a b\\r\\n', b'', b'x\\r\\n')
    """
    if body and not body.endswith(b"\r\n"):
        body += b"\r\n"
    body = _WSP.sub(b" ", _WSP_BEFORE_CRLF.sub(b"\r\n", body))
    end = len(body)
    while body.endswith(b"\r\n", 0, end):
        end -= 2
    return body[:end] + b"\r\n" if end else b""


def body_hash(body: bytes) -> bytes:
    """The bh= value: base64 of the SHA-256 of the relaxed body (the same for both algorithms)."""
    return base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())


def chosen(fields: list[Field], names: list[bytes]) -> list[Field]:
    """The fields h= names, in its order: each name takes the last instance not taken yet (RFC 6376 5.4.2);
    a name with no instance left (oversigning) takes none.

    >>> f = [Field(b"From", b"1"), Field(b"To", b"x"), Field(b"from", b"2")]
    >>> [field.value for field in chosen(f, [b"from", b"from", b"from", b"to"])]
    [b'2', b'1', b'x']
    """
    taken: dict[bytes, int] = {}
    found = []
    for name in names:
        index = taken.get(name, len(fields))
        while index > 0:
            index -= 1
            if fields[index].name.lower() == name:
                found.append(fields[index])
                break
        taken[name] = index
    return found


@functools.lru_cache(maxsize=32)
def private_key(algorithm: bytes, private: bytes) -> rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey:
    """The key object, loaded once per key's bytes (OpenSSL's RSA load checks the key: milliseconds);
    ValueError naming the problem when the bytes hold no usable key of that algorithm."""
    try:
        if algorithm == RSA:
            key = serialization.load_pem_private_key(private, password=None)
        else:
            key = ed25519.Ed25519PrivateKey.from_private_bytes(base64.b64decode(private, validate=True))
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"not a usable {algorithm.decode()} private key: {exc}") from None
    if algorithm == RSA and not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the PEM key is not an RSA key")
    return key


def raw_signature(algorithm: bytes, private: bytes, data: bytes) -> bytes:
    """rsa-sha256: PKCS#1 v1.5 over SHA-256 of data; ed25519-sha256: Ed25519 of SHA-256 of data (RFC 8463 3)."""
    return digest_signature(algorithm, private, hashlib.sha256(data).digest())


def digest_signature(algorithm: bytes, private: bytes, digest: bytes) -> bytes:
    """raw_signature of data whose SHA-256 is digest: lets a caller hash the shared part of many variants once."""
    key = private_key(algorithm, private)
    if algorithm == RSA:
        return key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
    return key.sign(digest)


def folded_names(names: list[bytes], linesep: bytes) -> bytes:
    """The h= value, a new line (FWS, which h= allows around its colons) before it would pass B64_LINE.

    >>> folded_names([b"from", b"to"] * 12, b"\\n")
    b'from:to:from:to:from:to:from:to:from:to:from:to:from:to:from:to:from:to:\\n from:to:from:to:from:to'
    """
    lines, line = [], b""
    for name in names:
        if line and len(line) + len(name) + 1 > B64_LINE:
            lines.append(line + b":")
            line = b""
        line += (b":" if line else b"") + name
    return (linesep + b" ").join(lines + [line])


class Prepared:
    """A message read once for signing: its fields and its body hash; sign() for each header variant."""

    def __init__(self, content: bytes) -> None:
        self.fields, body = split(content)
        self.body_hash = body_hash(body)

    def tags(self, algorithm: bytes, domain: str, selector: str, names: list[bytes], linesep: bytes,
             now: float | None = None) -> list[bytes]:
        """The DKIM-Signature's tags before b=."""
        return [
            b"v=1", b"a=" + algorithm, b"c=relaxed/relaxed", b"d=" + domain.encode("ascii"),
            b"s=" + selector.encode("ascii"), b"t=%d" % int(time.time() if now is None else now),
            b"h=" + folded_names(names, linesep), b"bh=" + self.body_hash,
        ]

    def signature(self, algorithm: bytes, private: bytes, domain: str, selector: str, names: list[bytes],
                  linesep: bytes = b"\r\n", extra: list[Field] | None = None, now: float | None = None) -> bytes:
        """The DKIM-Signature header field (ending with linesep) over the fields h= names, the extra fields
        (header fields to be put on top of the message) counting as the topmost."""
        tags = self.tags(algorithm, domain, selector, names, linesep, now)
        return signed_field(b"DKIM-Signature", tags, chosen((extra or []) + self.fields, names), algorithm, private,
                            linesep)

    def with_last(self, algorithm: bytes, private: bytes, domain: str, selector: str, names: list[bytes],
                  last: list[bytes], linesep: bytes, now: float | None = None) -> "Variants":
        """Signing for many variants that differ only in the fields `last` names (signed after the message's
        fields that `names` picks, e.g. each member's List-Unsubscribe): the shared part is hashed here once."""
        head = signature_head(b"DKIM-Signature", self.tags(algorithm, domain, selector, names + last, linesep, now),
                              linesep)
        return Variants(head, _hashed(chosen(self.fields, names)), last, algorithm, private, linesep)


@dataclass(frozen=True)
class Variants:
    """Prepared.with_last's result: sign(fields) gives one variant's DKIM-Signature field."""

    head: bytes
    hashed: "hashlib._Hash"  # SHA-256 fed with the shared fields, relaxed; copied for each variant
    last: list[bytes]
    algorithm: bytes
    private: bytes
    linesep: bytes

    def sign(self, fields: list[Field]) -> bytes:
        hashed = self.hashed.copy()
        hashed.update(b"".join(relaxed_header(field.name, field.value) for field in chosen(fields, self.last)))
        return finished(self.head, hashed, self.algorithm, self.private, self.linesep)


def _hashed(covered: list[Field]) -> "hashlib._Hash":
    return hashlib.sha256(b"".join(relaxed_header(field.name, field.value) for field in covered))


def signature_head(name: bytes, tags: list[bytes], linesep: bytes) -> bytes:
    """A signature header field up to its empty b= (what it signs of itself, RFC 6376 3.7)."""
    return name + b": " + (b";" + linesep + b" ").join([*tags, b"b="])


def finished(head: bytes, hashed: "hashlib._Hash", algorithm: bytes, private: bytes, linesep: bytes) -> bytes:
    """head with b= filled in: hashed (the covered fields, relaxed) continued with head itself, then signed."""
    hashed.update(relaxed_header(*head.split(b":", 1)).rstrip(b"\r\n"))
    value = base64.b64encode(digest_signature(algorithm, private, hashed.digest()))
    folded = (linesep + b" ").join(value[i : i + B64_LINE] for i in range(0, len(value), B64_LINE))
    return head + linesep + b" " + folded + linesep


def signed_field(name: bytes, tags: list[bytes], covered: list[Field], algorithm: bytes, private: bytes,
                 linesep: bytes) -> bytes:
    """A signature header field (DKIM-Signature, ARC-Message-Signature, ARC-Seal) ending with linesep: the tags,
    then b= signing the covered fields and the field itself with b= empty (RFC 6376 3.7), all relaxed."""
    return finished(signature_head(name, tags, linesep), _hashed(covered), algorithm, private, linesep)
