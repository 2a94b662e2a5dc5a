"""A DKIM key for tests: generated here, published in the loopback DNS zone, used to sign posts with dkimpy."""

from __future__ import annotations

import base64

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


class SigningKey:
    """An RSA key for one (selector, domain); publish() puts its TXT record into a tests.dns_server.Zone."""

    def __init__(self, domain: str, selector: str = "sel1") -> None:
        self.domain, self.selector = domain, selector
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def record(self) -> str:
        public = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode()

    def publish(self, zone) -> None:
        zone.add(f"{self.selector}._domainkey.{self.domain}", "TXT", self.record)

    @property
    def pem(self) -> bytes:
        """The private key as a PEM file holds it."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )

    def sign(self, raw: bytes) -> bytes:
        """raw with a DKIM-Signature of this key on top (From, To, Subject, Date, Message-ID signed)."""
        signature = dkim.sign(
            raw, self.selector.encode(), self.domain.encode(), self.pem,
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
        return signature + raw
