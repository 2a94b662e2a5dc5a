"""The `listserv` command line: parse the arguments, call the listserv package, print the answer.

Thin on purpose: every operation lives in listserv.lists, listserv.membership,
listserv.moderation and listserv.queue, which the email commands share. Each
command opens the store named by the configuration (creating and migrating it
on first use), does its work under asyncio.run and closes the store again.

Every failure is one line on stderr, `listserv: error: ...`, and the exit
status says whose fault it was: 1 refused by the current state, 2 a malformed
request (click's own usage errors included).
"""

from __future__ import annotations

import asyncio
import getpass
import ipaddress
import os
import shlex
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Awaitable, Callable, TypeVar

import click

from listserv import (
    __version__, audit, bounces, config, digests, endpoints, init_config, lists, logscrub, member_csv, membership,
    moderation, output, postfix_maps, private_files, queue, status, timefmt,
)
from listserv.archive import access, exporter, importer, retention
from listserv.archive import search as archive_search
from listserv.archive import show as archive_show
from listserv.archive.compact import Compacted, compact
from listserv.archive.threading import thread_unthreaded
from listserv.cli_help import HelpGroup, SettingsCommand
from listserv.errors import CannotExport, DnsNeedsFixing, ListservError, Refused, UsageError
from listserv.outgoing import domains, keys
from listserv.output import cell, emit_fields, emit_json, emit_listing, emit_table, plural, printable
from listserv.store import Store

T = TypeVar("T")
Work = Callable[[Store, config.Settings], Awaitable[T]]

HELD_FIELDS = ("id", "list", "sender", "subject", "reasons", "received_at", "confidential", "role")
HELD_DETAIL_FIELDS = HELD_FIELDS + (
    "mail_from", "decision", "decided_by", "decided_at", "decision_reason", "authentication", "headers", "text",
)
HELD_TIMES = ("received_at", "decided_at")
LIST_COLUMNS = (("ADDRESS", "address"), ("MEMBERS", "members"), ("NON-MEMBERS", "nonmember_action"),
                ("DESCRIPTION", "description"))
MEMBER_COLUMNS = (("ADDRESS", "address"), ("NAME", "name"), ("ROLE", "role"), ("DELIVERY", "delivery"),
                  ("MODERATED", "moderated"), ("CONFIDENTIAL", "confidential"), ("OWNPOSTS", "ownposts"),
                  ("BOUNCE", "bounce_score"))
BOUNCE_TIMES = ("bounce_last_at", "bounce_disabled_at")
BOUNCING_COLUMNS = (("ADDRESS", "address"), ("DELIVERY", "delivery"), ("BOUNCE", "bounce_score"),
                    ("LAST-BOUNCE", "bounce_last_at"), ("STOPPED", "bounce_disabled_at"))
HELD_COLUMNS = (("ID", "id"), ("RECEIVED", "received_at"), ("LIST", "list"), ("SENDER", "sender"),
                ("CONFIDENTIAL", "confidential"), ("REASONS", "rules"), ("SUBJECT", "subject"))
QUEUE_COLUMNS = (("ID", "id"), ("LIST", "list"), ("RECIPIENTS", "recipients"), ("ATTEMPTS", "attempts"),
                 ("NEXT-ATTEMPT", "next_attempt_at"), ("LAST-ERROR", "last_error"))


# ---- the root: one-line errors and exit codes ------------------------------------------


class Listserv(HelpGroup):
    """The root group: turns every error, click's own included, into one stderr line and an exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        standalone = extra.pop("standalone_mode", True)
        try:
            status = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message(), err=True)
            status = exc.exit_code
        except click.ClickException as exc:
            status = fail(_with_hint(exc), exc.exit_code)
        except click.Abort:  # Ctrl-C, or EOF where click itself prompts
            status = fail("aborted", 1)
        except ListservError as exc:
            status = fail(str(exc), exc.exit_code)
        status = status if isinstance(status, int) and not isinstance(status, bool) else 0
        if not standalone:
            return status
        raise SystemExit(status)


def fail(message: str, code: int) -> int:
    """Print one error line on stderr and return the exit code to use."""
    click.echo(f"listserv: error: {printable(' '.join(str(message).splitlines()))}", err=True)
    return code


def _with_hint(exc: click.ClickException) -> str:
    """click's message on one line, pointing at the --help of the command that was misused."""
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return exc.format_message() + hint


def settings() -> config.Settings:
    """The configuration named by --config / $LISTSERV_CONFIG / ./config/listserv.toml, loaded once."""
    root = click.get_current_context().find_root()
    if "settings" not in root.meta:
        root.meta["settings"] = config.load(root.params.get("config_path"))
    return root.meta["settings"]


def run(work: Work[T]) -> T:
    """Run work(store, settings) with the configured store open, and close it whatever happens."""
    loaded = settings()
    logscrub.install()  # aiosqlite logs SQL parameters (post content) at DEBUG otherwise

    async def with_store() -> T:
        store = await Store.open(loaded.storage.database, loaded.storage.checkpoint_wait)
        try:
            return await work(store, loaded)
        finally:
            await store.close()

    return asyncio.run(with_store())


# A setting's value may start with "-" (a subject prefix, a negative number to be refused by its type).
VALUE_MAY_START_WITH_DASH = {"ignore_unknown_options": True}
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
operator_option = click.option("--by", metavar="NAME", help="Who makes the change, for the audit log"
                               " (default: cli:LOGIN, your login name).")


