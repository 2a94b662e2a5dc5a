"""How the CLI's --help reads: command listings that are never cut off, and the keys a `set` command takes.

click shortens the help of each command in a group's listing to what fits
the terminal and ends it with "...", which cut sentences off mid-way ("The
audit log: decisions, purges, and every read of a..."). Here a listing shows
the first sentence of the help whole, wrapped if it must be; the full text
stays on the command's own --help. The `set` commands list every key they
take with its meaning and default, from the one settings table, so the help
cannot drift from what the command accepts.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

import click

from listserv.settings import Setting

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")


def first_sentence(text: str) -> str:
    """The first sentence of a help text's first paragraph, on one line.

    >>> first_sentence("Search LIST's archive. QUERY (quote it) is words,\\n  phrases.\\n\\nMore.")
    "Search LIST's archive."
    >>> first_sentence("The audit log: decisions, purges, and every read of a\\nconfidential post.")
    'The audit log: decisions, purges, and every read of a confidential post.'
    """
    paragraph = " ".join(text.strip().split("\n\n")[0].split())
    return _SENTENCE_END.split(paragraph, maxsplit=1)[0]


class HelpCommand(click.Command):
    """A command whose line in its group's listing is its help's first sentence, whole."""

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help or not self.help:
            return super().get_short_help_str(limit)
        return first_sentence(self.help)


class HelpGroup(click.Group):
    """A group listed like HelpCommand, whose commands and subgroups are listed the same way."""

    command_class = HelpCommand
    group_class = type  # subgroups are of this same class

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help or not self.help:
            return super().get_short_help_str(limit)
        return first_sentence(self.help)


class SettingsCommand(HelpCommand):
    """A `set` command whose --help ends with every KEY it takes, its meaning and its default."""

    def __init__(self, *args: Any, settings: Iterable[Setting] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = tuple(settings)

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Keys"):
            formatter.write_dl([(setting.name, meaning(setting)) for setting in self.settings])
        super().format_epilog(ctx, formatter)


def meaning(setting: Setting) -> str:
    """What a setting does, the values it takes when they are a choice, and its default.

    >>> meaning(Setting("leak_guard", "notify", "what to do", ("notify", "hold")))
    'what to do. Values: notify, hold. Default: notify.'
    >>> meaning(Setting("verp", True, "one copy each")), meaning(Setting("prefix", "", "added to subjects"))
    ('one copy each. Default: true.', 'added to subjects. Default: empty.')
    """
    values = f" Values: {', '.join(setting.choices)}." if setting.choices else ""
    return f"{setting.help}.{values} Default: {_default(setting.default)}."


def _default(value: object) -> str:
    """A default as typed: true/false, a number, a word, "a phrase" in quotes, or the word empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "empty" if not text else f'"{text}"' if " " in text else text
