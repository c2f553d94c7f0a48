"""`flask --app bot create-agent EMAIL --name NAME [--role agent|editor|admin]`; password prompted or from env."""

from __future__ import annotations

import logging
import os

import click
from flask.cli import with_appcontext

from bot.models import Role
from bot.web import auth
from common.logging_setup import AUDIT_LOGGER

audit = logging.getLogger(AUDIT_LOGGER)


@click.command("create-agent")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="shown to the customer: „NAME vom Kundenservice ist jetzt im Chat“")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.AGENT.value,
    show_default=True,
    help="agent: the inbox; editor: /admin (FAQ, unanswered questions, analytics); admin: both",
)
def create_agent_command(email: str, name: str, role: str) -> None:
    password = os.environ.get("AUSKUNFT_AGENT_PASSWORD") or click.prompt(
        "Passwort", hide_input=True, confirmation_prompt=True
    )
    try:
        agent = auth.create_agent(email, name, password, Role(role))
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    audit.info("account created: agent %d, role %s (by flask create-agent)", agent.id, agent.role)
    click.echo(f"Zugang {agent.email} ({agent.role}) angelegt.")
