"""Every SMTP reply constant carries the code its name promises, with an enhanced status code."""

import re

from listserv import replies


def test_each_reply_name_matches_its_code():
    """S550_NO_SUCH_LIST starts with 550 and a 5.x.x enhanced code, and so on for every constant."""
    names = [n for n in dir(replies) if re.fullmatch(r"S\d{3}_[A-Z0-9_]+", n)]
    assert len(names) >= 8
    for name in names:
        text = getattr(replies, name)
        code = name[1:4]
        if code.startswith("3"):  # RFC 3463 has no class 3: an intermediate reply carries no enhanced code
            assert re.fullmatch(rf"{code} [^\d\s]\S*.*", text), name
        else:
            assert re.fullmatch(rf"{code} {code[0]}\.\d{{1,3}}\.\d{{1,3}} \S.*", text), name
