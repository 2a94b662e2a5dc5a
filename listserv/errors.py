"""The one exception tree of listserv; each leaf maps to exactly one outward answer.

    ListservError                 exit 1 unless a subclass says otherwise
    ├── UsageError                exit 2: the caller asked for something malformed
    │   ├── ConfigError             a bad configuration file, key or value
    │   ├── BadAddress              an address that email-validator refuses
    │   ├── BadSetting              an unknown list/member setting or a bad value
    │   └── BadQuery                an archive search query that cannot be parsed
    ├── Refused                   exit 1: well-formed, but the state forbids it
    │   ├── NoSuchList
    │   ├── ListExists
    │   ├── NoSuchMember
    │   ├── MemberExists
    │   ├── NoSuchHeld
    │   ├── AlreadyDecided
    │   ├── NoSuchRequest           no subscription request waits for that address
    │   └── CannotListen            the listening address is taken or not ours
    └── StoreError                exit 1 on the CLI; SMTP 451 4.3.0 at intake
        └── StoreUnavailable        the database could not be opened or written

Faults that are not ours (bugs) are plain exceptions: intake answers them with
451 too, so a sending MTA retries instead of dropping the mail.
"""


class ListservError(Exception):
    """Base of every error that listserv raises on purpose."""

    exit_code = 1


class UsageError(ListservError):
    """The request itself is malformed (CLI exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration file is missing, unreadable or has a bad key or value."""


class BadAddress(UsageError):
    """An email address that cannot be used."""


class BadSetting(UsageError):
    """An unknown setting name or a value of the wrong kind."""


class BadQuery(UsageError):
    """An archive search query that is malformed; the message says what is wrong, in one line."""


class Refused(ListservError):
    """Well-formed, but the current state does not allow it (CLI exit 1)."""


class NoSuchList(Refused):
    """No list has that address."""


class ListExists(Refused):
    """A list with that address already exists."""


class NoSuchMember(Refused):
    """The address is not a member of the list."""


class MemberExists(Refused):
    """The address is already a member of the list."""


class NoSuchHeld(Refused):
    """No held message has that id."""


class AlreadyDecided(Refused):
    """The held message was already approved, rejected or discarded."""


class NoSuchRequest(Refused):
    """No confirmed subscription request waits for a moderator's decision for that address and list."""


class CannotListen(Refused):
    """The server could not bind its listening socket."""


class StoreError(ListservError):
    """The database failed; the operation can be retried."""


class StoreUnavailable(StoreError):
    """The database could not be opened, migrated or written."""
