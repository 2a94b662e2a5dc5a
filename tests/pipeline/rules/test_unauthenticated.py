"""The unauthenticated rule on its own: which authentication results it holds, and with what reason."""

from __future__ import annotations

from listserv.auth.dmarc import NOT_PUBLISHED, Policy
from listserv.auth.result import FAIL, NONE, PASS, UNKNOWN, AuthResult
from listserv.pipeline.rules.unauthenticated import action, unauthenticated
from tests.pipeline.conftest import compose, mailing_list, msgdata

REJECT = Policy(True, "reject", "agency.example")


def test_enforced_failure_is_a_reason():
    """dmarc=fail under p=reject gives 'sender not authenticated: dmarc=fail' with the details."""
    data = msgdata(compose(), auth=AuthResult("agency.example", REJECT, dmarc=FAIL))
    reason = unauthenticated(data)
    assert reason.rule == "unauthenticated"
    assert reason.text == "sender not authenticated: dmarc=fail (agency.example publishes p=reject; dkim=none, spf=none)"


def test_pass_none_unknown_and_p_none_are_fine():
    """Passing, no DMARC, DNS unknown and p=none never fire; neither does an unchecked message."""
    for auth in (
        AuthResult("agency.example", REJECT, dkim=PASS, dmarc=PASS),
        AuthResult("agency.example", NOT_PUBLISHED, dmarc=NONE),
        AuthResult("agency.example", None, dmarc=UNKNOWN),
        AuthResult("agency.example", Policy(True, "none"), dmarc=FAIL),
        None,
    ):
        assert unauthenticated(msgdata(compose(), auth=auth)) is None


def test_require_dkim_only_for_confidential():
    """require_dkim holds a confidential post without a passing DKIM signature, not an open one."""
    mlist = mailing_list(require_dkim=True)
    auth = AuthResult("example.org", NOT_PUBLISHED, dmarc=NONE)
    assert unauthenticated(msgdata(compose(), mlist, auth=auth)) is None
    reason = unauthenticated(msgdata(compose(), mlist, auth=auth, confidential=True))
    assert reason.text == "sender not authenticated: dkim=none (require_dkim, confidential thread)"


def test_action_is_the_list_setting():
    """The action is unauthenticated_posts."""
    assert action(msgdata(compose(), mailing_list(unauthenticated_posts="reject"))) == "reject"
