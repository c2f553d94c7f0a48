"""`flask --app bot db upgrade` / `db current`, and the start-up check that lets only them run on an old schema."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup

from bot import schema


@click.group("db")
def db_group() -> None:
    """The database schema: `upgrade` is the deploy step before starting (new) gateways."""


@db_group.command("upgrade")
def upgrade_command() -> None:
    """Migrate to the code's head under a lock; several processes at once are safe (the others wait)."""
    click.echo(schema.report(*schema.upgrade(current_app.extensions["db_engine"])))


@db_group.command("current")
def current_command() -> None:
    """The database's revision and the code's head; exit 1 when they differ."""
    current, head = schema.current_revision(current_app.extensions["db_engine"]), schema.head_revision()
    click.echo(f"Datenbank: {current or 'keine'}, Code: {head}")
    if current != head:
        raise SystemExit(1)


def check_at_start(app: Flask) -> None:
    """Refuse an app whose database is not at the code's head (SchemaOutdated).

    `flask --app bot CMD` builds the app only to find CMD, and `db upgrade` must work on an old schema: so when
    the Flask CLI builds it for that, every command except `db` is replaced by one that fails with the same
    message, instead of refusing the app."""
    try:
        schema.require_head(app.extensions["db_engine"])
    except schema.SchemaOutdated as outdated:
        context = click.get_current_context(silent=True)
        if context is None or not isinstance(context.command, FlaskGroup):
            raise
        for name in list(app.cli.commands):
            if name != db_group.name:
                app.cli.commands[name] = _refusing(name, outdated)


def _refusing(name: str, outdated: schema.SchemaOutdated) -> click.Command:
    def refuse() -> None:
        raise outdated

    settings = {"ignore_unknown_options": True, "allow_extra_args": True}
    return click.Command(name, callback=refuse, context_settings=settings, add_help_option=False)
