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


def test_unusable_from_fires_quoting_it():
    """A From: without a usable address fires and quotes what was written."""
    reason = unparseable(msgdata(compose(sender="Ann <not-an-address>")))
    assert reason.rule == "unparseable" and "not-an-address" in reason.text


def test_good_message_passes_even_with_recoverable_defects():
    """A usable From: passes; recoverable parser defects alone do not hold a post."""
    data = msgdata(compose(), defects=["StartBoundaryNotFoundDefect"])
    assert unparseable(data) is None
