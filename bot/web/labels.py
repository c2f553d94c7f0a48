"""The German words and Berlin times of staff pages, as Jinja filters — templates never show a code or UTC.

`{{ c.state|state_label }}`, `{{ c.handoff_reason|reason_label }}`, `{{ m.sender|sender_label }}`,
`{{ report.decision|decision_label }}`, `{{ report.reason|decision_reason_label }}`, `{{ moment|staff_time }}`,
`{{ answer|markdown }}`, `{{ summary|handoff_summary }}`; globals: `is_markdown(message)`, and `channel_label(code)`
(bot.channels).
The words come from `common.labels` (shared with the action server), the channel names from the channel modules.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app

from bot import markdown_html
from bot.channels.base import is_markdown
from bot.customers import identities
from bot.web import staff_time as times
from common import labels


def now() -> datetime:
    return current_app.extensions["clock"]()


def staff_time(moment: datetime | str | None) -> str:
    return times.staff_time(moment, now())


def identifier_kind(code: str) -> str:
    return identities.KIND_LABELS.get(code, code)


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
    "handoff_summary": labels.handoff_summary,
    "handoff_details": labels.handoff_details,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals["is_markdown"] = is_markdown  # a message the channels would format as Markdown
