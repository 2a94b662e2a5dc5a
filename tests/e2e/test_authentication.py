"""Inbound authentication end to end: DKIM, trusted SPF and DMARC against the loopback DNS server decide whether
a post that names a member in From: is taken as theirs (the unauthenticated rule)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from listserv.daemon import Daemon
from tests.dkim_keys import SigningKey
from tests.e2e.helpers import LIST, MEMBERS, held, make_list, message, parsed, send

AUTHOR = "lee@agency.example"
LEE = "Ann Lee <lee@agency.example>"


async def _list(cli, *settings: tuple[str, str]) -> None:
    await make_list(cli, (AUTHOR, "--name", "Ann Lee"))
    for key, value in settings:
        assert (await cli("lists", "set", LIST, key, value)).exit_code == 0


async def _wait_held(cli, count: int) -> list[dict]:
    for _ in range(200):
        found = await held(cli)
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"expected {count} held; have {await held(cli)}")


async def test_forged_post_is_held_with_results(server, sink, cli, agency_key):
    """An unsigned post in a p=reject member's name is held 'sender not authenticated: dmarc=fail'; held show
    shows the results; approving it sends it munged."""
    await _list(cli)
    await send(server.port, message(LEE, "Forged"), "attacker@elsewhere.example")
    waiting = await _wait_held(cli, 1)
    reasons = [reason["text"] for reason in waiting[0]["reasons"]]
    assert any(text.startswith("sender not authenticated: dmarc=fail") for text in reasons), reasons
    shown = json.loads((await cli("held", "show", str(waiting[0]["id"]), "--json")).output)
    assert shown["authentication"] == "dmarc=fail (p=reject) dkim=none spf=none"
    assert not sink.copies_for("bob@example.org")  # the owner ann is told of the held post, members get nothing
    assert (await cli("held", "approve", str(waiting[0]["id"]), "--by", "mod")).exit_code == 0
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 1)
    assert b"X-Original-From: Ann Lee <lee@agency.example>" in sink.copies_for("bob@example.org")[0]


async def test_signed_post_passes_and_archive_shows_it(server, sink, cli, agency_key):
    """A post with a valid aligned DKIM signature is delivered; `archive show` names the result."""
    await _list(cli)
    await send(server.port, agency_key.sign(message(LEE, "Signed")), AUTHOR)
    await sink.wait_for(lambda: len(sink.recipients()) >= len(MEMBERS) + 1)
    shown = await cli("archive", "show", "1")
    assert "authentication: dmarc=pass (p=reject) dkim=pass (agency.example) spf=none" in shown.output


async def test_altered_post_fails(server, sink, cli, agency_key):
    """A signature broken by a body changed after signing does not authenticate: held."""
    await _list(cli)
    altered = agency_key.sign(message(LEE, "Altered", body="Original text.")).replace(b"Original", b"Changed!")
    await send(server.port, altered, AUTHOR)
    waiting = await _wait_held(cli, 1)
    assert waiting[0]["reasons"][0]["text"].startswith("sender not authenticated: dmarc=fail")
    assert not sink.copies_for("bob@example.org")  # the owner ann is told of the held post, members get nothing


async def test_foreign_signature_is_not_aligned(server, sink, cli, agency_key, dns):
    """A valid DKIM signature of another domain passes DKIM but not DMARC for agency.example."""
    await _list(cli)
    other = SigningKey("elsewhere.example")
    other.publish(dns.zone)
    await send(server.port, other.sign(message(LEE, "Not aligned")), AUTHOR)
    waiting = await _wait_held(cli, 1)
    shown = json.loads((await cli("held", "show", str(waiting[0]["id"]), "--json")).output)
    assert shown["authentication"] == "dmarc=fail (p=reject) dkim=fail (elsewhere.example) spf=none"


async def test_trusted_spf_pass_authenticates(smtp_settings, sink, cli, agency_key):
    """spf=pass for the author's domain in Authentication-Results of a trusted authserv-id passes DMARC; the same
    header from an untrusted one does not."""
    settings = replace(smtp_settings, auth=replace(smtp_settings.auth, trusted_authserv_ids=("mx.example.org",)))
    daemon = Daemon(settings)
    await daemon.start()
    try:
        await _list(cli)
        trusted = "mx.example.org; spf=pass smtp.mailfrom=lee@agency.example"
        await send(daemon.port, message(LEE, "Via our MX", Authentication_Results=trusted), AUTHOR)
        await sink.wait_for(lambda: len(sink.recipients()) >= len(MEMBERS) + 1)
        forged = "mx.attacker.example; spf=pass smtp.mailfrom=lee@agency.example"
        await send(daemon.port, message(LEE, "Claims SPF", Authentication_Results=forged), AUTHOR)
        await _wait_held(cli, 1)
    finally:
        await daemon.stop()


async def test_reject_and_accept_settings(server, sink, cli, agency_key):
    """unauthenticated_posts reject refuses a forged post (nothing sent to members); accept lets it through."""
    await _list(cli, ("unauthenticated_posts", "reject"))
    await send(server.port, message(LEE, "Forged again"), "attacker@elsewhere.example")
    await sink.wait_for(lambda: AUTHOR in sink.recipients())  # the rejection notice, to the member named
    assert not sink.copies_for("bob@example.org")
    assert await held(cli) == []
    assert (await cli("lists", "set", LIST, "unauthenticated_posts", "accept")).exit_code == 0
    await send(server.port, message(LEE, "Let through"), "attacker@elsewhere.example")
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 1)


async def test_domain_without_dmarc_passes_unsigned(server, sink, cli):
    """A domain publishing no DMARC: unsigned posts pass as before."""
    await make_list(cli)
    await send(server.port, message("ann@example.org", "No DMARC here"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.recipients()) >= len(MEMBERS))
    assert await held(cli) == []


async def test_key_lookup_failure_is_unknown_not_held(server, sink, cli, agency_key, dns):
    """DNS failing for the DKIM key makes DMARC unknown: delivered, not held."""
    dns.zone.failing.add("sel1._domainkey.agency.example")
    await _list(cli)
    await send(server.port, agency_key.sign(message(LEE, "Key unreachable")), AUTHOR)
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 1)
    assert await held(cli) == []


async def test_require_dkim_holds_unsigned_confidential(server, sink, cli):
    """require_dkim: an unsigned confidential post is held even from a domain without DMARC; others pass."""
    await make_list(cli)
    assert (await cli("lists", "set", LIST, "require_dkim", "true")).exit_code == 0
    await send(server.port, message("ann@example.org", "[CONFIDENTIAL] Client"), "ann@example.org")
    waiting = await _wait_held(cli, 1)
    assert waiting[0]["reasons"][0]["text"].startswith("sender not authenticated: dkim=none")
    await send(server.port, message("ann@example.org", "Open topic"), "ann@example.org")
    await sink.wait_for(lambda: len(sink.recipients()) >= len(MEMBERS))


async def test_forged_command_is_not_run(server, sink, cli, agency_key):
    """An unsubscribe to -request forged in a p=reject member's name is held, not run: the member stays."""
    await _list(cli)
    forged = message(LEE, "unsubscribe")
    await send(server.port, forged, "attacker@elsewhere.example", recipients=("team-request@example.org",))
    waiting = await _wait_held(cli, 1)
    assert waiting[0]["role"] == "request"
    members = await cli("members", "ls", LIST, "--json")
    assert AUTHOR in members.output


