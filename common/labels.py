"""German words for the internal codes staff see: conversation states, handoff reasons, senders, the knowledge
base's decisions and their reasons, what the privacy pages count.

The one source for these words: the inbox, the editors' pages, the handoff summary the action server writes and
the gateway's JSON for the pages' scripts all take them from here. Codes stay in the database, the metrics and the
CSV/JSON exports that machines read; a code without a label is shown as it is (never hidden).
"""

from __future__ import annotations

import re

STATES = {
    "bot": "beim Bot",
    "waiting_for_agent": "wartet auf Kundenservice",
    "with_agent": "beim Kundenservice",
    "closed": "beendet",
}
HANDOFF_REASONS = {
    "requested": "Kunde möchte einen Menschen",
    "low_confidence": "Bot war unsicher",
    "repeated_failure": "Bot konnte mehrmals nicht helfen",
    "frustration": "Kunde verärgert",
    "delivery_overdue": "Zustellung überfällig",
    "bot_unavailable": "Bot nicht erreichbar",
    "page_inbox": "Antwort aus Metas Page Inbox",
}
SENDERS = {"contact": "Kunde", "bot": "Bot", "agent": "Kundenservice", "system": "System"}
DECISIONS = {
    "answer": "Antwort",
    "clarify": "Rückfrage",
    "handoff": "Übergabe",
    "chosen": "gewählt",
}
DECISION_REASONS = {
    "clear match": "eindeutiger Treffer",
    "close matches": "mehrere ähnliche Treffer",
    "no entry fits well enough": "kein Eintrag passt gut genug",
    "no candidates": "keine Kandidaten",
    "no text to search": "kein Suchtext",
}

STORED_ROWS = {
    "contacts": "Kundendatensatz",
    "contact_identifiers": "Kennungen",
    "conversations": "Gespräche",
    "conversation_links": "Verknüpfungen von Gesprächen",
    "messages": "Nachrichten",
    "ratings": "Bewertungen",
    "unanswered_questions": "unbeantwortete Fragen",
    "learned_pairs": "Trainingspaare",
    "channel_opt_outs": "SMS-Abbestellungen",
    "webhook_receipts": "Eingänge von Messenger/SMS",
    "conversation_notes": "interne Notizen und Weitergaben",
}
"""What a customer's stored rows are, by table (the privacy pages; the JSON export keeps the table names)."""
PAIR_SOURCES = {
    "faq_button": "FAQ-Antwort per Klick",
    "agent_reply": "eigene Antwort des Kundenservice",
    "unanswered": "Formulierung aus den unbeantworteten Fragen",
}
"""Where a training pair learned in the service came from (the editors' page "Lernen aus dem Betrieb")."""


NOTE_KINDS = {"note": "Interne Notiz", "transfer": "Weitergabe"}
"""The staff-only lines of a conversation (bot.models.ConversationNote)."""


def note_kind(code: str | None) -> str:
    return NOTE_KINDS.get(code or "", code or "")


def state(code: str | None) -> str:
    return STATES.get(code or "", code or "")


def handoff_reason(code: str | None) -> str:
    return HANDOFF_REASONS.get(code or "", code or "")


def sender(code: str | None) -> str:
    return SENDERS.get(code or "", code or "")


def decision(code: str | None) -> str:
    return DECISIONS.get(code or "", code or "")


def decision_reason(code: str | None) -> str:
    return DECISION_REASONS.get(code or "", code or "")


def pair_source(code: str | None) -> str:
    return PAIR_SOURCES.get(code or "", code or "")


def stored_rows(table: str) -> str:
    return STORED_ROWS.get(table, table)


def handoff_headline(reason: str, before: str | None = None) -> str:
    """The handoff summary's first sentence: "Übergabe: Bot war unsicher." (with the earlier reason, if changed)."""
    changed = f" (zuvor: {handoff_reason(before)})" if before else ""
    return f"Übergabe: {handoff_reason(reason)}{changed}."


OLD_HEADLINE = re.compile(r"^Übergabe: ([a-z_]+)(?: \(zuvor ([a-z_]+)\))?\.")
"""How summaries began before they were written in German (rows stored earlier still read that way)."""


def handoff_summary(summary: str | None) -> str:
    """A stored summary, its headline in German even when it was stored with the reason's code."""
    if not summary:
        return ""
    return OLD_HEADLINE.sub(lambda m: handoff_headline(m.group(1), m.group(2)), summary, count=1)


_REASON = "|".join(re.escape(label) for label in HANDOFF_REASONS.values())
HEADLINE = re.compile(rf"^Übergabe: (?:{_REASON})(?: \(zuvor: (?:{_REASON})\))?\.\s*")
"""The headline `handoff_headline` writes (an unknown reason's stays: the summary is then all that names it)."""


def handoff_details(summary: str | None) -> str:
    """The summary without its headline, for pages that show the reason as "Grund: …" already (never twice)."""
    return HEADLINE.sub("", handoff_summary(summary), count=1)
