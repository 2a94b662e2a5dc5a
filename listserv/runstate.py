"""The running server's state file: which process serves this database, on which address, since when.

`serve` writes `<database>.running` (owner-only JSON) once it listens, and
removes it when it stops cleanly. `listserv status` reads it: no file means
the server is stopped; a file whose pid is gone is left by a crash (kill -9,
power loss) and is reported as such; a live pid whose address refuses
connections is reported as not answering. The file sits next to the
database because the database is what a server and the commands share.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

from listserv import private_files

SUFFIX = ".running"
PROBE_TIMEOUT = 2.0  # seconds status waits for the listener to accept a connection
WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # listening everywhere: ask on loopback


@dataclass(frozen=True)
class RunState:
    """What a running server says about itself."""

    pid: int  # the serving process
    host: str  # the address it listens on
    port: int  # the port it listens on (the bound one when configured as 0)
    protocol: str  # "SMTP" or "LMTP"
    started_at: float  # unix time it started listening


def path_for(database: str | os.PathLike) -> Path:
    """The state file of the server using this database.

    >>> path_for("archives/listserv.db")
    PosixPath('archives/listserv.db.running')
    """
    return Path(f"{database}{SUFFIX}")


def write(database: str | os.PathLike, state: RunState) -> None:
    """Write the state file (owner-only), replacing a stale one in one rename."""
    final = path_for(database)
    temporary = final.with_name(f"{final.name}.{state.pid}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = private_files.open_new(temporary)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(asdict(state), out)
    os.replace(temporary, final)


def remove(database: str | os.PathLike, pid: int) -> None:
    """Remove the state file if it is this process's (another server may have replaced it)."""
    found = read(database)
    if found is not None and found.pid == pid:
        path_for(database).unlink(missing_ok=True)


def read(database: str | os.PathLike) -> RunState | None:
    """The state file's contents; None when there is none or it cannot be read as one."""
    try:
        data = json.loads(path_for(database).read_text(encoding="utf-8"))
        return RunState(int(data["pid"]), str(data["host"]), int(data["port"]), str(data["protocol"]),
                        float(data["started_at"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user counts: it exists)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def answers(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> bool:
    """Whether something accepts TCP connections on host:port (a wildcard address is asked on loopback)."""
    target = WILDCARDS.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=timeout):
            return True
    except OSError:
        return False
