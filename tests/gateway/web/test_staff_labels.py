"""The pieces staff pages are made of: Berlin times, the German labels, the handoff summary, the Markdown renderer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.handoff import summarise
from bot import markdown_html
from bot.conversation.receive import PAGE_INBOX_REASON
from bot.conversation.states import InvalidTransition
from bot.models import Sender, State
from bot.web.staff_time import staff_time
from common import labels, protocol

NOW = datetime(2026, 11, 29, 14, 30, tzinfo=UTC)  # 15:30 in Berlin (CET)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        (datetime(2026, 11, 29, 13, 3, tzinfo=UTC), "14:03"),  # today: the time only, Berlin
        (datetime(2026, 11, 28, 23, 30, tzinfo=UTC), "00:30"),  # UTC yesterday, but today in Berlin
        (datetime(2026, 11, 29, 11, 59), "12:59"),  # naive, as SQLite hands it back: UTC
        ("2026-11-29T13:03:00+00:00", "14:03"),  # the inbox's JSON
        (datetime(2026, 11, 27, 13, 3, tzinfo=UTC), "27.11. 14:03"),  # another day this year
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "01.07. 14:00"),  # summer time: UTC+2
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "29.03. 01:59"),  # the last minute of winter time …
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "29.03. 03:00"),  # … and the first of summer time
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25.10. 02:30"),  # 02:30 twice in October: CEST …
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25.10. 02:30"),  # … and CET
        (datetime(2025, 11, 29, 13, 3, tzinfo=UTC), "29.11.2025 14:03"),  # another year
        (datetime(2025, 12, 31, 23, 30, tzinfo=UTC), "01.01. 00:30"),  # New Year in Berlin is this year
        (None, "–"),
    ],
)
def test_staff_time(moment: datetime | str | None, shown: str) -> None:
    assert staff_time(moment, NOW) == shown


def test_today_is_the_berlin_day_of_now() -> None:
    late = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # already the 30th in Berlin
    assert staff_time(datetime(2026, 11, 29, 12, 0, tzinfo=UTC), late) == "29.11. 13:00"
    assert staff_time(datetime(2026, 11, 29, 23, 10, tzinfo=UTC), late) == "00:10"


def test_every_code_has_a_german_label() -> None:
    assert set(labels.STATES) == set(State)
    assert set(labels.SENDERS) == set(Sender)
    # the bot's reasons, and the gateway's own: Rasa not answering, a person answering in Meta's Page Inbox
    assert set(labels.HANDOFF_REASONS) == {*protocol.HANDOFF_REASONS, "bot_unavailable", PAGE_INBOX_REASON}
    assert set(labels.DECISIONS) == set(protocol.DECISION_ACTIONS)
    for words in (labels.STATES, labels.SENDERS, labels.HANDOFF_REASONS, labels.DECISIONS, labels.DECISION_REASONS):
        assert all(label and "_" not in label for label in words.values())
        assert len(set(words.values())) == len(words)  # one word for one code
    assert labels.state("waiting_for_agent") == "wartet auf Kundenservice"
    assert labels.handoff_reason("low_confidence") == "Bot war unsicher"
    assert labels.decision_reason("clear match") == "eindeutiger Treffer"
    assert labels.sender("contact") == "Kunde"
    assert labels.state("someday_new") == "someday_new"  # unknown: shown as it is, never hidden


def test_the_handoff_summary_is_german() -> None:
    summary = summarise("low_confidence", ["Wo ist mein Paket?"], "Wie lange dauert die Lieferung?")
    assert summary == ("Übergabe: Bot war unsicher. Kunde schrieb: „Wo ist mein Paket?“. "
                       "Zuletzt beantwortet: „Wie lange dauert die Lieferung?“.")
    assert labels.handoff_headline("requested", "low_confidence") == (
        "Übergabe: Kunde möchte einen Menschen (zuvor: Bot war unsicher)."
    )
    # a summary stored before (with the code) reads the same on the pages
    assert labels.handoff_summary("Übergabe: requested (zuvor low_confidence). Kunde schrieb: „x“.") == (
        "Übergabe: Kunde möchte einen Menschen (zuvor: Bot war unsicher). Kunde schrieb: „x“."
    )
    assert labels.handoff_summary("Übergabe: Bot war unsicher. Rest") == "Übergabe: Bot war unsicher. Rest"


def test_markdown_is_rendered_and_sanitised() -> None:
    html = markdown_html.to_html(
        "Wir liefern in **2–3 Werktagen**. [Kontakt](https://shop.example/kontakt)\n\n- eins\n- zwei\n\n"
        '<script>alert(1)</script> <img src=x onerror=alert(1)> [böse](javascript:alert(1)) '
        '[auch](data:text/html;base64,PHNjcmlwdD4=) ![bild](https://shop.example/a.png)'
    )
    assert "<strong>2–3 Werktagen</strong>" in html
    assert '<a href="https://shop.example/kontakt" target="_blank" rel="noopener noreferrer">Kontakt</a>' in html
    assert "<ul>\n<li>eins</li>" in html
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;" in html  # raw HTML in an answer stays text, as in the widget
    assert 'href="javascript' not in html and 'href="data' not in html
    assert markdown_html.to_html(None) == ""
    assert markdown_html.to_html("Meinten Sie …?\n1 = Versand") == "<p>Meinten Sie …?<br>\n1 = Versand</p>\n"


def test_a_refused_state_change_is_explained_in_german() -> None:
    """The inbox shows this 409 message to the agent as it is (closing a closed conversation, say)."""
    assert str(InvalidTransition("closed", "with_agent")) == (
        "das Gespräch ist „beendet“ und kann nicht „beim Kundenservice“ werden"
    )
