"""Lay out the posts of a thread as a tree for people: parents before children, by date, never recursing."""

from __future__ import annotations

from typing import Sequence


def tree(posts: Sequence[dict]) -> list[tuple[int, dict]]:
    """(depth, post) for every post of a thread, parents before children, siblings and roots by date.

    posts: dicts with message_id, date, id, in_reply_to and refs (space
    separated), as store.messages.in_thread returns them. A post's parent is
    its nearest ancestor among these posts: In-Reply-To first, then References
    from the nearest back; a post with none is a root (its parents were never
    archived, or it joined by subject). Reference loops (forged headers) are
    cut. Iterative throughout, so a 5,000-post chain is no problem.
    """
    ordered = sorted(posts, key=lambda post: (post["date"], post["id"]))
    known = {post["message_id"] for post in ordered}
    parent: dict[str, str | None] = {}
    for post in ordered:
        mid = post["message_id"]
        candidates = [post.get("in_reply_to") or "", *reversed((post.get("refs") or "").split())]
        parent[mid] = next((c for c in candidates if c in known and c != mid), None)
    _cut_loops(parent, [post["message_id"] for post in ordered])
    children: dict[str | None, list[dict]] = {}
    for post in ordered:
        children.setdefault(parent[post["message_id"]], []).append(post)
    shown: list[tuple[int, dict]] = []
    stack = [(0, post) for post in reversed(children.get(None, []))]
    while stack:
        depth, post = stack.pop()
        shown.append((depth, post))
        stack.extend((depth + 1, child) for child in reversed(children.get(post["message_id"], [])))
    return shown


def _cut_loops(parent: dict[str, str | None], order: list[str]) -> None:
    """Make parent links a forest: walking up from each post, a post met twice on one walk loses its parent."""
    position = {mid: n for n, mid in enumerate(order)}
    state: dict[str, int] = {}  # absent: not visited; 1: on the current walk; 2: finished
    for start in order:
        walk, node = [], start
        while node is not None and node not in state:
            state[node] = 1
            walk.append(node)
            node = parent[node]
        if node is not None and state[node] == 1:  # the walk came back to itself: a loop
            loop = walk[walk.index(node):]
            parent[min(loop, key=position.__getitem__)] = None  # its oldest post becomes a root
        for visited in walk:
            state[visited] = 2
