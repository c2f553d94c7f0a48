"""One customer across channels: identifiers, link, merge, unlink on real SQLite; the widget's contact form;
the agent's link/unlink forms; the inbox page showing the customer's earlier conversations."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation import states
from bot.customers import identities
from bot.db import session_factory
from bot.models import Contact, ContactIdentifier, Conversation, ConversationLink, IdentifierKind, Role
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import AgentSession, csrf_of, logged_in

EMAIL, PHONE = IdentifierKind.EMAIL, IdentifierKind.PHONE
HANDOFF = [{"custom": {"type": "handoff", "reason": "requested", "summary": "Ü."}}]  # no text: the gateway tells


@contextmanager
def db(app: Flask) -> Iterator[Session]:
    """A session of its own (as a request has), on the app's SQLite file."""
    with app.app_context():
        session = session_factory()()
        try:
            yield session
        finally:
            session.close()


def new_conversation(app: Flask, channel: str = "web") -> int:
    with db(app) as session:
        conversation = states.start(session, channel)
        session.commit()
        return conversation.id


def contact_of(app: Flask, conversation_id: int) -> int:
    with db(app) as session:
        return session.get(Conversation, conversation_id).contact_id


def count(app: Flask, model: Any) -> int:
    with db(app) as session:
        return session.scalar(select(func.count()).select_from(model))


def link(app: Flask, conversation_id: int, kind: IdentifierKind, value: str) -> identities.Outcome:
    with db(app) as session:
        outcome = identities.link(session, session.get(Conversation, conversation_id), kind, value, "widget").outcome
        session.commit()
        return outcome


# --- identifiers ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (PHONE, "0151 12345678", "+4915112345678"),
        (PHONE, "+49 (0)30 1234567", "+49301234567"),
        (PHONE, "0049 30 123 45 67", "+49301234567"),
        (PHONE, "030 / 123 45-67", "+49301234567"),
        (PHONE, "+43 1 234567", "+431234567"),
        (EMAIL, " Kunde@Example.DE ", "kunde@example.de"),
    ],
)
def test_identifiers_are_stored_in_one_form(kind: IdentifierKind, raw: str, stored: str) -> None:
    assert identities.parse(kind, raw) == stored


@pytest.mark.parametrize(
    ("kind", "raw"),
    [(PHONE, "1234567"), (PHONE, "0123"), (PHONE, "ruf mich an"), (PHONE, "+49 30 abc"), (EMAIL, "a@b"), (EMAIL, "")],
)
def test_unusable_identifiers_are_refused(kind: IdentifierKind, raw: str) -> None:
    with pytest.raises(identities.InvalidIdentifier):
        identities.parse(kind, raw)


def test_find_or_create_finds_the_same_customer_and_a_channel_proves_a_typed_number(app: Flask) -> None:
    with db(app) as session:
        first = identities.find_or_create(session, PHONE, "+4915112345678", verified=True, source="sms")
        session.commit()
        again = identities.find_or_create(session, PHONE, "0151 12345678", verified=True, source="sms")
        assert again.id == first.id and first.phone == "+4915112345678"
    widget = new_conversation(app)
    assert link(app, widget, PHONE, "0170 5550000") == identities.Outcome.ADDED
    with db(app) as session:
        typed = session.scalar(select(ContactIdentifier).where(ContactIdentifier.value == "+491705550000"))
        assert typed.verified is False
        found = identities.find_or_create(session, PHONE, "+491705550000", verified=True, source="sms")
        session.commit()
        assert found.id == contact_of(app, widget)
        identifier = session.scalar(select(ContactIdentifier).where(ContactIdentifier.value == "+491705550000"))
        assert identifier.verified is True and identifier.source == "widget"  # proven now; first typed in the widget


# --- link and merge -------------------------------------------------------------------------------------------


