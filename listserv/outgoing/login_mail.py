"""Build the mail that carries a web login link (listserv.web.login queues it, signed like every other mail).

It comes From: the owner address of the member's first list, like the other
notices the list writes itself, and holds nothing but the single-use link.
"""

from __future__ import annotations

from listserv.lists import MailingList
from listserv.outgoing import owner_mail

LINK_MINUTES = 15  # how long a mailed link opens the login page; said in the mail, enforced by listserv.web.login


def link_mail(mlist: MailingList, address: str, url: str) -> bytes:
    """The login mail to `address`: the link, how long it lives, and that ignoring it is safe."""
    return owner_mail.plain(mlist, address, "Your link to log in to the list archive", [
        "Someone, probably you, asked to log in to the web pages of your mailing lists.",
        "",
        f"Open this link within {LINK_MINUTES} minutes and press the button there:",
        "",
        url,
        "",
        "The link works once. If you did not ask for it, ignore this mail: nothing happens.",
    ])
