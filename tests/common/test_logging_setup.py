"""common/logging_setup.py: the level from the environment, a size-rotated file per process, the audit log beside
it, no colour codes in files, progress bars only on a terminal."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pty
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from common.logging_setup import (
    AUDIT_LOGGER,
    PROGRESS_BARS_OFF,
    LogSettings,
    configure_logging,
    progress_bars_wanted,
    set_console_level,
)
from common.settings_errors import SettingsError
from knowledge_base.tools import cli as kb_cli
from tests.support.logs import restored_logging


@pytest.fixture(autouse=True)
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """configure_logging replaces the process's set-up: put pytest's back afterwards, and the environment."""
    for name in PROGRESS_BARS_OFF:
        monkeypatch.delenv(name, raising=False)  # recorded, so what configure_logging sets is undone too
    with restored_logging():
        yield


def test_lines_go_to_stderr_and_the_process_file_without_colour_codes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("gateway", LogSettings(dir=tmp_path))
    logging.getLogger("auskunft.delivery").warning("Zustellung fehlgeschlagen: %d Versuche", 6)
    logging.getLogger("auskunft.delivery").debug("nicht bei INFO")
    text = (tmp_path / "gateway.log").read_text(encoding="utf-8")
    assert "WARNING  auskunft.delivery: Zustellung fehlgeschlagen: 6 Versuche" in text
    assert "nicht bei INFO" not in text and "\x1b[" not in text
    assert "Zustellung fehlgeschlagen" in capsys.readouterr().err


def test_the_log_file_rotates_by_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("actions", LogSettings(dir=tmp_path, max_bytes=400, backups=2))
    for number in range(40):
        logging.getLogger("actions.test").info("Zeile %02d %s", number, "x" * 30)
    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["actions.log", "actions.log.1", "actions.log.2"]  # the oldest beyond two backups dropped
    assert all((tmp_path / name).stat().st_size <= 400 for name in files)
    assert "Zeile 39" in (tmp_path / "actions.log").read_text(encoding="utf-8")
    assert "Zeile 00" not in "".join((tmp_path / name).read_text(encoding="utf-8") for name in files)


def test_audit_lines_have_their_own_file_and_stay_in_the_main_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("gateway", LogSettings(dir=tmp_path))
    logging.getLogger("auskunft.sms").info("SMS gesendet")
    logging.getLogger(AUDIT_LOGGER).info("login: agent %d", 7)
    [line] = (tmp_path / "audit.log").read_text(encoding="utf-8").splitlines()
    when, what = line.split(" ", 1)
    assert what == "login: agent 7"
    assert when[:4].isdigit() and "T" in when and when[-5] in "+-"  # ISO 8601 with the UTC offset
    assert "login: agent 7" in (tmp_path / "gateway.log").read_text(encoding="utf-8")


def test_a_process_that_never_audits_creates_no_audit_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("cli", LogSettings(dir=tmp_path))
    logging.getLogger("knowledge_base.engine").info("serving 38 entries")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cli.log"]


def test_the_level_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AUSKUNFT_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("AUSKUNFT_LOG_LEVEL", "warning")
    configure_logging("cli")
    logging.getLogger("knowledge_base.engine").info("nur bei INFO")
    logging.getLogger("knowledge_base.engine").warning("Fehler in den FAQ-Dateien")
    text = (tmp_path / "cli.log").read_text(encoding="utf-8")
    assert "Fehler in den FAQ-Dateien" in text and "nur bei INFO" not in text
    monkeypatch.setenv("AUSKUNFT_LOG_LEVEL", "laut")
    with pytest.raises(SettingsError, match=r"AUSKUNFT_LOG_LEVEL='laut': unknown log level .* DEBUG, INFO"):
        configure_logging("cli")


def test_the_console_can_be_quieter_than_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("cli", LogSettings(dir=tmp_path), console_level=logging.WARNING)
    logging.getLogger("knowledge_base.engine").info("erste Meldung")
    set_console_level(logging.NOTSET)  # the CLI's -v
    logging.getLogger("knowledge_base.engine").info("zweite Meldung")
    console = capsys.readouterr().err
    assert "erste Meldung" not in console and "zweite Meldung" in console
    assert "erste Meldung" in (tmp_path / "cli.log").read_text(encoding="utf-8")


def test_progress_bars_are_off_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not progress_bars_wanted()
    configure_logging("cli", LogSettings(dir=tmp_path))
    # the libraries' switches, for what is imported later and for child processes (Rasa's training, the fine-tune)
    assert {name: os.environ.get(name) for name in PROGRESS_BARS_OFF} == PROGRESS_BARS_OFF


BAR = """
import sys
from common.logging_setup import LogSettings, configure_logging
configure_logging("cli", LogSettings(dir=sys.argv[1]))
from tqdm import tqdm
for _ in tqdm(range(3)):
    pass
"""


def bar_output(tmp_path: Path, terminal: bool) -> str:
    """What a process that sets up logging and then shows a tqdm bar writes to its stderr."""
    env = {key: value for key, value in os.environ.items() if key not in PROGRESS_BARS_OFF}
    command = [sys.executable, "-c", BAR, str(tmp_path)]
    if not terminal:
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stderr
    main, side = pty.openpty()
    fcntl.ioctl(side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))  # a new pty is 0 columns wide
    with subprocess.Popen(command, env=env, stderr=side) as process:
        os.close(side)
        chunks = []
        with contextlib.suppress(OSError):  # EIO once the child has closed its side
            while chunk := os.read(main, 4096):
                chunks.append(chunk)
        process.wait()
    os.close(main)
    return b"".join(chunks).decode(errors="replace")


def test_a_progress_bar_shows_on_a_terminal_only(tmp_path: Path) -> None:
    assert "3/3" in bar_output(tmp_path, terminal=True)
    assert bar_output(tmp_path, terminal=False) == ""


def test_the_cli_builds_without_progress_bars_when_not_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[bool] = []

    class RecordingKnowledgeBase:
        last_stats = SimpleNamespace(entries=1, texts=1, embedded=1)
        using_trained_model = False

        def reload(self, show_progress: bool = False) -> SimpleNamespace:
            shown.append(show_progress)
            return SimpleNamespace(errors=[])

    monkeypatch.setattr(kb_cli, "KnowledgeBase", RecordingKnowledgeBase)
    result = CliRunner().invoke(kb_cli.cli, ["build"])  # CliRunner's stderr is no terminal
    assert result.exit_code == 0, result.output
    assert shown == [False]
