"""The stores outside the gateway's database that hold a customer's data too: Rasa's tracker store and the
action server's feedback log. Export, erasure and retention all reach them through `stores(app)`."""

from __future__ import annotations

from flask import Flask

from bot.customers import rasa_trackers
from bot.customers.rasa_trackers import RasaTrackers
from common.feedback_log import FeedbackLog


def stores(app: Flask) -> tuple[RasaTrackers, FeedbackLog]:
    """Rasa's tracker store and the action server's feedback file: `RASA_TRACKER_STORE_URL` / `FEEDBACK_DB` in
    the config (tests), else from the environment and the endpoints file Rasa runs with."""
    if "privacy_stores" not in app.extensions:
        # a tracker store we cannot delete from raises TrackerStoreUnsupported: erasure must not skip it silently
        url = app.config.get("RASA_TRACKER_STORE_URL") or rasa_trackers.configured_url()
        app.extensions["privacy_stores"] = (RasaTrackers(url), FeedbackLog(app.config.get("FEEDBACK_DB")))
    return app.extensions["privacy_stores"]
