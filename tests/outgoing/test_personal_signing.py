"""listserv.outgoing.personal signs each recipient's headers on top of a post prepared once: dkimpy verifies the
copies (RSA and Ed25519) whatever the line ends, folding, 8-bit body, empty body or trailing blank lines."""

from __future__ import annotations

import pytest

from listserv.outgoing import keys, personal, sign
from tests.outgoing.helpers import dns_from, sealed, signed_names, well_signed

HEAD = (b"From: Ann <ann@example.org>\nTo: team@example.org\nSubject: a  subject\n \tfolded twice\n"
        b"List-Id: <team.example.org>\nList-Unsubscribe: <mailto:team-request@example.org?subject=unsubscribe>\n"
        b"Message-ID: <p1@example.org>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n")
BODIES = {
    "plain": b"Hello  list. \n.a dotted line\n",
    "8-bit": "Café, naïve, Zoë\n".encode("utf-8"),
    "empty": b"",
    "trailing blank lines": b"text\n\n\n \n",
    "no final newline": b"text",
}
FIELDS = [("List-Unsubscribe", "<https://lists.example.org/unsubscribe/T>, <mailto:team-request@example.org>"),
          ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")]


@pytest.fixture
def keyed(settings):
    """example.org's RSA and Ed25519 keys made as `dkim keygen` makes them; the dnsfunc that publishes them."""
    published = {r.name.casefold(): r.value.encode("ascii") for r in keys.generate(settings, "example.org")}
    return settings, dns_from(published)


def copy_for(settings, content: bytes, fields=FIELDS) -> bytes:
    """What the smarthost gets: the prepared post with one member's headers on top, line ends made CRLF."""
    queued = sign.finish(settings, "example.org", personal.without_personal(content), seal=True)
    prepared = personal.prepare(settings, "example.org", queued)
    return (prepared.on_top(fields) + prepared.content).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.mark.parametrize("linesep", [b"\n", b"\r\n"], ids=["LF", "CRLF"])
@pytest.mark.parametrize("body", list(BODIES), ids=list(BODIES))
def test_every_copy_verifies_with_its_headers_signed(keyed, body, linesep):
    """Both signatures verify, h= names both member headers, the ARC seal still passes, one DKIM-Signature a key."""
    settings, dns = keyed
    content = (HEAD + b"\n" + BODIES[body]).replace(b"\n", linesep)
    copy = copy_for(settings, content)
    assert well_signed(copy, dns) and sealed(copy, dns)
    assert {b"list-unsubscribe", b"list-unsubscribe-post"} <= set(signed_names(copy))
    assert copy.count(b"DKIM-Signature:") == 2 and copy.count(b"List-Unsubscribe:") == 1


def test_a_changed_member_header_fails(keyed):
    """Another member's link pasted into the copy breaks both signatures."""
    settings, dns = keyed
    copy = copy_for(settings, HEAD + b"\nbody\n")
    assert not well_signed(copy.replace(b"/unsubscribe/T>", b"/unsubscribe/U>"), dns)


def test_without_keys_the_headers_go_unsigned(settings):
    """A domain without keys: the member's headers on top, no signature."""
    prepared = personal.prepare(settings, "example.org", HEAD + b"\nbody\n")
    assert prepared.on_top(FIELDS[:1]) == b"List-Unsubscribe: " + FIELDS[0][1].encode() + b"\n"
    assert b"List-Unsubscribe" not in prepared.content
