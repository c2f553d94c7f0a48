"""`flask --app bot create-agent EMAIL --name NAME`; password prompted or from AUSKUNFT_AGENT_PASSWORD."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import with_appcontext

from bot import auth


@click.command("create-agent")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="shown to the customer: „NAME vom Kundenservice ist jetzt im Chat“")
def create_agent_command(email: str, name: str) -> None:
    password = os.environ.get("AUSKUNFT_AGENT_PASSWORD") or click.prompt(
        "Passwort", hide_input=True, confirmation_prompt=True
    )
    try:
        agent = auth.create_agent(email, name, password)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Agent {agent.email} angelegt.")


def init_app(app: Flask) -> None:
    app.cli.add_command(create_agent_command)
