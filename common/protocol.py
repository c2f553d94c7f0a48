"""The messages the action server sends the gateway through Rasa's output — one definition for both sides.

The action server talks to the gateway only through what Rasa outputs: besides the texts for the customer, a
custom message (`{"custom": {"type": …, …}}` on the REST channel) that the gateway reads and never shows:

- `decision`: what the knowledge base decided for a customer question (answer, clarify, handoff, or a
  "Meinten Sie" button chosen), with its scores; the gateway keeps it with the question for analytics.
- `handoff`: a human must take over, with the reason, the candidates and a summary for the agent.
- `goodbye`: the bot has said goodbye (it rides along with every `utter_goodbye` text in domain.yml); the
  gateway then asks for a CSAT rating.

The action server builds them with `to_dict()`; the gateway reads them with `read(custom)` (pydantic checks the
fields, so a malformed payload is ignored rather than half-read).
"""

from __future__ import annotations

from dataclasses import asdict, field
from functools import cache
from typing import Any, ClassVar

from pydantic import TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only from Python 3.12

TYPE = "type"
DECISION_ACTIONS = ("answer", "clarify", "handoff", "chosen")
HANDOFF_REASONS = ("requested", "low_confidence", "repeated_failure", "frustration", "delivery_overdue")


class CandidateDict(TypedDict):
    """One of the knowledge base's candidates, as JSON (also in the `kb_candidates` slot)."""

    faq_id: str
    question: str
    score: float


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


@dataclass(frozen=True)
class GoodbyePayload:
    """The bot said goodbye: the end of a conversation."""

    TYPE: ClassVar[str] = "goodbye"

    def to_dict(self) -> dict[str, Any]:
        return {TYPE: self.TYPE}


Payload = DecisionPayload | HandoffPayload | GoodbyePayload
KINDS: dict[str, type[DecisionPayload] | type[HandoffPayload] | type[GoodbyePayload]] = {
    kind.TYPE: kind for kind in (DecisionPayload, HandoffPayload, GoodbyePayload)
}


@cache
def _adapter(kind: type[Payload]) -> TypeAdapter[Payload]:
    return TypeAdapter(kind)


def read(custom: object) -> Payload | None:
    """A reply's `custom` part as the payload it is (checked by pydantic; unknown fields ignored); None for
    anything else: no custom part, an unknown type, or fields that do not fit (logged by nobody: never shown)."""
    if not isinstance(custom, dict) or (kind := KINDS.get(str(custom.get(TYPE)))) is None:
        return None
    try:
        return _adapter(kind).validate_python({key: value for key, value in custom.items() if key != TYPE})
    except ValidationError:
        return None
