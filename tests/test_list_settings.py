"""ListSettings: one typed field per row of LIST_SETTINGS, defaults and parsing from the table, overrides as stored."""

from __future__ import annotations

import dataclasses
import json

import pytest

from listserv import lists
from listserv.errors import BadSetting
from listserv.list_settings import LIST_SETTINGS, ListSettings


def test_fields_are_the_settings_table_with_its_types():
    """Every setting of the table is a field of the same name and type, and there is no other field."""
    fields = {f.name: f.type for f in dataclasses.fields(ListSettings)}
    assert list(fields) == list(LIST_SETTINGS)
    for name, setting in LIST_SETTINGS.items():
        assert fields[name] == type(setting.default).__name__, name


def test_nothing_stored_gives_every_default():
    """A list with no overrides reads each setting's default, typed."""
    settings = ListSettings.from_stored({})
    assert settings.as_dict() == {name: s.default for name, s in LIST_SETTINGS.items()}
    assert settings.overrides() == {}
    assert settings.bounce_threshold == 5 and settings.verp is True and settings.confidential_tag == "[CONFIDENTIAL]"


def test_stored_overrides_win_and_unknown_names_are_ignored():
    """Stored values replace the defaults they name; a name no setting has is left out."""
    settings = ListSettings.from_stored({"leak_guard": "hold", "max_message_size": 2048, "gone_setting": 1})
    assert settings.leak_guard == "hold" and settings.max_message_size == 2048
    assert settings.overrides() == {"leak_guard": "hold", "max_message_size": 2048}
    assert "gone_setting" not in settings.as_dict()


def test_hand_edited_values_of_another_type_are_parsed_or_defaulted():
    """A value of the wrong type in the database is read as typed text when it parses, else as the default."""
    stored = {"bounce_threshold": "3", "archive": "no", "verp": "maybe", "confirm_days": None}
    settings = ListSettings.from_stored(stored)
    assert settings.bounce_threshold == 3 and settings.archive is False
    assert settings.verp is True and settings.confirm_days == 7


@pytest.mark.parametrize("key, text, value", [
    ("emergency_moderation", "On", True),
    ("archive", "no", False),
    ("hold_expiry_days", " 30 ", 30),
    ("nonmember_action", "REJECT", "reject"),
    ("digest_time", "7:05", "07:05"),
    ("subject_prefix", "[team]", "[team]"),
])
def test_with_text_parses_what_an_administrator_types(key, text, value):
    """with_text turns typed text into the setting's type and leaves the original unchanged (frozen)."""
    before = ListSettings.from_stored({})
    after = before.with_text(key, text)
    assert getattr(after, key) == value and type(getattr(after, key)) is type(value)
    assert before == ListSettings.from_stored({})


@pytest.mark.parametrize("key, text, fragment", [
    ("hold_expiry_days", "-1", "expected a whole number"),
    ("archive", "maybe", "expected true or false"),
    ("leak_guard", "drop", "expected one of notify, hold"),
    ("digest_time", "25:00", "expected a time of day"),
    ("confidential_notice", "a\nBcc: x@example.org", "line breaks"),
    ("no_such_key", "1", "unknown list setting 'no_such_key'"),
])
def test_with_text_refuses_bad_values_naming_the_setting(key, text, fragment):
    """A bad key or value is BadSetting (exit 2) with a message naming what it takes."""
    with pytest.raises(BadSetting) as refused:
        ListSettings.from_stored({}).with_text(key, text)
    assert fragment in str(refused.value) and refused.value.exit_code == 2


def test_settings_are_frozen():
    """Nobody changes a list's settings in passing: only `lists set` (a new value, stored) does."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        ListSettings.from_stored({}).verp = False


async def test_store_keeps_only_overrides_and_reads_them_back_typed(store):
    """`set_setting` stores only values that differ from the default; the list reads them back as typed fields."""
    await lists.create(store, "team@example.org")
    mlist = await lists.set_setting(store, "team@example.org", "bounce_threshold", "9")
    await lists.set_setting(store, "team@example.org", "archive", "true")  # the default: not stored
    row = await store.db.execute_fetchall("SELECT settings FROM lists")
    assert json.loads(row[0][0]) == {"bounce_threshold": 9}
    assert mlist.settings.bounce_threshold == 9
    assert (await lists.get(store, "team@example.org")).as_json()["bounce_threshold"] == 9
