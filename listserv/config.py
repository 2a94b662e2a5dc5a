"""The installation's settings: one frozen dataclass per TOML table, the single source of truth.

Every field carries its help text in its metadata; `config/listserv.toml`
documents the same keys and a test checks that the two agree. Unknown keys,
values of the wrong type and values out of range (a port past 65535, a size of
zero, a transport URL of an unknown scheme) are refused when the file is
loaded, naming the key, so a typo never silently falls back to a default and
no command starts half-way on a value that cannot work. The dataclasses check
their ranges themselves, so settings changed in code (a --port given on the
command line) obey the same rules.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar

from listserv import endpoints
from listserv.errors import ConfigError

DEFAULT_CONFIG = Path("config/listserv.toml")
ENVIRONMENT = "LISTSERV_CONFIG"

# A check returns what the value should have been (for the error message), or None when it is fine.
Check = Callable[[Any], "str | None"]


def _help(text: str, default: Any, check: Check | None = None, items: type = int) -> Any:
    """A field with its help text and range check; `items`: the type of each entry of a list."""
    metadata = {"help": text, "check": check, "items": items}
    if isinstance(default, (list, tuple)):
        return field(default=tuple(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def at_least(low: float) -> Check:
    """A number >= low (and finite: TOML allows inf and nan)."""
    def check(value: Any) -> str | None:
        return None if math.isfinite(value) and value >= low else f"a number of at least {low:g}"
    return check


def more_than(low: float) -> Check:
    """A finite number > low."""
    def check(value: Any) -> str | None:
        return None if math.isfinite(value) and value > low else f"a number greater than {low:g}"
    return check


def port_number(value: int) -> str | None:
    """A TCP port; 0 asks the system for any free one."""
    return None if 0 <= value <= endpoints.MAX_PORT else f"a port number from 0 to {endpoints.MAX_PORT}"


def listen_host(value: str) -> str | None:
    """A host name or an IP address to listen on."""
    return None if endpoints.valid_host(value) else "a host name or IP address"


def greeting_name(value: str) -> str | None:
    """A host name, or empty for the machine's own name."""
    return None if value == "" or endpoints.valid_host(value) else "a host name, or \"\" for the machine's name"


def file_path(value: str) -> str | None:
    """A file path: not empty, no NUL character."""
    return None if value.strip() and "\0" not in value else "a file path"


def nameserver_entries(value: tuple) -> str | None:
    """Each entry an IP address, optionally with a port: "192.0.2.1", "192.0.2.1:5353", "[2001:db8::1]:53"."""
    ok = all(endpoints.nameserver(entry) is not None for entry in value)
    return None if ok else 'a list of "IP" or "IP:PORT" entries (IPv6 with a port as "[IP]:PORT")'


def authserv_ids(value: tuple) -> str | None:
    """Each entry a host-name-like token (RFC 8601 authserv-id), no spaces."""
    ok = all(entry and not any(c.isspace() or c == ";" for c in entry) for entry in value)
    return None if ok else "a list of authserv-ids (host names, no spaces)"


def retry_waits(value: tuple) -> str | None:
    """A non-empty list of waits, each at least one second."""
    ok = len(value) > 0 and all(step >= 1 for step in value)
    return None if ok else "a non-empty list of seconds, each at least 1"


class _Table:
    """Checks every field's range after construction; TABLE names the TOML table in messages."""

    TABLE: ClassVar[str] = ""

    def __post_init__(self) -> None:
        for spec in dataclasses.fields(self):
            check = spec.metadata.get("check")
            value = getattr(self, spec.name)
            expected = check(value) if check is not None else None
            if expected is not None:
                shown = list(value) if isinstance(value, tuple) else value  # as written in TOML
                raise ConfigError(f"[{self.TABLE}] {spec.name}: expected {expected}, got {shown!r}")


