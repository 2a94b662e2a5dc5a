"""The installation's settings: one frozen dataclass per TOML table, the single source of truth.

Every field carries its help text in its metadata; `config/listserv.toml`
documents the same keys and a test checks that the two agree. Unknown keys and
values of the wrong type are refused when the file is loaded, naming the key,
so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listserv.errors import ConfigError

DEFAULT_CONFIG = Path("config/listserv.toml")


def _help(text: str, default: Any) -> Any:
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata={"help": text})
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class ServerSettings:
    host: str = _help("address the SMTP/LMTP listener binds to", "127.0.0.1")
    port: int = _help("TCP port of the listener", 8025)
    lmtp: bool = _help("speak LMTP instead of SMTP (for an MTA in front)", False)
    max_message_size: int = _help("largest accepted message in bytes; larger gets 552 5.3.4", 10485760)
    hostname: str = _help("name the server greets with; empty means the machine's name", "")
    max_recipients: int = _help("RCPT TO commands accepted per incoming transaction", 100)
    max_sessions: int = _help("concurrent SMTP sessions; more get 421 4.7.0", 200)
    idle_timeout: int = _help("seconds a session may stay silent before it is closed (421 4.4.2)", 300)
    spool_above: int = _help("bytes of DATA held in memory per session; the rest goes to a temp file", 262144)
    max_parts: int = _help("MIME parts a message may hold; more: held unparsed, reason 'limits' (0: no cap)", 1000)
    max_depth: int = _help("multipart nesting levels a message may hold; deeper: held unparsed (0: no cap)", 20)
    max_header_bytes: int = _help("bytes of any header block, the message's or a part's; more: held (0: no cap)", 262144)
    max_processing_seconds: int = _help("seconds the pipeline may spend on one message; then it is held unparsed", 120)


@dataclass(frozen=True)
class StorageSettings:
    database: str = _help("path of the SQLite database file", "archives/listserv.db")
    checkpoint_wait: float = _help(
        "seconds a purge or list deletion waits for other readers before the write-ahead log is emptied", 10.0)


@dataclass(frozen=True)
class DeliverySettings:
    transport: str = _help('"maildir:PATH" (development) or "smtp://HOST:PORT" (a smarthost)', "maildir:archives/outbox")
    max_recipients: int = _help("RCPTs per outgoing SMTP transaction", 500)
    connections: int = _help("concurrent connections to the smarthost", 4)
    retry_schedule: tuple = _help("seconds to wait before each retry after a temporary failure", (60, 300, 900, 3600, 7200, 14400))
    give_up_after: int = _help("seconds after which temporarily failing recipients are given up", 432000)
    timeout: int = _help("seconds to wait for the smarthost before a try counts as a temporary failure", 60)
    poll_interval: float = _help("seconds between looks at the outbound queue for work queued by other processes", 1.0)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class LogSettings:
    level: str = _help("least important log lines written: DEBUG, INFO, WARNING or ERROR", "INFO")
    file: str = _help("file the server appends its log to; empty means standard error", "")


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    log: LogSettings = field(default_factory=LogSettings)


SECTIONS: dict[str, type] = {f.name: f.type for f in dataclasses.fields(Settings)}
_SECTION_TYPES = {"server": ServerSettings, "storage": StorageSettings, "delivery": DeliverySettings,
                  "log": LogSettings}
# Keys whose value must be one of a few words (case-insensitive), checked when the file is loaded.
_CHOICES = {"log.level": LOG_LEVELS}


def locate(path: str | os.PathLike | None) -> Path:
    """The config file to read: --config, else $LISTSERV_CONFIG, else ./config/listserv.toml."""
    if path:
        return Path(path)
    env = os.environ.get("LISTSERV_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate the configuration; a missing default file means built-in defaults."""
    where = locate(path)
    if not where.exists():
        if path or os.environ.get("LISTSERV_CONFIG"):
            raise ConfigError(f"configuration file not found: {where}")
        return Settings()
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return from_dict(data, source=str(where))


def from_dict(data: dict, source: str = "configuration") -> Settings:
    """Build Settings from parsed TOML, refusing unknown tables, unknown keys and wrong types."""
    sections = {}
    for name, table in data.items():
        cls = _SECTION_TYPES.get(name)
        if cls is None:
            raise ConfigError(f"{source}: unknown table [{name}]")
        if not isinstance(table, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        sections[name] = _section(cls, name, table, source)
    return Settings(**sections)


def _section(cls: type, name: str, table: dict, source: str) -> Any:
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(f"{source}: unknown key {key!r} in [{name}]")
        values[key] = _checked(fields[key], value, f"{source}: [{name}] {key}")
        values[key] = _chosen(f"{name}.{key}", values[key], f"{source}: [{name}] {key}")
    return cls(**values)


def _chosen(key: str, value: Any, where: str) -> Any:
    """A value of a key with fixed choices, upper-cased; anything else refused with the choices named."""
    choices = _CHOICES.get(key)
    if choices is None:
        return value
    if value.upper() not in choices:
        raise ConfigError(f"{where}: expected one of {', '.join(choices)}, got {value!r}")
    return value.upper()


def _checked(spec: dataclasses.Field, value: Any, where: str) -> Any:
    default = spec.default
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
        value = tuple(value) if ok else value
    else:
        ok = isinstance(value, str)
    if not ok:
        raise ConfigError(f"{where}: expected {_kind(default)}, got {value!r}")
    return value


def _kind(default: Any) -> str:
    if isinstance(default, bool):
        return "true or false"
    if isinstance(default, (int, float)):
        return "a non-negative number"
    if isinstance(default, tuple):
        return "a list of non-negative integers"
    return "a string"


def documented_keys() -> set[str]:
    """Every key as `table.key`, for the test that compares code and shipped file."""
    return {f"{name}.{f.name}" for name, cls in _SECTION_TYPES.items() for f in dataclasses.fields(cls)}


def to_toml(settings: Settings) -> str:
    """Settings as a configuration file that load() reads back to the same values."""
    lines = []
    for name in _SECTION_TYPES:
        lines.append(f"[{name}]")
        section = getattr(settings, name)
        for spec in dataclasses.fields(section):
            lines.append(f"{spec.name} = {_toml_value(getattr(section, spec.name))}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
