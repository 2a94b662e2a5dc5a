"""The ambiguous_sender rule and the one reading of From: it rests on (listserv.message.from_mailbox)."""

import doctest

import pytest

from listserv import address_list
from listserv.pipeline.rules.ambiguous_sender import ambiguous_sender

from ..conftest import msgdata


def _post(*from_lines: str) -> bytes:
    lines = [f"From: {value}" for value in from_lines]
    return ("\n".join([*lines, "To: team@example.org", "Subject: s", "Message-ID: <m@x>", "", "body", ""])).encode()


def test_doctests():
    """The doctest examples of the address-list splitter hold."""
    assert doctest.testmod(address_list).failed == 0


# (From header values as written, the address a mail program shows, display name)
TAKEN = [
    (["ann@example.org <evil@x.example>"], "evil@x.example", "ann@example.org"),
    (["ann@example.org)<evil@x.example>"], "evil@x.example", "ann@example.org)"),
    (['"ann@example.org" <EVIL@X.example>'], "evil@x.example", "ann@example.org"),
    (["=?utf-8?q?Ann=0D=0ABcc:_bob@example.org?= <ann@example.org>"], "ann@example.org", "Ann Bcc: bob@example.org"),
    (["=?utf-8?q?bob@example.org_=3Cbob@example.org=3E,?= <ann@example.org>"], "ann@example.org",
     "bob@example.org <bob@example.org>,"),
    (["=?utf-8?b?Ym9iQGV4YW1wbGUub3JnIDxib2JAZXhhbXBsZS5vcmc+?= <ann@example.org>"], "ann@example.org",
     "bob@example.org <bob@example.org>"),
    (["ann@example.org (bob@example.org)"], "ann@example.org", "bob@example.org"),
    (['"Lee, Ann" <@relay.example:Ann@Example.ORG>'], "ann@example.org", "Lee, Ann"),
    (["Ren\u00e9e <r@example.org>"], "r@example.org", "Ren\u00e9e"),
]


@pytest.mark.parametrize("values, address, name", TAKEN)
def test_the_address_is_what_a_mail_program_shows(values, address, name):
    """The angle-addr wins over anything in the display name, decoded or not; the rule lets the post pass."""
    data = msgdata(_post(*values))
    assert (data.sender, data.sender_name, data.sender_problem) == (address, name, "")
    assert ambiguous_sender(data) is None


# (From header values, a word the reason must contain)
AMBIGUOUS = [
    (["ann@example.org", "evil@x.example"], "2 From: headers"),
    (["ann@example.org, evil@x.example"], "2 addresses in From:"),
    (["ann@example.org; evil@x.example"], "2 addresses in From:"),
    (["Ann <ann@example.org> <evil@x.example>"], "2 angle-addrs"),
    (["team: ann@example.org;"], "group syntax"),
    (["Ann <not-an-address>"], "not-an-address"),
    (['"ann"@example.org'], "not one usable address"),
    (["ann@[192.0.2.7]"], "not one usable address"),
    (["ann@internal"], "not one usable address"),
    (["ann@example.org evil@x.example"], "not one usable address"),
    (["=?utf-8?q?ann@example.org?="], "not one usable address"),
    (["undisclosed:;"], "0 addresses"),
    (["(only a comment)"], "0 addresses"),
]


@pytest.mark.parametrize("values, word", AMBIGUOUS)
def test_ambiguous_from_holds_and_names_no_sender(values, word):
    """Several From: headers or addresses, groups, two angle-addrs or no usable address: held, sender ''."""
    data = msgdata(_post(*values))
    reason = ambiguous_sender(data)
    assert data.sender == "" and reason.rule == "ambiguous_sender"
    assert reason.text.startswith("ambiguous sender: ") and word in reason.text


def test_control_characters_never_reach_the_reason():
    """What the reason quotes is one line of plain text: control and bidi characters are gone."""
    data = msgdata(_post("Ann\x07 \u202e<not-an-address\x1b[31m>"))
    text = ambiguous_sender(data).text
    assert not any(ch in text for ch in "\x07\x1b\u202e\r\n") and "not-an-address" in text


def test_no_from_is_not_this_rules_case():
    """A post with no From: at all is the unparseable rule's (it says so), not an ambiguity."""
    data = msgdata(b"To: team@example.org\nSubject: s\n\nbody\n")
    assert ambiguous_sender(data) is None and data.sender == ""
