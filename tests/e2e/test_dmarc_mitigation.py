"""DMARC mitigation end to end: the real daemon over loopback SMTP, DMARC policies from the loopback DNS server."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import LIST, MEMBERS, make_list, message, parsed, send

AUTHOR = "lee@agency.example"


def shown_from(copy) -> tuple[str, str]:
    """The display name and address of a copy's From: as a mail program shows them."""
    mailbox = copy["From"].addresses[0]
    return mailbox.display_name, mailbox.addr_spec


async def _post(server, sink, cli, raw: bytes, *settings: tuple[str, str]) -> list[bytes]:
    """Make the list (with Ann Lee of agency.example), set settings, send raw; the copies bob received."""
    await make_list(cli, (AUTHOR, "--name", "Ann Lee"))
    for key, value in settings:
        assert (await cli("lists", "set", LIST, key, value)).exit_code == 0
    await send(server.port, raw, AUTHOR)
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) >= 1)
    return sink.copies_for("bob@example.org")


async def test_reject_domain_is_munged(server, sink, cli, agency_key):
    """From a p=reject domain: From is "Ann Lee via team" <list>, the author in Reply-To and X-Original-From."""
    raw = agency_key.sign(message("Ann Lee <lee@agency.example>", "Expert needed", Message_ID="<m1@agency.example>"))
    copy = parsed((await _post(server, sink, cli, raw))[0])
    assert shown_from(copy) == ("Ann Lee via team", LIST)
    assert copy["Reply-To"] == "Ann Lee <lee@agency.example>"
    assert copy["X-Original-From"] == "Ann Lee <lee@agency.example>"
    assert copy["Subject"] == "[team] Expert needed"
    shown = await cli("archive", "show", "1", "--json")  # the archive keeps the author's own From
    assert "lee@agency.example" in shown.output and "via team" not in shown.output


async def test_author_in_cc_when_set(server, sink, cli, agency_key):
    """dmarc_author_in cc: Reply-To untouched, the author added to the Cc already there."""
    raw = agency_key.sign(message("Ann Lee <lee@agency.example>", "Cc me", Cc="cy@example.org"))
    copy = parsed((await _post(server, sink, cli, raw, ("dmarc_author_in", "cc")))[0])
    assert shown_from(copy) == ("Ann Lee via team", LIST)
    assert copy["Reply-To"] is None
    assert copy["Cc"] == "cy@example.org, Ann Lee <lee@agency.example>"


async def test_reply_goes_to_list_puts_author_in_cc(server, sink, cli, agency_key):
    """With reply_goes_to_list, Reply-To stays the list and the author goes to Cc."""
    raw = agency_key.sign(message("Ann Lee <lee@agency.example>", "To the list"))
    copy = parsed((await _post(server, sink, cli, raw, ("reply_goes_to_list", "true")))[0])
    assert copy["Reply-To"] == LIST
    assert copy["Cc"] == "Ann Lee <lee@agency.example>"


async def test_no_policy_or_none_keeps_from(server, sink, cli, dns):
    """A domain without DMARC, or with p=none, keeps the author's From; mitigate_always munges anyway."""
    dns.zone.add("_dmarc.example.org", "TXT", "v=DMARC1; p=none")
    await make_list(cli)
    await send(server.port, message("Ann <ann@example.org>", "Plain"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) >= 1)
    assert parsed(sink.copies_for("bob@example.org")[0])["From"] == "Ann <ann@example.org>"
    assert (await cli("lists", "set", LIST, "dmarc_mitigate_always", "true")).exit_code == 0
    await send(server.port, message("Ann <ann@example.org>", "Always"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) >= 2)
    assert shown_from(parsed(sink.copies_for("bob@example.org")[1])) == ("Ann via team", LIST)


async def test_mitigation_none_keeps_from(server, sink, cli, agency_key):
    """dmarc_mitigation none: even a p=reject author's From goes out unchanged."""
    raw = agency_key.sign(message("Ann Lee <lee@agency.example>", "As is"))
    copy = parsed((await _post(server, sink, cli, raw, ("dmarc_mitigation", "none")))[0])
    assert copy["From"] == "Ann Lee <lee@agency.example>"


async def test_dns_failure_changes_nothing(server, sink, cli, dns):
    """DNS failing for the author's policy: the post is delivered, From unchanged, nothing held."""
    dns.zone.failing.add("_dmarc.agency.example")
    raw = message("Ann Lee <lee@agency.example>", "During an outage")
    copy = parsed((await _post(server, sink, cli, raw))[0])
    assert copy["From"] == "Ann Lee <lee@agency.example>"
    # bob's copy may come before the others' (a VERP'd post is a transaction per member): wait for all of them
    await sink.wait_for(lambda: sorted(sink.recipients()) == sorted([*MEMBERS, AUTHOR]))


async def test_wrap_attaches_the_post(server, sink, cli, agency_key):
    """wrap: a message from the list, the post unchanged inside as message/rfc822."""
    raw = agency_key.sign(message("Ann Lee <lee@agency.example>", "Wrapped", body="Case detail."))
    copy = parsed((await _post(server, sink, cli, raw, ("dmarc_mitigation", "wrap")))[0])
    assert shown_from(copy) == ("Ann Lee via team", LIST)
    assert copy["Subject"] == "[team] Wrapped"
    assert copy["List-Id"] and copy["Reply-To"] == "Ann Lee <lee@agency.example>"
    inner = [part for part in copy.walk() if part.get_content_type() == "message/rfc822"]
    assert len(inner) == 1
    original = inner[0].get_content()
    assert original["From"] == "Ann Lee <lee@agency.example>"
    assert "Case detail." in original.get_body(("plain",)).get_content()


async def test_confidential_copy_keeps_reply_to_and_markings(server, sink, cli, agency_key):
    """A confidential thread: Reply-To stays the confidential address, the author goes to Cc; wrapped copies
    carry the tag and Sensitivity outside."""
    raw = agency_key.sign(message("Ann Lee <lee@agency.example>", "[CONFIDENTIAL] Client facts"))
    copy = parsed((await _post(server, sink, cli, raw))[0])
    assert shown_from(copy) == ("Ann Lee via team", LIST)
    assert copy["Reply-To"] == "team+confidential@example.org"
    assert copy["Cc"] == "Ann Lee <lee@agency.example>"
    assert (await cli("lists", "set", LIST, "dmarc_mitigation", "wrap")).exit_code == 0
    await send(server.port, agency_key.sign(message("Ann Lee <lee@agency.example>", "[CONFIDENTIAL] More")), AUTHOR)
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) >= 2)
    wrapped = parsed(sink.copies_for("bob@example.org")[1])
    assert wrapped["Sensitivity"] == "Company-Confidential" and "[CONFIDENTIAL]" in wrapped["Subject"]
    assert wrapped["Reply-To"] == "team+confidential@example.org"
    assert any(part.get_content_type() == "message/rfc822" for part in wrapped.walk())
    await asyncio.sleep(0)
