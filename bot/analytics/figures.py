"""The analytics dashboard's figures, from the stored conversations, messages and ratings.

Definitions (also on the dashboard page and in the README):

- Days are Europe/Berlin calendar days; a period [from, to] includes both days. Each event counts on the day
  it happened: a conversation on the day it started, a message or question on the day it was sent, a
  handoff's response times on the day of the handoff, a rating on the day it was given.
- **Conversations** started in the period; **messages**: customer, bot and agent messages (system notes aside).
- **Containment**: the share of the period's conversations that never went to the agent queue (no handoff,
  ever); **handoff rate** = 1 − containment; **handoff reasons**: each handed-off conversation counted once,
  under the reason of its first handoff.
- **Answered / clarified / handed off**: the knowledge base's decision per customer question
  (`payload["decision"]`): answer and chosen (a "Meinten Sie" button) are answered, clarify is clarified,
  handoff is handed off; shares of all decisions. **Top FAQ entries**: answered questions per entry.
- **Feedback** (Ja/Nein after an answer) counts for the entry of the latest answer before it.
- **CSAT**: ratings 1–5; the average, and the share of 4s and 5s (the usual CSAT %).
- **Bot response time**: a customer message the bot handled (not while the conversation was with the
  agent queue or an agent, not a rating) → the first bot message after it, before the customer's next one.
- **Agent first response**: a handoff → the first agent message after it (handoffs without one: none).
- **Time to close**: a handoff → the end of the human part: the agent closes the conversation or gives
  it back to the bot, whichever comes first.
- **Percentiles**: nearest rank — p-th percentile of n sorted values = value number ⌈p/100 · n⌉ (1-based),
  always an observed value; none without values.

Why the aggregation happens in Python, not in SQL: Berlin days (with daylight saving time) and percentiles
are not portable between SQLite and PostgreSQL, and the feedback's entry and the response times need each
conversation's messages in order. Two queries load the period's conversations with all their messages
(a month of a shop's chat is a few thousand conversations) and ratings; the rest is one pass.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import channels
from bot.models import Conversation, Direction, Message, Rating, Sender, aware

BERLIN = ZoneInfo("Europe/Berlin")
CHANNELS = tuple(channels.LABELS)  # the known channels, in the order of bot.channels.MODULES
ANSWERED = ("answer", "chosen")
FEEDBACK = {"/feedback_helpful": True, "/feedback_not_helpful": False}
HUMAN_PART_ENDS = ("closed", "given_back", "bot_available")  # the conversation is with the bot again


def berlin_day(moment: datetime) -> date:
    return aware(moment).astimezone(BERLIN).date()


def utc_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """[start 00:00, day after end 00:00) Berlin time, in UTC."""
    first = datetime.combine(start, time(), BERLIN).astimezone(UTC)
    after = datetime.combine(end + timedelta(days=1), time(), BERLIN).astimezone(UTC)
    return first, after


def percentile(values: Iterable[float], p: float) -> float | None:
    """Nearest rank: the ⌈p/100 · n⌉-th smallest value; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p / 100 * len(ordered))) - 1]


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Fact:
    """One countable event: on a Berlin day, on a channel; `kind` says what, `value`/`label` carry the rest."""

    day: date
    channel: str
    kind: str  # conversation, message, decision, feedback, rating, bot_seconds, agent_first_seconds, close_seconds
    label: str | None = None  # handoff reason / sender / decision action / faq id
    value: float | None = None  # score, seconds, 1/0 for helpful
    faq_id: str | None = None