def _operator(by: str | None) -> str:
    """The actor of an administrative change in the audit log: --by as given, else cli:LOGIN.

    The prefix tells a change made at the command line from one made by
    email (the member's address) or by the daemon (pipeline, bounces ...).
    """
    if by is not None:
        return _who(by)
    try:
        login = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name in this environment: the user id still says who
        login = f"uid{os.getuid()}"
    return f"cli:{login}"


# ---- listserv ---------------------------------------------------------------------------


@click.group("listserv", cls=Listserv, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", metavar="PATH",
    help="Configuration file (default: $LISTSERV_CONFIG, else ./config/listserv.toml).",
)
@click.version_option(__version__, prog_name="listserv")
def main(config_path: str | None) -> None:
    """A members-only mailing list server that keeps confidential threads confidential."""
    private_files.restrict_umask()  # before any command creates the database, an export or the outbox


@main.command()
@click.option("--host", help="Listen on this address instead of [server] host.")
@click.option("--port", type=click.IntRange(0, 65535), help="Listen on this port instead of [server] port.")
@click.option("--lmtp", is_flag=True, default=None, help="Speak LMTP (for an MTA in front) instead of SMTP.")
def serve(host: str | None, port: int | None, lmtp: bool | None) -> None:
    """Run intake, pipeline and delivery until SIGTERM or SIGINT."""
    from listserv.daemon import serve as run_daemon  # the daemon's imports are only needed here

    click.get_current_context().exit(run_daemon(settings(), host, port, lmtp))


@main.command("status")
@json_option
def status_command(as_json: bool) -> None:
    """Is the server up; per-list counts; delivery health.

    Whether the server for this configuration runs (its process and address), the configuration file and
    database in use, and per list: members, held posts, requests waiting for a moderator, queued and failing
    deliveries with the last error, and when a post last arrived. Exits 1 when something needs attention
    (the server is not running, or deliveries have failed for over an hour), one line each, so a monitoring
    check can run it; 0 otherwise."""
    where = config.locate(click.get_current_context().find_root().params.get("config_path"))
    config_file = where if where.exists() else None
    found = run(lambda store, loaded: status.report(store, loaded, config_file))
    if as_json:
        emit_json(status.as_json(found))
    else:
        for line in status.as_text(found):
            click.echo(line)
    click.get_current_context().exit(1 if found["attention"] else 0)


@main.command("init")
@click.argument("directory", metavar="[DIR]", default=".", type=click.Path(file_okay=False))
def init_command(directory: str) -> None:
    """Write DIR/config/listserv.toml (commented, paths inside DIR) and create DIR/archives for the database.

    An existing configuration is never overwritten. Run the other commands in DIR, or point
    --config or $LISTSERV_CONFIG at the file."""
    made = init_config.init(directory)
    click.echo(f"wrote {made.config}")
    click.echo(f"created {made.data} (owner-only) for the database and the outbox")
    click.echo(f"next: cd {shlex.quote(str(made.config.parent.parent))} && listserv serve"
               f"  (from elsewhere: export LISTSERV_CONFIG={shlex.quote(str(made.config))})")


# ---- dkim -------------------------------------------------------------------------------


@main.group("dkim")
def dkim_group() -> None:
    """The DKIM keys that sign the lists' mail."""


@dkim_group.command("keygen")
@click.argument("domain")
@click.option("--selector", default=keys.DEFAULT_SELECTOR, show_default=True,
              help="The DKIM selector: the record goes to SELECTOR._domainkey.DOMAIN.")
@click.option("--force", is_flag=True, help="Replace an existing key of that selector"
              " (mail signed with the new key fails DKIM until its record is published).")
def dkim_keygen(domain: str, selector: str, force: bool) -> None:
    """Create the signing keys of DOMAIN (RSA 2048 and Ed25519) and print the DNS records to publish.

    The keys are written owner-only under the data directory (dkim/DOMAIN/ next to the database) and sign
    every mail of the lists at DOMAIN from the next message on, the server running or not. An existing key is
    never replaced without --force. DOMAIN must be the domain of a list of this server."""
    records = run(lambda store, loaded: domains.keygen(store, loaded, domain, selector, force))
    click.echo(f"publish in the DNS of {domain.strip().rstrip('.').casefold()}:")
    for record in records:
        click.echo(record.zone_line())


# ---- dns --------------------------------------------------------------------------------


@main.group("dns")
def dns_group() -> None:
    """Check what a list domain publishes in DNS."""


@dns_group.command("check")
@click.argument("domain")
@click.option("--selector", default="", metavar="S", help="DKIM selector whose key record is checked"
              " (default: the one of DOMAIN's key made by `dkim keygen`).")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PATH",
              help="The DKIM private key (PEM) the record must match; with --selector"
              " (default: DOMAIN's key under the data directory).")
@click.option("--ip", default="", metavar="ADDRESS", help="The sending host's public address: SPF must allow it,"
              " its PTR must name a host pointing back to it.")
