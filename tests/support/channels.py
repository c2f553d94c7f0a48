"""The gateway with Messenger and SMS switched on, served over real HTTP, and customers who write to it through
signed webhooks exactly as Facebook and Twilio send them."""

from __future__ import annotations

import itertools
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot.config import ROOT
from bot.db import session_factory
from bot.integrations.rasa_client import RasaClient
from bot.models import Conversation, Message
from rasa_runtime.processes import Services
from tests.support.app import make_app
from tests.support.gateway import ScriptedRasa
from tests.support.login import AgentSession, logged_in
from tests.support.mock_providers import GraphApi, TwilioApi, messenger_signature, twilio_signature

APP_SECRET = "test-app-secret"
PAGE_TOKEN = "test-page-token"
VERIFY_TOKEN = "test-verify-token"
GRAPH_VERSION = "v21.0"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-twilio-auth-token"
FROM_NUMBER = "+4930123456"
PUBLIC_URL = "https://auskunft.example.com"
PAGE_ID = "1122334455"
MORE_URL = "https://shop.example.com/faq"
_ids = itertools.count(1)

FAQ = """\
topic: Versand
faqs:
  - id: versand-kosten
    question: Was kostet der Versand?
    answer: |
      Der Standardversand innerhalb Deutschlands kostet **4,95 €** – ab einem Bestellwert von **50 €** liefern
      wir versandkostenfrei. Der Expressversand kostet **9,95 €**. Mehr unter [Versand](https://shop.example.com/versand).
    short_answer: Versand 4,95 €, ab 50 € kostenlos. Express 9,95 €.
    updated: 2026-11-20
  - id: versand-lieferzeit
    question: Wie lange dauert die Lieferung?
    answer: Wir liefern in **2–3 Werktagen**.
    updated: 2026-11-20
"""
ANSWER_TEXT = (
    "Der Standardversand innerhalb Deutschlands kostet **4,95 €** – ab einem Bestellwert von **50 €** liefern\n"
    "wir versandkostenfrei. Der Expressversand kostet **9,95 €**. Mehr unter [Versand](https://shop.example.com/versand)."
)
FEEDBACK = {
    "text": "Hat Ihnen das geholfen?",
    "buttons": [{"title": "Ja", "payload": "/feedback_helpful"}, {"title": "Nein", "payload": "/feedback_not_helpful"}],
}


def answer_replies(faq_id: str = "versand-kosten", text: str = ANSWER_TEXT) -> list[dict[str, Any]]:
    """What Rasa sends for a clear answer: the decision (kept by the gateway), the answer, the feedback buttons."""
    decision = {"type": "decision", "action": "answer", "question": "Was kostet der Versand?", "faq_id": faq_id}
    return [{"custom": decision}, {"text": text}, FEEDBACK]


HANDOFF_REPLIES = [
    {"text": "Es tut mir leid, dass ich Ihnen nicht weiterhelfen konnte."},  # the lead of the handoff message
    {"custom": {"type": "handoff", "reason": "not_helpful", "summary": "Übergabe: Antwort nicht hilfreich"}},
]


def write_faq(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "versand.yml").write_text(FAQ, encoding="utf-8")
    return folder


def channel_app(tmp_path: Path, rasa: RasaClient, graph: GraphApi, twilio: TwilioApi, **extra: Any) -> Flask:
    """The test gateway (`make_app`) with Messenger and SMS pointed at the mock APIs, open round the clock."""
    channels = {
        "BUSINESS_HOURS": "mo-so 00:00-24:00",
        "MESSENGER_APP_SECRET": APP_SECRET,
        "MESSENGER_PAGE_TOKEN": PAGE_TOKEN,
        "MESSENGER_VERIFY_TOKEN": VERIFY_TOKEN,
        "GRAPH_API_URL": graph.url,
        "GRAPH_API_VERSION": GRAPH_VERSION,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_URL": twilio.url,
        "PUBLIC_URL": PUBLIC_URL,
        "SMS_MORE_URL": MORE_URL,
        "FAQ_DIR": str(write_faq(tmp_path / "faqs")),
        "CHANNEL_TIMEOUT": 1.0,
        "DELIVERY_BACKOFF_SECONDS": 0.05,
        "DELIVERY_MAX_ATTEMPTS": 3,
    }
    return make_app(tmp_path, rasa, **{**channels, **extra})


def stored(app: Flask) -> list[Message]:
    with app.app_context(), session_factory()() as session:
        return list(session.scalars(select(Message).order_by(Message.id)))


def only_conversation(app: Flask) -> Conversation:
    with app.app_context(), session_factory()() as session:
        (conversation,) = session.scalars(select(Conversation)).all()
        return conversation


def agent(app: Flask, name: str = "Anna") -> AgentSession:
    """An agent (`name`, e-mail name@example.com) logged in to the gateway."""
    return logged_in(app, f"{name.lower()}@example.com", name=name)


