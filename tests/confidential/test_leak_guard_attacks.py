"""The reply-all leak guard under attack, end to end: hostile To/Cc over loopback SMTP to the real daemon.

Every To/Cc entry that is not a list address or an entitled member is
outside, whatever email-validator thinks of it. For each attack the test
reads what every recipient got from the sink: the entitled members' copies
carry no outside entry in any header, nobody outside the membership is
mailed, and the notice to the sender and the moderators names every outside
entry exactly once, as plain text.
"""

from __future__ import annotations

import unicodedata

import pytest

from listserv import lists, moderation
from listserv.store import held
from tests.e2e.helpers import send

from .conftest import NOT_ENTITLED, TEAM, leaked, parsed, queued, secret
from .test_e2e import make_team

MEMBERS = {"ann@example.org", "bob@example.org", "mod@example.org", NOT_ENTITLED, "dora@example.org",
           "dan@example.org"}
NOTICE = b"named people outside the list"

# (extra headers of a confidential post from ann, the outside entries the notice must name, in order)
ATTACKS = {
    "issue-example": (
        [("Cc", '"john.outsider"@gmail.com, dave@corp.local, prosecutor@[192.0.2.7], x@internal')],
        ['"john.outsider"@gmail.com', "dave@corp.local", "prosecutor@[192.0.2.7]", "x@internal"],
    ),
    "to-and-cc-mixed": (
        [("To", f"{TEAM}, Bob <BOB@Example.ORG>, undisclosed-recipients:;"),
         ("Cc", "The Press (news desk) <Press@News.Example>, \"Lee, Eve\" <eve@[IPv6:2001:db8::1]>,"
                " =?utf-8?q?J=C3=BCrgen?= <jurgen@b\u00fccher.example>, nina@example.org")],
        ["press@news.example", '"Lee, Eve" <eve@[IPv6:2001:db8::1]>', "jurgen@b\u00fccher.example", NOT_ENTITLED],
    ),
    "groups-duplicates-several-cc": (
        [("Cc", "friends: a@out.example, A@OUT.example;, team-request@example.org"),
         ("Cc", "a@out.example, Team+Confidential@Example.org, other@example.org"),
         ("To", f"{TEAM}; b@out.example")],
        ["b@out.example", "a@out.example", "other@example.org"],
    ),
    "garbage-and-encoded": (
        [("Cc", "not an address at all, =?utf-8?q?evil=40x.example?=, <unterminated@x.example"),
         ("To", f"{TEAM}, =?utf-8?q?Eve=0D=0ABcc:_bob@example.org?= <eve@evil.example>")],
        ["eve@evil.example", "not an address at all", "=?utf-8?q?evil=40x.example?=", "<unterminated@x.example"],
    ),
    "controls-and-bidi": (
        [("Cc", "\"spy\x07\x1b[2J\"@x.example, Evil \u202emoc.live <evil@x.example> <bob@example.org>")],
        ['"spy[2J"@x.example', "Evil moc.live <evil@x.example> <bob@example.org>"],
    ),
}


def _raw(headers: list[tuple[str, str]]) -> bytes:
    """ann's confidential post with these headers; a To among them replaces the usual one."""
    to = next((value for name, value in headers if name == "To"), TEAM)
    return secret("c1@example.org", to=to, headers=tuple((n, v) for n, v in headers if n != "To"))


def _named(notice) -> list[str]:
    """The entries a notice lists (its indented lines)."""
    return [line[2:] for line in notice.get_content().splitlines() if line.startswith("  ")]


@pytest.mark.parametrize("headers, outside", list(ATTACKS.values()), ids=list(ATTACKS))
async def test_every_outside_entry_is_removed_and_named(server, sink, cli, headers, outside):
    """Quoted local parts, literals, special-use and dotless domains, IDNs, groups, garbage: all outside."""
    await make_team(cli)
    await send(server.port, _raw(headers), "ann@example.org")
    await sink.wait_for(lambda: any(NOTICE in c for c in sink.copies_for("mod@example.org"))
                        and sink.copies_for("bob@example.org") and sink.copies_for("ann@example.org"))
    assert set(sink.recipients()) <= MEMBERS  # nothing from the list to anyone outside
    [notice] = [parsed(c) for c in sink.copies_for("mod@example.org") if NOTICE in c]
    assert _named(notice) == outside
    assert [parsed(c) for c in sink.copies_for("ann@example.org") if NOTICE in c][0].get_content() \
        == notice.get_content()
    text = notice.get_content().replace("\r\n", "").replace("\n", "")
    assert leaked(notice.as_string()) == [] and not any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)
    assert "bcc" not in {name.lower() for name in notice.keys()}
    copy = parsed(next(c for c in sink.copies_for("bob@example.org") if NOTICE not in c))
    assert copy.get_all("To") == [TEAM] and copy.get_all("Cc") is None and "Zanzibarian" in leaked(copy.as_bytes())


async def test_only_inside_entries_leave_the_copy_untouched(server, sink, cli):
    """To/Cc naming only list addresses and entitled members (any case, sub-addresses) is no leak: no notice."""
    await make_team(cli)
    headers = [("To", f"{TEAM}, Bob <BOB@example.org>"), ("Cc", "team-request@example.org, undisclosed:;")]
    await send(server.port, _raw(headers), "ann@example.org")
    await sink.wait_for(lambda: sink.copies_for("bob@example.org") and sink.copies_for("dora@example.org"))
    assert not any(NOTICE in c for c in sink.copies_for("mod@example.org") + sink.copies_for("ann@example.org"))
    copy = parsed(sink.copies_for("bob@example.org")[0])
    assert "BOB@example.org" in copy["To"] and "team-request@example.org" in copy["Cc"]


async def test_hold_names_unparseable_entries_and_approval_strips_them(store, settings, team, submit):
    """leak_guard hold with only entries email-validator refuses: held naming them; approved, To/Cc are the list's."""
    await lists.set_setting(store, TEAM, "leak_guard", "hold")
    cc = '"john.outsider"@gmail.com, prosecutor@[192.0.2.7]'
    assert await submit(secret("c1@example.org", headers=(("Cc", cc),))) == {TEAM: "held"}
    [row] = await held.waiting(store.db, team.id)
    [reason] = row["reasons"]
    assert reason["rule"] == "leak_guard" and "2 addresses" in reason["text"] and cc in reason["text"]
    await moderation.approve(store, settings, row["id"], "mod@example.org")
    copy = parsed([c for c in (await queued(store))["bob@example.org"] if b"Sensitivity" in c][0])
    assert copy.get_all("To") == [TEAM] and copy["Cc"] is None and b"192.0.2.7" not in copy.as_bytes()