def dns_check_command(domain: str, selector: str, key: Path | None, ip: str) -> None:
    """MX, SPF, DKIM, DMARC, PTR of DOMAIN: one line per check with what to fix; exit 1 if something must be."""
    if not endpoints.valid_host(domain) or (ip and not _is_ip(ip)):
        raise UsageError(f"expected a domain name and an IP address, got {domain!r}" + (f" and {ip!r}" if ip else ""))
    from listserv import dns_check  # here: dnspython and dkimpy load only for this command
    from listserv.resolver import Resolver

    loaded = settings()
    if key is None:  # the key `dkim keygen` made for the domain, when there is one
        selector, key = keys.signing_key_file(loaded, domain, selector) or (selector, None)
    checks = asyncio.run(dns_check.check(Resolver(loaded.dns), domain, selector, key, ip))
    for found in checks:
        click.echo(f"{found.status:<8} {found.name:<6} {printable(found.text)}")
    failing = [found.name for found in checks if found.must_fix]
    if failing:
        raise DnsNeedsFixing(f"{domain}: fix {', '.join(failing)} (see above)")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


# ---- lists ------------------------------------------------------------------------------


@main.group("lists")
def lists_group() -> None:
    """Create, inspect, configure and delete lists."""


@lists_group.command("create")
@click.argument("address", metavar="NAME@DOMAIN")
@click.option("--description", default="", help="One line shown in List-Id.")
@click.option("--nonmember-action", type=click.Choice(lists.NONMEMBER_ACTIONS), default="hold", show_default=True,
              help="What happens to posts from non-members.")
@operator_option
def lists_create(address: str, description: str, nonmember_action: str, by: str | None) -> None:
    """Create the list NAME@DOMAIN."""
    who = _operator(by)
    created = run(lambda store, _: lists.create(store, address, description, nonmember_action, by=who))
    click.echo(f"created {created.address}")


@lists_group.command("ls")
@json_option
def lists_ls(as_json: bool) -> None:
    """Every list with its member count and non-member action."""
    found = [mlist.as_json() for mlist in run(lambda store, _: lists.all_lists(store))]
    emit_listing(found, as_json, LIST_COLUMNS, "no lists")


@lists_group.command("show")
@click.argument("address", metavar="NAME@DOMAIN")
@json_option
def lists_show(address: str, as_json: bool) -> None:
    """One list with every setting (defaults included)."""
    found = run(lambda store, _: lists.get(store, address)).as_json()
    if as_json:
        emit_json(found)
    else:
        emit_fields(found)


@lists_group.command("set", cls=SettingsCommand, settings=(lists.DESCRIPTION, *lists.LIST_SETTINGS.values()),
                     context_settings=VALUE_MAY_START_WITH_DASH)
@click.argument("address", metavar="NAME@DOMAIN")
@click.argument("key")
@click.argument("value")
@operator_option
def lists_set(address: str, key: str, value: str, by: str | None) -> None:
    """Change one setting of a list.

    KEY is one of the keys below; `lists show` shows the current values."""
    who = _operator(by)
    changed = run(lambda store, _: lists.set_setting(store, address, key, value, by=who))
    click.echo(f"{changed.address}: {key} = {cell(changed.as_json()[key])}")


@lists_group.command("delete")
@click.argument("address", metavar="NAME@DOMAIN")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@operator_option
@json_option
def lists_delete(address: str, yes: bool, by: str | None, as_json: bool) -> None:
    """Delete a list with everything it holds, and give the space back.

    Its members, held posts, archive and queued copies go; the database is then compacted and the command
    says how much space came back. Asks first unless --yes."""
    who = _operator(by)
    deleted = run(lambda store, _: _delete_list(store, address, yes, who))
    if as_json:
        emit_json(deleted.as_json())
        return
    click.echo(f"deleted {deleted.address}; {_space(deleted.space)}")


def _space(space: Compacted) -> str:
    """'database 5.4 MB -> 0.3 MB (5.1 MB given back)'."""
    return (f"database {output.size(space.bytes_before)} -> {output.size(space.bytes_after)}"
            f" ({output.size(space.bytes_freed)} given back)")


async def _delete_list(store: Store, address: str, yes: bool, by: str) -> lists.Deleted:
    """Say what goes with the list (its members count) before asking, since nothing brings it back."""
    mlist = await lists.get(store, address)
    question = f"Delete {mlist.address} with its {plural(mlist.members, 'member')}, held posts and archive?"
    if not yes and not _confirmed(question):
        raise Refused(f"not deleted: {mlist.address} (answer y, or pass --yes)")
    return await lists.delete(store, mlist.address, by=by)


def _confirmed(question: str) -> bool:
    """Ask on stderr (stdout stays clean for scripts); no answer at all (EOF) means no."""
    try:
        return click.confirm(question, err=True)
    except click.Abort:
        click.echo(err=True)
        return False


# ---- members ----------------------------------------------------------------------------


@main.group("members")
def members_group() -> None:
    """Add, import, list, change and remove the members of a list; decide requests to join."""


@members_group.command("add")
@click.argument("list_address", metavar="LIST")
@click.argument("address")
@click.option("--name", default="", help="Display name.")
@click.option("--role", type=click.Choice(membership.ROLES), default="member", show_default=True)
@click.option("--delivery", type=click.Choice(membership.DELIVERIES), default="regular", show_default=True)
@click.option("--confidential/--no-confidential", default=True, show_default=True,
              help="Whether the member receives and finds confidential posts.")
@click.option("--moderated", is_flag=True, help="Hold this member's posts for a moderator.")
@operator_option
def members_add(list_address: str, address: str, name: str, role: str, delivery: str,
                confidential: bool, moderated: bool, by: str | None) -> None:
    """Add ADDRESS to LIST."""
    who = _operator(by)
    added = run(lambda store, _: membership.add(
        store, list_address, address, name, role, delivery, confidential, moderated, by=who))
    click.echo(f"added {added.address} to {list_address.strip().casefold()} as {added.role}")


