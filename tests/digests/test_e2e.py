"""Digests end to end: posts over SMTP to the real daemon, `digests send`, the issue parsed back at the sink."""

from __future__ import annotations

import asyncio

from tests.e2e.helpers import LIST, MEMBERS, make_list, message, parsed, send

DEE = "dee@example.org"


async def test_a_digest_reader_gets_one_well_formed_digest_with_each_post_once(server, sink, cli):
    """dee (digest) gets no single posts, then one multipart/digest with both posts once; others get each post."""
    await make_list(cli, (DEE, "--delivery", "digest"))
    for n, subject in enumerate(("Mitigation expert in Ohio?", "Re: Mitigation expert in Ohio?")):
        await send(server.port, message("ann@example.org", subject, Message_ID=f"<e2e-{n}@example.org>"),
                   "ann@example.org")
    await sink.wait_for(lambda: all(len(sink.copies_for(m)) == 2 for m in MEMBERS))
    await asyncio.sleep(0.3)
    assert sink.copies_for(DEE) == []
    result = await cli("digests", "send", LIST)
    assert result.exit_code == 0 and "(2 posts) to 1 digest member" in result.output
    await sink.wait_for(lambda: sink.copies_for(DEE))
    [raw] = sink.copies_for(DEE)
    issue = parsed(raw)
    assert issue.get_content_type() == "multipart/digest" and issue["Subject"] == "team Digest, Vol 1, Issue 1"
    toc, *posts = issue.iter_parts()
    assert toc.get_content_type() == "text/plain" and "2. Re: Mitigation expert in Ohio?" in toc.get_content()
    ids = [part.get_content()["Message-ID"] for part in posts]
    assert ids == ["<e2e-0@example.org>", "<e2e-1@example.org>"]
    assert all(len(sink.copies_for(m)) == 2 for m in MEMBERS)  # regular members: each post once, no digest
    [envelope] = [frm for frm, rcpts, _ in sink.received if rcpts == [DEE]]
    assert envelope == "team-bounces+dee=example.org@example.org"
