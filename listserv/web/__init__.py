"""The members' web pages, served by `listserv serve` itself (no second daemon).

    server.py       uvicorn inside the daemon's event loop; started and stopped by listserv.daemon
    app.py          the Starlette application: routes, security headers, the one 404 page
    session.py      tokens, the session cookie and CSRF checks
    ratelimit.py    how often /login may mail a link, per address and per client
    login.py        /login, the mailed link's page, /logout
    archive.py      a list's threads, a thread, a post, search: members only
    roles.py        who may open the moderators' and owners' pages (404 for anyone else)
    held.py         the held queue, a held post, approve/reject/discard/reveal; requests to join
    owners.py       a list's members and its audit log: owners only
    member.py       a member's own settings for a list, and leaving it (confirmed by a button)
    unsubscribe.py  the one-click unsubscribe URL of a copy's List-Unsubscribe (RFC 8058): no login
    download.py     a post's attachment as a download that cannot run in the browser

Pages call the same operations as the command line (listserv.archive.show,
listserv.archive.listing, listserv.membership, listserv.moderation,
listserv.audit), never the store directly. A page a visitor may not see
answers exactly like a missing one.
"""