@members_group.command("import")
@click.argument("list_address", metavar="LIST")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@operator_option
@click.pass_context
def members_import(ctx: click.Context, list_address: str, csv_file: str, by: str | None) -> None:
    """Add the members in a CSV file of address,name[,role] rows.

    Fields are separated by commas, semicolons (Excel in many countries) or tabs, found from the first row
    with several; a header row is skipped. Bad rows are reported by line and the good ones imported all the
    same (exit 1)."""
    who = _operator(by)
    found = member_csv.read(csv_file)
    if found.note(csv_file):
        click.echo(f"listserv: note: {found.note(csv_file)}", err=True)
    report = run(lambda store, _: _import(store, list_address, found.rows, who))
    for line in report.repeated:
        click.echo(printable(line))
    for line in report.invalid:
        fail(line, 1)
    click.echo(report.summary())
    if report.invalid:
        ctx.exit(1)


async def _import(store: Store, list_address: str, rows: list, by: str) -> membership.ImportReport:
    """import_rows() behind a progress bar on stderr, so stdout carries only the report."""
    await lists.get(store, list_address)  # an unknown list fails before the progress bar shows
    with click.progressbar(length=len(rows), label=f"importing {plural(len(rows), 'row')}", file=sys.stderr) as bar:
        return await membership.import_rows(store, list_address, rows, progress=bar.update, by=by)


@members_group.command("ls")
@click.argument("list_address", metavar="LIST")
@click.option("--bouncing", is_flag=True,
              help="Only members whose mail bounces: score (decayed to now), last bounce, when delivery stopped.")
@json_option
def members_ls(list_address: str, bouncing: bool, as_json: bool) -> None:
    """Every member of LIST with role, delivery and flags."""
    if bouncing:
        found = run(lambda store, _: bounces.bouncing(store, list_address))
        emit_listing(found, as_json, BOUNCING_COLUMNS, "no bouncing members", times=BOUNCE_TIMES)
        return
    found = run(lambda store, _: membership.listing(store, list_address))
    emit_listing([member.as_json() for member in found], as_json, MEMBER_COLUMNS, "no members")


@members_group.command("remove")
@click.argument("list_address", metavar="LIST")
@click.argument("address")
@operator_option
def members_remove(list_address: str, address: str, by: str | None) -> None:
    """Remove ADDRESS from LIST."""
    who = _operator(by)
    removed = run(lambda store, _: membership.remove(store, list_address, address, by=who))
    click.echo(f"removed {removed} from {list_address.strip().casefold()}")


@members_group.command("set", cls=SettingsCommand, settings=membership.MEMBER_SETTINGS.values(),
                       context_settings=VALUE_MAY_START_WITH_DASH)
@click.argument("list_address", metavar="LIST")
@click.argument("address")
@click.argument("key")
@click.argument("value")
@operator_option
def members_set(list_address: str, address: str, key: str, value: str, by: str | None) -> None:
    """Change one setting of a member.

    KEY is one of the keys below; `members ls` shows the current values."""
    who = _operator(by)
    changed = run(lambda store, _: membership.set_setting(store, list_address, address, key, value, by=who))
    name = membership.setting_name(key)  # an alias is answered with the one name
    click.echo(f"{changed.address} on {list_address.strip().casefold()}: {name} = {cell(changed.as_json()[name])}")


# Requests to join by email that the applicant confirmed (subscription_policy moderate) wait here.
PENDING_COLUMNS = (("ADDRESS", "address"), ("NAME", "name"), ("REQUESTED", "requested_at"),
                   ("CONFIRMED", "confirmed_at"))
decider_option = click.option("--by", metavar="NAME", help="Who decides, for the audit log (default: your login name).")


@members_group.command("pending")
@click.argument("list_address", metavar="LIST")
@json_option
def members_pending(list_address: str, as_json: bool) -> None:
    """Confirmed requests to join LIST that wait for a moderator, oldest first."""
    found = run(lambda store, _: membership.pending(store, list_address))
    emit_listing(found, as_json, PENDING_COLUMNS, "no requests waiting", times=("requested_at", "confirmed_at"))


@members_group.command("approve")
@click.argument("list_address", metavar="LIST")
@click.argument("address")
@decider_option
def members_approve(list_address: str, address: str, by: str | None) -> None:
    """Make a waiting applicant a member of LIST; they are welcomed by mail."""
    who = _who(by)
    added = run(lambda store, loaded: membership.approve(store, loaded, list_address, address, who))
    click.echo(f"approved {added.address} on {list_address.strip().casefold()}")


@members_group.command("deny")
@click.argument("list_address", metavar="LIST")
@click.argument("address")
@click.option("--reason", default="", help="Why, told to the applicant.")
@decider_option
def members_deny(list_address: str, address: str, reason: str, by: str | None) -> None:
    """Refuse a waiting applicant of LIST; they are told by mail (with the reason, when given)."""
    who = _who(by)
    denied = run(lambda store, loaded: membership.deny(store, loaded, list_address, address, who, reason))
    click.echo(f"denied {denied} on {list_address.strip().casefold()}")


# ---- held -------------------------------------------------------------------------------


@main.group("held")
def held_group() -> None:
    """Work the queue of posts held for a moderator."""


