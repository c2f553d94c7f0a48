"""The stores outside the gateway's database that hold a customer's data too: Rasa's tracker store and the
action server's feedback log. Export, erasure and retention all reach them through `stores(app)`."""

from __future__ import annotations

from flask import Flask

from bot.customers import rasa_trackers
from bot.customers.rasa_trackers import RasaTrackers
from common import feedback_log
from common.feedback_log import FeedbackLog


def stores(app: Flask) -> tuple[RasaTrackers, FeedbackLog]:
    """Rasa's tracker store and the action server's feedback log: `RASA_TRACKER_STORE_URL` in the config (tests),
    else from the environment and the endpoints file Rasa runs with; the feedback log as `feedback(app)`."""
    if "privacy_stores" not in app.extensions:
        # a tracker store we cannot delete from raises TrackerStoreUnsupported: erasure must not skip it silently
        url = app.config.get("RASA_TRACKER_STORE_URL") or rasa_trackers.configured_url()
        app.extensions["privacy_stores"] = (RasaTrackers(url), feedback(app))
    return app.extensions["privacy_stores"]


def feedback(app: Flask) -> FeedbackLog:
    """Where the action server records feedback: `FEEDBACK_DB` in the config (a file or URL; tests), else by the
    action server's own rule (common/feedback_log.py) with this gateway's database, so both find the same place."""
    return FeedbackLog(app.config.get("FEEDBACK_DB") or feedback_log.configured_url(app.config["DATABASE_URL"]))
