"""Learning from the service: inbox answers become training pairs, editors decide suggestions, `train` gets them.

A gateway on the small three-entry FAQ (fake embedder) with a scripted Rasa; the pairs file `train` reads is the
test's own (`LEARNED_PAIRS_FILE`, the same place the knowledge base's settings name).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from bot.conversation import learning
from bot.db import get_session
from bot.models import Contact, Conversation, LearnedPair, Role, UnansweredQuestion
from bot.web.admin import learning as admin_learning
from knowledge_base import learned_pairs, training
from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.settings import Settings
from tests.support.app import faq_search, make_app
from tests.support.bot_replies import HANDOFF, handed_off
from tests.support.gateway import Customer, ScriptedRasa, conversation_id
from tests.support.login import AgentSession, csrf_of, logged_in
from tests.support.visible_text import visible_text

KOSTEN_ANSWER = "Der Versand kostet 4,95 €, ab 50 € ist er kostenlos."


@pytest.fixture
def kb_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"use_trained_model": False})


@pytest.fixture
def app(tmp_path: Path, kb_settings: Settings, fake_embedder) -> Flask:  # type: ignore[no-untyped-def]
    search = faq_search(kb_settings, fake_embedder)
    app = make_app(tmp_path, ScriptedRasa(), FAQ_SEARCH=search)
    yield app
    search.close()


@pytest.fixture
def pairs_file(app: Flask, kb_settings: Settings) -> Path:
    path = Path(app.config["LEARNED_PAIRS_FILE"])
    assert path == kb_settings.learned_pairs_path  # the gateway writes where `train` reads
    return path


def handed_over(app: Flask, *questions: str, name: str | None = None) -> tuple[Customer, int, AgentSession]:
    """A customer whose `questions` went to the bot, then to a person; Anna has taken the conversation."""
    rasa: ScriptedRasa = app.config["RASA_CLIENT"]
    customer = Customer(app.test_client())
    for question in questions[:-1]:  # small talk: the bot answers without the knowledge base
        rasa.replies.append([{"text": "Gern, worum geht es?"}])
        customer.say(question)
    rasa.replies.append(handed_off(questions[-1], [("versand-kosten", 0.5)]))  # unsure: a person takes over
    customer.say(questions[-1])
    cid = conversation_id(app, customer.token)
    if name:
        with app.app_context():
            get_session().get(Conversation, cid).contact.name = name
            get_session().commit()
    anna = logged_in(app, f"anna{cid}@example.com", Role.AGENT, "Anna")
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    return customer, cid, anna


def pairs(app: Flask) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        return [(p.question, p.faq_id, p.source, p.status)
                for p in get_session().scalars(select(LearnedPair).order_by(LearnedPair.id))]


def editor_page(app: Flask) -> tuple[AgentSession, str]:
    editor = logged_in(app, "eva@example.com", Role.EDITOR, "Eva")
    return editor, editor.client.get("/admin/learning/").get_data(as_text=True)


def test_a_one_click_faq_answer_makes_a_confirmed_masked_pair_for_train(
    app: Flask, pairs_file: Path, kb_settings: Settings
) -> None:
    customer, cid, anna = handed_over(
        app, "Hallo", "Ich bin Erika Muster: was kostet der Versand nach Wien?", name="Erika Muster"
    )
    customer.say("Meine Mail: erika@example.com")  # to the agent, before the answer: part of the question
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-kosten"}).status_code == 201
    question = "Ich bin [NAME] [NAME]: was kostet der Versand nach Wien? Meine Mail: [E-MAIL]"  # no "Hallo"
    assert pairs(app) == [(question, "versand-kosten", "faq_button", "confirmed")]
    # the knowledge base reads the file the gateway wrote, and `train` pairs the question with the entry
    learned = learned_pairs.for_source(kb_settings, str(kb_settings.faq_dir))
    assert learned == [(question, "versand-kosten")]
    assert learned_pairs.read(pairs_file) == learned
    entries = [located.entry for located in load_faqs(kb_settings.faq_dir).entries]
    trained_on = training.training_pairs(entries, "query: ", "passage: ", learned)
    assert ("query: " + question, "query: Was kostet der Versand?") in trained_on


def test_only_the_questions_since_the_last_agent_answer_count(app: Flask) -> None:
    customer, cid, anna = handed_over(app, "Guten Tag", "Was kostet der Versand?")
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-kosten"}).status_code == 201
    customer.say("Und wie lange dauert es bis zu mir?")
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-lieferzeit"}).status_code == 201
    assert [(q, f) for q, f, _s, _st in pairs(app)] == [
        ("Was kostet der Versand?", "versand-kosten"),
        ("Und wie lange dauert es bis zu mir?", "versand-lieferzeit"),
    ]


def test_a_request_for_a_person_is_no_question_for_an_entry(app: Flask) -> None:
    rasa: ScriptedRasa = app.config["RASA_CLIENT"]
    customer = Customer(app.test_client())
    rasa.replies.append(HANDOFF)  # "requested": the bot hands over without asking the knowledge base
    customer.say("Ich will einen Menschen")
    cid = conversation_id(app, customer.token)
    anna = logged_in(app, "anna@example.com", Role.AGENT, "Anna")
    assert anna.post(f"/agent/conversations/{cid}/take").status_code == 200
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-kosten"}).status_code == 201
    assert pairs(app) == []  # nothing was asked
    customer.say("Mein Paket ist nicht da")
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-lieferzeit"}).status_code == 201
    assert pairs(app) == [("Mein Paket ist nicht da", "versand-lieferzeit", "faq_button", "confirmed")]


def test_a_free_text_reply_like_an_answer_is_a_suggestion_an_editor_confirms(
    app: Flask, pairs_file: Path
) -> None:
    _customer, cid, anna = handed_over(app, "Muss ich für das Porto zahlen?")
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": "Ich schaue kurz nach."}).status_code == 201
    assert pairs(app) == []  # no FAQ answer in it
    reply = f"Guten Tag! {KOSTEN_ANSWER.replace('4,95', '4.95')} Viele Grüße"
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": reply}).status_code == 201
    assert pairs(app) == [("Muss ich für das Porto zahlen?", "versand-kosten", "agent_reply", "pending")]
    assert learned_pairs.read(pairs_file) == []  # not for `train` before an editor says so

    editor, page = editor_page(app)
    text = visible_text(page)
    assert "Muss ich für das Porto zahlen?" in text and "eigene Antwort des Kundenservice" in text
    assert "1 warten auf Ihre Entscheidung" in text and "Übernehmen" in text and "Verwerfen" in text
    assert "agent_reply" not in text and "pending" not in text
    with app.app_context():
        pair_id = get_session().scalar(select(LearnedPair.id))
    done = editor.client.post("/admin/learning/decide", data={"ids": str(pair_id), "action": "confirm",
                                                               "csrf_token": csrf_of(page)}, follow_redirects=True)
    assert "1 Vorschlag/Vorschläge übernommen" in visible_text(done.get_data(as_text=True))
    assert pairs(app)[0][3] == "confirmed"
    assert learned_pairs.read(pairs_file) == [("Muss ich für das Porto zahlen?", "versand-kosten")]
    # decided once: a second click changes nothing
    again = editor.client.post("/admin/learning/decide", data={"ids": str(pair_id), "action": "reject",
                                                                "csrf_token": csrf_of(page)})
    assert again.status_code == 302 and pairs(app)[0][3] == "confirmed"


def test_an_editor_rejects_a_suggestion(app: Flask, pairs_file: Path) -> None:
    _customer, cid, anna = handed_over(app, "Ich möchte etwas reklamieren")
    assert anna.post(f"/agent/conversations/{cid}/reply", {"text": KOSTEN_ANSWER}).status_code == 201
    editor, page = editor_page(app)
    with app.app_context():
        pair_id = get_session().scalar(select(LearnedPair.id))
    assert editor.client.post("/admin/learning/decide", data={"ids": str(pair_id), "action": "reject",
                                                               "csrf_token": csrf_of(page)}).status_code == 302
    assert pairs(app)[0][3] == "rejected"
    assert learned_pairs.read(pairs_file) == []
    assert "Ich möchte etwas reklamieren" not in editor.client.get("/admin/learning/").get_data(as_text=True)


def test_an_agent_cannot_decide_and_bad_input_is_refused(app: Flask) -> None:
    agent = logged_in(app, "otto@example.com", Role.AGENT, "Otto")
    assert agent.client.get("/admin/learning/").status_code == 403
    editor, page = editor_page(app)
    for data in ({"ids": "1", "action": "delete"}, {"ids": "x", "action": "confirm"}, {"action": "confirm"}):
        assert editor.client.post("/admin/learning/decide", data={**data, "csrf_token": csrf_of(page)}
                                  ).status_code == 400


def test_the_page_says_when_the_served_model_was_trained_and_counts_pairs_since(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    customer, cid, anna = handed_over(app, "Was kostet der Versand?")
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-kosten"}).status_code == 201
    editor, page = editor_page(app)
    text = visible_text(page)
    assert "Grundmodell – noch nicht auf dieses FAQ trainiert" in text and "1 bisher" in text

    trained = datetime(2025, 12, 4, 13, 5, tzinfo=UTC)  # 14:05 in Berlin (winter time), another year
    with app.app_context():  # the first pair was confirmed before that training, a second one after it
        get_session().get(LearnedPair, 1).decided_at = datetime(2025, 12, 4, 12, 0, tzinfo=UTC)
        get_session().commit()
    customer.say("Wann kommt mein Paket?")
    assert anna.post(f"/agent/conversations/{cid}/faq", {"faq_id": "versand-lieferzeit"}).status_code == 201
    monkeypatch.setattr(admin_learning, "served_model", lambda _served: (True, trained))
    text = visible_text(editor.client.get("/admin/learning/").get_data(as_text=True))
    assert "trainiert am 04.12.2025 14:05 (Berliner Zeit)" in text
    assert "1 seit dem letzten Training" in text


def test_trained_at_reads_the_model_folders_marker(tmp_path: Path) -> None:
    (tmp_path / training.MARKER).write_text('{"completed_at": 1796389500.0}')
    assert learning.trained_at(str(tmp_path)) == datetime.fromtimestamp(1796389500.0, UTC)
    assert learning.trained_at(str(tmp_path / "base")) is None


def test_a_wording_added_from_the_unanswered_list_is_counted_not_exported(
    app: Flask, pairs_file: Path, kb_settings: Settings
) -> None:
    rasa: ScriptedRasa = app.config["RASA_CLIENT"]
    rasa.replies.append(handed_off("Porto für kleine Bestellungen", [("versand-kosten", 0.6)]))
    Customer(app.test_client()).say("Porto für kleine Bestellungen")
    editor = logged_in(app, "eva@example.com", Role.EDITOR, "Eva")
    page = editor.client.get("/admin/unanswered/").get_data(as_text=True)
    with app.app_context():
        question = get_session().scalars(select(UnansweredQuestion)).one()
        question_id, question_conversation = question.id, question.conversation_id
    response = editor.client.post("/admin/unanswered/mark", data={
        "action": "alternative", "ids": str(question_id), "faq_id": "versand-kosten",
        "phrasing": "Porto für kleine Bestellungen", "csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert pairs(app) == [("Porto für kleine Bestellungen", "versand-kosten", "unanswered", "confirmed")]
    with app.app_context():
        assert get_session().scalars(select(LearnedPair)).one().conversation_id == question_conversation
    assert "1 bisher" in visible_text(editor.client.get("/admin/learning/").get_data(as_text=True))
    assert learned_pairs.read(pairs_file) == []  # `train` reads it from the FAQ file, as an alternative
    assert "Porto für kleine Bestellungen" in (kb_settings.faq_dir / "versand.yml").read_text()


def test_a_customers_erasure_removes_their_pairs_from_the_database_and_the_file(
    app: Flask, pairs_file: Path
) -> None:
    _c1, mine, anna = handed_over(app, "Was kostet der Versand zu mir?")
    _c2, other, ben = handed_over(app, "Wie lange dauert die Lieferung nach Kiel?")
    assert anna.post(f"/agent/conversations/{mine}/faq", {"faq_id": "versand-kosten"}).status_code == 201
    assert ben.post(f"/agent/conversations/{other}/faq", {"faq_id": "versand-lieferzeit"}).status_code == 201
    assert len(learned_pairs.read(pairs_file)) == 2
    with app.app_context():
        contact_id = get_session().get(Conversation, mine).contact_id
    admin = logged_in(app, "ada@example.com", Role.ADMIN, "Ada")
    url = f"/admin/privacy/contacts/{contact_id}/delete"
    page = admin.client.get(url).get_data(as_text=True)
    assert "Trainingspaare" in visible_text(page)
    assert admin.client.post(url, data={"csrf_token": csrf_of(page), "confirm": "ja"}).status_code == 302
    assert [q for q, *_ in pairs(app)] == ["Wie lange dauert die Lieferung nach Kiel?"]
    assert learned_pairs.read(pairs_file) == [("Wie lange dauert die Lieferung nach Kiel?", "versand-lieferzeit")]
    with app.app_context():
        assert get_session().get(Contact, contact_id) is None


def test_matching_answer_needs_most_of_the_answer_and_little_else() -> None:
    answers = {"versand-kosten": "Der Versand kostet **4,95 €**, ab 50 € ist er kostenlos.", "ja": "Ja."}
    assert learning.matching_answer("Hallo! Der Versand kostet 4,95 €, ab 50 € ist er kostenlos.", answers) \
        == "versand-kosten"
    assert learning.matching_answer("Der Versand kostet 4,95 €.", answers) is None  # half the answer
    long_letter = "Der Versand kostet 4,95 €, ab 50 € ist er kostenlos. " + "Außerdem gilt noch etwas anderes. " * 8
    assert learning.matching_answer(long_letter, answers) is None  # mostly other words
    assert learning.matching_answer("Ja.", answers) is None  # too short to tell


def test_pseudonymise_masks_the_name_and_personal_data() -> None:
    masked = learning.pseudonymise("Ich bin Erika Muster, Bestellung LG-123456, Tel. 0151 12345678", "Erika Muster")
    assert masked == "Ich bin [NAME] [NAME], Bestellung [BESTELLNUMMER], Tel. [TELEFON]"
