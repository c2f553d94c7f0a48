"""The engine's settings read flags as the gateway's do, and a bad value names its variable."""

from __future__ import annotations

import pytest

from common.settings_errors import SettingsError, load_settings
from knowledge_base.settings import Settings


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("on", True), ("yes", True), ("0", False),
                                                 ("off", False), ("no", False), ("false", False)])
def test_flags_read_the_same_words_as_the_gateway(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("AUSKUNFT_USE_TRAINED_MODEL", value)
    monkeypatch.setenv("AUSKUNFT_KB_WATCH", value)
    settings = load_settings(Settings)
    assert settings.use_trained_model is expected and settings.kb_watch is expected


def test_a_bad_value_names_the_variable_also_a_nested_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_KB_WATCH", "vielleicht")
    monkeypatch.setenv("AUSKUNFT_THRESHOLDS__ANSWER", "hoch")
    with pytest.raises(SettingsError) as raised:
        load_settings(Settings)
    message = str(raised.value)
    assert "AUSKUNFT_KB_WATCH='vielleicht'" in message and "1/true/yes/on or 0/false/no/off" in message
    assert "AUSKUNFT_THRESHOLDS__ANSWER='hoch'" in message and "valid number" in message