async def _unsubscribe_token(server, sink) -> str:
    """A stranger asks to unsubscribe the member; the member is mailed the token (in the Subject: confirm TOKEN)."""
    ask = message("Mallory <mallory@elsewhere.example>", "unsubscribe", body=f"unsubscribe {AUTHOR}")
    await send(server.port, ask, "mallory@elsewhere.example", recipients=("team-request@example.org",))
    await sink.wait_for(lambda: len(sink.copies_for(AUTHOR)) == 1)
    subject = str(parsed(sink.copies_for(AUTHOR)[0])["Subject"]).split()
    assert subject[0] == "confirm" and len(subject) == 2, subject
    return subject[1]


async def test_forged_confirm_is_not_run(server, sink, cli, agency_key):
    """A mail to NAME-confirm+TOKEN@ forged in a p=reject member's name is held (role confirm), not run."""
    await _list(cli)
    confirm_at = f"team-confirm+{await _unsubscribe_token(server, sink)}@example.org"
    await send(server.port, message(LEE, "ok"), "attacker@elsewhere.example", recipients=(confirm_at,))
    waiting = await _wait_held(cli, 1)
    assert waiting[0]["role"] == "confirm"
    assert any(reason["text"].startswith("sender not authenticated: dmarc=fail") for reason in waiting[0]["reasons"])
    assert AUTHOR in (await cli("members", "ls", LIST, "--json")).output


