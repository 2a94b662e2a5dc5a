"""The held queue on the web: what waits, one held post, and the moderator's decisions; requests to join.

Moderators and owners of the list only (listserv.web.roles). Each button is a
POST calling the operation the command line calls — moderation.approve,
reject, discard; membership.approve, deny — with the moderator's address as
the actor, so the audit row names them. A confidential post is masked as
`held ls/show` masks it until the moderator presses "reveal", which is
audited as `held show --body` is (access.record_held_read); the reveal holds
for that one page, so every look is on the record.
"""

from __future__ import annotations

from typing import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from listserv import membership, moderation
from listserv.archive import access
from listserv.errors import NoSuchHeld, Refused, UsageError
from listserv.outgoing.moderator_notices import POST_ROLES
from listserv.web.login import page
from listserv.web.roles import HIDDEN, MODERATING, Manager, for_roles, number

DECIDABLE = POST_ROLES + ("owner",)  # held mail of these roles can be approved or rejected; any can be discarded


async def _held(request: Request, m: Manager) -> dict:
    """The held post of the path, read as the archive pages read a post; NoSuchHeld for one of another list."""
    held_id = number(request.path_params["id"])
    found = await moderation.show(request.app.state.store, held_id, as_archive=True)
    if found["list"] != m.list:
        raise NoSuchHeld(f"no such held message: {held_id}")
    return found


def _queue_url(m: Manager) -> str:
    return f"/lists/{m.list}/held"


async def _queue_page(request: Request, m: Manager, error: str = "", status: int = 200) -> Response:
    store = request.app.state.store
    waiting = [access.masked(row) for row in await moderation.waiting(store, m.list)]  # no confidential subjects
    requests = await membership.pending(store, m.list)
    return page(request, "held.html", {"visitor": m.who, "list": m.list, "held": waiting, "requests": requests,
                                        "error": error}, status=status)


def _post_page(request: Request, m: Manager, found: dict, revealed: bool, error: str = "",
               status: int = 200) -> Response:
    """One held post: masked when confidential and not revealed; buttons while it is undecided."""
    shown = found if revealed else access.masked(found)
    context = {"visitor": m.who, "list": m.list, "held": shown, "revealed": revealed, "error": error,
               "decidable": found["role"] in DECIDABLE}
    return page(request, "held_post.html", context, status=status)


@for_roles(MODERATING)
async def queue(request: Request, m: Manager) -> Response:
    """Posts waiting for a decision, oldest first, and requests to join waiting for a moderator."""
    return await _queue_page(request, m)


@for_roles(MODERATING)
async def held_post(request: Request, m: Manager) -> Response:
    """One held post (a confidential one masked, with its reveal button), with its decision once decided."""
    return _post_page(request, m, await _held(request, m), revealed=False)


@for_roles(MODERATING)
async def reveal(request: Request, m: Manager) -> Response:
    """Show a confidential held post's subject, headers and text, audited as `held show --body`."""
    found = await _held(request, m)
    if found["confidential"]:
        await access.record_held_read(request.app.state.store, found, m.who.address)
    return _post_page(request, m, found, revealed=True)


async def _decide(request: Request, m: Manager, act: Callable[[int], Awaitable[None]]) -> Response:
    """Run one decision on the path's held post; back to its page (which shows who decided), or its refusal."""
    held_id = number(request.path_params["id"])
    summary = await moderation.summary(request.app.state.store, held_id)
    if summary["list"] != m.list:
        raise NoSuchHeld(f"no such held message: {held_id}")
    try:
        await act(held_id)
    except HIDDEN:
        raise
    except Refused as exc:  # already decided (by someone else meanwhile), or nobody to forward -owner mail to
        return _post_page(request, m, await _held(request, m), revealed=False, error=str(exc), status=409)
    request.app.state.on_queued()
    return RedirectResponse(f"{_queue_url(m)}/{held_id}", status_code=303)


@for_roles(MODERATING)
async def approve(request: Request, m: Manager) -> Response:
    state = request.app.state
    return await _decide(request, m, lambda held_id: moderation.approve(state.store, state.settings, held_id,
                                                                        m.who.address))


@for_roles(MODERATING)
async def reject(request: Request, m: Manager) -> Response:
    """Reject with the reason typed (one line); the sender is told as by `held reject` (notify: non-members too)."""
    state = request.app.state
    reason = " ".join(m.fields.get("reason", "").split())
    notify = m.fields.get("notify") == "on"
    return await _decide(request, m, lambda held_id: moderation.reject(
        state.store, state.settings, held_id, m.who.address, reason=reason, notify=notify))


@for_roles(MODERATING)
async def discard(request: Request, m: Manager) -> Response:
    return await _decide(request, m, lambda held_id: moderation.discard(request.app.state.store, held_id,
                                                                        m.who.address))


async def _request_decision(request: Request, m: Manager, act: Callable[[str], Awaitable[object]]) -> Response:
    """Approve or deny the request to join of the form's address; back to the queue, or its refusal there."""
    try:
        await act(m.fields.get("address", ""))
    except (Refused, UsageError) as exc:  # nothing waits for that address (decided meanwhile), or no address
        return await _queue_page(request, m, error=str(exc), status=400 if isinstance(exc, UsageError) else 409)
    request.app.state.on_queued()  # the applicant's welcome or refusal
    return RedirectResponse(_queue_url(m), status_code=303)


@for_roles(MODERATING)
async def approve_request(request: Request, m: Manager) -> Response:
    state = request.app.state
    return await _request_decision(request, m, lambda address: membership.approve(
        state.store, state.settings, m.list, address, m.who.address))


@for_roles(MODERATING)
async def deny_request(request: Request, m: Manager) -> Response:
    state = request.app.state
    reason = m.fields.get("reason", "")
    return await _request_decision(request, m, lambda address: membership.deny(
        state.store, state.settings, m.list, address, m.who.address, reason))


ROUTES = [
    Route("/lists/{list}/held", queue, methods=["GET"]),
    Route("/lists/{list}/held/{id}", held_post, methods=["GET"]),
    Route("/lists/{list}/held/{id}/reveal", reveal, methods=["POST"]),
    Route("/lists/{list}/held/{id}/approve", approve, methods=["POST"]),
    Route("/lists/{list}/held/{id}/reject", reject, methods=["POST"]),
    Route("/lists/{list}/held/{id}/discard", discard, methods=["POST"]),
    Route("/lists/{list}/requests/approve", approve_request, methods=["POST"]),
    Route("/lists/{list}/requests/deny", deny_request, methods=["POST"]),
]
