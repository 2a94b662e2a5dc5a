"""Every kind of mail the list writes leaves signed: the real daemon, the sink as smarthost, dkimpy verifying."""

from __future__ import annotations

import logging

import pytest

from listserv import outgoing
from listserv.outgoing import keys

from tests.bounces.conftest import sample
from tests.bounces.test_e2e import BOB_VERP, send_bounce
from tests.commands.test_e2e import CAROL, command, replies
from tests.e2e.helpers import LIST, MEMBERS, make_list, message, parsed, send
from tests.outgoing.helpers import keygen, sealed, signatures, signed_names, well_signed

BOB = "bob@example.org"
OWNER = "ann@example.org"


async def bob_copy(server, sink, cli, subject: str, **headers: str):
    """Make the list and its keys, post as the owner; bob's copy and the dnsfunc of the published keys."""
    await make_list(cli)
    dns = await keygen(cli)
    await send(server.port, message(OWNER, subject, **headers), OWNER)
    await sink.wait_for(lambda: sink.copies_for(BOB))
    return sink.copies_for(BOB)[0], dns


async def test_every_copy_of_a_post_is_signed_once_and_sealed(server, sink, cli):
    """Each VERP'd copy of a post carries the same signed bytes: RSA and Ed25519 verify, the ARC chain passes."""
    await make_list(cli)
    dns = await keygen(cli)
    await send(server.port, message(OWNER, "Records request"), OWNER)
    await sink.wait_for(lambda: len(sink.recipients()) == len(MEMBERS))
    copies = [content for _, _, content in sink.received]
    assert len({frm for frm, _, _ in sink.received}) == len(MEMBERS)  # VERP: one envelope sender per member
    assert len(set(copies)) == 1  # signed once per message, not per recipient
    assert well_signed(copies[0], dns) and sealed(copies[0], dns)