@dataclass(frozen=True)
class ServerSettings(_Table):
    TABLE: ClassVar[str] = "server"
    host: str = _help("address the SMTP/LMTP listener binds to", "127.0.0.1", listen_host)
    port: int = _help("TCP port of the listener (0: any free port)", 8025, port_number)
    lmtp: bool = _help("speak LMTP instead of SMTP (for an MTA in front)", False)
    max_message_size: int = _help("largest accepted message in bytes; larger gets 552 5.3.4", 10485760, at_least(1))
    hostname: str = _help("name the server greets with; empty means the machine's name", "", greeting_name)
    max_recipients: int = _help("RCPT TO commands accepted per incoming transaction", 100, at_least(1))
    max_sessions: int = _help("concurrent SMTP sessions; more get 421 4.7.0", 200, at_least(1))
    idle_timeout: int = _help("seconds a session may stay silent before it is closed (421 4.4.2)", 300, at_least(1))
    spool_above: int = _help("bytes of DATA held in memory per session; the rest goes to a temp file", 262144,
                             at_least(0))
    max_parts: int = _help("MIME parts a message may hold; more: held unparsed, reason 'limits' (0: no cap)", 1000,
                           at_least(0))
    max_depth: int = _help("multipart nesting levels a message may hold; deeper: held unparsed (0: no cap)", 20,
                           at_least(0))
    max_header_bytes: int = _help("bytes of any header block, the message's or a part's; more: held (0: no cap)",
                                  262144, at_least(0))
    max_processing_seconds: int = _help("seconds the pipeline may spend on one message; then it is held unparsed",
                                        120, at_least(1))


@dataclass(frozen=True)
class StorageSettings(_Table):
    TABLE: ClassVar[str] = "storage"
    database: str = _help("path of the SQLite database file; its directory must exist", "archives/listserv.db",
                          file_path)
    checkpoint_wait: float = _help(
        "seconds a purge or list deletion waits for other readers before the write-ahead log is emptied", 10.0,
        at_least(0))


@dataclass(frozen=True)
class DeliverySettings(_Table):
    TABLE: ClassVar[str] = "delivery"
    transport: str = _help('"maildir:PATH" (development) or "smtp://HOST:PORT" (a smarthost)',
                           "maildir:archives/outbox", endpoints.transport_problem)
    max_recipients: int = _help("RCPTs per outgoing SMTP transaction", 500, at_least(1))
    connections: int = _help("concurrent connections to the smarthost", 4, at_least(1))
    retry_schedule: tuple = _help("seconds to wait before each retry after a temporary failure",
                                  (60, 300, 900, 3600, 7200, 14400), retry_waits)
    give_up_after: int = _help("seconds after which temporarily failing recipients are given up", 432000, at_least(1))
    timeout: int = _help("seconds to wait for the smarthost before a try counts as a temporary failure", 60,
                         at_least(1))
    poll_interval: float = _help("seconds between looks at the outbound queue for work queued by other processes",
                                 1.0, more_than(0))


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def log_level(value: str) -> str | None:
    """One of LOG_LEVELS, in any case."""
    return None if value.upper() in LOG_LEVELS else f"one of {', '.join(LOG_LEVELS)}"


@dataclass(frozen=True)
class LogSettings(_Table):
    TABLE: ClassVar[str] = "log"
    level: str = _help("least important log lines written: DEBUG, INFO, WARNING or ERROR", "INFO", log_level)
    file: str = _help("file the server appends its log to; empty means standard error", "")


@dataclass(frozen=True)
class PostfixSettings(_Table):
    TABLE: ClassVar[str] = "postfix"
    maps_dir: str = _help("directory where the server rewrites Postfix's listserv_transport and listserv_domains maps"
                          " when a list is created or deleted (as `listserv postfix-maps --write DIR`); empty: never",
                          "")


@dataclass(frozen=True)
class DnsSettings(_Table):
    TABLE: ClassVar[str] = "dns"
    nameservers: tuple = _help('servers asked, each "IP" or "IP:PORT"; empty: the system resolver', (),
                               nameserver_entries, items=str)
    timeout: float = _help("seconds a lookup may take; then its answer counts as unknown", 3.0, more_than(0))


@dataclass(frozen=True)
class AuthSettings(_Table):
    TABLE: ClassVar[str] = "auth"
    trusted_authserv_ids: tuple = _help("authserv-ids of the MTAs in front whose Authentication-Results are believed",
                                        (), authserv_ids, items=str)


