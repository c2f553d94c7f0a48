"""`python -m bot run`: Rasa, action server and gateway together; prints URLs and demo login; Ctrl-C stops all."""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import sys
import threading

from sqlalchemy import select, update
from werkzeug.serving import make_server

from bot import config, create_app
from bot.db import get_session
from bot.models import Agent, Role
from bot.web import auth
from common.logging_setup import AUDIT_LOGGER
from common.settings_errors import SettingsError
from knowledge_base import training as faq_training
from knowledge_base.settings import Settings as KnowledgeBaseSettings
from rasa_runtime import training
from rasa_runtime.processes import Services, Settings

DEMO_EMAIL = "demo@auskunft.local"
audit = logging.getLogger(AUDIT_LOGGER)


def demo_password() -> str:
    """AUSKUNFT_DEMO_AGENT_PASSWORD, else a random one kept in var/demo_agent_password (never in git)."""
    if password := os.environ.get("AUSKUNFT_DEMO_AGENT_PASSWORD"):
        return password
    path = config.VAR / "demo_agent_password"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def ensure_demo_agent(app) -> str:  # type: ignore[no-untyped-def]
    password = demo_password()
    with app.app_context():
        try:
            agent = auth.create_agent(DEMO_EMAIL, "Demo-Agent", password, Role.ADMIN)
            audit.info("account created: agent %d, role %s (demo account, by python -m bot run)", agent.id, agent.role)
        except ValueError:
            session = get_session()
            session.rollback()  # exists already; an older database made it an agent only
            changed = session.execute(
                update(Agent).where(Agent.email == DEMO_EMAIL, Agent.role != Role.ADMIN).values(role=Role.ADMIN)
            ).rowcount
            session.commit()
            if changed:
                demo_id = session.scalar(select(Agent.id).where(Agent.email == DEMO_EMAIL))
                audit.info("role changed: agent %d to %s (demo account, by python -m bot run)", demo_id, Role.ADMIN)
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start Rasa, the action server and the gateway")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=int(os.environ.get("AUSKUNFT_GATEWAY_PORT", "8000")))
    args = parser.parse_args(argv)

    # A shell starts background jobs with SIGINT ignored, and Python then never raises KeyboardInterrupt:
    # restore it so `make run &` followed by `kill -INT` stops like Ctrl-C does.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        app = create_app()  # logging and settings first: a bad setting stops the start before Rasa trains
    except (SettingsError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    training.ensure_trained()
    password = ensure_demo_agent(app)
    try:
        with (
            faq_training.training_in_background(KnowledgeBaseSettings(), config.VAR / "train.log") as trainer,
            Services(Settings()) as services,
        ):
            if trainer is not None:
                print("Fine-tuning on the FAQ in the background (var/train.log); the base model answers meanwhile.")
            print("Starting Rasa and the action server (logs: var/rasa.log, var/actions.log) …", flush=True)
            services.wait_until_ready()
            try:
                server = make_server(args.host, args.port, app, threaded=True)
            except OSError as error:  # port taken: say so instead of a traceback; Rasa is stopped on the way out
                print(f"Cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
                return 1
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://{args.host}:{args.port}"
            print(f"\n  Demo shop with the chat widget: {base}/", flush=True)
            print(f"  Agent inbox:                   {base}/agent/  (login {DEMO_EMAIL} / {password})", flush=True)
            print(f"  FAQ editors' pages:            {base}/admin/faq/  (same login)", flush=True)
            print("  Ctrl-C stops everything.\n", flush=True)
            try:
                while services.running():
                    threading.Event().wait(1)
                print("A process exited; stopping. See var/rasa.log and var/actions.log.", file=sys.stderr)
                return 1
            finally:
                server.shutdown()
    except KeyboardInterrupt:  # also while Rasa is still starting: the with block has stopped both processes
        print("\nStopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