async def test_the_signature_covers_the_headers_receivers_check(server, sink, cli):
    """h= names From, To, Subject, Date, Message-ID, every List-* header present, the MIME headers; From and
    Subject once more than they occur, so none can be added."""
    raw, _ = await bob_copy(server, sink, cli, "Records request")
    names = signed_names(raw)
    lists = {name.lower().encode() for name in parsed(raw).keys() if name.lower().startswith("list-")}
    assert lists and lists <= set(names)
    for name in (b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"):
        assert name in names
    assert names.count(b"from") == 2 and names.count(b"subject") == 2


async def test_confidential_copies_are_signed_and_sealed(server, sink, cli):
    """A confidential post's copies (tag, Sensitivity, notice added) verify, Sensitivity among the signed headers."""
    raw, dns = await bob_copy(server, sink, cli, "[CONFIDENTIAL] Client in county jail")
    assert parsed(raw)["Sensitivity"] == "Company-Confidential"
    assert b"sensitivity" in signed_names(raw)
    assert well_signed(raw, dns) and sealed(raw, dns)


async def test_a_digest_is_signed(server, sink, cli):
    """The digest issue `digests send` queues verifies."""
    await make_list(cli, ("dee@example.org", "--delivery", "digest"))
    dns = await keygen(cli)
    await send(server.port, message(OWNER, "For the digest"), OWNER)
    await sink.wait_for(lambda: sink.copies_for(BOB))
    assert (await cli("digests", "send", LIST)).exit_code == 0
    await sink.wait_for(lambda: sink.copies_for("dee@example.org"))
    [issue] = sink.copies_for("dee@example.org")
    assert parsed(issue).get_content_type() == "multipart/digest" and well_signed(issue, dns)


async def test_a_held_notice_and_a_rejection_are_signed(server, sink, cli):
    """The moderators' notice of a held post and the rejection the sender gets verify."""
    await make_list(cli, ("dee@example.org", "--moderated"))
    dns = await keygen(cli)
    await send(server.port, message("dee@example.org", "Please hold"), "dee@example.org")
    await sink.wait_for(lambda: sink.copies_for(OWNER))
    assert well_signed(sink.copies_for(OWNER)[0], dns)
    [row] = [line.split()[0] for line in (await cli("held", "ls")).output.splitlines()[1:]]
    assert (await cli("held", "reject", row, "--reason", "off topic")).exit_code == 0
    await sink.wait_for(lambda: sink.copies_for("dee@example.org"))
    assert well_signed(sink.copies_for("dee@example.org")[0], dns)


async def test_a_command_reply_and_a_confirmation_request_are_signed(server, sink, cli):
    """The reply to `help` and the confirmation request of a `subscribe` verify."""
    await make_list(cli)
    dns = await keygen(cli)
    await command(server, BOB, subject="help")
    await command(server, CAROL, subject="subscribe")
    await replies(sink, BOB, 1)
    await replies(sink, CAROL, 1)
    assert well_signed(sink.copies_for(BOB)[0], dns)
    confirmation = sink.copies_for(CAROL)[0]
    assert "confirm" in str(parsed(confirmation)["Subject"]) and well_signed(confirmation, dns)


async def test_an_owner_forward_is_signed(server, sink, cli):
    """Mail to NAME-owner@ reaches the owners as a forward that verifies."""
    await make_list(cli)
    dns = await keygen(cli)
    await send(server.port, message("stranger@example.com", "For the owners"), "stranger@example.com",
               ["team-owner@example.org"])
    await sink.wait_for(lambda: sink.copies_for(OWNER))
    forward = sink.copies_for(OWNER)[0]
    assert "For the owners" in str(parsed(forward)["Subject"]) and well_signed(forward, dns)


async def test_bounce_notices_are_signed(server, sink, cli):
    """When bouncing stops a member's mail, the member's and the owners' notices verify."""
    await make_list(cli)
    dns = await keygen(cli)
    assert (await cli("lists", "set", LIST, "bounce_threshold", "1")).exit_code == 0
    await send(server.port, message(OWNER, "First"), OWNER)
    await sink.wait_for(lambda: len(sink.recipients()) == len(MEMBERS))
    await send_bounce(server.port, sample("postfix_05.txt"), BOB_VERP)
    await sink.wait_for(lambda: len(sink.copies_for(BOB)) == 2 and len(sink.copies_for(OWNER)) == 2)
    assert "has stopped" in parsed(sink.copies_for(BOB)[1])["Subject"]
    assert well_signed(sink.copies_for(BOB)[1], dns) and well_signed(sink.copies_for(OWNER)[1], dns)


async def test_without_a_key_mail_goes_out_unsigned_and_a_new_key_signs_the_next_message(server, sink, cli):
    """No key: the copy has no signature; `dkim keygen` while the server runs signs the next post."""
    await make_list(cli)
    await send(server.port, message(OWNER, "Before the key"), OWNER)
    await sink.wait_for(lambda: sink.copies_for(BOB))
    assert signatures(sink.copies_for(BOB)[0]) == 0
    dns = await keygen(cli)
    await send(server.port, message(OWNER, "After the key"), OWNER)
    await sink.wait_for(lambda: len(sink.copies_for(BOB)) == 2)
    assert well_signed(sink.copies_for(BOB)[1], dns)


async def test_a_post_that_arrives_with_a_chain_that_fails_is_sealed_cv_fail(server, sink, cli):
    """An ARC chain that does not verify is not vouched for: the list's set says cv=fail; DKIM still signs."""
    seal = "i=1; a=rsa-sha256; cv=none; d=relay.example.net; s=x; t=1; b=AAAA"
    raw, dns = await bob_copy(server, sink, cli, "Relayed", ARC_Seal=seal)
    assert well_signed(raw, dns)
    seals = [str(value) for value in parsed(raw).get_all("ARC-Seal")]
    assert seals[1] == seal and seals[0].startswith("i=2; cv=fail;")


async def test_the_server_warns_once_at_start_about_domains_without_keys(smtp_settings, cli, caplog):
    """`serve` logs one WARNING naming the list domains without a key and the command that makes one."""
    from listserv.daemon import Daemon

    await make_list(cli)
    assert (await cli("lists", "create", "board@example.net")).exit_code == 0
    await keygen(cli, "example.net")
    daemon = Daemon(smtp_settings)
    with caplog.at_level(logging.WARNING):
        await daemon.start()
        await daemon.stop()
    warnings = [r.getMessage() for r in caplog.records if "DKIM" in r.getMessage()]
    assert warnings == ["no DKIM key for example.org: their mail goes out unsigned (receivers may refuse it);"
                        " run: listserv dkim keygen DOMAIN"]


def test_signing_logs_no_subject_even_at_debug(settings, caplog):
    """dkimpy logs the headers it signs at DEBUG; none of its lines reaches the log, so no confidential subject."""
    keys.generate(settings, "example.org")
    post = message(OWNER, "[CONFIDENTIAL] Witness name Zyxwv")
    with caplog.at_level(logging.DEBUG):
        signed = outgoing.finish(settings, "example.org", post, seal=True)
    assert signatures(signed) == 2 and b"ARC-Seal" in signed
    assert "Zyxwv" not in caplog.text


async def test_the_seal_says_only_what_this_server_knows(server, sink, cli):
    """An Authentication-Results that arrived claiming the list's domain does not get into the ARC results."""
    forged = "example.org; dkim=pass header.d=example.org; dmarc=pass"
    raw, dns = await bob_copy(server, sink, cli, "Trust me", Authentication_Results=forged)
    assert sealed(raw, dns)
    assert " ".join(str(parsed(raw)["ARC-Authentication-Results"]).split()) == (
        "i=1; example.org; dkim=none; spf=none smtp.mailfrom=example.org; dmarc=none header.from=example.org; arc=none"
    )


async def test_a_key_that_cannot_sign_stops_the_server_at_start(smtp_settings, cli):
    """A key file that is no key: `serve` refuses to start with one line naming the domain and the directory."""
    from listserv.daemon import Daemon
    from listserv.errors import CannotStart

    await make_list(cli)
    await keygen(cli)
    where = keys.directory(smtp_settings) / "example.org"
    (where / "listserv.key").write_bytes(b"-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n")
    daemon = Daemon(smtp_settings)
    with pytest.raises(CannotStart) as refused:
        await daemon.start()
    assert str(refused.value).startswith(f"cannot sign the mail of example.org with the keys in {where}: ")
    assert "\n" not in str(refused.value)
