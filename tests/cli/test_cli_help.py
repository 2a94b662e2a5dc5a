"""--help everywhere: no line cut off with "...", and the `set` commands list the keys they take."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from cli import main
from listserv import lists, membership


def every_command(group: click.Group = main, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """The argument paths of the root, every group and every command, e.g. ("archive", "export")."""
    found = [path]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += every_command(command, path + (name,))
        else:
            found.append(path + (name,))
    return found


def squeezed(text: str) -> str:
    """text without any whitespace: help is wrapped at spaces and after hyphens, wherever the width falls."""
    return "".join(text.split())


def shown(*args: str, width: int = 80) -> str:
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=width)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("width", [80, 50])
@pytest.mark.parametrize("path", every_command(), ids=lambda path: " ".join(path) or "listserv")
def test_no_help_line_is_cut_off(path, width):
    """Every command's --help, at 80 columns and on a narrow terminal: no line ends in "..." (click's cut),
    the usage lines aside (where "ID..." means several)."""
    _usage, _, rest = shown(*path, width=width).partition("\n\n")
    cut = [line for line in rest.splitlines() if line.rstrip().endswith("...")]
    assert cut == []


def test_group_listings_name_every_command_with_its_first_sentence():
    """A group's listing shows each command with the first sentence of its help, whole (wrapped if long)."""
    text = " ".join(shown("audit").split())
    assert "ls Audit entries, newest first (all lists, or LIST)." in text
    root = " ".join(shown().split())
    assert "audit The audit log: decisions, purges, and every read of a confidential post." in root
    assert "archive Search, read, import, export and re-index the archive." in root


def test_lists_set_help_lists_every_key_with_its_meaning_and_default():
    """`lists set --help` names every list setting (and description) with its help text and default."""
    text = shown("lists", "set")
    assert "\nKeys:\n" in text
    for setting in (lists.DESCRIPTION, *lists.LIST_SETTINGS.values()):
        assert squeezed(f"{setting.name} {setting.help}.") in squeezed(text), setting.name
    assert squeezed("nonmember_action what happens to posts from non-members. Values: hold, reject, discard, accept."
                    " Default: hold.") in squeezed(text)
    assert squeezed("hold_expiry_days discard held non-member posts after this many days") in squeezed(text)


def test_members_set_help_lists_every_key():
    """`members set --help` names every member setting with its meaning."""
    text = squeezed(shown("members", "set"))
    for name, setting in membership.MEMBER_SETTINGS.items():
        assert squeezed(f"{name} {setting.help}.") in text, name
    assert squeezed("Values: regular, digest, nomail. Default: regular.") in text
