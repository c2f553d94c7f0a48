"""The conversation page's "Kunde" panel for a customer with many conversations: time and SQL statements.

    .venv/bin/python benchmarks/customer_panel.py [--conversations 50] [--messages 10] [--requests 30]

A temporary SQLite gateway with a scripted Rasa; every conversation gives the same e-mail address in the widget
(so they all merge into one customer), then an agent opens the newest one repeatedly through the test client.
The statement count shows that the panel loads a fixed number of queries, not one per earlier conversation.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from bot import create_app  # noqa: E402
from bot.conversation import states  # noqa: E402
from bot.customers import identities  # noqa: E402
from bot.db import get_session  # noqa: E402
from bot.models import Direction, IdentifierKind, Sender  # noqa: E402
from bot.web import auth  # noqa: E402
from tests.support.databases import migrate  # noqa: E402
from tests.support.gateway import ScriptedRasa  # noqa: E402
from tests.support.login import AgentSession  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    migrate(url := f"sqlite:///{folder / 'gateway.db'}")
    app = create_app({"SECRET_KEY": "bench", "DATABASE_URL": url, "RASA_CLIENT": ScriptedRasa()})
    with app.app_context():
        session = get_session()
        for i in range(args.conversations):
            conversation = states.start(session)
            for j in range(args.messages):
                incoming = j % 2 == 0
                states.add_message(
                    session,
                    conversation,
                    Direction.INCOMING if incoming else Direction.OUTGOING,
                    Sender.CONTACT if incoming else Sender.BOT,
                    f"Nachricht {j} im Gespräch {i}",
                )
            identities.link(session, conversation, IdentifierKind.EMAIL, "stamm@example.de", "widget")
            session.commit()
        newest = conversation.id
        auth.create_agent("bench@example.com", "Bench", "geheim-genug-123")
    agent = AgentSession(app, "bench@example.com", "geheim-genug-123")
    statements: list[str] = []
    event.listen(app.extensions["db_sessions"].kw["bind"], "before_cursor_execute", lambda *a: statements.append(a[2]))
    times, counts = [], []
    for _ in range(args.requests):
        statements.clear()
        start = time.perf_counter()
        response = agent.client.get(f"/agent/conversations/{newest}")
        times.append((time.perf_counter() - start) * 1000)
        counts.append(len(statements))
        assert response.status_code == 200
    shown = response.get_data(as_text=True).count('class="earlier"')
    print(
        f"customer with {args.conversations} conversations × {args.messages} messages ({shown} shown): "
        f"median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {args.requests} requests, "
        f"{max(counts)} SQL statements per request"
    )


if __name__ == "__main__":
    main()
