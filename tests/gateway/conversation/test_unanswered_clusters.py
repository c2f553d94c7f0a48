"""Clustering with the real e5 model: paraphrases end up together, different topics apart.

A fixed set of German questions on four topics the demo shop's FAQ does not cover (the threshold was
chosen on a different set, benchmarks/data/unanswered_paraphrases.json).
"""

from __future__ import annotations

import pytest

from bot.conversation.question_clusters import MAX_DISTANCE, QuestionEmbeddings, group

pytestmark = pytest.mark.slow

TOPICS = {
    "krypto": [
        "Kann ich mit Bitcoin bezahlen?",
        "Akzeptieren Sie Kryptowährungen?",
        "bezahlen mit krypto",
        "Nehmt ihr Bitcoin oder Ethereum?",
    ],
    "jobs": ["Haben Sie offene Stellen?", "Ich möchte mich bei Ihnen bewerben", "jobs bei euch"],
    "waschen": [
        "Bei wie viel Grad kann ich die Bettwäsche waschen?",
        "waschanleitung bettwäsche",
        "Wie wasche ich die Wolljacke richtig?",
    ],
    "schweiz": [
        "Liefern Sie in die Schweiz?",
        "Versand in die Schweiz möglich?",
        "lieferung schweiz zoll",
        "Kann ich aus Zürich bei Ihnen bestellen?",
    ],
}


def test_paraphrases_together_topics_apart(real_embedder) -> None:  # type: ignore[no-untyped-def]
    texts = [text for questions in TOPICS.values() for text in questions]
    topic_of = {text: topic for topic, questions in TOPICS.items() for text in questions}
    vectors = QuestionEmbeddings().embed(real_embedder, texts)
    groups = [{texts[i] for i in indexes} for indexes in group(texts, vectors, MAX_DISTANCE)]
    found = sorted((sorted(g) for g in groups), key=lambda g: topic_of[g[0]])
    assert found == sorted((sorted(q) for q in TOPICS.values()), key=lambda g: topic_of[g[0]])


def test_a_threshold_too_wide_would_merge_topics(real_embedder) -> None:  # type: ignore[no-untyped-def]
    """The test above can fail: with a loose threshold everything runs together."""
    texts = [text for questions in TOPICS.values() for text in questions]
    vectors = real_embedder.encode(texts, "query")
    assert len(group(texts, vectors, 0.3)) < len(TOPICS)


def test_embeddings_are_cached_per_text(fake_embedder) -> None:  # type: ignore[no-untyped-def]
    cache = QuestionEmbeddings()
    cache.embed(fake_embedder, ["eins", "zwei"])
    cache.embed(fake_embedder, ["zwei", "drei"])
    assert fake_embedder.encoded == ["eins", "zwei", "drei"]


def test_identical_wordings_always_share_a_cluster(fake_embedder) -> None:  # type: ignore[no-untyped-def]
    texts = ["Wo ist [BESTELLNUMMER]?", "wo ist  [bestellnummer]?", "Gutschein einlösen"]
    assert sorted(map(sorted, group(texts, fake_embedder.encode(texts, "query"), 0.0))) == [[0, 1], [2]]


def test_embeddings_survive_a_restart_on_disk(tmp_path, fake_embedder) -> None:  # type: ignore[no-untyped-def]
    QuestionEmbeddings(tmp_path).embed(fake_embedder, ["eins", "zwei"])
    QuestionEmbeddings(tmp_path).embed(fake_embedder, ["zwei", "drei"])  # a new process: reads the file
    assert fake_embedder.encoded == ["eins", "zwei", "drei"]
