"""How things stand, for `listserv status`: is the server up, where it keeps its data, each list's counts.

Meant to be read by a list owner and by a monitoring check alike. The
report is healthy unless something needs attention: the server is not running
(stopped, crashed, or not answering on its address), or a list's deliveries
have been failing for more than FAILING_TOO_LONG. Each such thing is one line
in `attention`; the command exits 1 when there is any.

Nothing here reads a subject or a body: counts, addresses, times and the
smarthost's last reply only.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Callable

from listserv import output, runstate, timefmt
from listserv.config import Settings
from listserv.store import Store, health

clock: Callable[[], float] = time.time  # what "now" is; tests inject a later one rather than wait an hour
FAILING_TOO_LONG = 3600.0  # seconds a list's deliveries may fail before status asks for attention
SERVER_TIMES = ("started_at",)
LIST_TIMES = ("failing_since", "last_post_at")


async def report(store: Store, settings: Settings, config_file: Path | None) -> dict:
    """The whole status as one object with unix times (see as_json and as_text for the two outputs)."""
    now = clock()
    database = Path(settings.storage.database).absolute()
    found = {
        "server": server(settings.storage.database),
        "config": str(config_file.absolute()) if config_file else None,
        "database": str(database),
        "database_bytes": _size(database),
        "lists": await lists(store),
        "checked_at": now,
    }
    found["attention"] = attention(found, now)
    found["status"] = "attention" if found["attention"] else "ok"
    return found


def server(database: str) -> dict:
    """The server's state from its state file: running, stopped, crashed (pid gone) or not answering."""
    state = runstate.read(database)
    found = {"state": "stopped", "running": False, "pid": None, "host": None, "port": None, "protocol": None,
             "started_at": None, "state_file": str(runstate.path_for(database).absolute())}
    if state is None:
        return found
    found.update(pid=state.pid, host=state.host, port=state.port, protocol=state.protocol, started_at=state.started_at)
    if not runstate.process_alive(state.pid):
        found["state"] = "crashed"
    elif not runstate.answers(state.host, state.port):
        found["state"] = "not answering"
    else:
        found.update(state="running", running=True)
    return found


async def lists(store: Store) -> list[dict]:
    """Per list: members, held, pending, queued batches and recipients, failing batches, last error and post."""
    counts = await health.list_counts(store.db)
    queues = await health.queue_counts(store.db)
    errors = await health.last_errors(store.db)
    posts = await health.last_posts(store.db)
    rows = []
    for list_id, row in counts.items():
        queue = queues.get(list_id, {})
        rows.append({
            **row,
            "queued": queue.get("queued", 0),
            "queued_recipients": queue.get("recipients") or 0,
            "failing": queue.get("failing") or 0,
            "failing_since": queue.get("failing_since"),
            "last_error": errors.get(list_id),
            "last_post_at": posts.get(list_id),
        })
    return rows


def attention(found: dict, now: float) -> list[str]:
    """One line per thing that needs the owner: the server down, deliveries failing for over an hour."""
    lines = []
    state = found["server"]
    where = f"{state['host']}:{state['port']}"
    if state["state"] == "stopped":
        lines.append("the server is not running (start it with `listserv serve`)")
    elif state["state"] == "crashed":
        lines.append(f"the server is not running: process {state['pid']} ended without stopping cleanly"
                     f" (a crash or kill -9); start it again with `listserv serve`")
    elif state["state"] == "not answering":
        lines.append(f"the server process {state['pid']} runs but does not answer on {where}")
    for row in found["lists"]:
        since = row["failing_since"]
        if since is not None and now - since > FAILING_TOO_LONG:
            lines.append(f"{row['address']}: deliveries failing for {_duration(now - since)}: {row['last_error']}")
    return lines


def as_json(found: dict) -> dict:
    """The report for --json: every time in UTC ISO 8601, field names as documented in README."""
    return {
        "status": found["status"],
        "attention": found["attention"],
        "server": timefmt.with_iso(found["server"], *SERVER_TIMES),
        "config": found["config"],
        "database": found["database"],
        "database_bytes": found["database_bytes"],
        "lists": [timefmt.with_iso(row, *LIST_TIMES) for row in found["lists"]],
        "checked_at": timefmt.iso(found["checked_at"]),
    }


def as_text(found: dict) -> list[str]:
    """The report for a person: what needs attention first, then the server, its files and each list."""
    lines = [f"needs attention: {output.printable(line)}" for line in found["attention"]] or ["all is well"]
    lines += ["", f"server:        {_server_line(found['server'])}",
              f"configuration: {found['config'] or 'none found: built-in defaults'}",
              f"database:      {found['database']} ({output.size(found['database_bytes'])})"]
    for row in found["lists"]:
        lines += ["", row["address"]] + [f"  {name + ':':<20}{value}" for name, value in _list_lines(row)]
    if not found["lists"]:
        lines += ["", "no lists yet (create one with `listserv lists create NAME@DOMAIN`)"]
    return lines


def _server_line(state: dict) -> str:
    if state["state"] == "stopped":
        return "not running"
    since = timefmt.local(state["started_at"])
    where = f"{state['host']}:{state['port']} ({state['protocol']})"
    if state["state"] == "running":
        return f"running, process {state['pid']}, listening on {where} since {since}"
    if state["state"] == "crashed":
        return f"not running: process {state['pid']}, started {since}, ended without stopping cleanly"
    return f"process {state['pid']} runs but does not answer on {where}"


def _list_lines(row: dict) -> list[tuple[str, str]]:
    failing = "none"
    if row["failing"]:
        since = timefmt.local(row["failing_since"])
        failing = (f"{_count(row['failing'], 'batch', 'batches')} since {since};"
                   f" last error: {output.printable(row['last_error'] or '')}")
    return [
        ("members", str(row["members"])),
        ("held posts", str(row["held"])),
        ("waiting to join", str(row["pending"])),
        ("deliveries queued", "none" if not row["queued"] else
            f"{_count(row['queued_recipients'], 'recipient', 'recipients')} in {_count(row['queued'], 'batch', 'batches')}"),
        ("deliveries failing", failing),
        ("last post received", timefmt.local(row["last_post_at"]) or "never"),
    ]


def _count(number: int, one: str, many: str) -> str:
    """'1 batch', '3 batches'.

    >>> _count(1, "batch", "batches"), _count(0, "batch", "batches")
    ('1 batch', '0 batches')
    """
    return f"{number} {one if number == 1 else many}"


def _duration(seconds: float) -> str:
    """A duration as a person says it, rounded down.

    >>> _duration(3700), _duration(7200), _duration(3 * 86400 + 60)
    ('1 hour', '2 hours', '3 days')
    """
    if seconds >= 2 * 86400:
        return _count(int(seconds // 86400), "day", "days")
    if seconds >= 3600:
        return _count(int(seconds // 3600), "hour", "hours")
    return _count(int(seconds // 60), "minute", "minutes")


def _size(database: Path) -> int:
    """Bytes of the database file and its write-ahead log (what the data takes on disk)."""
    total = 0
    for path in (database, Path(f"{database}-wal")):
        try:
            total += os.path.getsize(path)
        except OSError:
            pass
    return total
