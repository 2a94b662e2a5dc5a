"""Per-list settings: the one table (defaults, help, parsing) and the typed, frozen ListSettings built from it.

LIST_SETTINGS says what each setting means and how typed text becomes its
value; ListSettings is what the rest of the package reads
(`mlist.settings.confidential_tag`), so no caller looks a setting up by a
string key or casts it. The database keeps only the overrides, as JSON, by
the same names the CLI and `lists show --json` use.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

from listserv.errors import BadSetting
from listserv.settings import Setting, lookup, table

NONMEMBER_ACTIONS = ("hold", "reject", "discard", "accept")
SUBSCRIPTION_POLICIES = ("confirm", "moderate", "closed")
DMARC_MITIGATIONS = ("munge_from", "wrap", "none")
AUTHOR_PLACES = ("reply_to", "cc")  # where a munged copy names the author
UNAUTHENTICATED_ACTIONS = ("hold", "reject", "accept")


class TimeOfDay(Setting):
    """A setting that takes a time of day as HH:MM (24-hour clock), or empty for none."""

    def parse(self, text: str) -> object:
        """'7:05' -> '07:05'; '' stays ''; anything else is BadSetting naming the setting.

        >>> TimeOfDay("t", "", "").parse(" 7:05 "), TimeOfDay("t", "", "").parse("")
        ('07:05', '')
        >>> TimeOfDay("t", "", "").parse("24:00")
        Traceback (most recent call last):
        ...
        listserv.errors.BadSetting: t: expected a time of day as HH:MM (00:00 to 23:59) or empty, got '24:00'
        """
        value = str(text).strip()
        if not value:
            return ""
        found = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", value)
        if found is None:
            raise BadSetting(f"{self.name}: expected a time of day as HH:MM (00:00 to 23:59) or empty, got {value!r}")
        return f"{int(found[1]):02d}:{found[2]}"


LIST_SETTINGS = table(
    Setting("nonmember_action", "hold", "what happens to posts from non-members", NONMEMBER_ACTIONS),
    Setting("subject_prefix", "[{name}]", "prefix added to subjects; {name} is the list's name; empty for none"),
    Setting("emergency_moderation", False, "hold every post, members' included, for a moderator"),
    Setting("max_message_size", 0, "hold posts larger than this many bytes for a moderator; 0 for no limit"),
    Setting("reply_goes_to_list", False, "set Reply-To to the list on every post"),
    Setting("archive", True, "keep accepted posts in the archive"),
    Setting("notify_rejected_nonmembers", False, "tell a non-member why their post was rejected (off: no backscatter)"),
    Setting(
        "subscription_policy", "moderate",
        "subscribing by email to NAME-request@: confirm (the address confirms, then joins), moderate (confirms,"
        " then a moderator approves: `members pending/approve/deny`), closed (only administrators add members)",
        SUBSCRIPTION_POLICIES,
    ),
    Setting("confirm_days", 7, "days a subscribe/unsubscribe confirmation stays valid (at least 1)"),
    Setting("digest_size_threshold", 30, "send the digest as soon as its posts pass this many kilobytes (0: no size trigger)"),
    TimeOfDay("digest_time", "12:00", "send pending digests daily at this time, HH:MM server local time (empty: no daily send)"),
    Setting("verp", True, "give each copy its own envelope sender NAME-bounces+LOCAL=DOMAIN@DOMAIN so a bounce names the member"),
    Setting("verp_interval_hours", 24, "with verp on, VERP a post only when none was VERP'd in this many hours (0: every post)"),
    Setting("bounce_threshold", 5, "bounce score at which a member's delivery is set to nomail and they are told (0: never)"),
    Setting("bounce_decay_days", 7, "days in which a bounce score halves (0: scores never decay)"),
    Setting("hold_expiry_days", 14, "discard held non-member posts after this many days (0: keep until a moderator decides)"),
    Setting("moderator_notices", True, "mail the moderators when a post is held, and a daily reminder of what waits"),
    # Confidential threads (listserv.pipeline.confidential, listserv.archive.access/retention; README explains them).
    Setting("confidential_tag", "[CONFIDENTIAL]", "subject tag that marks a post confidential (any case); ensured on"
            " every confidential copy; empty: no tag marking"),
    Setting("all_confidential", False, "treat every thread on the list as confidential"),
    Setting("confidential_archive", "restricted", "restricted (stored; found only by entitled members and audited"
            " moderators) or none (only the thread map and date are kept)", ("restricted", "none")),
    Setting("confidential_retention_days", 0, "purge the stored text of confidential posts after this many days"
            " (0: keep)"),
    Setting("confidential_notice", "Confidential thread: do not forward outside the list.",
            "line added at the top of the text of every confidential copy (empty: none)"),
    Setting("leak_guard", "notify", "a confidential post naming addresses outside the list in To/Cc: notify (deliver"
            " without them, tell the sender and moderators) or hold (for a moderator, and tell them)", ("notify", "hold")),
    # Deliverability and authentication (listserv.auth, listserv.pipeline.mitigation; README "Deliverability: DMARC").
    Setting("dmarc_mitigation", "munge_from", "for authors whose domain publishes DMARC p=quarantine/p=reject:"
            " munge_from (From: becomes \"NAME via LIST\" <list address>), wrap (the post goes out attached to a"
            " message from the list) or none", DMARC_MITIGATIONS),
    Setting("dmarc_mitigate_always", False, "apply dmarc_mitigation to every post, whatever the author's domain"
            " publishes"),
    Setting("dmarc_author_in", "reply_to", "where a munged copy names the author: reply_to (Reply-To, unless"
            " reply_goes_to_list or a confidential thread needs it: then Cc) or cc", AUTHOR_PLACES),
    Setting("unauthenticated_posts", "hold", "a post, command or moderation reply whose From: domain publishes DMARC"
            " p=quarantine/p=reject and fails it: hold (for a moderator), reject or accept", UNAUTHENTICATED_ACTIONS),
    Setting("require_dkim", False, "confidential threads: a post without a valid DKIM signature of its From: domain"
            " is treated as unauthenticated, whatever the domain publishes"),
)


@dataclass(frozen=True)
class ListSettings:
    """Every setting of one list, typed, defaults applied; one field per row of LIST_SETTINGS, by the same name.

    Built only by from_stored() or with_text(), which take the defaults and
    the parsing from LIST_SETTINGS (a test checks that both name the same
    settings), so the fields carry no defaults of their own.

    >>> ListSettings.from_stored({"verp": False}).verp, ListSettings.from_stored({}).digest_time
    (False, '12:00')
    >>> ListSettings.from_stored({}).with_text("max_message_size", "2048").max_message_size
    2048
    """

    nonmember_action: str
    subject_prefix: str  # as stored, with {name} in it: MailingList.subject_prefix fills it in
    emergency_moderation: bool
    max_message_size: int
    reply_goes_to_list: bool
    archive: bool
    notify_rejected_nonmembers: bool
    subscription_policy: str
    confirm_days: int
    digest_size_threshold: int
    digest_time: str
    verp: bool
    verp_interval_hours: int
    bounce_threshold: int
    bounce_decay_days: int
    hold_expiry_days: int
    moderator_notices: bool
    confidential_tag: str
    all_confidential: bool
    confidential_archive: str
    confidential_retention_days: int
    confidential_notice: str
    leak_guard: str
    dmarc_mitigation: str
    dmarc_mitigate_always: bool
    dmarc_author_in: str
    unauthenticated_posts: str
    require_dkim: bool

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> ListSettings:
        """The settings of a list whose database row overrides these (unknown names are ignored)."""
        return cls(**{name: _stored_value(setting, stored) for name, setting in LIST_SETTINGS.items()})

    def with_text(self, key: str, text: str) -> ListSettings:
        """A copy with one setting changed from the text an administrator typed; BadSetting names what is wrong."""
        return dataclasses.replace(self, **{key: lookup(LIST_SETTINGS, key, "list").parse(text)})

    def as_dict(self) -> dict[str, object]:
        """Every setting by name, for `lists show` and its JSON."""
        return dataclasses.asdict(self)

    def overrides(self) -> dict[str, object]:
        """The settings that differ from their defaults: what the database keeps."""
        return {name: value for name, value in self.as_dict().items() if value != LIST_SETTINGS[name].default}


def _stored_value(setting: Setting, stored: Mapping[str, Any]) -> object:
    """The stored value when it has the setting's type, else that value parsed as typed text, else the default.

    `lists set` only ever stores parsed values; another type can only come
    from editing the database by hand. Reading what cannot be parsed as the
    default keeps every list usable instead of failing each of its posts.

    >>> _stored_value(LIST_SETTINGS["bounce_threshold"], {"bounce_threshold": "3"})
    3
    >>> _stored_value(LIST_SETTINGS["verp"], {"verp": "maybe"})
    True
    """
    value = stored.get(setting.name, setting.default)
    if type(value) is type(setting.default):
        return value
    try:
        return setting.parse(str(value))
    except BadSetting:
        return setting.default
