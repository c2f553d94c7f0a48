"""The shipped demo shop knowledge base: complete, lint-clean, and answered by the real model."""

from __future__ import annotations

import pytest

from knowledge_base.authoring.faq_files import load_faqs
from knowledge_base.authoring.lint import lint, sms_length
from knowledge_base.engine import KnowledgeBase
from knowledge_base.schema import SMS_MAX_CHARS
from knowledge_base.settings import PROJECT_ROOT, Settings

DEMO = PROJECT_ROOT / "knowledge_base" / "faqs"
REQUIRED_IDS = [
    "versand-sendungsverfolgung",
    "versand-lieferzeit",
    "versand-kosten",
    "versand-ausland",
    "versand-packstation",
    "versand-lieferadresse-aendern",
    "versand-paket-beschaedigt",
    "versand-paket-nicht-erhalten",
    "bestellung-stornieren",
    "bestellung-aendern",
    "bestellung-bestaetigung-fehlt",
    "bestellung-teillieferung",
    "retoure-ruecksendung",
    "retoure-frist",
    "retoure-kosten",
    "retoure-erstattung-dauer",
    "umtausch",
    "zahlung-methoden",
    "zahlung-rechnung",
    "zahlung-ratenkauf",
    "zahlung-fehlgeschlagen",
    "rechnung-kopie",
    "gutschein-einloesen",
    "gutschein-geschenkkarte",
    "konto-passwort-vergessen",
    "konto-erstellen",
    "konto-loeschen",
    "konto-daten-aendern",
    "newsletter-abmelden",
    "garantie-gewaehrleistung",
    "reklamation-defekt",
    "produkt-verfuegbarkeit",
    "produkt-groessenberatung",
    "preis-anpassung",
    "kontakt-erreichbarkeit",
    "filialen-abholung",
    "datenschutz",
    "app",
]


def test_demo_content_is_complete_and_valid() -> None:
    collection = load_faqs(DEMO)
    assert [f for f in lint(collection) if f.severity == "error"] == []
    entries = {e.entry.id: e.entry for e in collection.entries}
    assert set(REQUIRED_IDS) <= set(entries)
    for entry in entries.values():
        assert len(entry.alternatives) >= 3, entry.id
        assert entry.short_answer is not None or sms_length(entry.answer) <= SMS_MAX_CHARS, entry.id


@pytest.fixture(scope="module")
def demo_kb(real_embedder, tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    settings = Settings(faq_dir=DEMO, index_dir=tmp_path_factory.mktemp("index"), use_trained_model=False)
    kb = KnowledgeBase(settings, real_embedder)
    assert kb.reload().errors == []
    return kb


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "faq_id"),
    [
        ("Wo ist mein Paket?", "versand-sendungsverfolgung"),
        ("was kostet der versand", "versand-kosten"),
        ("Ich möchte meine Bestellung stornieren", "bestellung-stornieren"),
        ("Kann ich auf Rechnung kaufen?", "zahlung-rechnung"),
        ("passwort vergessen", "konto-passwort-vergessen"),
        ("Liefern Sie auch in die Schweiz?", "versand-ausland"),
    ],
)
def test_clear_questions_rank_the_right_entry_first_and_are_never_answered_wrongly(
    demo_kb: KnowledgeBase, question: str, faq_id: str
) -> None:
    ranking, decision = demo_kb.rank_and_decide(question)
    assert ranking[0].faq_id == faq_id
    assert decision.action in {"answer", "clarify"}
    if decision.action == "answer":
        assert decision.faq_id == faq_id
    else:
        assert faq_id in [c.faq_id for c in decision.candidates]


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "Bauen Sie den Kleiderschrank bei mir zu Hause auf?",
        "Wie wird das Wetter morgen?",
        "Suchen Sie Mitarbeiter für das Lager?",
    ],
)
def test_out_of_scope_questions_are_not_answered(demo_kb: KnowledgeBase, question: str) -> None:
    assert demo_kb.ask(question).action != "answer"