def handed_to_anna(
    app: Flask, rasa: ScriptedRasa, customer: MessengerCustomer | SmsCustomer
) -> tuple[Conversation, AgentSession]:
    """The customer asks for a person (scripted handoff); the conversation, and Anna logged in (not yet taken)."""
    rasa.replies = [HANDOFF_REPLIES]
    customer.say("Mitarbeiter")
    return only_conversation(app), agent(app)


def real_rasa_app(tmp_path: Path, rasa_services: Services, graph: GraphApi, twilio: TwilioApi) -> Flask:
    """The channels on the session's real Rasa + action server, answering from the demo FAQ."""
    rasa = RasaClient(rasa_services.settings.rasa_url, timeout=120)
    return channel_app(tmp_path, rasa, graph, twilio, FAQ_DIR=str(ROOT / "knowledge_base" / "faqs"))


def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Poll `condition` every 50 ms until it holds or `timeout` seconds pass; the assertions after it tell."""
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """The gateway over real HTTP (threaded) on a free port; the outbox stopped afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["outbox"].stop()


def settled(app: Flask, timeout: float = 10.0) -> None:
    """Wait until the outbox has nothing pending or being sent (a provider receives a message a moment before
    the outbox records it as sent)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context(), session_factory()() as session:
            pending = session.scalar(
                select(func.count(Message.id)).where(Message.delivery_status.in_(("pending", "sending")))
            )
        if not pending:
            return
        time.sleep(0.02)
    raise AssertionError("messages still pending")


class MessengerCustomer:
    """A person writing to the page: Facebook's webhook bodies, signed with the app secret."""

    def __init__(self, gateway: str, psid: str = "2400000000000001") -> None:
        self.gateway = gateway
        self.psid = psid

    @property
    def url(self) -> str:
        return f"{self.gateway}/channels/messenger/webhook"

    def envelope(self, *items: dict[str, Any]) -> dict[str, Any]:
        moment = int(time.time() * 1000)
        return {"object": "page", "entry": [{"id": PAGE_ID, "time": moment, "messaging": list(items)}]}

    def item(self, **event: Any) -> dict[str, Any]:
        moment = int(time.time() * 1000)
        return {"sender": {"id": self.psid}, "recipient": {"id": PAGE_ID}, "timestamp": moment, **event}

    def message(self, text: str | None = None, quick_reply: str | None = None, mid: str | None = None, **extra: Any):
        message: dict[str, Any] = {"mid": mid or f"m_{next(_ids)}_{self.psid}", **extra}
        if text is not None:
            message["text"] = text
        if quick_reply is not None:
            message["quick_reply"] = {"payload": quick_reply}
        return self.envelope(self.item(message=message))

    def post(self, body: bytes | dict[str, Any], signature: str | None = "valid", **headers: str) -> requests.Response:
        raw = body if isinstance(body, bytes) else _json_bytes(body)
        sent = {"Content-Type": "application/json", **headers}
        if signature == "valid":
            sent["X-Hub-Signature-256"] = messenger_signature(APP_SECRET, raw)
        elif signature is not None:
            sent["X-Hub-Signature-256"] = signature
        return requests.post(self.url, data=raw, headers=sent, timeout=30)

    def say(self, text: str, quick_reply: str | None = None, mid: str | None = None) -> requests.Response:
        response = self.post(self.message(text, quick_reply, mid))
        assert response.status_code == 200, response.text
        return response


def _json_bytes(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body, ensure_ascii=False).encode()


class SmsCustomer:
    """A phone sending SMS to the Twilio number: Twilio's form fields, signed on the public URL."""

    def __init__(self, gateway: str, phone: str = "+4915112345678") -> None:
        self.gateway = gateway
        self.phone = phone

    def form(self, text: str, sid: str | None = None, **extra: str) -> dict[str, str]:
        sid = sid or f"SM{next(_ids):032x}"
        return {
            "ToCountry": "DE",
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "SmsSid": sid,
            "SmsStatus": "received",
            "Body": text,
            "To": FROM_NUMBER,
            "NumSegments": "1",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": self.phone,
            "ApiVersion": "2010-04-01",
            **extra,
        }

    def post(
        self, form: dict[str, str], signature: str | None = "valid", signed_url: str | None = None
    ) -> requests.Response:
        headers = {}
        if signature == "valid":
            headers["X-Twilio-Signature"] = twilio_signature(
                AUTH_TOKEN, signed_url or f"{PUBLIC_URL}/channels/sms/webhook", form
            )
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        return requests.post(f"{self.gateway}/channels/sms/webhook", data=form, headers=headers, timeout=30)

    def say(self, text: str, sid: str | None = None) -> list[str]:
        """The SMS texts of the TwiML response."""
        response = self.post(self.form(text, sid))
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/xml")
        return twiml_messages(response.text)


def twiml_messages(xml: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(xml).iter("Message")]
