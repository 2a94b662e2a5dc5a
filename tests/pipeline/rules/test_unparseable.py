"""The unparseable rule on its own."""

from listserv.pipeline.rules.unparseable import unparseable

from ..conftest import compose, msgdata


def test_unparsed_message_fires_with_the_defect():
    """A message the parser failed on fires, naming the recorded failure."""
    reason = unparseable(msgdata(b"junk", msg=None, defects=["parse: ValueError"]))
    assert reason.rule == "unparseable" and "parse: ValueError" in reason.text


def test_missing_from_fires():
    """No From: header at all fires."""
    raw = b"To: team@example.org\nSubject: x\n\nbody\n"
    assert "no From:" in unparseable(msgdata(raw)).text


def test_unusable_from_is_left_to_ambiguous_sender():
    """A From: without a usable address is not this rule's: ambiguous_sender holds it, quoting what was written."""
    data = msgdata(compose(sender="Ann <not-an-address>"))
    assert unparseable(data) is None and "not-an-address" in data.sender_problem


def test_good_message_passes_even_with_recoverable_defects():
    """A usable From: passes; recoverable parser defects alone do not hold a post."""
    data = msgdata(compose(), defects=["StartBoundaryNotFoundDefect"])
    assert unparseable(data) is None
