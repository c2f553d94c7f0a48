"""`python -m bot run`: Rasa, action server and gateway (gunicorn) together, supervised; prints URLs and demo login.

A child that exits is started again (rasa_runtime/supervisor.py) while the others keep serving. SIGINT (Ctrl-C,
`kill -INT`) and SIGTERM stop the gateway first, letting requests in flight finish (bounded), then Rasa and the
action server. `python -m bot gateway` is the gateway alone under gunicorn, the child `run` starts.
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from types import FrameType

from sqlalchemy import select, update

from bot import config, create_app, schema
from bot.db import get_session, make_engine
from bot.models import Agent, Role
from bot.schema import SchemaOutdated
from bot.web import auth
from bot.wsgi_server import GRACEFUL_SECONDS
from common import feedback_log
from common.child_processes import PortTaken, die_with_parent, kill_group, require_free
from common.logging_setup import AUDIT_LOGGER, configure_logging
from common.settings_errors import SettingsError, load_settings
from knowledge_base import training as faq_training
from knowledge_base.settings import Settings as KnowledgeBaseSettings
from rasa_runtime import training
from rasa_runtime.make_parent import forward_sigint_from_make
from rasa_runtime.processes import Services, Settings
from rasa_runtime.supervisor import Supervisor, Unit

DEMO_EMAIL = "demo@auskunft.local"
audit = logging.getLogger(AUDIT_LOGGER)
log = logging.getLogger(__name__)


def migrate(database_url: str) -> None:
    """Upgrade the gateway's database to the code's head before the gateway starts (it refuses an old schema)."""
    engine = make_engine(database_url, pool_size=1)
    try:
        before, after = schema.upgrade(engine)
    finally:
        engine.dispose()
    if before != after:
        print(schema.report(before, after), flush=True)


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
    for name, help_text in (
        ("run", "start Rasa, the action server and the gateway; restart whichever exits"),
        ("gateway", "the gateway alone under gunicorn (what `run` starts)"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--host", default="127.0.0.1")
        command.add_argument("--port", type=int, help="default AUSKUNFT_GATEWAY_PORT (8000)")
    args = parser.parse_args(argv)
    if args.command == "gateway":
        from bot.wsgi_server import serve

        serve(args.host, args.port)
        return 0
    return run(args.host, args.port)


def _stop_on_signal(signum: int, frame: FrameType | None) -> None:
    """The first SIGINT/SIGTERM interrupts whatever runs (start-up included); later ones wait for the stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def run(host: str, port: int | None) -> int:
    # A shell starts background jobs with SIGINT ignored: set our own handlers so `kill -INT` stops like Ctrl-C.
    signal.signal(signal.SIGINT, _stop_on_signal)
    signal.signal(signal.SIGTERM, _stop_on_signal)
    forward_sigint_from_make()
    try:
        settings = load_settings(config.GatewaySettings)
        # one machine needs no deploy step: the same locked upgrade as `flask --app bot db upgrade`
        migrate(settings.database_url)
        app = create_app()  # logging and settings first: a bad setting stops the start before Rasa trains
    except (SettingsError, FileNotFoundError, SchemaOutdated) as error:
        print(error, file=sys.stderr)
        return 2
    configure_logging("supervisor")  # this process's lines: var/log/supervisor.log (the gateway's are its own)
    port = port or settings.gateway_port
    # the action server records feedback where this gateway looks for it, also when its config file named the database
    feedback_at = {feedback_log.URL_ENV: feedback_log.configured_url(settings.database_url)}
    rasa_settings = Settings(rasa_port=settings.rasa_port, actions_port=settings.actions_port, extra_env=feedback_at)
    try:
        require_free({"gateway": port, "action server": settings.actions_port, "Rasa": settings.rasa_port})
        training.ensure_trained()
        password = ensure_demo_agent(app)
        with (
            faq_training.training_in_background(KnowledgeBaseSettings(), config.VAR / "train.log") as trainer,
            Services(rasa_settings) as services,
        ):
            if trainer is not None:
                print("Fine-tuning on the FAQ in the background (var/train.log); the base model answers meanwhile.")
            logs = rasa_settings.log_dir
            print(f"Starting Rasa and the action server (logs: {logs}/rasa.log, {logs}/actions.log) …", flush=True)
            services.wait_until_ready()
            gateway = Gateway(host, port)
            try:
                gateway.start()
                supervisor = Supervisor([*service_units(services, rasa_settings), gateway.unit()])
                base = f"http://{host}:{port}"
                print(f"\n  Demo shop with the chat widget: {base}/", flush=True)
                print(f"  Agent inbox:                   {base}/agent/  (login {DEMO_EMAIL} / {password})", flush=True)
                print(f"  FAQ editors' pages:            {base}/admin/faq/  (same login)", flush=True)
                print("  Ctrl-C stops everything; a process that exits is started again.\n", flush=True)
                supervisor.run_until(threading.Event())
            finally:
                gateway.stop()  # first: its requests in flight still need Rasa; then the with block stops Rasa
    except PortTaken as error:
        print(error, file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # also while Rasa is still starting: the with block has stopped both processes
        print("\nStopped.", flush=True)
    return 0


def service_units(services: Services, settings: Settings) -> list[Unit]:
    """Rasa and the action server as supervised units; `services` keeps pointing at the live processes."""

    def spawn_rasa() -> subprocess.Popen[bytes]:
        services.start_rasa()
        assert services.rasa is not None
        return services.rasa

    def spawn_actions() -> subprocess.Popen[bytes]:
        services.start_actions()
        assert services.actions is not None
        return services.actions

    return [
        Unit("Rasa", settings.rasa_port, spawn_rasa, lambda: services.answering("rasa"), process=services.rasa),
        Unit("action server", settings.actions_port, spawn_actions, lambda: services.answering("actions"),
             after_restart=services.warm_up, process=services.actions),
    ]


class Gateway:
    """`python -m bot gateway` as a child: gunicorn's master, which stops gracefully on SIGTERM."""

    READY_SECONDS = 120.0

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "gateway", "--host", self.host, "--port", str(self.port)],
            cwd=config.ROOT, start_new_session=True, preexec_fn=die_with_parent(),
        )
        return self.process

    def answering(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}:{self.port}/", timeout=2) as response:
                return bool(response.status < 500)
        except urllib.error.HTTPError as error:
            return error.code < 500
        except OSError:
            return False

    def start(self) -> None:
        """Start and wait until it answers; a gateway that exits at once (e.g. a bad setting) stops the start."""
        process = self.spawn()
        stop = threading.Event()
        for _ in range(int(self.READY_SECONDS * 2)):
            if process.poll() is not None:
                raise RuntimeError(f"the gateway exited at start (code {process.returncode}); see var/log/gateway.log")
            if self.answering():
                return
            stop.wait(0.5)
        raise RuntimeError(f"the gateway did not answer on port {self.port} within {self.READY_SECONDS:.0f} s")

    def unit(self) -> Unit:
        return Unit("gateway", self.port, self.spawn, self.answering, process=self.process)

    def stop(self) -> None:
        """SIGTERM to gunicorn's master: requests in flight get GRACEFUL_SECONDS, then its worker is stopped."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=GRACEFUL_SECONDS + 5)
        except subprocess.TimeoutExpired:
            log.warning("the gateway did not stop within %d s; killing it", GRACEFUL_SECONDS + 5)
        kill_group(process)  # a worker that outlived its master
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
