"""The analytics figures against a small seeded database worked out by hand (see analytics_helpers), the
page and its CSV exports, the filters, and who may see them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask

from bot.analytics import figures
from bot.analytics.figures import Figures
from bot.db import get_session
from bot.models import Role
from tests.support.analytics_seed import seed_small
from tests.support.app import make_app
from tests.support.login import AgentSession, logged_in

NOV2, NOV3 = date(2026, 11, 2), date(2026, 11, 3)


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = make_app(tmp_path, CLOCK=lambda: datetime(2026, 11, 3, 12, 0, tzinfo=UTC))
    seed_small(app)
    return app


@pytest.fixture
def editor(app: Flask) -> AgentSession:
    return logged_in(app, "eva@example.com", Role.EDITOR)


def report(app: Flask, start: date = NOV2, end: date = NOV3, channel: str | None = None) -> figures.Report:
    with app.app_context():
        return figures.build(get_session(), start, end, channel)


def test_percentile_is_nearest_rank() -> None:
    assert figures.percentile([], 50) is None
    assert figures.percentile([7], 95) == 7
    assert figures.percentile([4, 1, 3, 2], 50) == 2  # ⌈2⌉ = 2nd
    assert figures.percentile([4, 1, 3, 2], 95) == 4  # ⌈3.8⌉ = 4th
    assert figures.percentile(range(1, 101), 95) == 95


def test_every_figure_of_the_period(app: Flask) -> None:
    total = report(app).total()
    assert total == Figures(
        conversations=5,
        contained=2,
        handed_off=3,
        messages=40,
        customer_messages=16,
        questions=7,
        answered=5,
        clarified=1,
        handoff_decisions=1,
        helpful=2,
        not_helpful=1,
        ratings=2,
        csat_average=3.5,
        csat_satisfied_share=0.5,
        bot_p50=2,
        bot_p95=6,
        agent_first_p50=120,
        agent_first_p95=900,
        close_p50=250,
        close_p95=960,
        handoff_reasons={"requested": 2, "low_confidence": 1},
        rating_counts={1: 0, 2: 1, 3: 0, 4: 0, 5: 1},
    )
    assert (total.containment, total.handoff_rate) == (0.4, 0.6)
    assert (total.answered_share, total.clarified_share, total.handoff_decision_share) == (5 / 7, 1 / 7, 1 / 7)


def test_per_day_per_channel_and_entries(app: Flask) -> None:
    result = report(app)
    days = result.by_day()
    assert list(days) == [NOV2, NOV3]
    nov2, nov3 = days[NOV2], days[NOV3]
    # C2 began at 00:30 Berlin time, 23:30 UTC the day before: it counts on the 2nd
    assert (nov2.conversations, nov2.contained, nov2.messages, nov2.csat_average) == (2, 1, 19, 5.0)
    assert (nov2.bot_p50, nov2.bot_p95, nov2.agent_first_p50, nov2.close_p50) == (1, 4, 120, 250)
    assert (nov3.conversations, nov3.contained, nov3.messages, nov3.csat_average) == (3, 1, 21, 2.0)
    assert (nov3.bot_p50, nov3.bot_p95, nov3.agent_first_p95, nov3.close_p95) == (2, 6, 900, 960)
    channels = result.by_channel()
    assert {ch: f.conversations for ch, f in channels.items()} == {"web": 3, "messenger": 1, "sms": 1}
    assert channels["sms"].handoff_reasons == {"low_confidence": 1}
    entries = [(e.faq_id, e.answered, e.helpful, e.not_helpful, e.helpful_share) for e in result.entries()]
    assert entries == [
        ("versand-lieferzeit", 3, 2, 0, 1.0),
        ("retoure-frist", 1, 0, 0, None),
        ("versand-kosten", 1, 0, 1, 0.0),
    ]


def test_filters_by_channel_and_date(app: Flask) -> None:
    web = report(app, channel="web").total()
    assert (web.conversations, web.contained, web.handed_off, web.messages) == (3, 2, 1, 22)
    assert (web.ratings, web.csat_average, web.bot_p50, web.bot_p95) == (1, 2.0, 1, 4)
    assert (web.agent_first_p50, web.handoff_reasons) == (None, {"requested": 1})
    assert [(e.faq_id, e.answered) for e in report(app, channel="web").entries()] == [
        ("versand-lieferzeit", 2),
        ("versand-kosten", 1),
    ]
    third = report(app, NOV3, NOV3).total()
    assert (third.conversations, third.ratings, third.csat_average) == (3, 1, 2.0)
    assert (third.agent_first_p50, third.close_p50, third.handoff_reasons) == (900, 960, {"requested": 2})
    everything = report(app, date(2026, 11, 1), date(2026, 11, 4)).total()
    assert (everything.conversations, everything.ratings) == (7, 3)  # C0 and C6 at the edges


def test_dashboard_shows_the_figures(editor: AgentSession) -> None:
    page = editor.get("/admin/analytics/?start=2026-11-02&end=2026-11-03").get_data(as_text=True)
    for expected in (
        '<span class="value">5</span><span class="name">Gespräche',
        '<span class="value">40,0 %</span><span class="name">ohne Mensch gelöst',
        '<span class="value">60,0 %</span><span class="name">Übergaben',
        '<span class="value">3,50</span>',
        "2 Bewertungen, 50,0 % mit 4–5",
        '<span class="value">2,0 s</span><span class="name">Antwortzeit Bot (p50; p95 6,0 s)',
        '<span class="value">2 min 00 s</span><span class="name">erste Antwort Mitarbeiter (p50; p95 15 min 00 s)',
        "<td>4 min 10 s</td><td>16 min 00 s</td>",  # time to close p50, p95
        "<th>beantwortet</th><td>5</td><td>71,4 %</td>",
        "<th>nachgefragt („Meinten Sie …?“)</th><td>1</td><td>14,3 %</td>",
        "<th>an einen Menschen übergeben</th><td>1</td><td>14,3 %</td>",
        '<tr data-faq="versand-lieferzeit"><td><code>versand-lieferzeit</code></td><td>3</td><td>2</td><td>0</td>'
        "<td>100,0 %</td></tr>",
        "<tr><td>Kunde möchte einen Menschen</td><td>2</td></tr><tr><td>Bot war unsicher</td><td>1</td></tr>",
        "Perzentile",  # the definitions are on the page
    ):
        assert expected in page, expected
    assert page.count('<g class="bar" data-key="2026-11-0') == 4  # 2 days × (conversations, messages)
    assert "<title>02.11. SMS: 1 Gespräche</title>" in page


def test_default_period_is_the_last_30_days(editor: AgentSession) -> None:
    page = editor.get("/admin/analytics/").get_data(as_text=True)
    assert "05.10.2026 – 03.11.2026" in page  # the app's clock says 3 November
    assert page.count('<g class="bar" data-key="2026-') == 60


def test_bad_filters_are_400(editor: AgentSession) -> None:
    for query in ("start=gestern", "end=2026-13-01", "start=2026-11-03&end=2026-11-02", "channel=fax",
                  "start=2025-01-01&end=2026-11-03"):  # fmt: skip
        response = editor.get(f"/admin/analytics/?{query}")
        assert response.status_code == 400, query
    assert editor.get("/admin/analytics/export.csv?start=gestern").status_code == 400


def rows(response) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_export_per_day_and_channel(editor: AgentSession) -> None:
    response = editor.get("/admin/analytics/export.csv?start=2026-11-02&end=2026-11-03")
    assert 'filename="auswertung-tage-2026-11-02-2026-11-03.csv"' in response.headers["Content-Disposition"]
    table = rows(response)
    assert [(r["day"], r["channel"]) for r in table] == [
        (day, ch) for day in ("2026-11-02", "2026-11-03") for ch in ("web", "messenger", "sms")
    ]
    web_2nd = table[0]
    assert web_2nd == {
        "day": "2026-11-02", "channel": "web", "conversations": "1", "contained": "1", "handed_off": "0",
        "containment": "1.0", "handoff_rate": "0.0", "messages": "12", "customer_messages": "5", "questions": "3",
        "answered": "2", "clarified": "1", "handoff_decisions": "0", "answered_share": "0.6667",
        "clarified_share": "0.3333", "handoff_decision_share": "0.0", "helpful": "1", "not_helpful": "1",
        "ratings": "0", "csat_average": "", "csat_satisfied_share": "", "bot_p50": "1.0", "bot_p95": "4.0",
        "agent_first_p50": "", "agent_first_p95": "", "close_p50": "", "close_p95": "", "handoff_reasons": "",
    }  # fmt: skip
    sms_2nd = table[2]
    assert (sms_2nd["conversations"], sms_2nd["handoff_reasons"], sms_2nd["ratings"]) == ("1", "low_confidence=1", "1")
    assert (sms_2nd["agent_first_p50"], sms_2nd["close_p50"], sms_2nd["bot_p50"]) == ("120.0", "250.0", "3.0")
    assert sum(int(r["conversations"]) for r in table) == 5
    assert sum(int(r["messages"]) for r in table) == 40


def test_csv_exports_follow_the_channel_filter(editor: AgentSession) -> None:
    table = rows(editor.get("/admin/analytics/export.csv?start=2026-11-02&end=2026-11-03&channel=web"))
    assert [(r["day"], r["channel"], r["conversations"]) for r in table] == [
        ("2026-11-02", "web", "1"),
        ("2026-11-03", "web", "2"),
    ]
    entries = rows(editor.get("/admin/analytics/entries.csv?start=2026-11-02&end=2026-11-03"))
    assert entries == [
        {"faq_id": "versand-lieferzeit", "answered": "3", "helpful": "2", "not_helpful": "0", "helpful_share": "1.0"},
        {"faq_id": "retoure-frist", "answered": "1", "helpful": "0", "not_helpful": "0", "helpful_share": ""},
        {"faq_id": "versand-kosten", "answered": "1", "helpful": "0", "not_helpful": "1", "helpful_share": "0.0"},
    ]


@pytest.mark.parametrize("path", ["/admin/analytics/", "/admin/analytics/export.csv", "/admin/analytics/entries.csv"])
def test_roles(app: Flask, path: str) -> None:
    anonymous = app.test_client()
    response = anonymous.get(path)
    assert response.status_code == 302 and "/agent/login" in response.headers["Location"]
    assert anonymous.get(path, headers={"Accept": "application/json"}).status_code == 401
    assert logged_in(app, "alex@example.com", Role.AGENT).get(path).status_code == 403
    assert logged_in(app, "eva@example.com", Role.EDITOR).get(path).status_code == 200
    assert logged_in(app, "ada@example.com", Role.ADMIN).get(path).status_code == 200


def test_seed_demo_command(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo-analytics", "--days", "7", "--end", "2026-11-03"])
    assert result.exit_code == 0, result.output
    demo = report(app, date(2026, 10, 28), NOV3)
    assert all(figures.conversations > 0 for figures in demo.by_day().values())
    assert all(figures.conversations > 0 for figures in demo.by_channel().values())
    total = demo.total()
    assert 0 < total.handed_off < total.contained and total.ratings > 0 and total.helpful > total.not_helpful
    again = runner.invoke(args=["seed-demo-analytics"])
    assert again.exit_code == 1 and "--force" in again.output


def test_an_empty_database_shows_dashes_not_errors(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    editor = logged_in(app, "eva@example.com", Role.EDITOR)
    page = editor.get("/admin/analytics/?start=2026-11-02&end=2026-11-03&channel=sms").get_data(as_text=True)
    assert '<span class="value">0</span><span class="name">Gespräche' in page
    assert '<span class="value">–</span><span class="name">ohne Mensch gelöst' in page
    assert "Keine Übergaben." in page and "Keine Antworten im Zeitraum." in page
    table = rows(editor.get("/admin/analytics/export.csv?start=2026-11-02&end=2026-11-02"))
    assert [(r["channel"], r["conversations"], r["containment"], r["bot_p50"]) for r in table] == [
        ("web", "0", "", ""),
        ("messenger", "0", "", ""),
        ("sms", "0", "", ""),
    ]
