"""Confirmation tokens: signed, single-use, expiring proof that the owner of an address asked for a change.

A token is 32 lower-case hex digits, NONCE + MAC: a random 48-bit nonce that
finds the confirmations row, and the first 80 bits of HMAC-SHA256, under a
per-installation secret, over the nonce, the list, the action, the address and
the expiry (and, for a moderation token, the held post it decides). Lower-case hex survives every mail client and the case-folding of
NAME-confirm+TOKEN@DOMAIN; 32 digits keep that address within 64 octets for
list names up to 19 characters. The MAC means a token cannot be made up or
altered, not even by someone who can guess nonces; the row makes it work once.

Two kinds share this one mechanism: a (un)subscription confirmation, mailed to
the address concerned, and a moderation token (action 'moderate'), put in the
Reply-To of a held-post notice so a moderator may decide that one post by
replying (listserv.moderation_reply). Neither kind is accepted where the other
is expected.

The secret lives in the database (table `secrets`), created on first use inside
the writer's transaction, so the daemon and every CLI process share it. All
functions here run inside a write transaction (Store.write or the pipeline's);
`now` is passed in, so tests inject the clock and a redone message judges a
token by its arrival time, not by when the redo ran.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

import aiosqlite

from listserv.lists import MailingList
from listserv.store import confirmations

SECRET_NAME = "confirm-hmac"
NONCE_BYTES = 6
MAC_BYTES = 10
DAY = 86400.0
DEFAULT_DAYS = 7
RESEND_AFTER = 3600.0  # one confirmation per address, list and action per hour: no mail-bombing by subscribe
KEEP_AFTER_EXPIRY = 30 * DAY  # how long "already used"/"expired" can still be told apart from "not valid"
ACTIONS = ("subscribe", "unsubscribe")  # what `confirm TOKEN` carries out
MODERATE = "moderate"  # a held-post notice's reply token: decides the held post it is bound to
VALID, INVALID, USED, EXPIRED = "valid", "invalid", "used", "expired"
_TOKEN = re.compile(rf"[0-9a-f]{{{2 * (NONCE_BYTES + MAC_BYTES)}}}")


@dataclass(frozen=True)
class Checked:
    """What a presented token turned out to be, and its confirmations row when it is genuine."""

    status: str  # VALID (now used up), INVALID (unknown, altered, other list), USED or EXPIRED
    row: dict | None = None  # the confirmations row: action, address, name, created_at, expires_at, used_at


def looks_like_token(text: str) -> bool:
    """True for the shape of a token (the MAC decides whether it is one).

    >>> looks_like_token("0123456789abcdef0123456789ABCDEF")
    True
    >>> looks_like_token("0123"), looks_like_token("x" * 32)
    (False, False)
    """
    return bool(_TOKEN.fullmatch(text.strip().lower()))


def days_valid(mlist: MailingList) -> int:
    """The list's confirm_days; 0 would make a token useless on arrival, so it counts as 1."""
    return max(1, mlist.settings.confirm_days)


def _mac(
    secret: bytes, nonce: str, list_address: str, action: str, address: str, expires_at: float,
    held_id: int | None = None,
) -> str:
    fields = ("listserv-confirm-v1", nonce, list_address, action, address, str(int(expires_at)))
    bound = (f"held:{held_id}",) if held_id is not None else ()  # a subscription token's text is unchanged
    text = "\n".join(fields + bound)
    return hmac.new(secret, text.encode("utf-8"), hashlib.sha256).hexdigest()[: 2 * MAC_BYTES]


async def _secret(db: aiosqlite.Connection) -> bytes:
    return await confirmations.secret(db, SECRET_NAME, secrets.token_bytes(32))


async def issue(
    db: aiosqlite.Connection, mlist: MailingList, action: str, address: str, now: float,
    name: str = "", requested_by: str = "",
) -> tuple[str, float]:
    """A new token for (list, action, address) and when it expires; old expired rows are purged on the way."""
    if action not in ACTIONS:
        raise ValueError(f"not a confirmable action: {action!r}")
    expires_at = float(int(now + days_valid(mlist) * DAY))
    row = {"action": action, "address": address, "name": name, "requested_by": requested_by}
    return await _issue(db, mlist, row, now, expires_at), expires_at


async def _issue(db: aiosqlite.Connection, mlist: MailingList, row: dict, now: float, expires_at: float) -> str:
    await confirmations.purge(db, now - KEEP_AFTER_EXPIRY)
    key = await _secret(db)
    row = {**row, "created_at": now, "expires_at": expires_at}
    while True:  # a repeated 48-bit nonce is rare; draw again rather than fail the message
        nonce = secrets.token_hex(NONCE_BYTES)
        if await confirmations.add(db, mlist.id, {**row, "nonce": nonce}) is not None:
            return nonce + _mac(key, nonce, mlist.address, row["action"], row["address"], expires_at, row.get("held_id"))


async def held_token(db: aiosqlite.Connection, mlist: MailingList, held_id: int, now: float, expires_at: float) -> str:
    """The moderation token of a held post: the one still out (the notice and each reminder name the same one),
    else a new one valid until expires_at."""
    row = await confirmations.open_for_held(db, held_id, now)
    if row is not None:
        return row["nonce"] + _mac(await _secret(db), row["nonce"], mlist.address, MODERATE, "", row["expires_at"], held_id)
    fresh = {"action": MODERATE, "address": "", "held_id": held_id}
    return await _issue(db, mlist, fresh, now, float(int(expires_at)))


async def check(db: aiosqlite.Connection, mlist: MailingList, token: str, now: float) -> Checked:
    """What a token is for this list, of any action, without using it up (reads only: also before a transaction).

    The MAC is checked before anything about the row is revealed, so "used" and
    "expired" are only ever told about genuine tokens.
    """
    text = token.strip().lower()
    if not looks_like_token(text):
        return Checked(INVALID)
    nonce, mac = text[: 2 * NONCE_BYTES], text[2 * NONCE_BYTES:]
    row = await confirmations.get(db, nonce)
    key = await confirmations.existing_secret(db, SECRET_NAME)
    if row is None or key is None or row["list_id"] != mlist.id:
        return Checked(INVALID)
    expected = _mac(key, nonce, mlist.address, row["action"], row["address"], row["expires_at"], row["held_id"])
    if not hmac.compare_digest(mac, expected):
        return Checked(INVALID)
    if row["used_at"] is not None:
        return Checked(USED, row)
    if now >= row["expires_at"]:
        return Checked(EXPIRED, row)
    return Checked(VALID, row)


async def redeem(
    db: aiosqlite.Connection, mlist: MailingList, token: str, now: float, actions: tuple[str, ...] = ACTIONS
) -> Checked:
    """Check a token for this list and use it up when valid; otherwise say why it is refused.

    A token of another kind than `actions` is INVALID here: `confirm TOKEN` never
    decides a held post, a moderation reply never subscribes anyone.
    """
    checked = await check(db, mlist, token, now)
    if checked.row is None or checked.row["action"] not in actions:
        return Checked(INVALID)
    if checked.status != VALID:
        return checked
    if not await confirmations.use(db, checked.row["id"], now):
        return Checked(USED, checked.row)
    return Checked(VALID, {**checked.row, "used_at": now})


async def recently_sent(
    db: aiosqlite.Connection, mlist: MailingList, action: str, address: str, now: float
) -> dict | None:
    """An unused token of this kind sent to this address within RESEND_AFTER, or None (then one may be sent)."""
    row = await confirmations.latest_open(db, mlist.id, action, address, now)
    return row if row is not None and now - row["created_at"] < RESEND_AFTER else None
