"""The `get N` command: archived post number N, attached exactly as it was received, for members only.

A confidential post goes only to members entitled to it; to anyone else it
does not exist, so its number gives nothing away. It comes marked as a list
copy of it would (tag, Sensitivity, notice, no read-receipt headers), so a
mail program treats it with the same care.
"""

from __future__ import annotations

from listserv.archive.fetch import archived
from listserv.commands.context import Request, Result

USAGE = "get needs the number of a post, e.g.: get 42 (search shows the numbers)"


async def run(request: Request, rest: str) -> Result:
    number = rest.strip().lstrip("#")
    if not (number.isascii() and number.isdigit()) or len(number) > 18:
        return Result(USAGE)
    mlist = request.mlist
    post = await archived(request.db, mlist.id, int(number), include_confidential=request.entitled)
    if post is None:
        return Result(f"There is no post number {int(number)} in the archive of {mlist.address}.")
    if post["raw"] is None:
        return Result(f"Post {post['id']} is no longer kept in full; its content was purged.")
    raw = await _marked(request, post["id"]) if post["confidential"] else post["raw"]
    return Result(f"Post {post['id']} is attached.", attached=((f"post-{post['id']}.eml", raw),))


async def _marked(request: Request, archive_id: int) -> bytes:
    """The confidential copy the list would send, DMARC mitigation included. Imported here: the pipeline
    imports the command table."""
    from listserv.pipeline.confidential import copy_of_archived

    return await copy_of_archived(request.db, request.mlist, archive_id) or b""
