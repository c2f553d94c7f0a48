"""Times on staff pages: Europe/Berlin wall clock, with as much date as needed to be unambiguous.

"14:03" today, "29.11. 14:03" another day this year, "29.11.2025 14:03" another year — the one format for the
inbox, the queue, the editors' pages and the inbox's JSON, so agents never convert from UTC in their heads.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.models import aware

BERLIN = ZoneInfo("Europe/Berlin")


def staff_time(moment: datetime | str | None, now: datetime) -> str:
    """`moment` (aware, naive UTC as SQLite hands it back, or ISO text) in Berlin time relative to `now`."""
    if moment is None or moment == "":
        return "–"
    when = aware(datetime.fromisoformat(moment) if isinstance(moment, str) else moment).astimezone(BERLIN)
    today = aware(now).astimezone(BERLIN)
    if when.date() == today.date():
        return when.strftime("%H:%M")
    if when.year == today.year:
        return when.strftime("%d.%m. %H:%M")
    return when.strftime("%d.%m.%Y %H:%M")
