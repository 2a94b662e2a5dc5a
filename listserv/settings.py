"""Typed settings with help text, shared by list settings and member settings.

A Setting knows how to turn the text an administrator types (`lists set ...
KEY VALUE`, `members set ...`) into a value of the right kind, and says what
is wrong in one line when it cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

from listserv.errors import BadSetting

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str
    choices: tuple[str, ...] = ()

    def parse(self, text: str) -> object:
        """The typed value of text, or BadSetting naming the setting and what it takes.

        >>> Setting("x", False, "").parse("On")
        True
        >>> Setting("x", 3, "").parse("ten")
        Traceback (most recent call last):
        ...
        listserv.errors.BadSetting: x: expected a whole number >= 0, got 'ten'
        >>> Setting("prefix", "", "").parse("[t]\\nBcc: x@example.org")
        Traceback (most recent call last):
        ...
        listserv.errors.BadSetting: prefix: line breaks and control characters are not allowed, got '[t]\\nBcc: x@example.org'
        """
        value = str(text).strip()
        if self.choices:
            if value.lower() not in self.choices:
                raise BadSetting(f"{self.name}: expected one of {', '.join(self.choices)}, got {value!r}")
            return value.lower()
        if isinstance(self.default, bool):
            return self._parse_bool(value)
        if isinstance(self.default, int):
            if not value.isdigit():
                raise BadSetting(f"{self.name}: expected a whole number >= 0, got {value!r}")
            return int(value)
        if not value.isprintable():
            raise BadSetting(f"{self.name}: line breaks and control characters are not allowed, got {value!r}")
        return value

    def _parse_bool(self, value: str) -> bool:
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise BadSetting(f"{self.name}: expected true or false, got {value!r}")


def lookup(table: dict[str, Setting], name: str, what: str) -> Setting:
    """The named setting, or BadSetting listing the ones that exist."""
    try:
        return table[name]
    except KeyError:
        raise BadSetting(f"unknown {what} setting {name!r}; known: {', '.join(sorted(table))}") from None


def table(*settings: Setting) -> dict[str, Setting]:
    return {s.name: s for s in settings}
