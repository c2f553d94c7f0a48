"""The German words and Berlin times of staff pages, as Jinja filters — templates never show a code or UTC.

`{{ c.state|state_label }}`, `{{ c.handoff_reason|reason_label }}`, `{{ m.sender|sender_label }}`,
`{{ report.decision|decision_label }}`, `{{ report.reason|decision_reason_label }}`, `{{ moment|staff_time }}`,
`{{ answer|markdown }}`, `{{ summary|handoff_summary }}`; globals: `is_markdown(message)`, and `channel_label(code)`
(bot.channels).
The words come from `common.labels` (shared with the action server), the channel names from the channel modules.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Flask, current_app

from bot import markdown_html
from bot.channels.base import is_markdown
from bot.customers import identities
from bot.web import staff_time as times
from common import labels

OLD_HEADLINE = re.compile(r"^Übergabe: ([a-z_]+)(?: \(zuvor ([a-z_]+)\))?\.")
"""How summaries began before they were written in German (rows stored earlier still read that way)."""


def now() -> datetime:
    return current_app.extensions["clock"]()


def staff_time(moment: datetime | str | None) -> str:
    return times.staff_time(moment, now())


def identifier_kind(code: str) -> str:
    return identities.KIND_LABELS.get(code, code)


def handoff_summary(summary: str | None) -> str:
    """A stored summary, its headline in German even when it was stored with the reason's code."""
    if not summary:
        return ""
    return OLD_HEADLINE.sub(lambda m: labels.handoff_headline(m.group(1), m.group(2)), summary, count=1)


FILTERS = {
    "state_label": labels.state,
    "reason_label": labels.handoff_reason,
    "sender_label": labels.sender,
    "decision_label": labels.decision,
    "decision_reason_label": labels.decision_reason,
    "stored_label": labels.stored_rows,
    "kind_label": identifier_kind,
    "staff_time": staff_time,
    "markdown": markdown_html.to_html,
    "handoff_summary": handoff_summary,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["is_markdown"] = is_markdown  # a message the channels would format as Markdown
