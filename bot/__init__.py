"""The gateway: the website widget's API, the agent inbox and the demo page in front of Rasa."""

from __future__ import annotations

import atexit
from typing import Any

from flask import Flask

from bot import config, db, errors, replicas
from bot.background import background
from bot.conversation.availability import Availability
from bot.conversation.pending import Retrier
from bot.integrations.rasa_client import RasaClient
from bot.models import now
from common.logging_setup import configure_logging


def init_pending(app: Flask) -> None:
    """Messages still owed a bot answer (a crash, a Rasa outage) are answered by a background thread."""
    retrier = Retrier(
        app.extensions["db_sessions"],
        app.extensions["rasa"],
        app.extensions["hub"],
        app.extensions["availability"],
        app.extensions["locks"],
        app.extensions["clock"],
        app.config["RASA_RETRY_SECONDS"],
    )
    app.extensions["pending"] = retrier
    if app.config["PENDING_WORKER"]:
        background(app, retrier.ensure_started)
        atexit.register(retrier.stop)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The gateway; `test_config` overrides settings, and a test app leaves logging to pytest.

    Settings are checked first: a bad value raises SettingsError naming the variable. It does not migrate: a
    database not at the migrations' head raises SchemaOutdated naming the command that upgrades it. Without
    `test_config` this is a real process (`python -m bot run`, `flask --app bot …`, a WSGI server), so it then
    sets up logging: stderr, var/log/gateway.log and the audit log.
    """
    settings = config.from_env()
    if test_config is None:
        configure_logging("gateway")
    app = Flask(__name__, instance_relative_config=False)
    app.config.from_mapping(settings)
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config.secret_key(config.VAR / "secret_key")

    # a bad hours spec stops the start with a message saying what is wrong (HoursError)
    app.extensions["availability"] = Availability.from_spec(
        app.config["BUSINESS_HOURS"], app.config["AGENT_ONLINE_MINUTES"]
    )
    app.extensions["clock"] = app.config.get("CLOCK") or now
    db.init_app(app)
    replicas.init_app(app)  # hub and locks: in this process, or shared through Redis
    app.extensions["rasa"] = app.config.get("RASA_CLIENT") or RasaClient(
        app.config["RASA_URL"], app.config["RASA_TIMEOUT"]
    )
    errors.init_app(app)
    init_pending(app)

    from bot import channels, cli, schema_cli
    from bot.analytics.seed import seed_demo_command
    from bot.channels import inbox_actions
    from bot.customers.retention import purge_command
    from bot.web import (
        access,
        auth,
        customer_links,
        headers,
        inbox,
        inbox_tools,
        labels,
        limits,
        mail_confirm,
        metrics_endpoint,
        pages,
        requests_json,
        snippets,
        widget_api,
    )
    from bot.web.admin import analytics as admin_analytics
    from bot.web.admin import faq as admin_faq
    from bot.web.admin import faq_editor as admin_faq_editor
    from bot.web.admin import home as admin_home
    from bot.web.admin import learning as admin_learning
    from bot.web.admin import privacy as admin_privacy
    from bot.web.admin import unanswered as admin_unanswered

    requests_json.init_app(app)  # strict JSON everywhere, bounded <int:…> (before the routes)
    access.init_app(app)  # staff sessions, CSRF, roles
    headers.init_app(app)  # CSP, frame-ancestors, nosniff, Referrer-Policy, HSTS on every response
    labels.init_app(app)  # German words, Berlin times and rendered Markdown for the staff pages' templates
    # the widget proves itself with its conversation token, the providers' webhooks with a signature: no cookie
    access.csrf.exempt(widget_api.bp)
    access.csrf.exempt(mail_confirm.bp)  # the signed link in the mail is the proof (bot.web.mail_confirm)
    for blueprint in (
        widget_api.bp,
        mail_confirm.bp,
        auth.bp,
        inbox.bp,
        inbox_tools.bp,  # transfer, internal notes, search
        snippets.bp,  # Textbausteine
        customer_links.bp,
        inbox_actions.bp,
        pages.bp,
    ):
        app.register_blueprint(blueprint)
    for module in channels.MODULES:  # Messenger and SMS webhooks
        if module.bp is not None:
            access.csrf.exempt(module.bp)
            app.register_blueprint(module.bp)
    for blueprint in (
        admin_home.bp,
        admin_faq.bp,  # FAQ pages and POST /admin/kb/reload
        admin_faq_editor.bp,  # the optional in-browser editor of one entry
        admin_analytics.bp,
        admin_unanswered.bp,
        admin_learning.bp,  # pairs learned in the service for the next `train`
        admin_privacy.bp,
        metrics_endpoint.bp,
    ):
        app.register_blueprint(blueprint)
    channels.init_app(app)  # the configured channels and the outbox that pushes to them
    limits.init_app(app)  # throttles the views that declare it (login, widget API): after every blueprint
    for command in (cli.create_agent_command, seed_demo_command, purge_command, schema_cli.db_group):
        app.cli.add_command(command)
    # last, as it may replace the commands: a database not at the code's head stops the start (SchemaOutdated)
    schema_cli.check_at_start(app)
    return app
