"""A small seed for the analytics tests whose every figure is worked out by hand.

The seed (Berlin times; `after` = seconds since the previous step):

- C0 web, 01.11. 22:00 — before the period: an answer and a rating 1.
- C1 web, 02.11. 09:00 — answer versand-lieferzeit (bot 2 s), Ja (1 s), clarify (4 s), chosen versand-kosten
  (1 s), Nein (1 s). Contained. 12 messages (5 from the customer), 3 questions: 2 answered, 1 clarified.
- C2 sms, 02.11. 00:30 (= 01.11. 23:30 UTC: counts on the 2nd) — a question the KB hands off (bot 3 s),
  handoff low_confidence, Ben takes it after 60 s, replies after 60 s (first response 120 s), the customer
  answers, Ben closes 100 s later (time to close 250 s), rating 5. 7 messages (3 from the customer).
- C3 messenger, 03.11. 14:00 — answer versand-lieferzeit (6 s), Ja (2 s), "Mensch bitte" (1 s), handoff
  requested, Anna takes it after 600 s, replies after 300 s (900 s), gives back after 60 s (960 s), then
  an answer retoure-frist (2 s). 11 messages (4 from the customer), 2 questions, both answered.
- C4 web, 03.11. 20:00 — answer versand-lieferzeit (3 s), "Tschüss" → goodbye (1 s) → rating request,
  rating 2. Contained. 8 messages (3 from the customer).
- C5 web, 03.11. 21:00 — "Hilfe" (1 s), handoff requested, nobody takes it. 2 messages (1 from the customer).
- C6 sms, 04.11. 08:00 — after the period: an answer.

Period 02.–03.11., all channels: 5 conversations, 2 contained (40 %), 3 handed off (requested 2,
low_confidence 1); 40 messages, 16 from customers; 7 questions: 5 answered, 1 clarified, 1 handed off;
feedback 2 helpful (versand-lieferzeit), 1 not (versand-kosten); ratings 5 and 2 (Ø 3.5, 50 % with 4–5);
bot times 1,1,1,1,1,1,2,2,2,3,3,4,6 s → p50 2 s (7th of 13), p95 6 s (13th); agent first response 120, 900
→ p50 120, p95 900; time to close 250, 960 → p50 250, p95 960.
"""

from __future__ import annotations

from datetime import date

from flask import Flask

from bot.analytics.seed import Script, at
from bot.db import get_session


def seed_small(app: Flask) -> None:
    from bot.analytics.seed import demo_agent

    with app.app_context():
        session = get_session()
        anna = demo_agent(session, "anna.seed@example.com", "Anna")
        ben = demo_agent(session, "ben.seed@example.com", "Ben")
        nov = {n: date(2026, 11, n) for n in (1, 2, 3, 4)}

        c0 = Script(session, "web", at(nov[1], "22:00"))
        c0.ask("Lieferzeit?", "answer", "versand-lieferzeit", after=0, reply_after=5)
        c0.rate(1)

        c1 = Script(session, "web", at(nov[2], "09:00"))
        c1.ask("Wie lange dauert die Lieferung?", "answer", "versand-lieferzeit", after=0, reply_after=2)
        c1.feedback(True, after=10, reply_after=1)
        c1.ask("Und die Kosten?", "clarify", after=20, reply_after=4)
        c1.ask("Versandkosten", "chosen", "versand-kosten", after=5, reply_after=1)
        c1.feedback(False, after=5, reply_after=1)

        c2 = Script(session, "sms", at(nov[2], "00:30"))
        c2.ask("Wetter morgen?", "handoff", after=0, reply_after=3)
        c2.handoff("low_confidence", after=0)
        c2.take(ben, after=60)
        c2.agent_reply(ben, "Guten Abend!", after=60)
        c2.customer("Danke", after=30)
        c2.close(after=100)
        c2.rate(5, after=15)

        c3 = Script(session, "messenger", at(nov[3], "14:00"))
        c3.ask("Lieferzeit?", "answer", "versand-lieferzeit", after=0, reply_after=6)
        c3.feedback(True, after=10, reply_after=2)
        c3.customer("Mensch bitte", after=5)
        c3.bot("Ich verbinde Sie.", after=1)
        c3.handoff("requested", after=0)
        c3.take(anna, after=600)
        c3.agent_reply(anna, "Hallo, hier ist Anna.", after=300)
        c3.give_back(anna, after=60)
        c3.ask("Rückgabefrist?", "answer", "retoure-frist", after=30, reply_after=2)

        c4 = Script(session, "web", at(nov[3], "20:00"))
        c4.ask("Lieferzeit?", "answer", "versand-lieferzeit", after=0, reply_after=3)
        c4.customer("Tschüss", after=10)
        c4.bot("Auf Wiedersehen und einen schönen Tag!", after=1)
        c4.request_rating()
        c4.rate(2, after=20)

        c5 = Script(session, "web", at(nov[3], "21:00"))
        c5.customer("Hilfe", after=0)
        c5.bot("Ich verbinde Sie.", after=1)
        c5.handoff("requested", after=0)

        c6 = Script(session, "sms", at(nov[4], "08:00"))
        c6.ask("Lieferzeit?", "answer", "versand-lieferzeit", after=0, reply_after=2)
        session.commit()
