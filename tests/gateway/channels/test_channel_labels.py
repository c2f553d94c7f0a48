"""One name per channel, from the channel modules (`bot.channels.label`), wherever people read it: the inbox's
queue and conversation page, the customer panel, the transcript export and the analytics dashboard."""

from __future__ import annotations

from flask import Flask

from bot import channels
from bot.channels import messenger, sms, web
from bot.db import get_session
from bot.models import Conversation, Role
from bot.web import auth
from tests.support.gateway import Customer, ScriptedRasa
from tests.support.login import AgentSession

HANDOFF = [{"text": "Ich gebe Ihr Anliegen weiter."}, {"custom": {"type": "handoff", "reason": "requested"}}]


def test_every_channel_has_one_label_of_its_own() -> None:
    assert channels.LABELS == {web.NAME: "Web-Chat", messenger.NAME: "Messenger", sms.NAME: "SMS"}
    assert [channels.label(module.NAME) for module in channels.MODULES] == [m.LABEL for m in channels.MODULES]
    assert channels.label("telegram") == "telegram"  # a channel no module knows stays readable


def test_the_inbox_panel_and_export_say_web_chat(  # type: ignore[no-untyped-def]
    app: Flask, customer: Customer, rasa: ScriptedRasa, make_agent
) -> None:
    rasa.replies.append(HANDOFF)
    customer.say("Mitarbeiter bitte")
    assert customer.client.post(f"{customer.base}/contact", json={"email": "eva@example.de"}).status_code in (200, 201)
    with app.app_context():
        cid = get_session().query(Conversation.id).scalar()
    anna = make_agent()
    queue = anna.client.get("/agent/").get_data(as_text=True)
    page = anna.client.get(f"/agent/conversations/{cid}").get_data(as_text=True)
    text = anna.client.get(f"/agent/conversations/{cid}/transcript.txt").get_data(as_text=True)
    assert '<span class="badge channel">Web-Chat</span>' in queue
    assert 'title="Kanal des Kunden">Web-Chat</span>' in page
    assert "<td>Web-Chat</td>" in page  # the customer panel: the e-mail address first came through the web chat
    assert "Kanal: Web-Chat" in text
    for wrong in ("Website", "<td>Widget</td>", "Kanal: web"):
        assert wrong not in queue + page + text


def test_the_analytics_dashboard_says_web_chat(app: Flask, customer: Customer, rasa: ScriptedRasa) -> None:
    customer.say("Hallo")
    with app.app_context():
        auth.create_agent("eva@example.com", "Eva", "geheim-genug-123", Role.EDITOR)
    eva = AgentSession(app, "eva@example.com", "geheim-genug-123")
    page = eva.client.get("/admin/analytics/").get_data(as_text=True)
    assert '<option value="web">Web-Chat</option>' in page
    assert '<li class="series-web">Web-Chat</li>' in page and "Website" not in page
