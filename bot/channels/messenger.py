"""Facebook Messenger: the webhook (verification handshake, `X-Hub-Signature-256` on every POST) and the Send API.

Buttons become quick replies (at most 13, titles at most 20 characters). Longer titles — the bot's "Meinten
Sie …?" offers whole questions — go into the text as a numbered list, with quick replies "1", "2", …; a typed
number works as well. Markdown becomes plain text; texts over 2000 characters are sent in several messages,
cut at paragraphs or sentences, the quick replies on the last one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

import requests
from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlalchemy.orm import Session

from bot.channels import inbound, page_inbox
from bot.channels.base import ATTACHMENT_KINDS, Channel, DeliveryError, Inbound, buttons_of, is_markdown
from bot.channels.intents import GREETING, POSTBACKS, known_intents
from bot.channels.text import markdown_to_plain, split_text
from bot.db import get_session
from bot.models import Conversation, Direction, IdentifierKind, Message, Sender
from bot.web.requests_json import INTENT

NAME = "messenger"
LABEL = "Messenger"
TEXT_LIMIT = 2000
QUICK_REPLIES = 13
TITLE_LIMIT = 20
log = logging.getLogger("auskunft.messenger")
bp = Blueprint("messenger", __name__, url_prefix="/channels/messenger")


class Messenger(Channel):
    name = NAME
    label = LABEL
    identifier = IdentifierKind.MESSENGER_PSID

    def __init__(
        self,
        app_secret: str,
        page_token: str,
        verify_token: str,
        graph_url: str,
        version: str,
        timeout: float,
        human_agent_tag: bool = False,
        app_id: str = "",
    ) -> None:
        self.app_id = app_id
        """Our app's id: its echoes are our own messages; another app's are a person's Page Inbox reply."""
        self.human_agent_tag = human_agent_tag
        """Send agents' messages with the `HUMAN_AGENT` tag (7 days instead of 24 hours; needs Meta's approval)."""
        self.app_secret = app_secret.encode()
        self.page_token = page_token
        self.verify_token = verify_token
        self.endpoint = f"{graph_url.rstrip('/')}/{version}/me/messages"
        self.timeout = timeout
        self.http = requests.Session()

    def signature_ok(self, body: bytes, header: str | None) -> bool:
        """`sha256=<hex HMAC-SHA256 of the raw body with the app secret>`, compared in constant time."""
        expected = "sha256=" + hmac.new(self.app_secret, body, hashlib.sha256).hexdigest()
        return header is not None and hmac.compare_digest(expected.encode(), header.strip().encode())

    def render(self, message: Message) -> list[dict[str, Any]]:
        """The Send API `message` objects for one stored message."""
        text = markdown_to_plain(message.text) if is_markdown(message) else message.text.strip()
        buttons = buttons_of(message)
        quick: list[dict[str, Any]] = []
        if buttons:
            if any(len(b["title"]) > TITLE_LIMIT for b in buttons) or len(buttons) > QUICK_REPLIES:
                text += "\n\n" + "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, 1))
                titles = [str(i) for i in range(1, len(buttons) + 1)]
            else:
                titles = [b["title"] for b in buttons]
            quick = [
                {"content_type": "text", "title": title, "payload": b["payload"]}
                for title, b in zip(titles, buttons, strict=True)
            ][:QUICK_REPLIES]
        chunks = split_text(text, TEXT_LIMIT) or ["Bitte wählen Sie:"]
        bodies: list[dict[str, Any]] = [{"text": chunk} for chunk in chunks]
        if quick:
            bodies[-1]["quick_replies"] = quick
        return bodies

    def _post(self, body: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        try:
            response = self.http.post(
                self.endpoint,
                params={"access_token": self.page_token},
                json=body,
                timeout=(3.0, timeout or self.timeout),
            )
        except requests.RequestException as error:
            raise DeliveryError(f"Graph API nicht erreichbar: {error}") from error
        if response.status_code >= 400:
            permanent = 400 <= response.status_code < 500 and response.status_code != 429
            raise DeliveryError(f"Graph API {response.status_code}: {response.text[:300]}", permanent)
        try:
            return dict(response.json())
        except ValueError:
            return {}

    def send(self, session: Session, conversation: Conversation, message: Message) -> str | None:
        ids = []
        kind: dict[str, str] = {"messaging_type": "RESPONSE"}
        if self.human_agent_tag and message.sender != Sender.BOT and not (message.payload or {}).get("handoff"):
            # a person's message (or news about one); the handoff's note answers the customer's message itself
            kind = {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        for body in self.render(message):
            sent = self._post({"recipient": {"id": conversation.channel_address}, **kind, "message": body})
            ids.append(str(sent.get("message_id", "")))
        return ",".join(ids)[:200] or None

    def sender_action(self, psid: str, action: str) -> None:
        """`typing_on` / `typing_off` / `mark_seen`: best effort — a failure only loses the indicator."""
        try:
            self._post({"recipient": {"id": psid}, "sender_action": action}, timeout=2.0)
        except DeliveryError as error:
            log.info("sender_action %s failed: %s", action, error)


def parse(body: Any) -> list[Inbound]:
    """Messages and postbacks from a webhook body; deliveries, reads, echoes and reactions are skipped."""
    events: list[Inbound] = []
    if not isinstance(body, dict) or body.get("object") != "page":
        return events
    entries = body.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        items = entry.get("messaging") if isinstance(entry, dict) else None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and (event := _event(item)) is not None:
                events.append(event)
    return events


def _text(value: Any, limit: int | None = None) -> str:
    """A string field as sent, or "" for anything else (a signed body can still be other than documented)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return ""
    text = str(value)
    return text if limit is None or len(text) <= limit else ""


def postback_id(psid: str, payload: str, timestamp: Any) -> str | None:
    """A postback often comes without `mid`: its receipt id is then a hash of sender, payload and the event's
    timestamp (ms), the same in every redelivery; without a timestamp there is nothing to tell a redelivery
    from a second press, so no id."""
    stamp = _text(timestamp, limit=20)
    if not stamp:
        return None
    digest = hashlib.sha256(json.dumps([psid, payload, stamp]).encode()).hexdigest()
    return f"postback:{digest}"


def _event(item: dict[str, Any]) -> Inbound | None:
    sender = item.get("sender")
    psid = _text(sender.get("id"), limit=100) if isinstance(sender, dict) else ""
    if not psid:
        return None
    if isinstance(message := item.get("message"), dict):
        if message.get("is_echo"):
            return None  # the page's messages: ours, or a person's in Meta's Page Inbox (`page_inbox.echoes`)
        mid = _text(message.get("mid"), limit=200) or None
        text = _text(message.get("text"))
        quick = message.get("quick_reply")
        if isinstance(quick, dict) and _text(quick.get("payload")):
            return Inbound(psid, mid, text, intent=_text(quick["payload"]))
        files = attachments(message)
        if text.strip() or files:
            return Inbound(psid, mid, text, attachments=files)
        log.info("messenger message %s without text or readable attachment skipped", mid)
        return None  # nothing in it reads as documented: answered 200 (Meta would redeliver it for hours)
    if isinstance(postback := item.get("postback"), dict):
        payload = _text(postback.get("payload"))
        if not payload and not _text(postback.get("title")):
            log.info("messenger postback without payload or title skipped")
            return None
        mid = _text(postback.get("mid"), limit=200) or postback_id(psid, payload, item.get("timestamp"))
        title = _text(postback.get("title")) or payload  # a postback without title: its payload is the text
        return Inbound(psid, mid, title, intent=postback_intent(payload) if payload else None)
    return None  # delivery, read, reaction, optin, referral, …


def postback_intent(payload: str) -> str:
    """A button's payload as the bot's intent: a known `/intent` as it is, a configured payload its intent,
    anything else (the page's "Get Started", an old campaign's button) the greeting — never goodbye or a
    handoff guessed from the button's title."""
    if INTENT.match(payload) and payload[1:].split("{", 1)[0] in known_intents():
        return payload
    return POSTBACKS.get(payload.strip().upper(), GREETING)


def attachments(message: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """Every attachment: kind and URL, a location's coordinates; stickers as such (Meta sends them as images
    with a `sticker_id`). Anything not a list of objects is no attachment."""
    found: list[dict[str, Any]] = []
    items = message.get("attachments")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        payload = item.get("payload")
        if not isinstance(payload, dict):
            continue
        kind = _text(item.get("type"), limit=40)
        if payload.get("sticker_id") or message.get("sticker_id"):
            kind = "sticker"
        coordinates = payload.get("coordinates")
        if kind == "location" and isinstance(coordinates, dict):
            lat, long = coordinates.get("lat"), coordinates.get("long")
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, long)):
                found.append({"kind": "location", "latitude": lat, "longitude": long})
                continue
        url = _text(payload.get("url"))
        if not url.startswith(("https://", "http://")):
            continue
        entry: dict[str, Any] = {"kind": kind if kind in ATTACHMENT_KINDS else "file", "url": url[:2000]}
        if _text(item.get("title"), limit=300):
            entry["title"] = _text(item.get("title"))
        found.append(entry)
    return tuple(found)


def from_config(config: dict[str, Any]) -> Messenger | None:
    secrets = (config.get("MESSENGER_APP_SECRET"), config.get("MESSENGER_PAGE_TOKEN"))
    if not all(secrets):
        return None
    return Messenger(
        config["MESSENGER_APP_SECRET"],
        config["MESSENGER_PAGE_TOKEN"],
        config.get("MESSENGER_VERIFY_TOKEN") or "",
        config["GRAPH_API_URL"],
        config["GRAPH_API_VERSION"],
        config["CHANNEL_TIMEOUT"],
        bool(config.get("MESSENGER_HUMAN_AGENT_TAG")),
        str(config.get("MESSENGER_APP_ID") or ""),
    )


def configured() -> Messenger:
    channel = current_app.extensions["channels"].get(NAME)
    if channel is None:
        abort(404, "Messenger ist hier nicht eingerichtet (AUSKUNFT_MESSENGER_APP_SECRET und _PAGE_TOKEN fehlen)")
    return channel


@bp.get("/webhook")
def verify():  # type: ignore[no-untyped-def]
    """The subscription handshake: echo `hub.challenge` if the verify token matches."""
    channel = configured()
    token = request.args.get("hub.verify_token", "")
    if (
        request.args.get("hub.mode") != "subscribe"
        or not channel.verify_token
        or not hmac.compare_digest(token.encode(), channel.verify_token.encode())
    ):
        abort(403, "Verify-Token stimmt nicht")
    return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")


@bp.post("/webhook")
def webhook():  # type: ignore[no-untyped-def]
    """Verified, then handled at once (Rasa answers in well under a second); always 200 once verified, so
    Facebook does not redeliver a body we cannot use."""
    channel = configured()
    raw = request.get_data(cache=True)
    if not channel.signature_ok(raw, request.headers.get("X-Hub-Signature-256")):
        abort(403, "Signatur fehlt oder stimmt nicht")
    body = request.get_json(silent=True, force=True)
    events = parse(body)
    session = get_session()
    for echo in page_inbox.echoes(body, channel.app_id):
        page_inbox.record(session, channel, echo)
    if body is None or not events:
        log.info("messenger webhook without messages ignored (%d bytes)", len(raw))
        return jsonify(received=0)
    outbox = current_app.extensions["outbox"]

    typing_for: set[str] = set()

    def typing(conversation: Conversation) -> None:  # sent by the outbox's thread: the webhook does not wait
        address = str(conversation.channel_address)
        typing_for.add(address)
        outbox.soon(lambda: channel.sender_action(address, "typing_on"))

    for event in events:
        _conversation, new = inbound.handle(session, channel, event, on_bot_turn=typing)
        if event.address in typing_for and not any(m.direction != Direction.INCOMING for m in new):
            outbox.soon(lambda a=event.address: channel.sender_action(a, "typing_off"))  # the bot said nothing
    return jsonify(received=len(events))
