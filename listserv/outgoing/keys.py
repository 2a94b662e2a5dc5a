"""The list domains' DKIM keys: where they live, how `listserv dkim keygen` makes them, the DNS record to publish.

A domain's keys are files under the data directory (the database's
directory): `dkim/DOMAIN/SELECTOR.key`, the directories 0700 and the files
0600, since whoever reads a key can sign mail as the list. Every key file
of a domain gives each message one signature: keygen writes an RSA 2048 key
(SELECTOR.key, what every receiver checks) and an Ed25519 key
(SELECTOR-ed25519.key, RFC 8463: a second, short signature for receivers
that prefer it). The key files are read for every message, so a key made
while the server runs is used from the next message on.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path

import nacl.encoding
import nacl.signing
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from listserv import private_files
from listserv.config import Settings
from listserv.errors import BadSelector, KeyExists

DEFAULT_SELECTOR = "listserv"
ED25519_SUFFIX = "-ed25519"  # the Ed25519 key's selector: the RSA selector with this suffix
RSA_BITS = 2048  # what Gmail, Yahoo and Microsoft ask for; 1024 is refused by some receivers
TXT_STRING_BYTES = 255  # the longest character-string one TXT record string may hold (RFC 1035)
SELECTOR_FORM = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.IGNORECASE)  # one DNS label


@dataclass(frozen=True)
class Key:
    """One private key of a domain, as the signer needs it."""

    selector: str
    algorithm: bytes  # b"rsa-sha256" or b"ed25519-sha256", the a= of the signature
    private: bytes  # PEM (RSA) or the base64 seed (Ed25519), the forms dkimpy reads


@dataclass(frozen=True)
class Record:
    """A DNS TXT record that publishes one public key."""

    name: str  # SELECTOR._domainkey.DOMAIN
    value: str  # v=DKIM1; k=...; p=...

    def zone_line(self) -> str:
        """The record as a zone-file line, the value cut into quoted strings of at most 255 bytes."""
        strings = [self.value[i : i + TXT_STRING_BYTES] for i in range(0, len(self.value), TXT_STRING_BYTES)]
        return f"{self.name} IN TXT " + " ".join(f'"{s}"' for s in strings)


def directory(settings: Settings) -> Path:
    """The directory of all domains' keys: `dkim` next to the database."""
    return Path(settings.storage.database).parent / "dkim"


def of_domain(settings: Settings, domain: str) -> list[Key]:
    """The domain's keys, RSA first (by file name); none when keygen was never run for it."""
    where = directory(settings) / domain.casefold()
    files = sorted(where.glob("*.key")) if where.is_dir() else []
    found = [_read(path) for path in files]
    return sorted(found, key=lambda key: (key.algorithm != b"rsa-sha256", key.selector))


def signing_key_file(settings: Settings, domain: str, selector: str = "") -> tuple[str, Path] | None:
    """(selector, file) of the domain's RSA key under the data directory — the one given by selector, else
    the first by name — for `dns check` to compare with the published record; None when there is none."""
    where = directory(settings) / domain.casefold().rstrip(".")
    names = [where / f"{selector}.key"] if selector else sorted(where.glob("*.key")) if where.is_dir() else []
    for path in names:
        if path.is_file() and _read(path).algorithm == b"rsa-sha256":
            return path.stem, path
    return None


def _read(path: Path) -> Key:
    private = path.read_bytes()
    algorithm = b"rsa-sha256" if private.startswith(b"-----BEGIN") else b"ed25519-sha256"
    return Key(path.stem, algorithm, private)


def generate(settings: Settings, domain: str, selector: str = DEFAULT_SELECTOR, force: bool = False) -> list[Record]:
    """Make the domain's RSA and Ed25519 keys (owner-only files) and return the records to publish.

    An existing key is replaced only with force: a new key signs at once,
    and mail signed with it fails until its record is published.
    """
    if not SELECTOR_FORM.fullmatch(selector):
        raise BadSelector(f"selector {selector!r} is not a DNS label (letters, digits, inner hyphens)")
    where = directory(settings) / domain.casefold()
    paths = (where / f"{selector}.key", where / f"{selector}{ED25519_SUFFIX}.key")
    taken = [path for path in paths if path.exists()]
    if taken and not force:
        raise KeyExists(f"{taken[0]} exists already: publish its record, or replace it with --force")
    private_files.make_dir(where)
    rsa_public = _write(paths[0], *_rsa_pair())
    ed_public = _write(paths[1], *_ed25519_pair())
    return [
        Record(f"{selector}._domainkey.{domain}", f"v=DKIM1; k=rsa; p={rsa_public}"),
        Record(f"{selector}{ED25519_SUFFIX}._domainkey.{domain}", f"v=DKIM1; k=ed25519; p={ed_public}"),
    ]


def _write(path: Path, private: bytes, public: str) -> str:
    """Write a private key owner-only (replacing an old one only by rename, never in place); its public part."""
    fresh = path.with_suffix(".new")
    fresh.unlink(missing_ok=True)
    with os.fdopen(private_files.open_new(fresh), "wb") as out:
        out.write(private)
    os.replace(fresh, path)
    return public


def _rsa_pair() -> tuple[bytes, str]:
    """A new RSA key as PKCS#1 PEM, and its public key as base64 SubjectPublicKeyInfo (the p= of RFC 6376)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(public).decode("ascii")


def _ed25519_pair() -> tuple[bytes, str]:
    """A new Ed25519 key as its base64 seed, and the base64 raw public key (the p= of RFC 8463)."""
    key = nacl.signing.SigningKey.generate()
    return key.encode(nacl.encoding.Base64Encoder), key.verify_key.encode(nacl.encoding.Base64Encoder).decode("ascii")
