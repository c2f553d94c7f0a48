"""`/admin/analytics/`: the dashboard (charts, figures, definitions) and its CSV exports; role `editor`.

The filter is a GET form (from, to: Berlin days; channel), so a filtered view is a link one can share or
bookmark, and the export links carry the same filter. The figures come from `bot.analytics.figures`.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request
from wtforms import DateField, Form, SelectField
from wtforms.validators import Optional

from bot import channels
from bot.analytics import charts
from bot.analytics.figures import Figures, Report, berlin_day, build
from bot.db import get_session
from bot.models import Role
from bot.web.access import role_required
from common import labels

bp = Blueprint("admin_analytics", __name__, url_prefix="/admin/analytics")
DEFAULT_DAYS = 30
MAX_DAYS = 366
HALF = 420  # the viewBox width of charts in a half-width column: their text stays legible


class FilterForm(Form):
    """The period and the channel; a plain WTForms form (GET, no CSRF: it changes nothing)."""

    start = DateField("Von", validators=[Optional()])
    end = DateField("Bis", validators=[Optional()])
    channel = SelectField("Kanal", choices=[("", "alle"), *channels.LABELS.items()], validators=[Optional()])


def report_from_request() -> Report:
    """The report for the query string's filter; 400 saying what is wrong with it."""
    form = FilterForm(request.args)
    if not form.validate():
        field, errors = next(iter(form.errors.items()))
        abort(400, f"Filter „{form[field].label.text}“: {errors[0]} (Datum als JJJJ-MM-TT)")
    today = berlin_day(current_app.extensions["clock"]())
    end = form.end.data or today
    start = form.start.data or end - timedelta(days=DEFAULT_DAYS - 1)
    if end < start:
        abort(400, "„Bis“ liegt vor „Von“")
    if (end - start).days >= MAX_DAYS:
        abort(400, f"höchstens {MAX_DAYS} Tage auf einmal")
    return build(get_session(), start, end, form.channel.data or None)


def channel_chart(
    report: Report, cells: dict[tuple[date, str], Figures], figure: str, unit: str, width: int = charts.WIDTH
) -> charts.Chart:
    """A bar per day, stacked by channel, of one figure (conversations, messages)."""
    series = {ch: [getattr(cells[(day, ch)], figure) for day in report.days] for ch in report.channels}
    return charts.stacked_bars(report.days, series, unit, width, channels.LABELS)


@bp.get("/")
@role_required(Role.EDITOR)
def dashboard():  # type: ignore[no-untyped-def]
    report = report_from_request()
    total, days, cells = report.total(), report.by_day(), report.by_day_and_channel()
    csat_days = [days[day].csat_average for day in report.days]
    return render_template(
        "admin/analytics.html",
        report=report,
        total=total,
        days=days,
        cells=cells,
        by_channel=report.by_channel(),
        entries=report.entries(),
        channel_names=channels.LABELS,
        query=request.query_string.decode(),
        conversations_chart=channel_chart(report, cells, "conversations", "Gespräche"),
        messages_chart=channel_chart(report, cells, "messages", "Nachrichten", width=HALF),
        csat_chart=charts.line(report.days, csat_days, 1, 5, "Ø", width=HALF),
        reasons_chart=charts.horizontal_bars(
            [(labels.handoff_reason(reason), n) for reason, n in total.handoff_reasons.items()], "Gespräche"
        ),
        scores_chart=charts.horizontal_bars([(f"{s} ★", n) for s, n in total.rating_counts.items()], "Bewertungen"),
    )


DAY_COLUMNS = [
    "conversations", "contained", "handed_off", "containment", "handoff_rate", "messages", "customer_messages",
    "questions", "answered", "clarified", "handoff_decisions", "answered_share", "clarified_share",
    "handoff_decision_share", "helpful", "not_helpful", "ratings", "csat_average", "csat_satisfied_share",
    "bot_p50", "bot_p95", "agent_first_p50", "agent_first_p95", "close_p50", "close_p95",
]  # fmt: skip


def cell(value: object) -> object:
    """Numbers as they are (shares 0–1, seconds), rounded to 4 places; empty for "no value"."""
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value


def day_rows(report: Report) -> list[list[object]]:
    rows: list[list[object]] = []
    for (day, channel), figures in report.by_day_and_channel().items():
        reasons = ";".join(f"{reason}={count}" for reason, count in figures.handoff_reasons.items())
        rows.append([day.isoformat(), channel, *(cell(getattr(figures, c)) for c in DAY_COLUMNS), reasons])
    return rows


def csv_response(header: list[str], rows: list[list[object]], name: str, report: Report) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    channel = f"-{report.channel}" if report.channel else ""
    response = Response(buffer.getvalue(), mimetype="text/csv")
    filename = f"auswertung-{name}-{report.start.isoformat()}-{report.end.isoformat()}{channel}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/export.csv")
@role_required(Role.EDITOR)
def export_days():  # type: ignore[no-untyped-def]
    """One row per day × channel with every figure (shares 0–1, times in seconds, empty = no value)."""
    report = report_from_request()
    return csv_response(["day", "channel", *DAY_COLUMNS, "handoff_reasons"], day_rows(report), "tage", report)


@bp.get("/entries.csv")
@role_required(Role.EDITOR)
def export_entries():  # type: ignore[no-untyped-def]
    """One row per FAQ entry answered or rated in the period: answers, helpful, not helpful, helpful share."""
    report = report_from_request()
    rows = [[e.faq_id, e.answered, e.helpful, e.not_helpful, cell(e.helpful_share)] for e in report.entries()]
    header = ["faq_id", "answered", "helpful", "not_helpful", "helpful_share"]
    return csv_response(header, rows, "eintraege", report)


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f} %".replace(".", ",")


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    """German, readable: "1,4 s", "3 min 20 s", "1 h 05 min"."""
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s".replace(".", ",")
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


@bp.app_template_filter("decimal")
def decimal(value: float | None, places: int = 2) -> str:
    return "–" if value is None else f"{value:.{places}f}".replace(".", ",")