def _held_json(row: dict, fields: tuple[str, ...], as_json: bool) -> dict:
    """The named fields (those present), times for JSON or for people; nothing else, e.g. never raw bytes."""
    return timefmt.for_output({key: row[key] for key in fields if key in row}, as_json, *HELD_TIMES)


@held_group.command("ls")
@click.argument("list_address", metavar="[LIST]", required=False)
@json_option
def held_ls(list_address: str | None, as_json: bool) -> None:
    """Posts waiting for a decision, oldest first (all lists, or LIST)."""
    waiting = run(lambda store, _: moderation.waiting(store, list_address))
    found = [_held_json(access.masked(row), HELD_FIELDS, as_json) for row in waiting]  # no confidential subjects
    if as_json:
        emit_json(found)
        return
    for row in found:
        row["rules"] = ",".join(reason["rule"] for reason in row["reasons"])
    emit_table(found, HELD_COLUMNS, "no held posts")


@held_group.command("show")
@click.argument("held_id", metavar="ID", type=int)
@click.option("--body", is_flag=True,
              help="Show a confidential post's subject, headers and text too (the read is audited under --by).")
@click.option("--by", metavar="NAME", help="Who reads, for the audit log (default: your login name).")
@json_option
def held_show(held_id: int, body: bool, by: str | None, as_json: bool) -> None:
    """One held post: why it was held, its headers and its text (a confidential one's only with --body)."""
    found = _held_json(run(lambda store, _: _held_detail(store, held_id, body, by)), HELD_DETAIL_FIELDS, as_json)
    if as_json:
        emit_json(found)
        return
    if "text" not in found:
        found["note"] = "confidential: its subject, headers and text are shown with --body (the read is audited)"
    headers, text = found.pop("headers", []), found.pop("text", "")
    reasons = found.pop("reasons")
    emit_fields(found)
    click.echo("reasons:")
    for reason in reasons:
        click.echo(f"  {cell(reason['rule'])}: {cell(reason['text'])}")
    click.echo("")
    for name, value in headers:
        click.echo(f"{cell(name)}: {cell(value)}")
    click.echo("")
    click.echo(printable(text, keep="\n\t"))


async def _held_detail(store: Store, held_id: int, body: bool, by: str | None) -> dict:
    """moderation.show(), with a confidential post masked unless --body, whose read is then audited."""
    found = await moderation.show(store, held_id)
    if not found["confidential"]:
        return found
    if not body:
        return access.masked(found)
    await access.record_held_read(store, found, _who(by))
    return found


def by_option(func: Callable) -> Callable:
    """--by for the decision commands: every decision is audited under a name."""
    return click.option("--by", metavar="NAME", help="Who decides, for the audit log (default: your login name).")(func)


def _who(by: str | None) -> str:
    """The moderator recorded in the audit log: --by, else the OS login name."""
    if by is None:
        try:
            by = getpass.getuser()
        except (OSError, KeyError, ImportError):
            raise UsageError("cannot tell who you are; give --by NAME") from None
    name = by.strip()
    if not name or not name.isprintable():
        raise UsageError(f"--by: expected a printable name, got {by!r}")
    return name


def _decide_each(verb: str, held_ids: tuple[int, ...], act: Callable[[Store, config.Settings, int], Awaitable]) -> None:
    """Act on every id in turn: one line per id, a failing id is an error line and the rest go on."""

    async def each(store: Store, loaded: config.Settings) -> int:
        status = 0
        for held_id in dict.fromkeys(held_ids):
            try:
                await act(store, loaded, held_id)
            except ListservError as exc:
                status = max(status, fail(str(exc), exc.exit_code))  # the message names the id
            else:
                click.echo(f"{verb} {held_id}")
        return status

    status = run(each)
    if status:
        click.get_current_context().exit(status)


@held_group.command("approve")
@click.argument("held_ids", metavar="ID...", nargs=-1, required=True, type=int)
@by_option
def held_approve(held_ids: tuple[int, ...], by: str | None) -> None:
    """Approve held posts: each goes out as if accepted (mail held at -owner goes to the owners)."""
    who = _who(by)
    _decide_each("approved", held_ids, lambda store, loaded, held_id: moderation.approve(store, loaded, held_id, who))


