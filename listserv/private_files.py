"""Files readable by the server's user only: the umask, owner-only creation, and the check `serve` runs at start.

The database, its WAL and shared-memory files, the maildir outbox and exports
hold confidential posts; anyone else on the machine who can read them reads the
cases. Two layers keep them private: the CLI and `serve` set the umask to
PRIVATE_UMASK before anything is created, and the code that creates each file
asks for an owner-only mode itself (0700 directories, 0600 files), so a program
that uses the package without the CLI is safe too. SQLite creates the -wal and
-shm files with the mode of the database file, which is why the database file
is created here, 0600, before SQLite first opens it.

Files that exist already are never changed behind the owner's back: `serve`
names those that group or others can reach in one warning, with the chmod
that fixes them.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path
from typing import Iterable

PRIVATE_UMASK = 0o077  # new files 0600 and directories 0700 whatever the code asks for
DIR_MODE = 0o700
FILE_MODE = 0o600
OTHERS = stat.S_IRWXG | stat.S_IRWXO  # any permission of group or others counts as open


def restrict_umask() -> None:
    """Make every file this process creates from now on owner-only."""
    os.umask(PRIVATE_UMASK)


def make_dir(path: str | os.PathLike) -> None:
    """Create the directory and its missing parents, each owner-only; existing ones are left as they are.

    (Path.mkdir(parents=True) would give the parents the umask's mode, not ours.)
    """
    missing = []
    where = Path(path)
    while not where.exists() and where != where.parent:
        missing.append(where)
        where = where.parent
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)


def create_file(path: str | os.PathLike) -> None:
    """Create an empty owner-only file at path unless something is there already (a file, or a link)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE))
    except FileExistsError:
        pass


def open_new(path: str | os.PathLike) -> int:
    """A new owner-only file at path, opened for writing; never an existing file, never through a symlink.

    O_CREAT|O_EXCL refuses any existing name, a symlink (dangling or not)
    included, without following it; O_NOFOLLOW states the same once more, so
    that no change of flags here can make a link be followed.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    return os.open(path, flags, FILE_MODE)


def database_paths(database: str | os.PathLike) -> list[Path]:
    """The database file, its -wal, -shm and (left by a crash) -journal files, and its directory: all hold posts."""
    db = Path(database)
    return [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal"), db.parent]


def maildir_paths(maildir: str | os.PathLike) -> list[Path]:
    """A maildir and its tmp, new and cur directories (each copy in it is a whole post)."""
    root = Path(maildir)
    return [root] + [root / sub for sub in ("tmp", "new", "cur")]


def open_to_others(paths: Iterable[Path]) -> list[Path]:
    """The existing paths that group or others have any permission on (symlinks: what they point to)."""
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError:  # not there (yet): nothing to warn about
            continue
        if mode & OTHERS:
            found.append(path)
    return found


def warning(paths: list[Path]) -> str:
    """One line naming every open path and the command that makes them owner-only."""
    names = " ".join(shlex.quote(str(path)) for path in paths)
    return (
        f"group or others can read or change these files of the list's posts: {names}; "
        f"make them owner-only with: chmod go-rwx {names}"
    )
