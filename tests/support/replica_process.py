"""Gateway B of the replica tests in a process of its own, as a second gunicorn worker or machine would be: the
test gateway (`make_app`) on the given database and Redis with a scripted Rasa, served over HTTP on `--port`.

A process of its own matters: two apps in one process would share whatever module-level state there is, which is
exactly what several processes do not. It is driven through stdin, one command a line, each answered in one line:
`retry` (one pass of its owed-answers retrier), `asked` (what its Rasa was asked, as JSON), `quit`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from pathlib import Path

from werkzeug.serving import make_server

from tests.support.app import make_app
from tests.support.gateway import ScriptedRasa


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    rasa = ScriptedRasa()
    rasa.delay = args.delay
    app = make_app(
        Path(tempfile.mkdtemp(prefix="replica-b-")), rasa, DATABASE_URL=args.database, REDIS_URL=args.redis,
        SSE_KEEPALIVE_SECONDS=15.0,
    )  # fmt: skip
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "retry":
            print(app.extensions["pending"].run_once(), flush=True)
        elif command == "asked":
            print(json.dumps([text for _sender, text in rasa.received]), flush=True)
        elif command == "quit":
            break
    server.shutdown()
    if stop := getattr(app.extensions["hub"], "stop", None):
        stop()


if __name__ == "__main__":
    main()
