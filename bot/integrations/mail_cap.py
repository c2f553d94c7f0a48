"""The daily cap on mails the gateway sends for customers (`AUSKUNFT_MAIL_DAILY_CAP`), counted in the database.

A conversation costs nothing to start, so without a cap a crowd of addresses could still make the shop's mail
server send thousands of mails a day, and its reputation would suffer. The count lives in `mail_days`, not in
process memory, so several gateway processes share one cap. A mail reserves its place before it is sent
(`reserve`: one conditional UPDATE, atomic on SQLite and PostgreSQL alike) and gives it back if the SMTP
server refused it (`release`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation.transcript import BERLIN
from bot.models import MailDay


def today(moment: datetime) -> date:
    """The day a mail counts for: the shop's calendar day (Berlin), so the cap starts afresh at local midnight."""
    return moment.astimezone(BERLIN).date()


def reserve(factory: sessionmaker[Session], day: date, cap: int) -> bool:
    """One more mail on `day`, if fewer than `cap` were sent; committed at once (its own session), so no
    transaction stays open while the mail goes out."""
    if cap <= 0:
        return False
    with factory() as session, session.begin():
        counted = update(MailDay).where(MailDay.day == day, MailDay.sent < cap).values(sent=MailDay.sent + 1)
        if session.execute(counted).rowcount:
            return True
        if session.get(MailDay, day) is not None:
            return False  # the day's count is at the cap
    try:
        with factory() as session, session.begin():
            session.add(MailDay(day=day, sent=1))
        return True
    except IntegrityError:  # another process counted the day's first mail meanwhile: count on its row
        return reserve(factory, day, cap)


def release(factory: sessionmaker[Session], day: date) -> None:
    """The reserved mail was not sent (the SMTP server failed): its place is free again."""
    with factory() as session, session.begin():
        session.execute(update(MailDay).where(MailDay.day == day, MailDay.sent > 0).values(sent=MailDay.sent - 1))


def sent_on(factory: sessionmaker[Session], day: date) -> int:
    with factory() as session:
        row = session.get(MailDay, day)
        return row.sent if row is not None else 0
