"""The gateway's settings: one parse for every flag, a bad value stops the start naming the variable, the TOML
file under the environment, and the test mapping over both."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

import bot.__main__ as bot_main
from bot import config, create_app
from common.settings_errors import SettingsError
from tests.support import databases


@pytest.fixture(autouse=True)
def no_operator_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The repository's own var/auskunft.toml (if someone has one) must not leak into these tests."""
    monkeypatch.setattr(config, "VAR", tmp_path / "var")
    monkeypatch.delenv("AUSKUNFT_CONFIG_FILE", raising=False)


def gateway(tmp_path: Path, **overrides: object) -> Flask:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    databases.migrate(url)
    return create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url, **overrides})


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("yes", True), ("on", True), ("0", False), ("false", False), ("no", False),
     ("off", False), ("TRUE", True), ("Off", False)],
)
def test_every_flag_reads_the_same_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    # before, AUSKUNFT_SMTP_STARTTLS=1 switched STARTTLS off: only the word "true" counted
    for variable in ("AUSKUNFT_SMTP_STARTTLS", "AUSKUNFT_SECURE_COOKIES", "AUSKUNFT_MESSENGER_HUMAN_AGENT_TAG"):
        monkeypatch.setenv(variable, value)
    app = gateway(tmp_path)
    assert app.config["SMTP_STARTTLS"] is expected
    assert app.config["SESSION_COOKIE_SECURE"] is expected
    assert app.config["MESSENGER_HUMAN_AGENT_TAG"] is expected


def test_defaults_without_any_setting(tmp_path: Path) -> None:
    app = gateway(tmp_path)
    assert app.config["SMTP_STARTTLS"] is True and app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["SMTP_PORT"] == 587 and app.config["SMS_REPLY_MODE"] == "twiml"
    assert app.config["BUSINESS_HOURS"] == "mo-fr 08:00-20:00; sa 09:00-16:00"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("AUSKUNFT_BUSINESS_HOURS", "irgendwas", "cannot read 'irgendwas'; expected e.g. 'mo-fr 08:00-20:00'"),
        ("AUSKUNFT_BUSINESS_HOURS", "mo 20:00-08:00", "closing time is not after opening time"),
        ("AUSKUNFT_SMTP_PORT", "abc", "valid integer"),
        ("AUSKUNFT_SMTP_PORT", "70000", "less than or equal to 65535"),
        ("AUSKUNFT_SMS_REPLY_MODE", "fax", "'twiml' or 'api'"),
        ("AUSKUNFT_SMTP_STARTTLS", "vielleicht", "expected 1/true/yes/on or 0/false/no/off"),
        ("AUSKUNFT_RASA_TIMEOUT", "-1", "greater than 0"),
        ("AUSKUNFT_DELIVERY_MAX_ATTEMPTS", "viele", "valid integer"),
        ("AUSKUNFT_RETENTION_DAYS", "0", "greater than or equal to 1"),
        ("AUSKUNFT_PRIVACY_URL", "javascript:alert(1)", "must be an http(s) address"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable_and_its_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        gateway(tmp_path)
    message = str(raised.value)
    assert f"{variable}={value!r}" in message
    assert expected in message


def test_every_bad_value_is_named_at_once_and_a_secret_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUSKUNFT_SMTP_PORT", "abc")
    monkeypatch.setenv("AUSKUNFT_SMS_REPLY_MODE", "fax")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('AUSKUNFT_SMTP_PASSWORD = ["streng", "geheim"]\n')  # a list where a string belongs
    monkeypatch.setenv("AUSKUNFT_CONFIG_FILE", str(secrets))
    with pytest.raises(SettingsError) as raised:
        config.from_env()
    message = str(raised.value)
    assert "AUSKUNFT_SMTP_PORT=" in message and "AUSKUNFT_SMS_REPLY_MODE=" in message
    assert "AUSKUNFT_SMTP_PASSWORD: " in message and "geheim" not in message


def test_the_environment_wins_over_the_file_and_the_file_over_the_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "auskunft.toml"
    file.write_text(
        'AUSKUNFT_SMTP_HOST = "mail.aus-der-datei.example"\n'
        "AUSKUNFT_SMTP_PORT = 2525\n"  # TOML's own types are read as well
        "AUSKUNFT_SMTP_STARTTLS = false\n"
        'AUSKUNFT_TWILIO_FROM_NUMBER = 4915112345678\n'
        'AUSKUNFT_SMS_REPLY_MODE = "api"\n'
        'OTHER_TOOL_SETTING = "nicht unseres"\n'
        "[other_table]\nkey = 1\n"
    )
    monkeypatch.setenv("AUSKUNFT_CONFIG_FILE", str(file))
    monkeypatch.setenv("AUSKUNFT_SMTP_HOST", "mail.aus-der-umgebung.example")
    monkeypatch.setenv("AUSKUNFT_SMS_REPLY_MODE", "")  # empty = not set: the file's value counts
    settings = config.from_env()
    assert settings["SMTP_HOST"] == "mail.aus-der-umgebung.example"
    assert settings["SMTP_PORT"] == 2525
    assert settings["SMTP_STARTTLS"] is False
    assert settings["TWILIO_FROM_NUMBER"] == "4915112345678"
    assert settings["SMS_REPLY_MODE"] == "api"
    assert settings["MAIL_FROM"] == "kundenservice@localhost"


def test_a_bad_value_in_the_file_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "auskunft.toml"
    file.write_text('AUSKUNFT_BUSINESS_HOURS = "immer offen"\n')
    monkeypatch.setenv("AUSKUNFT_CONFIG_FILE", str(file))
    with pytest.raises(SettingsError, match=r"AUSKUNFT_BUSINESS_HOURS='immer offen': cannot read"):
        config.from_env()


def test_var_auskunft_toml_is_read_without_naming_it(tmp_path: Path) -> None:
    assert config.from_env()["METRICS_TOKEN"] == ""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "auskunft.toml").write_text('AUSKUNFT_METRICS_TOKEN = "aus-var"\n')
    assert config.from_env()["METRICS_TOKEN"] == "aus-var"


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_CONFIG_FILE", str(tmp_path / "fehlt.toml"))
    with pytest.raises(FileNotFoundError, match=r"AUSKUNFT_CONFIG_FILE names .*fehlt\.toml"):
        config.from_env()


