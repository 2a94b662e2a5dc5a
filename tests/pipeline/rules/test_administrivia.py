"""The administrivia rule on its own."""

from listserv.pipeline.rules.administrivia import administrivia

from ..conftest import compose, msgdata


def test_unsubscribe_subject_fires():
    """A short post whose subject is 'unsubscribe' (even behind the list prefix) was meant for -request."""
    reason = administrivia(msgdata(compose(subject="[team] Unsubscribe", body="\n")))
    assert reason.rule == "administrivia" and "unsubscribe" in reason.text and "team-request@example.org" in reason.text


def test_command_as_first_body_line_fires():
    """'subscribe me' as the first line of a short body fires."""
    data = msgdata(compose(subject="hi", body="subscribe me\n-- \nAnn\nAnn's signature\n"))
    assert administrivia(data).rule == "administrivia"


def test_long_post_starting_with_a_command_passes():
    """A real post that happens to start with 'unsubscribe' passes."""
    body = "unsubscribe\n" + "".join(f"line {i} of a real question\n" for i in range(8))
    assert administrivia(msgdata(compose(subject="question", body=body))) is None


def test_weak_words_only_alone():
    """'Help!' alone with a one-line body fires; 'Help' with a real question does not."""
    assert administrivia(msgdata(compose(subject="Help!", body="\n"))).rule == "administrivia"
    question = "Need a mitigation expert.\nIn Ohio.\nThanks\n"
    assert administrivia(msgdata(compose(subject="Help", body=question))) is None
    assert administrivia(msgdata(compose(subject="help with a sentencing memo", body="x\n"))) is None