@dataclass
class Figures:
    """Every number the dashboard shows, for one slice of the facts (the period, a day, a day × channel)."""

    conversations: int = 0
    contained: int = 0
    handed_off: int = 0
    messages: int = 0
    customer_messages: int = 0
    questions: int = 0
    answered: int = 0
    clarified: int = 0
    handoff_decisions: int = 0
    helpful: int = 0
    not_helpful: int = 0
    ratings: int = 0
    csat_average: float | None = None
    csat_satisfied_share: float | None = None
    bot_p50: float | None = None
    bot_p95: float | None = None
    agent_first_p50: float | None = None
    agent_first_p95: float | None = None
    close_p50: float | None = None
    close_p95: float | None = None
    handoff_reasons: dict[str, int] = field(default_factory=dict)
    rating_counts: dict[int, int] = field(default_factory=dict)

    @property
    def containment(self) -> float | None:
        return share(self.contained, self.conversations)

    @property
    def handoff_rate(self) -> float | None:
        return share(self.handed_off, self.conversations)

    @property
    def answered_share(self) -> float | None:
        return share(self.answered, self.questions)

    @property
    def clarified_share(self) -> float | None:
        return share(self.clarified, self.questions)

    @property
    def handoff_decision_share(self) -> float | None:
        return share(self.handoff_decisions, self.questions)

    @classmethod
    def of(cls, facts: Iterable[Fact]) -> Figures:
        figures = cls()
        seconds: defaultdict[str, list[float]] = defaultdict(list)
        scores: list[int] = []
        reasons: Counter[str] = Counter()
        for fact in facts:
            if fact.kind == "conversation":
                figures.conversations += 1
                if fact.label is None:
                    figures.contained += 1
                else:
                    figures.handed_off += 1
                    reasons[fact.label] += 1
            elif fact.kind == "message":
                figures.messages += 1
                figures.customer_messages += fact.label == Sender.CONTACT
            elif fact.kind == "decision":
                figures.questions += 1
                figures.answered += fact.label in ANSWERED
                figures.clarified += fact.label == "clarify"
                figures.handoff_decisions += fact.label == "handoff"
            elif fact.kind == "feedback":
                figures.helpful += fact.value == 1
                figures.not_helpful += fact.value == 0
            elif fact.kind == "rating":
                scores.append(int(fact.value or 0))
            else:
                seconds[fact.kind].append(float(fact.value or 0))
        figures.handoff_reasons = dict(reasons.most_common())
        figures.ratings = len(scores)
        figures.rating_counts = {score: scores.count(score) for score in range(1, 6)}
        if scores:
            figures.csat_average = sum(scores) / len(scores)
            figures.csat_satisfied_share = sum(score >= 4 for score in scores) / len(scores)
        for prefix in ("bot", "agent_first", "close"):
            setattr(figures, f"{prefix}_p50", percentile(seconds[f"{prefix}_seconds"], 50))
            setattr(figures, f"{prefix}_p95", percentile(seconds[f"{prefix}_seconds"], 95))
        return figures


@dataclass
class EntryStats:
    faq_id: str
    answered: int = 0
    helpful: int = 0
    not_helpful: int = 0

    @property
    def helpful_share(self) -> float | None:
        return share(self.helpful, self.helpful + self.not_helpful)


@dataclass
class Report:
    start: date
    end: date
    channel: str | None
    facts: list[Fact]

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def channels(self) -> list[str]:
        """The channels shown: the filtered one, else the known ones plus any other found in the data."""
        if self.channel:
            return [self.channel]
        return list(CHANNELS) + sorted({f.channel for f in self.facts} - set(CHANNELS))

    def total(self) -> Figures:
        return Figures.of(self.facts)

    def by_day(self) -> dict[date, Figures]:
        grouped: defaultdict[date, list[Fact]] = defaultdict(list)
        for fact in self.facts:
            grouped[fact.day].append(fact)
        return {day: Figures.of(grouped[day]) for day in self.days}

    def by_day_and_channel(self) -> dict[tuple[date, str], Figures]:
        grouped: defaultdict[tuple[date, str], list[Fact]] = defaultdict(list)
        for fact in self.facts:
            grouped[(fact.day, fact.channel)].append(fact)
        return {(day, ch): Figures.of(grouped[(day, ch)]) for day in self.days for ch in self.channels}

    def by_channel(self) -> dict[str, Figures]:
        return {ch: Figures.of(f for f in self.facts if f.channel == ch) for ch in self.channels}

    def entries(self) -> list[EntryStats]:
        """FAQ entries by answers in the period (most first, then by id), with their feedback."""
        stats: dict[str, EntryStats] = {}
        for fact in self.facts:
            if fact.faq_id is None:
                continue
            entry = stats.setdefault(fact.faq_id, EntryStats(fact.faq_id))
            if fact.kind == "decision" and fact.label in ANSWERED:
                entry.answered += 1
            elif fact.kind == "feedback":
                entry.helpful += fact.value == 1
                entry.not_helpful += fact.value == 0
        return sorted(stats.values(), key=lambda e: (-e.answered, e.faq_id))