def test_the_test_mapping_overrides_environment_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_SMTP_PORT", "2525")
    monkeypatch.setenv("AUSKUNFT_SMTP_STARTTLS", "on")
    app = gateway(tmp_path, SMTP_PORT=25, SMTP_STARTTLS=False)
    assert app.config["SMTP_PORT"] == 25 and app.config["SMTP_STARTTLS"] is False


def test_python_m_bot_run_stops_with_the_message_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def must_not_train() -> None:
        raise AssertionError("Rasa training started despite a bad setting")

    monkeypatch.setattr(bot_main.training, "ensure_trained", must_not_train)
    monkeypatch.setattr(bot_main.signal, "signal", lambda *_: None)  # leave pytest's signal handlers alone
    monkeypatch.setenv("AUSKUNFT_SMTP_PORT", "abc")
    assert bot_main.main(["run"]) == 2
    assert "AUSKUNFT_SMTP_PORT='abc'" in capsys.readouterr().err


def test_several_workers_without_redis_stop_the_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Their SSE wake-ups and per-customer locks would stay inside each worker (bot/replicas.py)."""
    monkeypatch.setenv("AUSKUNFT_GATEWAY_WORKERS", "2")
    monkeypatch.delenv("AUSKUNFT_REDIS_URL", raising=False)
    with pytest.raises(SettingsError, match="AUSKUNFT_GATEWAY_WORKERS > 1 needs AUSKUNFT_REDIS_URL"):
        gateway(tmp_path)
    monkeypatch.setenv("AUSKUNFT_REDIS_URL", "redis://127.0.0.1:6379/14")
    gateway(tmp_path)  # starts; nothing is sent to Redis before a request


def test_the_privacy_links_reach_the_widget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_PRIVACY_URL", "https://shop.example/datenschutz")
    monkeypatch.delenv("AUSKUNFT_IMPRINT_URL", raising=False)
    config = gateway(tmp_path).test_client().get("/api/widget/config").get_json()
    assert config == {"privacy_url": "https://shop.example/datenschutz", "imprint_url": ""}
