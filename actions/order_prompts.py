"""What the order form asks, worded like a good service desk: understanding first, then everything needed at once.

The first question of an order request asks for the order number and — unless the channel proved the sender's
phone (an SMS) — the proof of ownership in the same message (actions/order_access.py), so the customer can answer
both in one go. An annoyed or long-waiting customer hears a short apology first (no admission of fault), and a
button offers the general tracking FAQ for who only wanted to know how tracking works. Plain data in, message
dicts out (keyword arguments for `dispatcher.utter_message`).
"""

from __future__ import annotations

from typing import Any

from common.frustration import is_frustrated, waits_long

ASK_NUMBER = "Ich sehe gern nach, wo Ihre Bestellung ist. Wie lautet Ihre Bestellnummer (z. B. LG-123456)?"
ASK_NUMBER_AND_FACTOR = (
    "Ich sehe gern nach, wo Ihre Bestellung ist. Bitte nennen Sie mir Ihre Bestellnummer (z. B. LG-123456) und zur "
    "Sicherheit die Postleitzahl der Lieferadresse oder die E-Mail-Adresse Ihrer Bestellung."
)
ASK_NUMBER_AGAIN = "Wie lautet Ihre Bestellnummer? Sie finden sie in der Bestellbestätigung (z. B. LG-123456)."
ASK_FACTOR = "Zur Sicherheit: Wie lautet die Postleitzahl der Lieferadresse oder die E-Mail-Adresse Ihrer Bestellung?"
SORRY_WAITING = "Das tut mir leid, dass Sie noch warten."
SORRY_ANNOYED = "Das tut mir leid, dass das so ärgerlich für Sie ist."


def apology(text: str) -> str | None:
    """The first sentence for a customer who waits long or is annoyed; None for a calm question."""
    if waits_long(text):
        return SORRY_WAITING
    if is_frustrated(text):
        return SORRY_ANNOYED
    return None


def ask(
    slot: str,
    customer_text: str,
    first: bool,
    factor_needed: bool,
    faq_button: dict[str, str] | None,
) -> dict[str, Any]:
    """The form's question for `slot` (`order_number` or `order_verification`).

    `first`: this message started the order request (then the apology and the FAQ button come with it; a repeated
    question after an unusable answer comes bare). `factor_needed`: the sender's phone is not proven, so the
    number question asks for the postcode or e-mail too."""
    if slot == "order_number":
        question = (ASK_NUMBER_AND_FACTOR if factor_needed else ASK_NUMBER) if first else ASK_NUMBER_AGAIN
    else:
        question = ASK_FACTOR
    if not first:
        return {"text": question}
    sorry = apology(customer_text)
    message: dict[str, Any] = {"text": f"{sorry} {question}" if sorry else question}
    if faq_button:
        message["buttons"] = [faq_button]
    return message
