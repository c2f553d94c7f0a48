"""Channels: the widget, Facebook Messenger, SMS via Twilio — one module each.

A channel module has `NAME` (`Conversation.channel`), `LABEL` (for agents), `bp` (its webhook blueprint, registered
by `bot.create_app`, or None) and `from_config(config)` (its `Channel`, or None while its secrets are missing: then
its webhook answers 404). Adding WhatsApp or Telegram = one module + one entry in `MODULES`.
"""

from __future__ import annotations

import atexit

from flask import Flask

from bot.background import background
from bot.channels import delivery, messenger, sms, web
from bot.channels.base import Channel
from bot.channels.delivery import Outbox
from bot.channels.holds import LocalHolds, RedisHolds

MODULES = (web, messenger, sms)
LABELS = {module.NAME: module.LABEL for module in MODULES}


def label(name: str) -> str:
    return LABELS.get(name, name)


def init_app(app: Flask) -> None:
    """The configured channels and the outbox that pushes to them (their webhooks are registered by create_app)."""
    channels: dict[str, Channel] = {}
    for module in MODULES:
        if (channel := module.from_config(app.config)) is not None:
            channels[module.NAME] = channel
    app.extensions["channels"] = channels
    outbox = Outbox(
        app.extensions["db_sessions"],
        channels,
        app.extensions["hub"],
        app.config["DELIVERY_MAX_ATTEMPTS"],
        app.config["DELIVERY_BACKOFF_SECONDS"],
        lease_seconds=app.config.get("DELIVERY_LEASE_SECONDS", delivery.LEASE_SECONDS),
        holds=RedisHolds(redis) if (redis := app.extensions.get("redis")) is not None else LocalHolds(),
    )
    app.extensions["outbox"] = outbox
    app.extensions["hub"].listen(outbox.wake)
    app.jinja_env.globals["channel_label"] = label
    app.jinja_env.globals["undelivered"] = delivery.undelivered  # the inbox's list of failed sends
    if app.config["DELIVERY_WORKER"] and set(channels) - {web.NAME}:  # only when something is to be pushed
        # when the server starts (or at the first request), not here: `flask --app bot create-agent` beside a
        # running gateway must not start a second sender
        background(app, outbox.ensure_started)
        atexit.register(outbox.stop)