def base_url(value: str) -> str | None:
    """An http:// or https:// URL with a host and no query or fragment (links in mail are built on it)."""
    parsed = urllib.parse.urlsplit(value)
    ok = parsed.scheme in ("http", "https") and bool(parsed.hostname) and not parsed.query and not parsed.fragment
    return None if ok else 'an http:// or https:// URL such as "https://lists.example.org"'


@dataclass(frozen=True)
class WebSettings(_Table):
    TABLE: ClassVar[str] = "web"
    enabled: bool = _help("serve the members' web pages from `listserv serve`", True)
    host: str = _help("address the web server binds to (put a TLS reverse proxy in front)", "127.0.0.1", listen_host)
    port: int = _help("TCP port of the web server (0: any free port)", 8080, port_number)
    base_url: str = _help("public URL of the web pages, used in mailed links; https makes cookies Secure",
                          "http://127.0.0.1:8080", base_url)
    session_days: int = _help("days a web login stays valid", 14, at_least(1))
    one_click_on_http: bool = _help(
        "put the one-click unsubscribe URL (RFC 8058) in copies even when base_url is plain http (tests on"
        " loopback); with https it is always there", False)


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    log: LogSettings = field(default_factory=LogSettings)
    postfix: PostfixSettings = field(default_factory=PostfixSettings)
    dns: DnsSettings = field(default_factory=DnsSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    web: WebSettings = field(default_factory=WebSettings)


SECTIONS: dict[str, type] = {f.name: f.default_factory for f in dataclasses.fields(Settings)}  # table -> dataclass
_SECTION_TYPES = {"server": ServerSettings, "storage": StorageSettings, "delivery": DeliverySettings,
                  "log": LogSettings, "postfix": PostfixSettings, "dns": DnsSettings, "auth": AuthSettings,
                 "web": WebSettings}
# Keys whose value must be one of a few words (case-insensitive), checked when the file is loaded.
_CHOICES = {"log.level": LOG_LEVELS}


def locate(path: str | os.PathLike | None) -> Path:
    """The config file to read: --config, else $LISTSERV_CONFIG, else ./config/listserv.toml."""
    if path:
        return Path(path)
    env = os.environ.get(ENVIRONMENT)
    return Path(env) if env else DEFAULT_CONFIG


def load(path: str | os.PathLike | None = None) -> Settings:
    """Read and validate the configuration file; a missing one is an error, never silent defaults.

    Defaults would put a new, empty database in ./archives of whatever directory
    the command runs in, and an owner's lists would seem to have vanished.
    """
    where = locate(path)
    if not where.is_file():
        raise ConfigError(_not_found(path, where))
    try:
        data = tomllib.loads(where.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    return from_dict(data, source=str(where))


def _not_found(path: str | os.PathLike | None, where: Path) -> str:
    """One line saying which file was looked for, how it was chosen, and how to get one."""
    if where.exists():
        return f"configuration file {where} is not a file"
    if path:
        return f"configuration file not found: {where} (given with --config)"
    if os.environ.get(ENVIRONMENT):
        return f"configuration file not found: {where} (named by ${ENVIRONMENT})"
    return (f"no configuration file: looked for {where.absolute()} (no --config given, ${ENVIRONMENT} not set);"
            " run `listserv init DIR` to write one, or pass --config PATH")


def from_dict(data: dict, source: str = "configuration") -> Settings:
    """Build Settings from parsed TOML, refusing unknown tables, unknown keys, wrong types and bad ranges."""
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
    try:
        return cls(**values)
    except ConfigError as exc:  # a range check of the dataclass: say which file
        raise ConfigError(f"{source}: {exc}") from None


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
    elif isinstance(default, tuple) and spec.metadata.get("items") is str:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
        default = ("",)  # for the message: a list of strings
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
    if isinstance(default, tuple) and default and isinstance(default[0], str):
        return "a list of strings"
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
            lines.append(f"{spec.name} = {toml_value(getattr(section, spec.name))}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """A value written as TOML (strings quoted and escaped), for to_toml() and `listserv init`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