def test_the_same_email_in_two_conversations_makes_one_customer_the_older_one(app: Flask) -> None:
    older, newer = new_conversation(app), new_conversation(app)
    older_contact, newer_contact = contact_of(app, older), contact_of(app, newer)
    with db(app) as session:
        session.get(Contact, older_contact).phone = "030 1234567"
        session.get(Contact, newer_contact).name = "Eva Muster"
        session.get(Contact, newer_contact).phone = "0170 999"
        session.commit()
    assert link(app, newer, EMAIL, "eva@example.de") == identities.Outcome.ADDED
    assert link(app, newer, EMAIL, "eva@example.de") == identities.Outcome.KNOWN
    assert link(app, older, EMAIL, "EVA@example.de ") == identities.Outcome.MERGED

    assert contact_of(app, older) == contact_of(app, newer) == older_contact  # the older contact stays
    with db(app) as session:
        assert session.get(Contact, newer_contact) is None
        kept = session.get(Contact, older_contact)
        assert (kept.name, kept.phone) == ("Eva Muster", "030 1234567")  # gaps filled, own values kept
        assert [(i.kind, i.value, i.verified, i.source) for i in kept.identifiers] == [
            ("email", "eva@example.de", False, "widget")
        ]
        claims = session.scalars(select(ConversationLink).order_by(ConversationLink.id)).all()
        assert [(c.conversation_id, c.value, c.source) for c in claims] == [
            (newer, "eva@example.de", "widget"),
            (older, "eva@example.de", "widget"),
        ]
    assert count(app, Contact) == 1 and count(app, ContactIdentifier) == 1


def test_a_link_is_one_transaction_even_when_the_conversation_gave_the_address_before(app: Flask) -> None:
    """The identifier's savepoint must not commit on its own (pysqlite starts a transaction only on a write)."""
    cid = new_conversation(app)
    link(app, cid, EMAIL, "zurueck@example.de")
    with db(app) as session:
        contact = session.get(Conversation, cid).contact
        identities.remove_identifier(session, contact, contact.identifiers[0].id)
        session.commit()
    with db(app) as session:
        linked = identities.link(session, session.get(Conversation, cid), EMAIL, "zurueck@example.de", "widget")
        assert linked.outcome == identities.Outcome.ADDED
        session.rollback()
    assert count(app, ContactIdentifier) == 0


def test_merging_moves_every_conversation_and_identifier_of_the_other_customer(app: Flask) -> None:
    a1, a2, b1 = new_conversation(app), new_conversation(app), new_conversation(app)
    link(app, a1, EMAIL, "a@example.de")
    link(app, a2, EMAIL, "a@example.de")
    link(app, b1, PHONE, "0151 11111111")
    link(app, b1, EMAIL, "b@example.de")
    assert link(app, a2, PHONE, "+49 151 11111111") == identities.Outcome.MERGED
    assert contact_of(app, a1) == contact_of(app, a2) == contact_of(app, b1)
    with db(app) as session:
        values = sorted(i.value for i in session.get(Contact, contact_of(app, a1)).identifiers)
    assert values == ["+4915111111111", "a@example.de", "b@example.de"]
    assert count(app, Contact) == 1


def stale_once(real_find: Any) -> Any:
    """`find` as a request sees it that read just before another request committed: nobody has it (once)."""
    calls: list[tuple[Any, ...]] = []

    def find(*args: Any) -> Contact | None:
        calls.append(args)
        return None if len(calls) == 1 else real_find(*args)

    return find


