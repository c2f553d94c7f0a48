"""`python -m rasa_runtime train|validate|run|rasa|actions` (in the main venv; Rasa runs from .venv-rasa).

`rasa` and `actions` replace this process with one Rasa or one action server in the foreground, for a service
manager (deploy/systemd): it watches and restarts them, and several instances differ only in their port.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time

from rasa_runtime import training
from rasa_runtime.paths import rasa_env
from rasa_runtime.processes import Services, Settings, actions_command, rasa_command


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rasa_runtime", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    train = commands.add_parser("train", help="train the Rasa model if config.yml, domain.yml or data/ changed")
    train.add_argument("--force", action="store_true")
    commands.add_parser("validate", help="rasa data validate")
    run = commands.add_parser("run", help="train if needed, start Rasa + action server, stop both on Ctrl-C")
    run.add_argument("--port", type=int, default=5005)
    run.add_argument("--actions-port", type=int, default=5055)
    rasa = commands.add_parser("rasa", help="one Rasa process in the foreground (systemd, several per host)")
    rasa.add_argument("--port", type=int, default=5005)
    rasa.add_argument("--host", default="127.0.0.1")
    actions = commands.add_parser("actions", help="one action server in the foreground (systemd)")
    actions.add_argument("--port", type=int, default=5055)
    args = parser.parse_args(argv)

    if args.command == "validate":
        training.validate()
    elif args.command in ("rasa", "actions"):
        foreground(args.command, args.port, getattr(args, "host", "127.0.0.1"))
    elif args.command == "train":
        seconds = training.ensure_trained(force=args.force)
        print("Rasa model is up to date." if seconds is None else f"Trained the Rasa model in {seconds:.0f} s.")
    else:
        training.ensure_trained()
        serve(Settings(rasa_port=args.port, actions_port=args.actions_port))
    return 0


def foreground(name: str, port: int, host: str) -> None:
    """exec: signals from the service manager reach Rasa or the action server itself, no parent in between."""
    if name == "rasa":
        settings = Settings(rasa_port=port)
        command = rasa_command(settings, host)
    else:
        settings = Settings(actions_port=port)
        command = actions_command(settings)
    os.execve(command[0], command, rasa_env(PYTHONUNBUFFERED="1"))


def serve(settings: Settings) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # `kill` stops the children too
    with Services(settings) as services:
        print("Starting Rasa and the action server (logs: var/rasa.log, var/actions.log) …", flush=True)
        seconds = services.wait_until_ready()
        print(f"Ready after {seconds:.0f} s. Talk to the bot:", flush=True)
        print(
            f"  curl -s {settings.rasa_url}/webhooks/rest/webhook -H 'Content-Type: application/json' "
            "-d '{\"sender\": \"demo\", \"message\": \"Was kostet der Versand?\"}'",
            flush=True,
        )
        print("Ctrl-C stops both.", flush=True)
        try:
            while services.running():
                time.sleep(1)
            print("A process exited; stopping. See var/rasa.log and var/actions.log.", file=sys.stderr)
        except KeyboardInterrupt:
            print("\nStopping …", flush=True)


if __name__ == "__main__":
    sys.exit(main())
