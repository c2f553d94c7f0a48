"""Prometheus metrics of the gateway (prometheus-client), exposed at `/metrics` by `bot.metrics_endpoint`.

Why counters here and not only the analytics page: Prometheus scrapes every few seconds and alerts on rates
(a sudden rise of handoffs, Rasa getting slow, a failing FAQ reload), which the database reports cannot do.
The objects live in the client's default registry. With several gunicorn workers (`AUSKUNFT_GATEWAY_WORKERS`) each
process counts into its own files in PROMETHEUS_MULTIPROC_DIR (`bot.wsgi_server` sets it up) and /metrics adds
them up (`bot.web.metrics_endpoint`); the gauges then report the most recent value of a live worker.

Who moves what:
- `bot.conversations.add_message`: every stored message; `hand_off`: handoffs;
- `bot.channel.receive` / `store_replies`: KB decisions, bot response time; `bot.csat.record`: ratings;
- the inbox's replies (`observe_agent_reply`): agent first response time;
- the FAQ editor's live reload: `KB_INDEX_ENTRIES`, `KB_INDEX_TEXTS`, `KB_RELOADS`, `KB_RELOAD_FAILURES`.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Conversation, Direction, Message, Sender, aware

MESSAGES = Counter(
    "auskunft_messages",
    "Stored messages by channel and sender (contact, bot, agent, system).",
    ["channel", "sender"],
)
KB_DECISIONS = Counter(
    "auskunft_kb_decisions",
    "The knowledge base's decision per customer question: answer, clarify, handoff, chosen.",
    ["action"],
)
HANDOFFS = Counter(
    "auskunft_handoffs",
    "Conversations handed to the agent queue, by reason (requested, low_confidence, bot_unavailable, …).",
    ["reason"],
)
RATINGS = Counter("auskunft_ratings", "CSAT ratings received, by score 1–5 and channel.", ["score", "channel"])
BOT_RESPONSE_SECONDS = Histogram(
    "auskunft_bot_response_seconds",
    "Per customer message the bot handled: gateway → Rasa → replies stored.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 30, 60),
)
AGENT_FIRST_RESPONSE_SECONDS = Histogram(
    "auskunft_agent_first_response_seconds",
    "Handoff → the first agent message after it.",
    ["channel"],
    buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400),
)
KB_INDEX_ENTRIES = Gauge(
    "auskunft_kb_index_entries", "FAQ entries in the loaded knowledge base index.", multiprocess_mode="livemostrecent"
)
KB_INDEX_TEXTS = Gauge(
    "auskunft_kb_index_texts",
    "Embedded texts (questions and alternatives) in the loaded index.",
    multiprocess_mode="livemostrecent",
)
KB_RELOADS = Counter("auskunft_kb_reloads", "Successful reloads of the knowledge base (FAQ edited or files changed).")
KB_RELOAD_FAILURES = Counter(
    "auskunft_kb_reload_failures", "Reloads that failed (lint errors, unreadable files); the old index stays."
)


def observe_agent_reply(session: Session, conversation: Conversation, reply: Message) -> None:
    """Observe the agent first response time if `reply` is the first agent message since the latest handoff."""
    earlier = session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.id < reply.id,
            Message.direction.in_([Direction.ACTIVITY, Direction.OUTGOING]),
        )
        .order_by(Message.id.desc())
    )
    for message in earlier:
        if message.sender == Sender.AGENT:
            return  # not the first reply since the handoff
        if message.direction == Direction.ACTIVITY and (message.payload or {}).get("handoff"):
            seconds = (aware(reply.created_at) - aware(message.created_at)).total_seconds()
            AGENT_FIRST_RESPONSE_SECONDS.labels(conversation.channel).observe(seconds)
            return
