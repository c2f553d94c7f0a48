"""Masking: every listed form of personal data is caught, ordinary words and numbers are left alone."""

from __future__ import annotations

import pytest

from common.order_numbers import normalise_order_number
from common.pii import mask


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # e-mail addresses
        ("Meine Adresse ist max.mustermann@example.com.", "Meine Adresse ist [E-MAIL]."),
        ("erika+shop@mail.example.co.uk bitte", "[E-MAIL] bitte"),
        ("MAX_M-1@Beispiel-Firma.DE", "[E-MAIL]"),
        # phone numbers, German and international
        ("Rufen Sie mich an: +49 151 1234567", "Rufen Sie mich an: [TELEFON]"),
        ("0151-1234567", "[TELEFON]"),
        ("+49 0151 1234567 ist meine Nummer", "[TELEFON] ist meine Nummer"),  # a 0 after the country code
        ("0151 1234567 ab 18 Uhr", "[TELEFON] ab 18 Uhr"),
        ("(030) 1234567", "[TELEFON]"),
        ("0049 30 12345678", "[TELEFON]"),
        ("+49 (0)30 1234 5678", "[TELEFON]"),
        ("Tel.: 030/1234567", "Tel.: [TELEFON]"),
        ("+4915112345678", "[TELEFON]"),
        ("+43 1 5131234", "[TELEFON]"),
        ("Nummer:0176 98765432.", "Nummer:[TELEFON]."),
        ("Tel 030 1234567 2 Pakete", "Tel [TELEFON] 2 Pakete"),  # what follows stays
        ("0151 1234567 0152 7654321", "[TELEFON] [TELEFON]"),  # two numbers, both masked
        # IBANs, German and other countries, with and without spaces, any case
        ("IBAN DE89 3704 0044 0532 0130 00 bitte", "IBAN [IBAN] bitte"),
        ("DE89370400440532013000", "[IBAN]"),
        ("de89 3704 0044 0532 0130 00", "[IBAN]"),
        ("AT61 1904 3002 3457 3201", "[IBAN]"),
        ("GB29NWBK60161331926819", "[IBAN]"),
        ("CH93 0076 2011 6238 5295 7", "[IBAN]"),
        # order numbers in every spelling the bot understands
        ("Wo ist LG-123456?", "Wo ist [BESTELLNUMMER]?"),
        ("bestellung lg 123456", "bestellung [BESTELLNUMMER]"),
        ("LG123456 kam nicht", "[BESTELLNUMMER] kam nicht"),
        ("Nummer 482913", "Nummer [BESTELLNUMMER]"),
        # several at once
        (
            "Ich bin a@b.de, 0151 1234567, Bestellung LG-654321",
            "Ich bin [E-MAIL], [TELEFON], Bestellung [BESTELLNUMMER]",
        ),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Der Versand kostet 4,95 € und ab 50 € nichts.",
        "Lieferung bis 24.12.2026?",
        "Referenz +1 212 555 01000",  # digits enough, but no number anywhere: too long for the US (phonenumbers)
        "am 01.12.2026 bestellt",
        "Meine Postleitzahl ist 10115, in 01067 Dresden auch?",
        "Seit 2025 Kunde, Rückgabe in 30 Tage",
        "Öffnungszeiten 09:00-16:00 Uhr",
        "Größe 42 und 0,5 Liter, 1.299,00 €",
        "2026-11-25 geliefert",
        "Rechnung vom 01/02/2024",
        "Termin 05-06-2024",
        "Zimmer 01 12 2024 gebucht",
        "Wie lange dauert die Lieferung nach Österreich?",
        "ab12 test wort etwa",
        "Artikelnummer 12345 und 1234567890123 EAN",
        "Wetter @ morgen",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert mask(text) == text


def test_order_number_pattern_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_ORDER_NUMBER_PATTERN", r"\bAB-\d{8}\b")
    assert mask("Bestellung ab-12345678 und 482913") == "Bestellung [BESTELLNUMMER] und 482913"
    assert mask("Bestellung AB-1", order_pattern=r"\bAB-\d\b") == "Bestellung [BESTELLNUMMER]"


@pytest.mark.parametrize("text", ["LG-123456", "lg 123456", "LG123456", "123456", "Lg-999999"])
def test_the_default_pattern_masks_what_the_bot_reads_as_an_order_number(text: str) -> None:
    assert normalise_order_number(text) is not None
    assert mask(text) == "[BESTELLNUMMER]"


def test_the_action_servers_feedback_record_is_masked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from common.feedback_log import FeedbackLog

    FeedbackLog(tmp_path / "f.db").record("s-1", "versand-kosten", False, "button", "Paket LG-123456 an a@b.de?")
    with sqlite3.connect(tmp_path / "f.db") as connection:
        [(question,)] = connection.execute("SELECT question FROM feedback").fetchall()
    connection.close()
    assert question == "Paket [BESTELLNUMMER] an [E-MAIL]?"