async def test_signed_confirm_is_run(server, sink, cli, agency_key):
    """The same confirmation DKIM-signed by the member's domain passes the check and is run: the member leaves."""
    await _list(cli)
    confirm_at = f"team-confirm+{await _unsubscribe_token(server, sink)}@example.org"
    await send(server.port, agency_key.sign(message(LEE, "ok")), AUTHOR, recipients=(confirm_at,))
    await sink.wait_for(lambda: len(sink.copies_for(AUTHOR)) == 2)  # the outcome, told to the member
    assert AUTHOR not in (await cli("members", "ls", LIST, "--json")).output
    assert await held(cli) == []


async def test_spf_on_the_connecting_ip_authenticates(server, sink, cli, agency_key, dns):
    """A client connecting directly from an IP the author's domain allows in SPF passes DMARC without DKIM
    (aligned SPF); archive show names spf=pass."""
    dns.zone.add("agency.example", "TXT", "v=spf1 ip4:127.0.0.0/8 -all")
    await _list(cli)
    await send(server.port, message(LEE, "Direct"), AUTHOR)
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 1)
    shown = await cli("archive", "show", "1")
    assert "authentication: dmarc=pass (p=reject) dkim=none spf=pass" in shown.output


async def test_spf_fail_on_the_connecting_ip_is_held(server, sink, cli, agency_key, dns):
    """An IP the domain's SPF refuses (-all) does not authenticate: held, and held show says spf=fail."""
    dns.zone.add("agency.example", "TXT", "v=spf1 ip4:192.0.2.1 -all")
    await _list(cli)
    await send(server.port, message(LEE, "From elsewhere"), AUTHOR)
    waiting = await _wait_held(cli, 1)
    shown = json.loads((await cli("held", "show", str(waiting[0]["id"]), "--json")).output)
    assert shown["authentication"] == "dmarc=fail (p=reject) dkim=none spf=fail"


async def test_spf_temperror_is_unknown_and_holds_nothing(server, sink, cli, agency_key, dns):
    """SERVFAIL for the SPF record: spf=temperror, DMARC unknown, the post goes out as a DNS outage would."""
    dns.zone.failing.add("agency.example")
    await _list(cli)
    await send(server.port, message(LEE, "During an outage"), AUTHOR)
    await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 1)
    shown = await cli("archive", "show", "1")
    assert "authentication: dmarc=unknown (p=reject) dkim=none spf=temperror" in shown.output


async def test_trusted_results_win_over_the_connecting_ip(smtp_settings, sink, cli, agency_key, dns):
    """With a trusted MTA's spf= in the header, the connecting IP (the MTA's own) is not checked."""
    dns.zone.add("agency.example", "TXT", "v=spf1 -all")
    settings = replace(smtp_settings, auth=replace(smtp_settings.auth, trusted_authserv_ids=("mx.example.org",)))
    daemon = Daemon(settings)
    await daemon.start()
    try:
        await _list(cli)
        trusted = "mx.example.org; spf=pass smtp.mailfrom=lee@agency.example"
        await send(daemon.port, message(LEE, "Via our MX", Authentication_Results=trusted), AUTHOR)
        await sink.wait_for(lambda: len(sink.copies_for("bob@example.org")) == 1)
    finally:
        await daemon.stop()
    assert ("agency.example", "TXT") not in dns.zone.asked
