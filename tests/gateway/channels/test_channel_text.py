"""Plain text for Messenger and SMS, SMS segment counting, and the channel secrets from a config file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import config
from bot.channels.text import fit_sms, markdown_to_plain, sms_friendly, sms_segments, split_text


def test_markdown_becomes_readable_plain_text() -> None:
    markdown = (
        "Der Versand kostet **4,95 €** – *ab 50 €* gratis. Details: [Versandseite](https://shop.example/versand), "
        "<https://shop.example/agb>\n\n- Standard: `2–3 Tage`\n- Express: 1 Tag\n\n3. drei\n4. vier"
    )
    assert markdown_to_plain(markdown) == (
        "Der Versand kostet 4,95 € – ab 50 € gratis. Details: Versandseite (https://shop.example/versand), "
        "https://shop.example/agb\n• Standard: 2–3 Tage\n• Express: 1 Tag\n3. drei\n4. vier"
    )
    assert markdown_to_plain("<b>kein HTML</b> & so") == "<b>kein HTML</b> & so"  # text stays text


def test_split_prefers_paragraphs_then_sentences_then_words() -> None:
    assert split_text("kurz", 10) == ["kurz"]
    assert split_text("", 10) == []
    assert split_text("Eins eins.\n\nZwei zwei.", 12) == ["Eins eins.", "Zwei zwei."]
    assert split_text("Erster Satz hier. Zweiter Satz da.", 20) == ["Erster Satz hier.", "Zweiter Satz da."]
    assert split_text("ein zwei drei vier", 9) == ["ein zwei", "drei vier"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]  # one word longer than the limit
    text = "\n\n".join("Absatz. " * 40 for _ in range(5))
    pieces = split_text(text, 500)
    assert all(len(p) <= 500 for p in pieces) and " ".join(" ".join(pieces).split()) == " ".join(text.split())


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),  # concatenated: 153 per part
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("Größe, Übergröße, süß – ß" * 1, 1),  # the en dash makes it UCS-2, still under 70
        ("ä" * 160, 1),  # umlauts are GSM-7
        ("€" * 80, 1),  # € takes two septets: 160
        ("€" * 81, 2),
        ("–" * 70, 1),  # UCS-2: 70 …
        ("–" * 71, 2),  # … then 67 per part
        ("😀" * 35, 1),  # an emoji is two UTF-16 units
    ],
)
def test_sms_segments(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


def test_typography_is_made_gsm_friendly() -> None:
    assert sms_friendly("„Rückgabe“ – bis 30 Tage… ‚ok‘") == "\"Rückgabe\" - bis 30 Tage... 'ok'"
    assert sms_segments(sms_friendly("–" * 100)) == 1


def test_fit_sms_keeps_short_texts_and_cuts_long_ones_at_a_sentence_with_the_link_and_the_options() -> None:
    assert fit_sms("kurz", 3, "https://x.example", "\n1 = Ja") == "kurz\n1 = Ja"
    long = " ".join(f"Das ist Satz Nummer {i}." for i in range(60))
    options = "\n1 = Ja\n2 = Nein\nAntworten Sie mit 1 oder 2."
    cut = fit_sms(long, 3, "https://shop.example/faq", options)
    assert sms_segments(cut) <= 3
    assert cut.endswith(". Mehr: https://shop.example/faq" + options)
    assert long.startswith(cut.split(" Mehr:")[0])
    no_link = fit_sms("wort " * 200, 1)
    assert sms_segments(no_link) == 1 and no_link.endswith("...")


def test_channel_secrets_come_from_a_config_file_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "auskunft.toml"
    secrets.write_text(
        'AUSKUNFT_MESSENGER_APP_SECRET = "aus-der-datei"\nAUSKUNFT_TWILIO_AUTH_TOKEN = "twilio-aus-der-datei"\n'
        'AUSKUNFT_SMS_REPLY_MODE = "api"\n'
    )
    monkeypatch.setenv("AUSKUNFT_CONFIG_FILE", str(secrets))
    monkeypatch.setenv("AUSKUNFT_TWILIO_AUTH_TOKEN", "aus-der-umgebung")
    settings = config.from_env()
    assert settings["MESSENGER_APP_SECRET"] == "aus-der-datei"
    assert settings["TWILIO_AUTH_TOKEN"] == "aus-der-umgebung"
    assert settings["SMS_REPLY_MODE"] == "api"
    assert settings["GRAPH_API_URL"] == "https://graph.facebook.com"
    monkeypatch.setenv("AUSKUNFT_CONFIG_FILE", str(tmp_path / "fehlt.toml"))
    with pytest.raises(FileNotFoundError, match=r"fehlt\.toml"):
        config.from_env()
