"""How the scale test classes a customer's questions from the stored conversation (no stack needed)."""

from __future__ import annotations

from tests.support.scale_load import FEEDBACK_PROMPT, classify

KNOWN = {"Versand?": "4,95 €", "Lieferzeit?": "2-3 Werktage", "Rückgabe?": "30 Tage"}


def said(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"sender": sender, "text": text} for sender, text in pairs]


def test_each_outcome_is_told_apart() -> None:
    transcript = said(
        ("contact", "Versand?"), ("bot", "4,95 €"), ("bot", FEEDBACK_PROMPT),  # answered
        ("contact", "Lieferzeit?"), ("bot", "4,95 €"),  # swapped: another question's answer
        ("contact", "Rückgabe?"), ("bot", "30 Tage"), ("bot", "30 Tage"),  # duplicated
        ("contact", "Versand?"), ("bot", FEEDBACK_PROMPT),  # lost: no answer at all
    )
    assert classify(transcript, KNOWN) == {"answered": 1, "swapped": 1, "duplicated": 1, "lost": 1}


def test_an_answer_owed_through_an_outage_counts_late_not_swapped() -> None:
    transcript = said(
        ("contact", "Versand?"), ("bot", "Unser digitaler Assistent ist gerade nicht erreichbar."),
        ("contact", "Lieferzeit?"), ("bot", "4,95 €"), ("bot", "2-3 Werktage"),
    )
    assert classify(transcript, KNOWN) == {"late": 1, "answered": 1}