@held_group.command("reject")
@click.argument("held_ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.option("--reason", default="", help="Why, recorded and (with --notify) told to the sender.")
@click.option("--notify", is_flag=True, help="Tell a non-member sender too (members are always told; robots never).")
@by_option
def held_reject(held_ids: tuple[int, ...], reason: str, notify: bool, by: str | None) -> None:
    """Reject held posts; the sender is told why if a member, or with --notify."""
    who = _who(by)
    _decide_each("rejected", held_ids, lambda store, loaded, held_id: moderation.reject(
        store, loaded, held_id, who, reason=reason, notify=notify))


@held_group.command("discard")
@click.argument("held_ids", metavar="ID...", nargs=-1, required=True, type=int)
@by_option
def held_discard(held_ids: tuple[int, ...], by: str | None) -> None:
    """Discard held posts silently."""
    who = _who(by)
    _decide_each("discarded", held_ids, lambda store, _, held_id: moderation.discard(store, held_id, who))


# ---- digests ----------------------------------------------------------------------------


@main.group("digests")
def digests_group() -> None:
    """Digests for members with delivery digest (sent by size and daily time; or now)."""


@digests_group.command("send")
@click.argument("list_address", metavar="[LIST]", required=False)
@json_option
def digests_send(list_address: str | None, as_json: bool) -> None:
    """Send the pending digest of LIST (or of every list) now."""
    sent = [issue.as_json() for issue in run(lambda store, loaded: digests.send_now(store, loaded, list_address))]
    if as_json:
        emit_json(sent)
        return
    for issue in sent:
        click.echo(f"{issue['list']}: sent Vol {issue['volume']}, Issue {issue['issue']} "
                   f"({plural(issue['posts'], 'post')}) to {plural(issue['recipients'], 'digest member')}")
    if not sent:
        click.echo("no digests pending")


# ---- queue ------------------------------------------------------------------------------


@main.group("queue")
def queue_group() -> None:
    """Inspect the outbound queue and retry waiting deliveries."""


@queue_group.command("ls")
@json_option
def queue_ls(as_json: bool) -> None:
    """Batches of recipients still waiting for delivery."""
    found = run(lambda store, _: queue.listing(store))
    emit_listing(found, as_json, QUEUE_COLUMNS, "queue empty", times=("next_attempt_at",))


@queue_group.command("retry")
def queue_retry() -> None:
    """Make every waiting batch due now (the running server sends them)."""
    count = run(lambda store, _: queue.retry(store))
    click.echo(f"{plural(count, 'batch')} due now")


# ---- postfix ----------------------------------------------------------------------------


@main.command("postfix-maps")
@click.option("--write", "directory", metavar="DIR", type=click.Path(file_okay=False),
              help=f"Write {postfix_maps.TRANSPORT_FILE} and {postfix_maps.DOMAINS_FILE} into DIR instead of printing.")
def postfix_maps_command(directory: str | None) -> None:
    """Postfix's transport_maps (regexp) and relay_domains entries for every list address.

    Each list's line sends NAME, NAME+confidential, NAME-request, NAME-owner, NAME-bounces(+...) and
    NAME-confirm+... to this server over LMTP ([server] host and port). In main.cf:
    transport_maps = regexp:DIR/listserv_transport and relay_domains = DIR/listserv_domains; then run
    `postfix reload`. Files are replaced atomically, only when they change. With [postfix] maps_dir set,
    the running server rewrites them itself when lists are created or deleted."""
    maps = run(postfix_maps.current)
    if directory is None:
        click.echo(f"# {postfix_maps.TRANSPORT_FILE} (transport_maps = regexp:DIR/{postfix_maps.TRANSPORT_FILE})")
        click.echo(maps.transport, nl=False)
        click.echo(f"# {postfix_maps.DOMAINS_FILE} (relay_domains = DIR/{postfix_maps.DOMAINS_FILE})")
        click.echo(maps.domains, nl=False)
        return
    written = postfix_maps.write(maps, directory)
    click.echo(f"wrote {', '.join(str(p) for p in written)}" if written else f"{directory}: maps unchanged")


# ---- audit ------------------------------------------------------------------------------

AUDIT_COLUMNS = (("ID", "id"), ("AT", "at"), ("LIST", "list"), ("ACTOR", "actor"), ("ACTION", "action"),
                 ("OBJECT", "object"), ("DETAIL", "detail"))


@main.group("audit")
def audit_group() -> None:
    """The audit log: decisions, purges, and every read of a confidential post."""


# \b keeps click from re-wrapping the table (it would split "approve-member" at its hyphen).
AUDIT_LS_HELP = "Audit entries, newest first (all lists, or LIST).\n\n\b\nACTION is one of:\n" + "\n".join(
    f"  {name:<18} {meaning}" for name, meaning in sorted(audit.ACTIONS.items()))


@audit_group.command("ls", help=AUDIT_LS_HELP)
@click.argument("list_address", metavar="[LIST]", required=False)
@click.option("--action", metavar="ACTION", type=click.Choice(sorted(audit.ACTIONS), case_sensitive=False),
              help="Only entries of this action (see the list above).")
@click.option("--limit", type=int, default=100, show_default=True, help="At most this many entries, newest first.")
@json_option
def audit_ls(list_address: str | None, action: str | None, limit: int, as_json: bool) -> None:
    """Audit entries, newest first (the help text is AUDIT_LS_HELP, built from audit.ACTIONS)."""
    found = run(lambda store, _: audit.entries(store, list_address, limit, action))
    emit_listing(found, as_json, AUDIT_COLUMNS, "no audit entries", times=("at",))


# ---- archive ----------------------------------------------------------------------------

SEARCH_FIELDS = ("id", "message_id", "thread_id", "date", "sender", "sender_name", "subject", "snippet", "confidential")
MAX_INDENT = 12  # tree levels shown by indentation; deeper posts carry their depth instead


@main.group("archive")
def archive_group() -> None:
    """Search, read, import, export and re-index the archive."""


def reader_options(func: Callable) -> Callable:
    """Whose view of the archive: the public one, an entitled member's (--as) or a moderator's (audited)."""
    func = click.option("--by", metavar="NAME", help="Who reads, for the audit log; with --include-confidential "
                        "the moderator's address.")(func)
    func = click.option("--include-confidential", is_flag=True,
                        help="Include confidential posts: only for a moderator of the list, named by --by.")(func)
    return click.option("--as", "as_address", metavar="ADDRESS",
                        help="Read as this member: confidential posts only if the member is entitled.")(func)


def _reader(as_address: str | None, include_confidential: bool, by: str | None) -> tuple[str | None, str | None, str]:
    """(as_address, moderator, by) for listserv.archive.access; --include-confidential needs --by."""
    if include_confidential and not by:
        raise UsageError("--include-confidential needs --by MODERATOR (a moderator's address, for the audit log)")
    operator = _who(by) if as_address else by or ""  # reading on a member's behalf is audited under who did it
    return as_address, by if include_confidential else None, operator


@archive_group.command("search", context_settings=VALUE_MAY_START_WITH_DASH)
@click.argument("list_address", metavar="LIST")
@click.argument("query")
@click.option("--limit", type=click.IntRange(1, archive_search.MAX_LIMIT), default=20, show_default=True,
              help="At most this many results.")
@click.option("--newest", is_flag=True, help="Newest first instead of best match first.")
@reader_options
@json_option
def archive_search_command(list_address: str, query: str, limit: int, newest: bool, as_address: str | None,
                           include_confidential: bool, by: str | None, as_json: bool) -> None:
    """Search LIST's archive. QUERY (quote it) is words, "a phrase", -word, OR, from:, subject:, after:,
    before:, thread:, has:attachment; see README "Searching the archive"."""
    reader = _reader(as_address, include_confidential, by)
    order = "date" if newest else "rank"
    found = run(lambda store, _: archive_show.find(store, list_address, query, limit, order, *reader))
    rows = [timefmt.for_output({key: row.get(key) for key in SEARCH_FIELDS}, as_json, "date") for row in found]
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("no posts found")
    for row in rows:
        secret = "  [confidential]" if row["confidential"] else ""
        click.echo(f"{row['id']}  {row['date']}  thread {row['thread_id']}  {cell(row['sender'])}  "
                   f"{cell(row['subject'])}{secret}")
        click.echo(f"    {cell(row['snippet'])}")


@archive_group.command("show")
@click.argument("archive_id", metavar="ID", type=click.IntRange(1, 2**63 - 1))
@reader_options
@json_option
def archive_show_command(archive_id: int, as_address: str | None, include_confidential: bool, by: str | None,
                         as_json: bool) -> None:
    """One archived post: its headers and readable text (HTML made safe), attachments listed, not shown."""
    reader = _reader(as_address, include_confidential, by)
    found = timefmt.for_output(run(lambda store, _: archive_show.post(store, archive_id, *reader)), as_json, "date")
    if as_json:
        emit_json(found)
        return
    secret = ", confidential" if found["confidential"] else ""
    click.echo(f"archived post {found['id']} of {found['list']}, thread {found['thread_id']}{secret}")
    click.echo(f"authentication: {found['authentication']}")
    if not found["content"]:
        click.echo(f"{found['date']}  {cell(found['sender'])}")
        click.echo("(its content is not stored: purged, or never kept)")
        return
    for name, value in found["headers"].items():
        click.echo(f"{name}: {cell(value)}")
    click.echo("")
    click.echo(printable(found["text"], keep="\n\t"))
    if found["attachments"]:
        click.echo("")
        click.echo("attachments (not shown):")
    for item in found["attachments"]:
        click.echo(f"  {cell(item['name'])} ({cell(item['type'])}, {plural(item['size'], 'byte')})")


@archive_group.command("thread")
@click.argument("thread_id", metavar="ID", type=click.IntRange(1, 2**63 - 1))
@reader_options
@json_option
def archive_thread_command(thread_id: int, as_address: str | None, include_confidential: bool, by: str | None,
                           as_json: bool) -> None:
    """A thread as a tree: each post's id, date, sender and subject, replies indented under their parent."""
    reader = _reader(as_address, include_confidential, by)
    found = run(lambda store, _: archive_show.thread(store, thread_id, *reader))
    tree = [timefmt.for_output(row, as_json, "date") for row in found["tree"]]
    found = timefmt.for_output({**found, "tree": tree}, as_json, "started", "last")
    if as_json:
        emit_json(found)
        return
    hidden = f"; {found['hidden']} confidential not shown" if found["hidden"] else ""
    click.echo(f"thread {found['id']} of {found['list']}: {cell(found['subject'])} "
               f"({plural(found['posts'], 'post')}, {found['started']} to {found['last']}{hidden})")
    for row in found["tree"]:
        depth = row["depth"]
        indent = "  " * min(depth, MAX_INDENT) + (f"[{depth}] " if depth > MAX_INDENT else "")
        secret = "  [confidential]" if row["confidential"] else ""
        click.echo(f"{indent}{row['id']}  {row['date']}  {cell(row['sender'])}  {cell(row['subject'])}{secret}")


@archive_group.command("import")
@click.argument("list_address", metavar="LIST")
@click.argument("mbox_file", metavar="FILE.mbox", type=click.Path(exists=True, dir_okay=False))
@click.option("--workers", type=click.IntRange(1, 64), help="Parse processes (default: one per core).")
def archive_import_command(list_address: str, mbox_file: str, workers: int | None) -> None:
    """Import an mbox into LIST's archive.

    Mailman 2 / pipermail or any mbox: duplicates by Message-ID and malformed messages are skipped and
    reported; an interrupted import can simply be run again."""
    report = run(lambda store, loaded: _import_mbox(store, loaded, list_address, mbox_file, workers))
    for line in report.malformed_lines():
        click.echo(printable(line))
    click.echo(report.summary())


async def _import_mbox(
    store: Store, loaded: config.Settings, list_address: str, path: str, workers: int | None
) -> importer.ImportReport:
    """import_mbox() behind a progress bar (bytes of the file, with messages and rate) on stderr."""
    await lists.get(store, list_address)  # an unknown list or a file that is no mbox fails before the bar shows
    importer.check_file(path)
    started, size = time.monotonic(), os.path.getsize(path)

    def shown(item: str | None) -> str:
        return item or ""

    with click.progressbar(length=size, label="importing", file=sys.stderr, item_show_func=shown) as bar:
        def progress(done: int, count: int) -> None:
            rate = count / max(time.monotonic() - started, 1e-6)
            bar.update(done - bar.pos, f"{plural(count, 'message')}, {rate:.0f}/s")

        report = await importer.import_mbox(
            store, list_address, path, workers=workers, progress=progress, settings=loaded)
        bar.update(size - bar.pos, plural(report.imported + report.duplicates, "message"))
    return report


@archive_group.command("export")
@click.argument("list_address", metavar="LIST")
# Any name that exists (a directory or a symlink too) is the exporter's to refuse: exit 1, like an existing file.
# "-" is standard output (a file named "-" is ./-).
@click.argument("mbox_file", metavar="FILE.mbox|-", type=click.Path())
@click.option("--after", type=click.DateTime(["%Y-%m-%d"]), help="Only posts dated on or after this day (UTC).")
@click.option("--before", type=click.DateTime(["%Y-%m-%d"]), help="Only posts dated before this day (UTC).")
@click.option("--include-confidential", is_flag=True,
              help="Include confidential posts: only for a moderator of the list, named by --by; each is audited.")
@click.option("--by", metavar="MODERATOR", help="The moderator asking for confidential posts.")
def archive_export_command(list_address: str, mbox_file: str, after, before, include_confidential: bool,
                           by: str | None) -> None:
    """Write LIST's archive to a new mbox file, or with - to standard output.

    The messages as received, in date order, as mboxrd (readable by mutt and mailbox.mbox); the file gets
    owner-only permissions. An existing file is never overwritten, and a symbolic link is never followed.
    With -, only the mbox goes to standard output and the summary to standard error."""
    _, moderator, by_name = _reader(None, include_confidential, by)
    after_day, before_day = (when.date() if when else None for when in (after, before))
    if after_day and before_day and after_day >= before_day:
        raise UsageError(f"--after {after_day} is not earlier than --before {before_day}, so nothing would match")
    if mbox_file == "-":
        _export_to_stdout(list_address, after_day, before_day, moderator, by_name)
        return
    report = run(lambda store, _: exporter.export_mbox(
        store, list_address, mbox_file, after_day, before_day, moderator=moderator, by=by_name))
    click.echo(report.summary(mbox_file))


def _export_to_stdout(list_address: str, after: date | None, before: date | None, moderator: str | None,
                      by: str) -> None:
    """`archive export LIST -`: only the mbox on stdout, so it can be piped; the summary goes to stderr.

    Not onto a terminal: raw messages from strangers could carry escape sequences to the screen, and
    nobody reads an archive scrolling past (gzip refuses the same way)."""
    out = sys.stdout.buffer  # click.get_binary_stream is deprecated (click 8.5)
    if out.isatty():
        raise UsageError("standard output is a terminal: pipe the export (| gzip > FILE.mbox.gz) or name a file")
    try:
        report = run(lambda store, _: exporter.export_stream(
            store, list_address, out, after, before, moderator=moderator, by=by))
    except CannotExport:
        _stdout_to_devnull()
        raise
    click.echo(report.summary(exporter.STREAM_NAME), err=True)


def _stdout_to_devnull() -> None:
    """After a failed write (a pipe closed early), what stays buffered must not fail again, with a traceback,
    when Python flushes standard output at exit."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (click's test runner): nothing to flush to
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@archive_group.command("reindex")
@click.argument("list_address", metavar="[LIST]", required=False)
def archive_reindex_command(list_address: str | None) -> None:
    """Rebuild the search index, and thread posts archived before threading existed.

    Threads the unthreaded posts of LIST (or of every list), recomputes the search text of every post and
    rebuilds the full-text index (one index serves all lists)."""
    threaded, changed = run(lambda store, _: _reindex(store, list_address))
    click.echo(f"threaded {plural(threaded, 'post')}; search text recomputed for {changed}; full-text index rebuilt")


async def _reindex(store: Store, list_address: str | None) -> tuple[int, int]:
    list_id = (await lists.get(store, list_address)).id if list_address else None
    threaded = await thread_unthreaded(store, list_id)
    return threaded, await archive_search.reindex(store)


@archive_group.command("compact")
@json_option
def archive_compact_command(as_json: bool) -> None:
    """Give the space of purged and deleted posts back to the disk.

    Runs VACUUM and leaves no old copy in the write-ahead log: the remedy when a purge or `lists delete`
    said a reader kept the log busy."""
    space = run(lambda store, _: compact(store))
    if as_json:
        emit_json(space.as_json())
        return
    click.echo(_space(space))


@archive_group.command("purge")
@click.argument("list_address", metavar="[LIST]", required=False)
@json_option
def archive_purge_command(list_address: str | None, as_json: bool) -> None:
    """Remove now the text of confidential posts that is kept no longer.

    Those past the list's confidential_retention_days (the server does this daily), or every confidential
    post's under confidential_archive none."""
    counts = run(lambda store, _: retention.purge(store, list_address))
    rows = [{"list": address, **count} for address, count in counts.items()]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['list']}: purged {row['archived']} archived and {row['held']} held confidential posts")
