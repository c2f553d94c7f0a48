"""Conversations written as they would have happened, at chosen times: for the analytics tests and the demo.

`Script` stores what the gateway would have stored (customer questions with the knowledge base's decision,
bot replies, feedback, handoff / close / give-back notes with their markers, agent replies, a rating), so the
dashboard reads seeded data exactly like real data. `seed_demo` fills a month on web, Messenger and SMS
(`flask --app bot seed-demo-analytics`), for trying the dashboard and for its screenshot.
"""

from __future__ import annotations

import random
import secrets
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from bot.analytics.figures import BERLIN, berlin_day
from bot.conversation import csat
from bot.conversation.states import TEXTS
from bot.db import get_session
from bot.models import Agent, Contact, Conversation, Direction, Message, Rating, Role, Sender, State

FEEDBACK_BUTTONS = [
    {"title": "Ja", "payload": "/feedback_helpful"},
    {"title": "Nein", "payload": "/feedback_not_helpful"},
]
NONE_OF_THESE = [{"title": "Nichts davon", "payload": "/none_of_these"}]
GOODBYE_TEXT = "Auf Wiedersehen und einen schönen Tag!"  # one of utter_goodbye's texts


class Script:
    """One conversation, step by step; each step's `after` is seconds since the previous step. Caller commits."""

    def __init__(self, session: Session, channel: str, started: datetime) -> None:
        self.session = session
        self.clock = started
        self.conversation = Conversation(
            contact=Contact(),
            channel=channel,
            token=secrets.token_urlsafe(32),
            rasa_sender_id=f"{channel}-{uuid.uuid4().hex}",
            state=State.BOT,
            created_at=started,
            updated_at=started,
        )
        session.add(self.conversation)
        session.flush()

    def message(
        self,
        after: float,
        direction: Direction,
        sender: Sender,
        text: str,
        payload: dict[str, Any] | None = None,
        agent: Agent | None = None,
    ) -> Message:
        self.clock += timedelta(seconds=after)
        message = Message(
            conversation_id=self.conversation.id,
            direction=direction,
            sender=sender,
            text=text,
            payload=payload,
            agent=agent,
            created_at=self.clock,
        )
        self.session.add(message)
        self.conversation.updated_at = self.clock
        self.session.flush()
        return message

    def customer(self, text: str, after: float = 20, payload: dict[str, Any] | None = None) -> Message:
        return self.message(after, Direction.INCOMING, Sender.CONTACT, text, payload)

    def bot(self, text: str, after: float = 1, payload: dict[str, Any] | None = None) -> Message:
        return self.message(after, Direction.OUTGOING, Sender.BOT, text, payload)

    def ask(self, text: str, action: str, faq_id: str | None = None, after: float = 20, reply_after: float = 1) -> None:
        """A question, the knowledge base's decision stored with it, and the bot's reply."""
        decision = {"type": "decision", "action": action, "question": text, "faq_id": faq_id, "candidates": []}
        self.customer(text, after, {"decision": decision})
        if action in ("answer", "chosen"):
            self.bot(f"Antwort aus {faq_id}.", reply_after)
            self.bot("Hat Ihnen das geholfen?", 0, {"buttons": FEEDBACK_BUTTONS})
        elif action == "clarify":
            self.bot("Meinten Sie …?", reply_after, {"buttons": NONE_OF_THESE})
        else:
            self.bot("Dazu habe ich leider keine sichere Antwort.", reply_after)

    def feedback(self, helpful: bool, after: float = 10, reply_after: float = 1) -> None:
        intent = "/feedback_helpful" if helpful else "/feedback_not_helpful"
        self.customer("Ja" if helpful else "Nein", after, {"intent": intent})
        self.bot("Danke für Ihre Rückmeldung!", reply_after)

    def handoff(self, reason: str, after: float = 0) -> None:
        self.conversation.state = State.WAITING
        self.conversation.handoff_reason = reason
        self.conversation.handoff = {"reason": reason, "candidates": []}
        note = self.message(after, Direction.ACTIVITY, Sender.SYSTEM, TEXTS["queued"], {"handoff": {"reason": reason}})
        self.conversation.waiting_since = note.created_at

    def take(self, agent: Agent, after: float = 60) -> None:
        self.conversation.state, self.conversation.assignee_id = State.WITH_AGENT, agent.id
        self.message(after, Direction.ACTIVITY, Sender.SYSTEM, TEXTS["joined"].format(name=agent.name))

    def agent_reply(self, agent: Agent, text: str, after: float = 30) -> None:
        self.message(after, Direction.OUTGOING, Sender.AGENT, text, agent=agent)

    def give_back(self, agent: Agent, after: float = 60) -> None:
        self.conversation.state, self.conversation.assignee_id, self.conversation.waiting_since = State.BOT, None, None
        text = TEXTS["left"].format(name=agent.name)
        self.message(after, Direction.ACTIVITY, Sender.SYSTEM, text, {"event": "given_back"})

    def close(self, after: float = 60) -> None:
        self.conversation.state, self.conversation.waiting_since = State.CLOSED, None
        self.message(after, Direction.ACTIVITY, Sender.SYSTEM, TEXTS["closed"], {"event": "closed"})
        self.request_rating()

    def request_rating(self, after: float = 0) -> None:
        buttons = [{"title": str(n), "payload": csat.score_payload(n)} for n in range(1, 6)]
        self.bot(csat.REQUEST_TEXT, after, {"buttons": buttons, "csat_request": True})

    def rate(self, score: int, after: float = 15) -> None:
        message = self.customer(str(score), after, {"intent": csat.score_payload(score), "csat": score})
        self.session.add(
            Rating(
                conversation_id=self.conversation.id,
                score=score,
                channel=self.conversation.channel,
                created_at=message.created_at,
            )
        )
        self.bot(csat.THANKS_TEXT, 0)


