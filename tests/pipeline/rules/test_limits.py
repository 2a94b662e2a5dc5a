"""The limits rule and the pre-scan behind it: over a cap, a post is held unparsed with the cap named."""

from dataclasses import replace

import pytest

from listserv import moderation
from listserv.pipeline import parse, prescan
from listserv.pipeline.rules.limits import limits
from listserv.store import held, messages, outbound

from ..conftest import TEAM, compose, msgdata
from ..hostile import big_header, big_part_header, many_parts, nested


@pytest.fixture
def small_caps(settings):
    """Settings whose caps are small enough to build posts over them cheaply."""
    return replace(settings, server=replace(settings.server, max_parts=5, max_depth=3, max_header_bytes=4096))


@pytest.fixture
def submit_capped(store, small_caps):
    """submit() with small_caps."""
    from listserv.pipeline import process
    from listserv.store import inbound

    async def run(raw: bytes, mail_from: str = "ann@example.org"):
        inbound_id = await store.write(inbound.enqueue, mail_from, [TEAM], raw, "127.0.0.1")
        item = next(i for i in await inbound.pending(store.db) if i["id"] == inbound_id)
        return await process(store, small_caps, item)

    return run


def test_the_scan_counts_parts_nesting_and_header_bytes():
    """scan() counts each part, each level of nesting and the header block as the parser would build them."""
    assert prescan.scan(many_parts(7)).parts == 8 and prescan.scan(many_parts(7)).depth == 1
    assert prescan.scan(nested(6)).depth == 6 and prescan.scan(nested(6)).parts == 7
    raw = compose()
    assert prescan.scan(raw) == prescan.Shape(parts=1, depth=0, header_bytes=raw.index(b"\n\n") + 1)


def test_boundaries_never_used_or_quoted_in_text_do_not_count():
    """A boundary= written in a text part, and '--' lines of no declared boundary, add no part and no depth."""
    raw = compose(body='Content-Type: multipart/mixed; boundary="q"\n--x\n-- \nsig\n')
    assert prescan.scan(raw).parts == 1 and prescan.scan(raw).depth == 0


@pytest.mark.parametrize("declaration", [
    "boundary=cut", 'BOUNDARY = "cut"', "boundary*=us-ascii''cut", 'boundary*0="cu"; boundary*1="t"',
    "boundary*0*=utf-8''c%75; boundary*1=t", "boundary=(a comment)cut",
], ids=["token", "upper-case", "rfc2231", "continued", "continued-encoded", "unread"])
def test_every_way_of_declaring_the_boundary_is_counted(declaration):
    """The stdlib reads each of these as 7 parts (checked here), and so does the scan, whatever escapes its reading."""
    head = compose(body="", headers=(("Content-Type", f"multipart/mixed; {declaration}"),))
    raw = head + b"".join(b"--cut\nContent-Type: text/plain\n\npart %d\n" % n for n in range(6)) + b"--cut--\n"
    assert len(list(parse.parse(raw)[0].walk())) == 7
    assert prescan.scan(raw).parts == 7


def test_many_distinct_dash_lines_are_not_parts():
    """A pasted SQL script, 5,000 '-- comment' lines, is one part: only a repeated delimiter line counts."""
    raw = compose(body="".join(f"-- step {n}\nselect {n};\n" for n in range(5000)))
    assert prescan.scan(raw).parts == 1


def test_siblings_closed_implicitly_do_not_deepen():
    """Sibling multiparts whose closing line is missing end at the parent's next delimiter: depth stays 2."""
    head = compose(body="", headers=(("Content-Type", 'multipart/mixed; boundary="top"'),))
    child = b'--top\nContent-Type: multipart/alternative; boundary="c%d"\n\n--c%d\n\nx\n'
    raw = head + b"".join(child % (n, n) for n in range(30)) + b"--top--\n"
    assert prescan.scan(raw).depth == 2 and prescan.scan(raw).parts == 61


