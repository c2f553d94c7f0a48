"""German normalisation for lexical matching."""

from __future__ import annotations

import pytest

from knowledge_base.german_text import GermanAnalyzer, fold
from knowledge_base.lexical import LexicalIndex


def test_fold_umlauts_and_sharp_s() -> None:
    assert fold("Rücksendung Größe Straße ÄÖÜ") == "ruecksendung groesse strasse aeoeue"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wo sind meine Pakete?", ["paket"]),
        ("bestellungen storniert", ["bestellung", "stornieren"]),
        ("Rücksendungen", ["ruecksendung"]),
        ("ruecksendung", ["ruecksendung"]),
    ],
)
def test_terms_are_folded_lemmas_without_stop_words(text: str, expected: list[str]) -> None:
    assert GermanAnalyzer().terms(text) == expected


def test_compounds_split_into_known_words() -> None:
    analyzer = GermanAnalyzer(["versand", "kosten", "rueck", "sendung", "liefer", "adresse"])
    assert analyzer.terms("Versandkosten") == ["versand", "kosten"]
    assert analyzer.terms("Rücksendungskosten") == ["rueck", "sendung", "kosten"]
    analyzer.vocabulary.add("versandkosten")
    assert analyzer.terms("Versandkosten") == ["versandkosten", "versand", "kosten"]
    assert analyzer.split_compound("lieferadresse") == ["liefer", "adresse"]
    assert analyzer.split_compound("schrankaufbau") == []  # unknown parts stay whole


def test_coverage_counts_compound_parts_and_penalises_unknown_words() -> None:
    index = LexicalIndex(["Was kosten Versand und Rücksendung?", "Wie lange dauert die Lieferung?"])
    assert index.coverage("Versandkosten")[0] == pytest.approx(1.0)
    assert index.coverage("Versandkosten")[0] > index.coverage("Versandkosten")[1]
    assert index.coverage("Lieferung")[1] == pytest.approx(1.0)
    known, unknown = index.coverage("Lieferung")[1], index.coverage("Lieferung Schrank Aufbau")[1]
    assert unknown < known / 2
    assert index.coverage("und die").tolist() == [0.0, 0.0]