def at(day: date, clock: str) -> datetime:
    """A Berlin wall-clock time ("14:05") on `day`, as an aware datetime."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return datetime.combine(day, time(hours, minutes), BERLIN)


def demo_agent(session: Session, email: str, name: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.email == email))
    if agent is None:
        # a random password nobody knows: the demo agents only author seeded replies
        agent = Agent(email=email, name=name, password_hash=generate_password_hash(secrets.token_urlsafe(24)))
        agent.role = Role.AGENT
        session.add(agent)
        session.flush()
    return agent


POPULAR = [  # (faq id, weight): a shop's questions are not evenly spread
    ("versand-sendungsverfolgung", 14),
    ("versand-lieferzeit", 12),
    ("retoure-ruecksendung", 11),
    ("versand-kosten", 8),
    ("retoure-erstattung-dauer", 7),
    ("zahlung-methoden", 6),
    ("bestellung-stornieren", 6),
    ("versand-paket-nicht-erhalten", 5),
    ("umtausch", 4),
    ("gutschein-einloesen", 3),
    ("konto-passwort-vergessen", 3),
    ("zahlung-rechnung", 2),
]
CHANNEL_WEIGHTS = [("web", 6), ("messenger", 3), ("sms", 2)]
REASONS = [("requested", 5), ("low_confidence", 3), ("repeated_failure", 2), ("frustration", 1)]
SCORES = [(5, 9), (4, 7), (3, 3), (2, 1), (1, 1)]


def pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in weighted], [weight for _, weight in weighted])[0]


def seed_demo(session: Session, end: date, days: int = 30, seed: int = 7) -> int:
    """A month up to `end` (Berlin): 15–45 conversations a day, fewer on Sundays; returns how many. Commits."""
    rng = random.Random(seed)
    agents = [
        demo_agent(session, "anna.demo@auskunft.local", "Anna"),
        demo_agent(session, "ben.demo@auskunft.local", "Ben"),
    ]
    count = 0
    for offset in range(days):
        day = end - timedelta(days=days - 1 - offset)
        volume = rng.randint(8, 16) if day.weekday() == 6 else rng.randint(15, 45)
        for _ in range(volume):
            started = at(day, f"{rng.randint(7, 21)}:{rng.randint(0, 59):02d}")
            demo_conversation(Script(session, pick(rng, CHANNEL_WEIGHTS), started), rng, agents)
            count += 1
    session.commit()
    return count


def demo_conversation(script: Script, rng: random.Random, agents: list[Agent]) -> None:
    """1–3 questions; answers with feedback, clarifications, a handoff now and then, an agent, a rating."""
    slow = script.conversation.channel != "web"  # Messenger and SMS add the provider's round trip
    reason = None
    for _ in range(rng.randint(1, 3)):
        faq_id = pick(rng, POPULAR)
        reply_after = round(rng.lognormvariate(0.3 if slow else -0.2, 0.5), 2)
        roll = rng.random()
        if roll < 0.72:
            script.ask("Frage", "answer", faq_id, after=rng.randint(5, 90), reply_after=reply_after)
            if rng.random() < 0.45:
                script.feedback(rng.random() < 0.8, after=rng.randint(3, 30), reply_after=reply_after)
        elif roll < 0.91:
            script.ask("Frage", "clarify", after=rng.randint(5, 90), reply_after=reply_after)
            if rng.random() < 0.75:
                script.ask("Frage", "chosen", faq_id, after=rng.randint(3, 20), reply_after=reply_after)
        else:
            script.ask("Frage", "handoff", after=rng.randint(5, 90), reply_after=reply_after)
            reason = "low_confidence"
            break
    if reason is None and rng.random() < 0.88:
        if rng.random() < 0.15:
            script.customer("Tschüss")
            script.bot(GOODBYE_TEXT, 1)  # the bot says goodbye and asks; some rate
            script.request_rating()
            if rng.random() < 0.3:
                script.rate(pick(rng, SCORES))
        return
    script.handoff(reason or pick(rng, REASONS))
    if rng.random() < 0.1:
        return  # nobody took it (yet)
    agent = rng.choice(agents)
    script.take(agent, after=rng.randint(20, 1500))
    script.agent_reply(agent, "Guten Tag, ich schaue mir das an.", after=rng.randint(10, 120))
    script.customer("Danke!", after=rng.randint(20, 200))
    script.agent_reply(agent, "Erledigt – gibt es noch etwas?", after=rng.randint(60, 600))
    if rng.random() < 0.25:
        script.give_back(agent, after=rng.randint(30, 300))
        return
    script.close(after=rng.randint(30, 300))
    if rng.random() < 0.6:
        script.rate(pick(rng, SCORES), after=rng.randint(5, 60))


@click.command("seed-demo-analytics")
@with_appcontext
@click.option("--days", default=30, show_default=True, help="how many days up to --end")
@click.option("--end", type=click.DateTime(["%Y-%m-%d"]), help="the last day (Berlin); default today")
@click.option("--seed", default=7, show_default=True, help="random seed: the same seed, the same month")
@click.option("--force", is_flag=True, help="also into a database that already has conversations")
def seed_demo_command(days: int, end: datetime | None, seed: int, force: bool) -> None:
    """Demo conversations on web, Messenger and SMS for trying the analytics dashboard (not for production)."""
    session = get_session()
    if not force and session.scalar(select(func.count(Conversation.id))):
        raise click.ClickException("die Datenbank enthält schon Gespräche; Demodaten nur mit --force dazu")
    last = end.date() if end else berlin_day(datetime.now(BERLIN))
    count = seed_demo(session, last, days, seed)
    click.echo(f"{count} Demogespräche bis {last.isoformat()} angelegt.")
