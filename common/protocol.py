"""The messages the action server sends the gateway through Rasa's output — one definition for both sides.

The action server talks to the gateway only through what Rasa outputs: besides the texts for the customer, a
custom message (`{"custom": {"type": …, …}}` on the REST channel) that the gateway reads and never shows:

- `decision`: what the knowledge base decided for a customer question (answer, clarify, handoff, or a
  "Meinten Sie" button chosen), with its scores; the gateway keeps it with the question for analytics.
- `handoff`: a human must take over, with the reason, the candidates and a summary for the agent.
- `goodbye`: the bot has said goodbye (it rides along with every `utter_goodbye` text in domain.yml); the
  gateway then asks for a CSAT rating.

The action server builds them with `to_dict()`; the gateway reads them with `read(custom)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TypedDict

TYPE = "type"
DECISION_ACTIONS = ("answer", "clarify", "handoff", "chosen")
HANDOFF_REASONS = ("requested", "low_confidence", "repeated_failure", "frustration")


class CandidateDict(TypedDict):
    """One of the knowledge base's candidates, as JSON (also in the `kb_candidates` slot)."""

    faq_id: str
    question: str
    score: float


def _candidates(value: object) -> list[CandidateDict]:
    return [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class DecisionPayload:
    """The knowledge base's decision for one customer question (not shown to anyone)."""

    TYPE: ClassVar[str] = "decision"
    action: str
    """One of DECISION_ACTIONS."""
    question: str
    faq_id: str | None = None
    confidence: float | None = None
    reason: str | None = None
    candidates: list[CandidateDict] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {TYPE: self.TYPE, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionPayload:
        confidence = data.get("confidence")
        return cls(
            action=str(data.get("action")),
            question=str(data.get("question") or ""),
            faq_id=_text(data.get("faq_id")),
            confidence=float(confidence) if isinstance(confidence, int | float) else None,
            reason=_text(data.get("reason")),
            candidates=_candidates(data.get("candidates")),
        )


@dataclass(frozen=True)
class HandoffPayload:
    """A human must take over: why, what the bot considered, and one line for the agent."""

    TYPE: ClassVar[str] = "handoff"
    reason: str
    """One of HANDOFF_REASONS (the gateway adds its own `bot_unavailable` when Rasa does not answer)."""
    candidates: list[CandidateDict] = field(default_factory=list)
    summary: str = ""
    last_question: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {TYPE: self.TYPE, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HandoffPayload:
        return cls(
            reason=str(data.get("reason") or "requested"),
            candidates=_candidates(data.get("candidates")),
            summary=str(data.get("summary") or ""),
            last_question=_text(data.get("last_question")),
        )


@dataclass(frozen=True)
class GoodbyePayload:
    """The bot said goodbye: the end of a conversation."""

    TYPE: ClassVar[str] = "goodbye"

    def to_dict(self) -> dict[str, Any]:
        return {TYPE: self.TYPE}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GoodbyePayload:
        return cls()


Payload = DecisionPayload | HandoffPayload | GoodbyePayload
KINDS: dict[str, type[DecisionPayload] | type[HandoffPayload] | type[GoodbyePayload]] = {
    kind.TYPE: kind for kind in (DecisionPayload, HandoffPayload, GoodbyePayload)
}


def read(custom: object) -> Payload | None:
    """A reply's `custom` part as the payload it is; None for anything else (no custom part, an unknown type)."""
    if not isinstance(custom, dict) or (kind := KINDS.get(str(custom.get(TYPE)))) is None:
        return None
    return kind.from_dict(custom)
