"""`listserv init DIR`: a commented configuration and an owner-only data directory for a new installation.

The configuration is the shipped template (package data, the same text as the
repository's config/listserv.toml, so a pip-installed package has it) with
`[storage] database` and `[delivery] transport` pointing into DIR/archives by
absolute path: every command then finds the same database from any working
directory, given --config or $LISTSERV_CONFIG, and from DIR without either.
An existing configuration is never overwritten; an existing data directory is
used as it is (`serve` warns if others can read it).
"""

from __future__ import annotations

import os
import tomllib  # noqa: F401 (the doctest below reads the written file with it)
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from listserv import config, private_files
from listserv.errors import CannotInitialise, UsageError

CONFIG_FILE = Path("config") / "listserv.toml"  # inside DIR: where commands run in DIR look by default
DATA_DIR = "archives"  # inside DIR: the database and the development outbox


@dataclass(frozen=True)
class Initialised:
    """What `init` wrote: the configuration file and the data directory (both absolute)."""

    config: Path
    data: Path


def template() -> str:
    """The commented configuration shipped with the package."""
    return resources.files("listserv").joinpath("templates", "listserv.toml").read_text(encoding="utf-8")


def configuration(data: Path) -> str:
    """The template with the database and the maildir outbox inside data; every comment kept.

    >>> text = configuration(Path("/srv/lists/archives"))
    >>> config.from_dict(tomllib.loads(text)).storage.database
    '/srv/lists/archives/listserv.db'
    """
    wanted = {("storage", "database"): str(data / "listserv.db"),
              ("delivery", "transport"): f"maildir:{data / 'outbox'}"}
    table, lines = "", []
    for line in template().splitlines(keepends=True):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            table = stripped[1:-1].strip()
        key = (table, stripped.partition("=")[0].strip())
        if not stripped.startswith("#") and "=" in stripped and key in wanted:
            line = f"{key[1]} = {config.toml_value(wanted.pop(key))}\n"
        lines.append(line)
    if wanted:
        raise RuntimeError(f"the configuration template lacks {sorted(wanted)}")  # a packaging bug, not the user's
    return "".join(lines)


def init(directory: str | os.PathLike) -> Initialised:
    """Write DIR/config/listserv.toml and create DIR/archives (0700); CannotInitialise if the file exists."""
    root = Path(directory).absolute()
    if not str(root).isprintable():
        raise UsageError(f"init: the directory name {str(root)!r} has control characters; choose another")
    target, data = root / CONFIG_FILE, root / DATA_DIR
    if target.exists() or target.is_symlink():
        raise CannotInitialise(f"{target} exists already: not overwritten (edit it, or move it away first)")
    text = configuration(data)
    for directory in (data, target.parent):
        try:
            private_files.make_dir(directory)
        except OSError as exc:
            raise CannotInitialise(f"cannot create {directory}: {exc.strerror or exc}") from None
        if not directory.is_dir():  # make_dir leaves whatever exists alone, a file too
            raise CannotInitialise(f"cannot create {directory}: something that is not a directory is in the way")
    try:
        descriptor = private_files.open_new(target)
    except FileExistsError:  # made by someone else in the meantime
        raise CannotInitialise(f"{target} exists already: not overwritten (edit it, or move it away first)") from None
    except OSError as exc:
        raise CannotInitialise(f"cannot write {target}: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
    return Initialised(target, data)