def conversation_facts(conversation: Conversation, messages: list[Message], start: date, end: date) -> list[Fact]:
    """The facts one conversation contributes to the period [start, end] (its messages in id order)."""
    facts: list[Fact] = []
    channel = conversation.channel

    def add(moment: datetime, kind: str, **values: object) -> None:
        day = berlin_day(moment)
        if start <= day <= end:
            facts.append(Fact(day, channel, kind, **values))  # type: ignore[arg-type]

    first_reason: str | None = None
    with_humans = False  # in the queue or with an agent: the bot is not answering
    waiting_for_bot: Message | None = None  # the customer's message the bot has not answered yet
    last_answer: str | None = None
    open_handoff: Message | None = None
    first_response_done = False
    for message in messages:
        payload = message.payload or {}
        if message.direction != Direction.ACTIVITY:
            add(message.created_at, "message", label=str(message.sender))
        if message.sender == Sender.CONTACT:
            waiting_for_bot = None if with_humans or "csat" in payload else message
            decision = payload.get("decision")
            if isinstance(decision, dict):
                faq_id = decision.get("faq_id") if decision.get("action") in ANSWERED else None
                add(message.created_at, "decision", label=str(decision.get("action")), faq_id=faq_id)
                if faq_id:
                    last_answer = str(faq_id)
            if (helpful := FEEDBACK.get(str(payload.get("intent")))) is not None and last_answer:
                add(message.created_at, "feedback", value=1 if helpful else 0, faq_id=last_answer)
        elif message.sender == Sender.BOT and waiting_for_bot is not None and not payload.get("csat_request"):
            seconds = (aware(message.created_at) - aware(waiting_for_bot.created_at)).total_seconds()
            add(waiting_for_bot.created_at, "bot_seconds", value=seconds)
            waiting_for_bot = None
        elif message.sender == Sender.AGENT and open_handoff is not None and not first_response_done:
            seconds = (aware(message.created_at) - aware(open_handoff.created_at)).total_seconds()
            add(open_handoff.created_at, "agent_first_seconds", value=seconds)
            first_response_done = True
        elif message.direction == Direction.ACTIVITY and isinstance(payload.get("handoff"), dict):
            if first_reason is None:
                first_reason = str(payload["handoff"].get("reason") or "unbekannt")
            with_humans, waiting_for_bot = True, None
            if open_handoff is None:
                open_handoff, first_response_done = message, False
        elif message.direction == Direction.ACTIVITY and payload.get("event") in HUMAN_PART_ENDS:
            if open_handoff is not None:
                seconds = (aware(message.created_at) - aware(open_handoff.created_at)).total_seconds()
                add(open_handoff.created_at, "close_seconds", value=seconds)
            with_humans, open_handoff = False, None
    add(conversation.created_at, "conversation", label=first_reason)
    return facts


def build(session: Session, start: date, end: date, channel: str | None = None) -> Report:
    """The report for Berlin days [start, end], one channel or all."""
    if end < start:
        raise ValueError("das Ende des Zeitraums liegt vor seinem Anfang")
    first, after = utc_bounds(start, end)
    touched = select(Message.conversation_id).where(Message.created_at >= first, Message.created_at < after).distinct()
    query = select(Conversation).where(
        or_(Conversation.id.in_(touched), (Conversation.created_at >= first) & (Conversation.created_at < after))
    )
    if channel:
        query = query.where(Conversation.channel == channel)
    found = {c.id: c for c in session.scalars(query)}
    messages: defaultdict[int, list[Message]] = defaultdict(list)
    ids = query.with_only_columns(Conversation.id)  # a subquery: no parameter per conversation
    for message in session.scalars(
        select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.conversation_id, Message.id)
    ):
        messages[message.conversation_id].append(message)
    facts = [fact for cid, c in found.items() for fact in conversation_facts(c, messages[cid], start, end)]
    ratings = select(Rating).where(Rating.created_at >= first, Rating.created_at < after)
    if channel:
        ratings = ratings.where(Rating.channel == channel)
    facts.extend(Fact(berlin_day(r.created_at), r.channel, "rating", value=r.score) for r in session.scalars(ratings))
    return Report(start, end, channel, facts)
