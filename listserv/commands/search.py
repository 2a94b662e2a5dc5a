"""The `search QUERY` command: the archive search of the CLI by email, up to 20 results, for members only.

Confidential posts are found only by members entitled to them. A malformed
query gets BadQuery's one-line explanation, the same as on the command line.
"""

from __future__ import annotations

from listserv.archive import search as archive_search
from listserv.commands.context import Request, Result
from listserv.outgoing.notices import when
from listserv.wording import plural

LIMIT = 20
EXAMPLE = 'search needs a query, e.g.: search "school records" from:ann after:2024-01-01'


async def run(request: Request, rest: str) -> Result:
    if not rest.strip():
        return Result(EXAMPLE)
    found = await archive_search.search(
        request.db, request.mlist.id, rest, limit=LIMIT, include_confidential=request.entitled
    )
    if not found:
        return Result("No post matches.")
    verb = "matches" if len(found) == 1 else "match"
    lines = [f"{plural(len(found), 'post')} {verb}{' (the best 20)' if len(found) == LIMIT else ''}:"]
    for post in found:
        day = when(post["date"])[:10]
        lines.append(f"  {post['id']:>6}  {day}  {post['sender']}  {post['subject'] or '(no subject)'}")
    lines += ["", 'Send "get N" for post number N.']
    return Result("\n".join(lines))
