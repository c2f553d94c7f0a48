"""Can a human take over right now? Business hours (Europe/Berlin) and agent presence.

Plain functions with `now` passed in, so tests use a fixed clock. Hours come from a short spec such as
`mo-fr 08:00-20:00; sa 09:00-16:00` (the demo shop's service times are the default); a bad spec is
refused at start-up with a message that says what is wrong, not silently read as "always closed".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation import states
from bot.models import Agent, Conversation, Direction, Message, Role, Sender, State, aware

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_HOURS = "mo-fr 08:00-20:00; sa 09:00-16:00"
DAYS = ["mo", "di", "mi", "do", "fr", "sa", "so"]
DAY_ALIASES = {"tu": "di", "we": "mi", "th": "do", "su": "so"}
DAY_LABELS = ["Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"]
ENTRY = re.compile(r"^([a-z]{2})(?:\s*-\s*([a-z]{2}))?\s+(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$")

Hours = dict[int, tuple[time, time]]
"""Weekday (0 = Monday) → opening and closing time, Berlin local; a day not in it is closed."""


class HoursError(ValueError):
    pass


def _day(name: str, entry: str) -> int:
    name = DAY_ALIASES.get(name, name)
    if name not in DAYS:
        raise HoursError(f"unknown day {name!r} in {entry!r}; use mo di mi do fr sa so")
    return DAYS.index(name)


def _time(text: str, entry: str) -> time:
    hour, minute = (int(part) for part in text.split(":"))
    if hour == 24 and minute == 0:
        return time.max
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise HoursError(f"invalid time {text!r} in {entry!r}")
    return time(hour, minute)


def parse_hours(spec: str) -> Hours:
    """`mo-fr 08:00-20:00; sa 09:00-16:00` → {0: (8:00, 20:00), …}; raises HoursError saying what is wrong."""
    hours: Hours = {}
    entries = [e.strip().lower() for e in re.split(r"[;,\n]", spec) if e.strip()]
    if not entries:
        raise HoursError("business hours are empty; e.g. 'mo-fr 08:00-20:00; sa 09:00-16:00'")
    for entry in entries:
        match = ENTRY.match(entry)
        if match is None:
            raise HoursError(f"cannot read {entry!r}; expected e.g. 'mo-fr 08:00-20:00' or 'sa 09:00-16:00'")
        first = _day(match[1], entry)
        last = _day(match[2], entry) if match[2] else first
        if last < first:
            raise HoursError(f"day range runs backwards in {entry!r}")
        opens, closes = _time(match[3], entry), _time(match[4], entry)
        if closes <= opens:
            raise HoursError(f"closing time is not after opening time in {entry!r}")
        for day in range(first, last + 1):
            if day in hours:
                raise HoursError(f"{DAY_LABELS[day]} appears twice (in {entry!r})")
            hours[day] = (opens, closes)
    return hours


def is_open(hours: Hours, now: datetime) -> bool:
    local = now.astimezone(BERLIN)
    span = hours.get(local.weekday())
    return span is not None and span[0] <= local.time() < span[1]


def describe(hours: Hours) -> str:
    """For the customer: 'Mo–Fr 08:00–20:00 Uhr, Sa 09:00–16:00 Uhr' (days with equal hours grouped)."""
    parts: list[str] = []
    day = 0
    while day < 7:
        if day not in hours:
            day += 1
            continue
        last = day
        while last + 1 in hours and hours[last + 1] == hours[day]:
            last += 1
        opens, closes = hours[day]
        days = DAY_LABELS[day] if last == day else f"{DAY_LABELS[day]}–{DAY_LABELS[last]}"
        end = "24:00" if closes == time.max else closes.strftime("%H:%M")
        parts.append(f"{days} {opens.strftime('%H:%M')}–{end} Uhr")
        day = last + 1
    return ", ".join(parts)


@dataclass(frozen=True)
class Availability:
    hours: Hours
    online_minutes: float = 5.0

    @classmethod
    def from_spec(cls, spec: str, online_minutes: float) -> Availability:
        if online_minutes <= 0:
            raise HoursError("the agent online window must be a positive number of minutes")
        return cls(parse_hours(spec), online_minutes)


def agents_online(session: Session, availability: Availability, now: datetime) -> int:
    """Accounts that can take a conversation (role agent or admin), logged in and seen within the window.

    Logging out clears `last_seen_at`; an editor at work on the FAQ is seen too, but answers no customer.
    """
    since = now.astimezone(UTC) - timedelta(minutes=availability.online_minutes)
    return (
        session.scalar(
            select(func.count(Agent.id)).where(Agent.last_seen_at >= since, Agent.role.in_((Role.AGENT, Role.ADMIN)))
        )
        or 0
    )


def queue_position(session: Session, conversation: Conversation) -> int | None:
    """1 = next to be taken; None unless waiting."""
    if conversation.state != State.WAITING:
        return None
    waiting = session.scalars(
        select(Conversation.id)
        .where(Conversation.state == State.WAITING)
        .order_by(Conversation.waiting_since, Conversation.id)
    ).all()
    return waiting.index(conversation.id) + 1 if conversation.id in waiting else None


def handoff_notice(
    session: Session,
    conversation: Conversation,
    availability: Availability,
    now: datetime,
    note: Message | None = None,
    bot_helps: bool = True,
) -> Message:
    """Right after a handoff, tell the customer honestly whether someone can take over, and what happens next.

    `note` is the handoff's note (`states.hand_off`): its text becomes the bot's lead, if any, and this notice,
    so the customer reads one message, not three; without `note` a new system note is written. Nobody there
    (outside hours, or no agent online): say so and offer to leave a way back (the widget shows the fields for
    `contact_form`); the conversation stays in the queue either way. A Messenger or SMS customer is reachable
    where they wrote (`channel_address`): they are told the answer comes there, and asked nothing. `bot_helps`:
    the bot answers meanwhile (not when Rasa is the reason for the handoff), said at the end.
    """
    reachable = conversation.channel_address is not None
    suffix = "_reachable" if reachable else ""
    extra: dict[str, object] = {}
    if not is_open(availability.hours, now):
        text = states.TEXTS["outside_hours" + suffix].format(hours=describe(availability.hours))
    elif agents_online(session, availability, now) == 0:
        text = states.TEXTS["nobody_online" + suffix]
    else:
        position = queue_position(session, conversation) or 1
        text = states.TEXTS["queue_position"].format(position=str(position))
        reachable = True  # someone is coming: no contact form
    if not reachable:
        extra["contact_form"] = True
    text = states.join(text, states.TEXTS["bot_still_helps"] if bot_helps else "")
    if note is None:
        return states.add_message(
            session, conversation, Direction.ACTIVITY, Sender.SYSTEM, text, dict(extra) or None
        )
    note.text = states.join(str((note.payload or {}).get("lead") or ""), text)
    note.payload = {**(note.payload or {}), **extra}  # a new dict: the JSON column notices only a new value
    return note


def mark_seen(session: Session, agent: Agent, now: datetime, force: bool = False) -> None:
    """Presence from inbox requests; written at most every 30 s, so the inbox's polling costs no write each time.

    Stored as UTC: SQLite keeps no offset, and `agents_online` compares in UTC.
    """
    if force or agent.last_seen_at is None or now - aware(agent.last_seen_at) >= timedelta(seconds=30):
        agent.last_seen_at = now.astimezone(UTC)
        session.commit()
