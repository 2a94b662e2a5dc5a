"""Our DKIM signer (OpenSSL) writes signatures dkimpy verifies: both algorithms, awkward headers and bodies."""

from __future__ import annotations

import base64
import hashlib

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from dkim.canonicalization import Relaxed

from listserv.outgoing import dkim_signer, finish, keys, sign
from tests.outgoing.helpers import dns_from, signed_names, verified_algorithms, well_signed

DOMAIN = "example.org"
HEAD = (
    b"From: Ann <ann@example.org>\r\nTo: team@example.org\r\nSubject: Records request\r\n"
    b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@example.org>\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
    b"List-Id: <team.example.org>\r\n"
)


@pytest.fixture
def published(settings):
    """The domain's RSA and Ed25519 keys made as `dkim keygen` makes them; a dnsfunc serving their records."""
    records = keys.generate(settings, DOMAIN)
    return dns_from({record.name.casefold(): record.value.encode("ascii") for record in records})


def test_both_algorithms_verify(settings, published):
    """A plain post gets an rsa-sha256 and an ed25519-sha256 signature, each verified by dkimpy."""
    raw = finish(settings, DOMAIN, HEAD + b"\r\nThe school records arrived.\r\n")
    assert sorted(verified_algorithms(raw, published)) == [b"ed25519-sha256", b"rsa-sha256"]


@pytest.mark.parametrize("body", [
    pytest.param(b"", id="empty body"),
    pytest.param(b"\r\n\r\n\r\n", id="only blank lines"),
    pytest.param(b"Last line.\r\n\r\n\r\n\r\n", id="trailing blank lines"),
    pytest.param("Grüße aus Zürich, 5 000 €.\r\n".encode(), id="8-bit body"),
    pytest.param(b"tabs\tand   spaces   \r\n \t \r\nend", id="whitespace runs, no final line end"),
    pytest.param(b".leading dot\r\n..two\r\n", id="leading dots"),
])
def test_bodies_verify(settings, published, body):
    """Bodies that canonicalization treats specially verify with both algorithms."""
    raw = finish(settings, DOMAIN, HEAD + b"\r\n" + body)
    if not raw.endswith(b"\r\n") and body:
        raw += b"\r\n"  # as SMTP's DATA sends a last line without its end
    assert well_signed(raw, published)


def test_folded_and_repeated_headers_verify(settings, published):
    """Folded header fields, tabs, names in odd case and a second To verify; h= keeps the repeated name."""
    head = (
        b"FROM: Ann <ann@example.org>\r\nto:   team@example.org,\r\n\t  carol@example.org\r\n"
        b"Subject: A long subject that a mail program folded\r\n   over  two lines\r\nTo: dan@example.org\r\n"
        b"Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nReferences: <a@example.org>\r\n <b@example.org>\r\n"
    )
    raw = finish(settings, DOMAIN, head + b"\r\nbody\r\n")
    assert well_signed(raw, published)
    assert signed_names(raw).count(b"to") == 2


def test_lf_messages_verify(settings, published):
    """A message with bare LF line ends is signed with LF-ended signature fields, and verifies."""
    raw = finish(settings, DOMAIN, HEAD.replace(b"\r\n", b"\n") + b"\nline one\nline two\n\n")
    assert b"\r\n" not in raw
    assert well_signed(raw, published)


def test_oversigned_from_cannot_be_added(settings, published):
    """A From header added on top after signing breaks the signature (From is oversigned)."""
    raw = finish(settings, DOMAIN, HEAD + b"\r\nbody\r\n")
    assert not verified_algorithms(b"From: eve@example.net\r\n" + raw, published)


def test_a_changed_body_fails(settings, published):
    """Changing one word of the body after signing fails both signatures (the body hash is checked)."""
    raw = finish(settings, DOMAIN, HEAD + b"\r\nThe school records arrived.\r\n")
    changed = raw.replace(b"school", b"prison")
    for index in range(2):
        with pytest.raises(dkim.ValidationError, match="body hash mismatch"):
            dkim.DKIM(changed).verify(idx=index, dnsfunc=published)


def test_prepared_signs_each_variant_of_the_header(settings, published):
    """prepare() once, then sign() with per-recipient header fields on top: each copy verifies, its extra
    List-Unsubscribe field is among the signed names, and a copy's field moved to another copy fails."""
    signer = sign.prepare(settings, DOMAIN, HEAD + b"\r\nbody\r\n")
    copies = [signer.sign(b"List-Unsubscribe: <https://lists.example.org/u/%d>\r\n" % n) for n in range(3)]
    for raw in copies:
        assert well_signed(raw, published)
        assert b"list-unsubscribe" in signed_names(raw)
    swapped = copies[0].replace(b"/u/0>", b"/u/1>")
    assert not verified_algorithms(swapped, published)


def test_prepared_without_keys_signs_nothing(settings):
    """A domain without keys: sign() only puts the extra fields on top."""
    signer = sign.prepare(settings, "nokeys.example", HEAD + b"\r\nbody\r\n")
    assert signer.sign(b"X-A: 1\r\n") == b"X-A: 1\r\n" + HEAD + b"\r\nbody\r\n"


def test_signature_header_is_folded_short(settings, published):
    """Every line of the signature fields stays under 78 characters (receivers that refold break nothing)."""
    raw = finish(settings, DOMAIN, HEAD + b"\r\nbody\r\n")
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"From:", 1)[0]
    assert all(len(line) <= 78 for line in head.split(b"\r\n") if not line.startswith(b"DKIM-Signature: v=1"))


def test_body_hash_matches_dkimpy():
    """The relaxed body hash equals dkimpy's for the awkward bodies (checked directly, no signature)."""
    for body in (b"a  b \t\r\n\r\n", b"", b"\r\n", b" x\r\n\r\ny \r\n", "é\r\n".encode()):
        assert dkim_signer.body_hash(body) == base64.b64encode(hashlib.sha256(Relaxed.canonicalize_body(body)).digest())


def test_unknown_key_kind_is_refused():
    """A PEM that holds no RSA key is refused with ValueError rather than signed with the wrong algorithm."""
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValueError):
        dkim_signer.private_key(dkim_signer.RSA, pem)


def test_dkimpy_reads_our_tags(settings, published):
    """dkimpy reads the tags we write: relaxed/relaxed, our domain and selector."""
    raw = finish(settings, DOMAIN, HEAD + b"\r\nbody\r\n")
    checker = dkim.DKIM(raw)
    assert checker.verify(idx=0, dnsfunc=published)
    assert checker.signature_fields[b"c"] == b"relaxed/relaxed"
    assert checker.signature_fields[b"d"] == DOMAIN.encode() and checker.signature_fields[b"s"] == b"listserv"


@pytest.mark.parametrize("algorithm, private", [
    (dkim_signer.RSA, b"-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----\n"),
    (dkim_signer.ED25519, b"c2hvcnQ="),
    (dkim_signer.ED25519, b"not base64 at all!"),
])
def test_unusable_key_bytes_are_a_value_error(algorithm, private):
    """Key files that hold no usable key are refused with a ValueError saying so (serve refuses to start)."""
    with pytest.raises(ValueError, match="not a usable"):
        dkim_signer.private_key(algorithm, private)
