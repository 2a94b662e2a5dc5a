"""The loop rule on its own."""

from listserv.pipeline.rules.loop import loop

from ..conftest import compose, msgdata


def test_own_list_id_is_a_loop():
    """A post carrying this list's List-Id came back to us: the loop rule fires."""
    data = msgdata(compose(headers=(("List-Id", '"Team" <team.example.org>'),)))
    reason = loop(data)
    assert reason is not None and reason.rule == "loop" and "team.example.org" in reason.text


def test_own_x_beenthere_is_a_loop():
    """X-BeenThere naming this list (any case) is a loop."""
    assert loop(msgdata(compose(headers=(("X-BeenThere", "Team@Example.org"),)))).rule == "loop"


def test_other_lists_markers_are_not_a_loop():
    """A post forwarded from another list carries that list's markers: not a loop here."""
    headers = (("List-Id", "<other.example.org>"), ("X-BeenThere", "other@example.org"))
    assert loop(msgdata(compose(headers=headers))) is None


def test_plain_post_and_unparsed_message_are_not_loops():
    """No markers, or no parsed message at all, gives no loop reason."""
    assert loop(msgdata(compose())) is None
    assert loop(msgdata(compose(), msg=None)) is None
