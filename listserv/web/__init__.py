"""The members' web pages, served by `listserv serve` itself (no second daemon).

    server.py       uvicorn inside the daemon's event loop; started and stopped by listserv.daemon
    app.py          the Starlette application: routes, security headers, the one 404 page
    session.py      tokens, the session cookie and CSRF checks
    ratelimit.py    how often /login may mail a link, per address and per client
    login.py        /login, the mailed link's page, /logout
    archive.py      a list's threads, a thread, a post, search: members only
    download.py     a post's attachment as a download that cannot run in the browser

Pages call the same operations as the command line (listserv.archive.show,
listserv.archive.listing, listserv.membership), never the store directly. A
page a visitor may not see answers exactly like a missing one.
"""