@pytest.mark.parametrize("raw, text", [
    (many_parts(4), None),
    (many_parts(5), "limits: 6 MIME parts, more than 5"),
    (nested(3), None),
    (nested(4), "limits: multipart nesting 4 deep, more than 3"),
    (big_header(5000), "a header block of"),
    (big_part_header(3000), None),
    (big_part_header(5000), "limits: a part's header block of more than 4096 bytes"),
], ids=["parts-in", "parts-over", "depth-in", "depth-over", "header-over", "part-header-in", "part-header-over"])
def test_the_rule_names_the_cap(raw, text):
    """Within every cap the rule is silent; over one, its reason names the measure and the cap."""
    over = parse.parse_within(raw, prescan.Caps(5, 3, 4096))[2]
    reason = limits(msgdata(raw, limits=over))
    if text is None:
        assert reason is None
    else:
        assert reason.rule == "limits" and text in reason.text and reason.text.startswith("limits: ")


def test_a_post_over_a_cap_gets_only_its_headers_parsed():
    """Over the part cap: the sender and subject are read, the body is never split into parts."""
    msg, defects, over = parse.parse_within(many_parts(20), prescan.Caps(max_parts=5))
    assert over and defects == [] and not msg.is_multipart() and msg["Subject"] == "Many parts"
    msg, _, over = parse.parse_within(big_header(5000), prescan.Caps(max_header_bytes=4096))
    assert msg is None and "header block" in over
    msg, _, over = parse.parse_within(big_part_header(5000), prescan.Caps(max_header_bytes=4096))
    assert msg["Subject"] == "Big part header" and "part's header block" in over


async def test_member_post_over_a_cap_is_held_not_sent(store, team, submit_capped):
    """A member's post with too many parts is held with the limits reason; nothing archived or queued."""
    assert await submit_capped(many_parts(6)) == {TEAM: "held"}
    [row] = await held.waiting(store.db)
    assert [r["rule"] for r in row["reasons"]] == ["limits"] and row["subject"] == "Many parts"
    assert row["sender"] == "ann@example.org"
    assert await messages.for_list(store.db, team.id) == []
    assert await outbound.due(store.db, now=1e12, exclude=[-1]) == []


async def test_huge_header_block_is_held_by_limits_alone(store, team, submit_capped):
    """Headers too big to read: held by limits, not also called unparseable."""
    assert await submit_capped(big_header(5000)) == {TEAM: "held"}
    [row] = await held.waiting(store.db)
    assert [r["rule"] for r in row["reasons"]] == ["limits"]


async def test_nonmember_post_over_a_cap_is_held_with_both_reasons(store, team, submit_capped):
    """A stranger's 50-part post: held (the default nonmember_action) naming non-membership and the cap."""
    raw = many_parts(50, sender="x@elsewhere.example")
    assert await submit_capped(raw, mail_from="x@elsewhere.example") == {TEAM: "held"}
    [row] = await held.waiting(store.db)
    assert [r["rule"] for r in row["reasons"]] == ["nonmember", "limits"]


async def test_held_over_a_cap_is_shown_and_approved(store, team, submit_capped, small_caps):
    """held show gives headers and the raw start without a full parse; approve archives and queues it."""
    await submit_capped(many_parts(6))
    [row] = await held.waiting(store.db)
    shown = await moderation.show(store, row["id"])
    assert ["Subject", "Many parts"] in shown["headers"]
    assert shown["text"].startswith("(over a cap, not parsed") and "part 5" in shown["text"]
    await moderation.approve(store, small_caps, row["id"], "mod@example.org")
    [archived] = await messages.for_list(store.db, team.id)
    assert archived["subject"] == "Many parts"
    assert len(await outbound.due(store.db, now=1e12, exclude=[-1])) == 1


async def test_rejecting_a_post_over_a_cap_tells_the_member(store, team, submit_capped, small_caps):
    """held reject of a post over a cap queues the member's notice, read from its headers alone."""
    await submit_capped(many_parts(6))
    [row] = await held.waiting(store.db)
    await moderation.reject(store, small_caps, row["id"], "mod@example.org", reason="too many attachments")
    [batch] = await outbound.due(store.db, now=1e12, exclude=[-1])
    assert batch["recipients"] == ["ann@example.org"]
    assert b"too many attachments" in await outbound.content(store.db, batch["outbound_message_id"])
