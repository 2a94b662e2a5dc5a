"""The one exception tree of listserv; each leaf maps to exactly one outward answer.

    ListservError                 exit 1 unless a subclass says otherwise
    ├── UsageError                exit 2: the caller asked for something malformed
    │   ├── ConfigError             a bad configuration file, key or value
    │   ├── BadAddress              an address that email-validator refuses
    │   ├── BadSetting              an unknown list/member setting or a bad value
    │   ├── BadQuery                an archive search query that cannot be parsed
    │   ├── BadMbox                 a file for `archive import` that cannot be read or is not an mbox
    │   └── BadSelector             a DKIM selector that is not a DNS label
    ├── Refused                   exit 1: well-formed, but the state forbids it
    │   ├── NoSuchList
    │   ├── ListExists
    │   ├── NoSuchMember
    │   ├── MemberExists
    │   ├── NoSuchHeld
    │   ├── AlreadyDecided
    │   ├── NoSuchRequest           no subscription request waits for that address
    │   ├── NoSuchPost              no archived post has that number (on that list)
    │   ├── NoSuchThread            no thread has that number (or none of its posts may be shown)
    │   ├── CannotExport            the mbox file exists already or cannot be written
    │   ├── NotAllowed              confidential: not an entitled member, not a moderator
    │   ├── CannotListen            the listening address is taken or not ours
    │   ├── CannotLog               the configured log file cannot be opened for writing
    │   ├── CannotStart             a part of the server failed while starting or stopped on its own
    │   ├── CannotInitialise        `listserv init`: the configuration exists already, or cannot be written
    │   ├── CannotWriteMaps         `postfix-maps --write DIR`: DIR is missing or not writable
    │   ├── IsListAddress           an address of a list on this server cannot be a member
    │   ├── NoListAtDomain          `dkim keygen`: no list of this server has that domain
    │   ├── KeyExists               `dkim keygen`: the domain has a key of that selector (--force replaces it)
    │   └── DnsNeedsFixing          `dns check`: a record is missing or wrong, or DNS did not answer
    └── StoreError                exit 1 on the CLI; SMTP 451 4.3.0 at intake
        ├── StoreUnavailable        the database could not be opened or written
        └── StoreBusy               deleted content could not be checkpointed out of the write-ahead log in time

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


class BadMbox(UsageError):
    """A file to import that cannot be read or does not start like an mbox (a 'From ' line)."""


class BadSelector(UsageError):
    """A DKIM selector that cannot be a DNS label (the record is published at SELECTOR._domainkey.DOMAIN)."""


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


class NoSuchPost(Refused):
    """No archived post has that number (on that list)."""


class NoSuchThread(Refused):
    """No thread has that number, or none of its posts may be shown to the reader."""


class CannotExport(Refused):
    """The export file exists already (never overwritten) or cannot be written."""


class NotAllowed(Refused):
    """The reader may not see confidential posts: not an entitled member, or not a moderator of the list."""


class CannotListen(Refused):
    """The server could not bind its listening socket."""


class CannotLog(Refused):
    """`[log] file` names a file the server cannot append to (missing directory, no permission)."""


class CannotStart(Refused):
    """A part of `serve` (delivery, the pipeline, the periodic jobs) failed while starting or ended on its own;
    the server stops as a whole rather than run without it."""


class CannotInitialise(Refused):
    """`listserv init` found a configuration file where it would write one (an owner's file is never replaced),
    or could not create it or the data directory."""


class CannotWriteMaps(Refused):
    """The Postfix maps cannot be written: the directory is missing or not writable."""


class IsListAddress(Refused):
    """The address belongs to a list on this server (any list, any sub-address): as a member it would loop."""


class NoListAtDomain(Refused):
    """`dkim keygen` for a domain none of the lists uses: a key nobody signs with is a typo, not a wish."""


class KeyExists(Refused):
    """`dkim keygen` would replace a key whose record may be published already (only with --force)."""


class DnsNeedsFixing(Refused):
    """`listserv dns check` found something to publish or correct (its lines say what)."""


class StoreError(ListservError):
    """The database failed; the operation can be retried."""


class StoreUnavailable(StoreError):
    """The database could not be opened, migrated or written."""


class StoreBusy(StoreError):
    """Deleted content is committed, but another connection kept reading an older snapshot, so the
    write-ahead log (which may still hold copies) could not be emptied; `listserv archive compact` finishes it."""
