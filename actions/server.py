"""`python -m actions.server -p 5055`: rasa_sdk's action server plus `POST /kb/reload` for live FAQ reloads.

The same Sanic app `python -m rasa_sdk --actions actions` builds (`rasa_sdk.endpoint.create_app`), with one
more route: the gateway's editors' page calls it after an FAQ change, so the process that answers customers
reloads now and reports the lint findings back. The reload runs in a worker thread: actions keep running on
the event loop meanwhile, on the index they started with. The route needs the shared reload token
(knowledge_base/reload_token.py); a rejected reload (errors in the files) answers 422 with the findings.

Closed by default: it binds 127.0.0.1 (`SANIC_HOST` or `AUSKUNFT_ACTIONS_HOST` to listen elsewhere, e.g.
when Rasa runs on another machine; every setting in actions/settings.py, checked at start), and rasa_sdk's
`/webhook` (which runs actions: order look-ups, feedback rows under a customer's sender id) answers 401 without
the shared actions token (common/shared_secret.py: `AUSKUNFT_ACTIONS_TOKEN`, else var/actions_token), which Rasa
sends as `?token=` (endpoints.yml `action_endpoint.token`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from functools import partial

from rasa_sdk import endpoint
from rasa_sdk.constants import DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_LOG_LEVEL_LIBRARIES, ENV_LOG_LEVEL_LIBRARIES
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import settings
from common.logging_setup import configure_logging
from common.settings_errors import SettingsError
from common.shared_secret import actions_token, same_secret
from knowledge_base import service
from knowledge_base.reload_token import is_authorized, reload_token

log = logging.getLogger(__name__)


def create_app(
    actions_package: str = "actions", token: str | None = None, webhook_token: str | None = None
) -> Sanic:
    executor = ActionExecutor()
    executor.register_package(actions_package)
    app = endpoint.create_app(executor)
    secret = token or reload_token()
    webhook_secret = webhook_token or actions_token()

    @app.on_request
    async def webhook_needs_token(request: Request) -> HTTPResponse | None:
        """Before rasa_sdk's route runs: a call without the actions token executes nothing."""
        if request.path.rstrip("/") == "/webhook" and not same_secret(request.args.get("token"), webhook_secret):
            log.warning("refused a /webhook call without the right actions token from %s", request.ip)
            return response.json(
                {"error": "actions token missing or wrong (AUSKUNFT_ACTIONS_TOKEN) / "
                          "Token für den Action-Server fehlt oder ist falsch"},
                status=401,
            )
        return None

    @app.post("/kb/reload")
    async def kb_reload(request: Request) -> HTTPResponse:
        if not is_authorized(request.headers.get("authorization"), secret):
            return response.json({"error": "reload token missing or wrong"}, status=401)
        result = await asyncio.get_running_loop().run_in_executor(None, service.shared().reload)
        return response.json(result.as_dict(), status=200 if result.accepted else 422)

    return app


def main(argv: list[str] | None = None) -> None:
    """Same arguments as `python -m rasa_sdk`; one process (no Sanic workers), as rasa_sdk runs by default."""
    parser = endpoint.create_argument_parser()
    parser.set_defaults(loglevel=None)  # no -v/-vv/--quiet: AUSKUNFT_LOG_LEVEL decides
    args = parser.parse_args(argv)
    try:
        host = settings.current().host  # every setting checked now, not at a customer's question
    except SettingsError as error:
        sys.exit(str(error))
    configure_logging("actions")
    if args.loglevel is not None:
        logging.getLogger().setLevel(args.loglevel)
    # Sanic as quiet as rasa_sdk keeps it, but into our handlers (rasa_sdk's own set-up cut it off from them)
    for name in ("sanic.root", "sanic.error", "sanic.access"):
        logging.getLogger(name).setLevel(os.environ.get(ENV_LOG_LEVEL_LIBRARIES, DEFAULT_LOG_LEVEL_LIBRARIES))
    try:
        app = create_app(args.actions or args.actions_module or "actions")
    except SettingsError as error:  # production without a configured secret
        sys.exit(str(error))
    app.config.KEEP_ALIVE_TIMEOUT = DEFAULT_KEEP_ALIVE_TIMEOUT
    app.register_listener(partial(endpoint.load_tracer_provider, args.endpoints), "before_server_start")
    log.info("action server with live FAQ reload on %s:%d", host, args.port)
    app.run(host=host, port=args.port, workers=1, legacy=True, access_log=False)


if __name__ == "__main__":
    sys.exit(main())