def test_two_requests_adding_the_same_new_identifier_end_with_one_customer(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The loser read "nobody has it" before the winner committed: its insert meets the unique constraint."""
    first, second = new_conversation(app), new_conversation(app)
    real_find = identities.find
    with db(app) as loser:
        conversation = loser.get(Conversation, second)
        assert link(app, first, EMAIL, "race@example.de") == identities.Outcome.ADDED  # the winner commits
        monkeypatch.setattr(identities, "find", stale_once(real_find))
        linked = identities.link(loser, conversation, EMAIL, "race@example.de", "widget")
        loser.commit()
        assert linked.outcome == identities.Outcome.MERGED
    assert contact_of(app, first) == contact_of(app, second)
    assert count(app, Contact) == 1 and count(app, ContactIdentifier) == 1


def test_two_first_messages_from_one_new_number_find_one_customer(app: Flask, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with db(app) as winner:
        winner_contact = identities.find_or_create(winner, PHONE, "+4915199999999", source="sms")
        winner.commit()
        winner_id = winner_contact.id
    real_find = identities.find
    monkeypatch.setattr(identities, "find", stale_once(real_find))
    with db(app) as loser:
        assert identities.find_or_create(loser, PHONE, "+4915199999999", source="sms").id == winner_id
        loser.commit()
    assert count(app, Contact) == 1 and count(app, ContactIdentifier) == 1


def link_at_once(app: Flask, conversation_ids: list[int], value: str) -> list[Exception]:
    """Each conversation links `value` in a thread of its own, all released together by a barrier."""
    barrier, errors = threading.Barrier(len(conversation_ids)), []

    def add(conversation_id: int) -> None:
        try:
            barrier.wait()
            link(app, conversation_id, EMAIL, value)
        except Exception as error:
            errors.append(error)

    threads = [threading.Thread(target=add, args=(cid,)) for cid in conversation_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_links_in_threads(app: Flask) -> None:
    """Real threads and sessions: whatever the interleaving, one customer and no error."""
    for round_ in range(4):
        ids = [new_conversation(app), new_conversation(app)]
        assert link_at_once(app, ids, f"round{round_}@example.de") == []
        assert contact_of(app, ids[0]) == contact_of(app, ids[1])
    assert count(app, Contact) == 4 and count(app, ContactIdentifier) == 4


# --- unlink and remove ----------------------------------------------------------------------------------------


def test_unlink_takes_what_only_this_conversation_gave_and_drops_its_claim_to_the_rest(app: Flask) -> None:
    with db(app) as session:
        sms_contact = identities.find_or_create(session, PHONE, "+4915122222222", source="sms")
        sms = states.start(session, "sms")  # as the SMS channel starts one for a new sender
        sms.contact, sms.channel_address = sms_contact, "+4915122222222"
        session.commit()
        sms_id, customer_id = sms.id, sms_contact.id
    widget = new_conversation(app)
    assert link(app, widget, EMAIL, "fremd@example.de") == identities.Outcome.ADDED
    assert link(app, widget, PHONE, "0151 22222222") == identities.Outcome.MERGED
    assert contact_of(app, widget) == customer_id

    with db(app) as session:
        conversation = session.get(Conversation, widget)
        alone = identities.unlink(session, conversation)
        session.commit()
        assert conversation.contact_id == alone.id != customer_id
        assert [i.value for i in alone.identifiers] == ["fremd@example.de"]  # only this conversation gave it
        assert (alone.email, alone.phone) == ("fremd@example.de", "+4915122222222")  # its way back
        assert [i.value for i in session.get(Contact, customer_id).identifiers] == ["+4915122222222"]
        claims = session.scalars(select(ConversationLink.value).where(ConversationLink.conversation_id == widget))
        assert list(claims) == ["fremd@example.de"]
        with pytest.raises(identities.NothingToUnlink):
            identities.unlink(session, session.get(Conversation, sms_id))
    # the next message from the number still finds its customer; the unlinked conversation stays apart
    with db(app) as session:
        assert identities.find_or_create(session, PHONE, "+4915122222222").id == customer_id
    assert contact_of(app, sms_id) == customer_id and contact_of(app, widget) != customer_id


def test_a_removed_identifier_links_nothing_more(app: Flask) -> None:
    first, second, other = new_conversation(app), new_conversation(app), new_conversation(app)
    link(app, first, EMAIL, "weg@example.de")
    link(app, other, EMAIL, "andere@example.de")
    with db(app) as session:
        contact = session.get(Conversation, first).contact
        foreign = session.scalar(select(ContactIdentifier).where(ContactIdentifier.value == "andere@example.de"))
        with pytest.raises(LookupError):
            identities.remove_identifier(session, contact, foreign.id)
        identities.remove_identifier(session, contact, contact.identifiers[0].id)
        session.commit()
    assert link(app, second, EMAIL, "weg@example.de") == identities.Outcome.ADDED
    assert contact_of(app, first) != contact_of(app, second)


# --- the widget's contact form --------------------------------------------------------------------------------


def leave_contact(customer: Customer, rasa: ScriptedRasa, text: str, **contact: str) -> None:
    rasa.replies.append(HANDOFF)
    customer.say(text)
    response = customer.client.post(f"{customer.base}/contact", json=contact)
    assert response.status_code == 201, response.json


def test_two_widget_conversations_with_the_same_email_are_one_customer_in_the_inbox(  # type: ignore[no-untyped-def]
    app: Flask, client, rasa: ScriptedRasa, make_agent
) -> None:
    first, second = Customer(client), Customer(client)
    leave_contact(first, rasa, "Wo bleibt meine Rücksendung?", email="eva@example.de")
    leave_contact(second, rasa, "Ich will einen Menschen", email="Eva@Example.de", phone="1234567")
    first_id, second_id = conversation_id(app, first.token), conversation_id(app, second.token)
    assert contact_of(app, first_id) == contact_of(app, second_id)
    assert count(app, ContactIdentifier) == 1  # "1234567" has no area code: kept for a call back, links nothing

    agent = make_agent()
    assert "Stammkunde: 1 früheres Gespräch" in agent.client.get("/agent/").get_data(as_text=True)
    page = agent.client.get(f"/agent/conversations/{second_id}").get_data(as_text=True)
    panel = page.split('id="customer"')[1]
    assert "eva@example.de" in panel and "nicht bestätigt" in panel and "im Widget angegeben" in panel
    assert f'data-conversation="{first_id}"' in panel and "Übergabe: Kunde möchte einen Menschen" in panel
    assert "„Wo bleibt meine Rücksendung?“" in panel  # the first question in the summary
    assert "Echo" not in panel and "Ihre Anfrage bleibt gespeichert" in panel  # the earlier transcript itself
    assert f'href="/agent/conversations/{first_id}"' in panel

    export = agent.client.get(f"/agent/conversations/{second_id}/transcript.json").json
    assert export["contact"]["identifiers"] == [
        {"kind": "email", "value": "eva@example.de", "verified": False, "source": "widget"}
    ]
    text = agent.client.get(f"/agent/conversations/{second_id}/transcript.txt").get_data(as_text=True)
    assert "Kennung: email eva@example.de (nicht bestätigt, Quelle: widget)" in text


def test_earlier_conversations_newest_first(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    ids = [new_conversation(app) for _ in range(3)]
    for cid in ids:
        link(app, cid, EMAIL, "stamm@example.de")
    page = make_agent().client.get(f"/agent/conversations/{ids[0]}").get_data(as_text=True)
    shown = [int(part.split('"')[0]) for part in page.split('class="earlier" data-conversation="')[1:]]
    assert shown == [ids[2], ids[1]]


def test_the_panel_needs_no_query_per_conversation(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    agent = make_agent()
    statements: list[str] = []
    event.listen(app.extensions["db_sessions"].kw["bind"], "before_cursor_execute", lambda *a: statements.append(a[2]))

    def statements_for_page(conversation_id: int) -> int:
        statements.clear()
        assert agent.client.get(f"/agent/conversations/{conversation_id}").status_code == 200
        return len(statements)

    ids = [new_conversation(app) for _ in range(2)]
    for cid in ids:
        link(app, cid, EMAIL, "viele@example.de")
    few = statements_for_page(ids[-1])
    for _ in range(5):
        ids.append(new_conversation(app))
        link(app, ids[-1], EMAIL, "viele@example.de")
    assert statements_for_page(ids[-1]) == few


# --- the agent's link/unlink forms ----------------------------------------------------------------------------


def form_post(agent: AgentSession, path: str, **fields: str) -> Any:
    return agent.client.post(path, data={"csrf_token": agent.csrf, **fields})


def test_agent_links_by_hand_and_unlinks_again(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    first, second = new_conversation(app), new_conversation(app)
    link(app, first, PHONE, "0151 33333333")
    agent = make_agent()
    base = f"/agent/conversations/{second}/customer"

    response = form_post(agent, f"{base}/link", kind="phone", value="+49 151 33333333")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agent/conversations/{second}")
    assert contact_of(app, first) == contact_of(app, second)
    page = agent.client.get(f"/agent/conversations/{second}").get_data(as_text=True)
    assert "gehörte zu einem anderen Kunden" in page and "von Anna von Hand verknüpft" in page
    with db(app) as session:
        claim = session.scalar(select(ConversationLink).where(ConversationLink.conversation_id == second))
        assert (claim.source, claim.agent.name) == ("agent", "Anna")

    # from the second conversation's page, the first one is moved out again
    response = form_post(agent, f"/agent/conversations/{first}/customer/unlink", back=str(second))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/agent/conversations/{second}")
    assert contact_of(app, first) != contact_of(app, second)
    assert form_post(agent, f"{base}/unlink").status_code == 409  # alone now

    with db(app) as session:
        identifier = session.scalar(select(ContactIdentifier).where(ContactIdentifier.value == "+4915133333333"))
        owner, identifier_id = identifier.contact_id, identifier.id
    owner_conversation = first if owner == contact_of(app, first) else second
    other = second if owner_conversation == first else first
    remove = f"customer/identifiers/{identifier_id}/remove"
    assert form_post(agent, f"/agent/conversations/{other}/{remove}").status_code == 404
    removed = form_post(agent, f"/agent/conversations/{owner_conversation}/{remove}")
    assert removed.status_code == 303 and count(app, ContactIdentifier) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "email", "value": "keine-adresse"}, "E-Mail-Adresse sieht nicht gültig aus"),
        ({"kind": "phone", "value": "1234567"}, "mit Vorwahl"),
        ({"kind": "messenger_psid", "value": "123"}, "wählen"),
        ({"kind": "email", "value": ""}, "wählen"),
    ],
)
def test_agent_link_refuses_bad_input(app: Flask, make_agent, fields: dict[str, str], message: str) -> None:  # type: ignore[no-untyped-def]
    cid = new_conversation(app)
    response = form_post(make_agent(), f"/agent/conversations/{cid}/customer/link", **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)  # on the conversation page, with the form again
    assert count(app, ContactIdentifier) == 0 and count(app, ConversationLink) == 0


def test_link_routes_need_login_csrf_the_agent_role_and_a_known_conversation(app: Flask, make_agent) -> None:  # type: ignore[no-untyped-def]
    cid = new_conversation(app)
    path = f"/agent/conversations/{cid}/customer/link"
    anonymous = app.test_client()
    token = csrf_of(anonymous.get("/agent/login").get_data(as_text=True))
    response = anonymous.post(path, data={"csrf_token": token, "kind": "email", "value": "a@example.de"})
    assert response.status_code == 401

    agent = make_agent()
    assert agent.client.post(path, data={"kind": "email", "value": "a@example.de"}).status_code == 400  # no CSRF
    unknown = form_post(agent, "/agent/conversations/999999/customer/link", kind="email", value="a@example.de")
    assert unknown.status_code == 404
    assert form_post(agent, "/agent/conversations/999999/customer/unlink").status_code == 404

    editor = logged_in(app, "ed@example.com", Role.EDITOR)
    assert form_post(editor, path, kind="email", value="a@example.de").status_code == 403
    assert form_post(editor, f"/agent/conversations/{cid}/customer/unlink").status_code == 403
    assert count(app, ContactIdentifier) == 0


# --- across channels: the widget, then SMS from the same number -----------------------------------------------


@pytest.fixture
def sms_gateway(tmp_path, rasa: ScriptedRasa) -> Iterator[tuple[Flask, str]]:  # type: ignore[no-untyped-def]
    """The gateway with the SMS channel on, over real HTTP; Twilio's API is a local stand-in."""
    from tests.support.channels import ACCOUNT_SID, AUTH_TOKEN, channel_app, served
    from tests.support.mock_providers import GraphApi, TwilioApi

    graph, twilio = GraphApi("unused", "v21.0"), TwilioApi(ACCOUNT_SID, AUTH_TOKEN)
    app = channel_app(tmp_path / "channels", rasa, graph, twilio, SMS_REPLY_MODE="twiml")
    try:
        with served(app) as url:
            yield app, url
    finally:
        graph.close()
        twilio.close()


def test_sms_after_a_widget_conversation_with_the_same_number_is_one_customer_with_both_transcripts(  # type: ignore[no-untyped-def]
    sms_gateway, rasa: ScriptedRasa
) -> None:
    import requests

    from tests.support.channels import HANDOFF_REPLIES, SmsCustomer, answer_replies

    app, url = sms_gateway
    widget = (
        f"{url}/api/widget/conversations/"
        + requests.post(f"{url}/api/widget/conversations", timeout=30).json()["token"]
    )
    rasa.replies.append(HANDOFF)
    assert requests.post(f"{widget}/messages", json={"text": "Meine Erstattung fehlt noch"}, timeout=30).ok
    left = requests.post(f"{widget}/contact", json={"phone": "0151 12345678"}, timeout=30)
    assert left.status_code == 201, left.text

    phone = SmsCustomer(url, "+4915112345678")
    rasa.replies.append(answer_replies())
    assert any("4,95" in text for text in phone.say("Was kostet der Versand?"))
    rasa.replies.append(HANDOFF_REPLIES)
    phone.say("Nein, ich will einen Menschen")

    with db(app) as session:
        web, sms = session.scalars(select(Conversation).order_by(Conversation.id)).all()
        assert (web.channel, sms.channel, sms.channel_address) == ("web", "sms", "+4915112345678")
        assert web.contact_id == sms.contact_id  # one customer
        identifier = session.scalar(select(ContactIdentifier))
        assert (identifier.value, identifier.verified, identifier.source) == ("+4915112345678", True, "widget")
        web_id, sms_id = web.id, sms.id
    assert count(app, Contact) == 1

    agent = logged_in(app, "anna@example.com")
    assert "Stammkunde: 1 früheres Gespräch" in agent.client.get("/agent/").get_data(as_text=True)
    sms_panel = agent.client.get(f"/agent/conversations/{sms_id}").get_data(as_text=True).split('id="customer"')[1]
    assert "SMS +4915112345678 (vom Kanal bestätigt)" in sms_panel
    assert f'data-conversation="{web_id}"' in sms_panel and "Meine Erstattung fehlt noch" in sms_panel
    assert "im Widget angegeben, nicht bestätigt" in sms_panel  # how the widget conversation joined
    web_panel = agent.client.get(f"/agent/conversations/{web_id}").get_data(as_text=True).split('id="customer"')[1]
    assert f'data-conversation="{sms_id}"' in web_panel
    assert "Was kostet der Versand?" in web_panel and "Nein, ich will einen Menschen" in web_panel


def test_a_widget_claim_of_a_proven_number_does_not_overwrite_that_customer(  # type: ignore[no-untyped-def]
    app: Flask, client, rasa: ScriptedRasa
) -> None:
    """Anyone can type a number into the widget: the conversations link (marked unconfirmed for the agent), but
    the SMS customer's own details stay, and the widget is not told them."""
    with db(app) as session:
        victim = identities.find_or_create(session, PHONE, "+4915112345678", verified=True, source="sms")
        victim.email = "kunde@example.de"
        session.commit()
        victim_id = victim.id
    stranger = Customer(client)
    rasa.replies.append(HANDOFF)
    stranger.say("Ich will einen Menschen")
    response = client.post(
        f"{stranger.base}/contact", json={"email": "jemand@example.org", "phone": "+49 151 12345678"}
    )
    assert response.status_code == 201, response.json
    assert (response.json["email"], response.json["phone"]) == ("jemand@example.org", "+49 151 12345678")
    assert contact_of(app, conversation_id(app, stranger.token)) == victim_id  # linked by the typed number
    with db(app) as session:
        kept = session.get(Contact, victim_id)
        assert (kept.email, kept.phone) == ("kunde@example.de", "+4915112345678")
