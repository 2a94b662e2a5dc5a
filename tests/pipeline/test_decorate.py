"""The decorate stage: list headers, subject prefix, Reply-To, Message-ID, and serialisation fallbacks."""

import email
from email import policy

from listserv.pipeline import decorate
from listserv.pipeline.msgdata import ACCEPT, HOLD, Decision
from tests.conftest import CORPUS

from .conftest import compose, mailing_list, msgdata


async def _decorated(raw, mlist=None, **fields):
    data = msgdata(raw, mlist, decision=Decision(ACCEPT), **fields)
    await decorate.decorate(None, data)
    return data, email.message_from_bytes(data.content, policy=policy.default)


async def test_every_list_header():
    """List-Id (RFC 2919), List-Post/Help/Subscribe/Unsubscribe/Owner (RFC 2369), Precedence, X-BeenThere."""
    _, out = await _decorated(compose())
    assert out["List-Id"] == '"Sentencing advocates" <team.example.org>'
    assert out["List-Post"] == "<mailto:team@example.org>"
    assert out["List-Help"] == "<mailto:team-request@example.org?subject=help>"
    assert out["List-Subscribe"] == "<mailto:team-request@example.org?subject=subscribe>"
    assert out["List-Unsubscribe"] == "<mailto:team-request@example.org?subject=unsubscribe>"
    assert out["List-Owner"] == "<mailto:team-owner@example.org>"
    assert out["Precedence"] == "list" and out["X-BeenThere"] == "team@example.org"
    assert out["Subject"] == "[team] Mitigation expert in Ohio?"
    assert out["Reply-To"] is None and out["Message-ID"] == "<post-1@example.org>"
    assert out.get_content() == "Does anyone know a good expert?\nThanks.\n"


async def test_incoming_list_headers_are_replaced():
    """Forged or foreign List-*, X-BeenThere and Precedence headers are removed, ours appear once."""
    headers = (("List-Unsubscribe", "<https://evil.example/>"), ("List-Id", "<other.example.org>"),
               ("X-BeenThere", "other@example.org"), ("Precedence", "bulk"), ("List-Archive", "<x>"))
    _, out = await _decorated(compose(headers=headers))
    assert out.get_all("List-Unsubscribe") == ["<mailto:team-request@example.org?subject=unsubscribe>"]
    assert out.get_all("List-Id") == ['"Sentencing advocates" <team.example.org>']
    assert out.get_all("X-BeenThere") == ["team@example.org"] and out.get_all("Precedence") == ["list"]
    assert out["List-Archive"] is None


async def test_prefix_is_never_doubled():
    """'Re: [team] x' and '[Team] x' keep their subject; 'Re: x' becomes '[team] Re: x'."""
    for sent, expected in (("Re: [team] x", "Re: [team] x"), ("[Team] x", "[Team] x"), ("Re: x", "[team] Re: x")):
        _, out = await _decorated(compose(subject=sent))
        assert out["Subject"] == expected


async def test_encoded_subject_already_prefixed():
    """An RFC 2047 subject that decodes to '[team] café' is not prefixed again."""
    _, out = await _decorated(compose(subject="=?utf-8?q?=5Bteam=5D_caf=C3=A9?="))
    assert out["Subject"] == "[team] café"


async def test_empty_prefix_and_no_subject():
    """An empty prefix setting leaves subjects alone; a missing subject gets '(no subject)' behind the prefix."""
    _, out = await _decorated(compose(subject="plain"), mailing_list(subject_prefix=""))
    assert out["Subject"] == "plain"
    _, out = await _decorated(b"From: ann@example.org\nMessage-ID: <n@x>\n\nbody\n")
    assert out["Subject"] == "[team] (no subject)"


async def test_reply_goes_to_list():
    """With reply_goes_to_list the sender's Reply-To is replaced by the list."""
    raw = compose(headers=(("Reply-To", "ann.private@example.org"),))
    _, out = await _decorated(raw, mailing_list(reply_goes_to_list=True))
    assert out.get_all("Reply-To") == ["team@example.org"]


async def test_missing_message_id_is_added_and_stable():
    """A post without Message-ID gets one, the same for the same bytes (so resends are duplicates)."""
    data, out = await _decorated(compose(message_id=None))
    again, _ = await _decorated(compose(message_id=None))
    assert out["Message-ID"] == f"<{data.message_id}>" and data.message_id.endswith("@example.org")
    assert data.message_id == again.message_id


async def test_only_accepted_posts_are_decorated():
    """A held post gets no content: decorate acts only after an accept."""
    data = msgdata(compose(), decision=Decision(HOLD))
    await decorate.decorate(None, data)
    assert data.content == b""


async def test_unserialisable_message_falls_back_to_compat32():
    """A real bounce whose headers policy.default cannot re-encode still goes out (compat32), decorated."""
    raw = (CORPUS / "bounces" / "simple_39.txt").read_bytes()
    data, out = await _decorated(raw)
    assert data.content and out["X-BeenThere"] == "team@example.org" and out["List-Id"]


async def test_raw_fallback_edits_only_the_header_block():
    """Without a parsed message the raw header block is edited; the body stays byte for byte."""
    raw = compose(subject="café", headers=(("List-Id", "<evil.example>"),), body="line one\n\nline \xe9 two\n")
    data = msgdata(raw, decision=Decision(ACCEPT))
    data.msg = None
    await decorate.decorate(None, data)
    head, _, body = data.content.partition(b"\n\n")
    assert body == "line one\n\nline \xe9 two\n".encode("utf-8")
    out = email.message_from_bytes(data.content, policy=policy.default)
    assert out.get_all("List-Id") == ['"Sentencing advocates" <team.example.org>']
    assert out["Subject"] == "[team] café" and out["From"] == "Ann Member <ann@example.org>"
    assert head.isascii()


async def test_date_added_when_missing(store, settings):
    """A post without a Date: header goes out with one (RFC 5322 requires it); one with a Date keeps it."""
    from listserv import lists
    from listserv.pipeline import process
    from listserv.store import inbound, members
    from listserv.store import outbound as store_outbound

    mlist = await lists.create(store, "dated@example.org")
    await store.write(members.add, mlist.id, {"address": "ann@example.org"})
    raw = b"From: ann@example.org\r\nTo: dated@example.org\r\nSubject: no date\r\n\r\nbody\r\n"
    inbound_id = await store.write(inbound.enqueue, "ann@example.org", ["dated@example.org"], raw)
    await process(store, settings, await inbound.get(store.db, inbound_id))
    (batch,) = await store_outbound.due(store.db, 1e12, exclude=[-1])
    sent = email.message_from_bytes(await store_outbound.content(store.db, batch["outbound_message_id"]), policy=policy.default)
    assert sent["Date"] is not None
