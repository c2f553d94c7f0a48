"""Order look-up behind one small interface: a shop's HTTP API, or the demo SQLite backend.

`AUSKUNFT_ORDER_API_URL` (or `order_backend.url` in endpoints.yml) selects the HTTP backend:
`GET {url}/{order_number}` answers 200 with JSON `{"status": …, "carrier": …, "tracking_url": …,
"expected_delivery": …, "postcode": …, "email": …, "phone": …}` or 404. `postcode` (delivery address), `email` and
`phone` (E.164, e.g. "+4915112345678") are what the customer proves ownership with (actions/order_access.py): an
order without them is never told to anyone. Without the URL, the demo database `var/orders.db` is used.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from actions import settings
from knowledge_base.settings import PROJECT_ROOT

DHL_TRACKING = "https://www.dhl.de/de/privatkunden/pakete-empfangen/verfolgen.html?piececode="


@dataclass(frozen=True)
class Order:
    number: str
    status: str
    """One of: received, packed, shipped, delivered, cancelled."""
    carrier: str | None = None
    tracking_url: str | None = None
    expected_delivery: str | None = None
    # what only the customer knows (or is): never shown, never in a log line
    postcode: str | None = field(default=None, repr=False)
    email: str | None = field(default=None, repr=False)
    phone: str | None = field(default=None, repr=False)


class OrderBackend(Protocol):
    def lookup(self, number: str) -> Order | None:
        """The order, or None when the number is unknown; raises OrderBackendError when unreachable."""
        ...


class OrderBackendError(RuntimeError):
    """The backend could not be asked (network, bad answer)."""


DEMO_ORDERS = [
    Order("LG-123456", "shipped", "DHL", f"{DHL_TRACKING}00340434161094015902", "2026-11-27",
          "10115", "erika.mustermann@example.org", "+4915112345678"),
    Order("LG-234567", "packed", None, None, "2026-11-28", "80331", "max.muster@example.org", "+4917011122233"),
    Order("LG-345678", "delivered", "DHL", None, "2026-11-20", "50667", "lena.schmidt@example.org", "+4916044455566"),
    Order("LG-456789", "received", None, None, "2026-12-01", "20095", "jonas.weber@example.org", "+4915277788899"),
    Order("LG-567890", "cancelled", None, None, None, "01067", "anna.fischer@example.org", "+4917612345670"),
]  # fmt: skip
COLUMNS = ("number", "status", "carrier", "tracking_url", "expected_delivery", "postcode", "email", "phone")


class SqliteOrderBackend:
    """Demo backend: the sample orders in SQLite, created on first use.

    A table from before the ownership columns (postcode, e-mail, phone) is demo data only: it is created anew."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path)
        present = tuple(row[1] for row in connection.execute("PRAGMA table_info(orders)"))
        if present != COLUMNS:
            with connection:
                connection.execute("DROP TABLE IF EXISTS orders")
                connection.execute(
                    "CREATE TABLE orders (number TEXT PRIMARY KEY, status TEXT NOT NULL, carrier TEXT,"
                    " tracking_url TEXT, expected_delivery TEXT, postcode TEXT, email TEXT, phone TEXT)"
                )
                connection.executemany(
                    f"INSERT INTO orders VALUES ({', '.join('?' * len(COLUMNS))})",
                    [tuple(getattr(order, column) for column in COLUMNS) for order in DEMO_ORDERS],
                )
        return connection

    def lookup(self, number: str) -> Order | None:
        connection = self._connect()
        try:
            row = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM orders WHERE number = ?", (number,)).fetchone()
        finally:
            connection.close()
        return Order(*row) if row else None


class HttpOrderBackend:
    """A shop system's order API; short timeout so a slow shop cannot stall the conversation."""

    def __init__(self, url: str, timeout: float = 3.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def lookup(self, number: str) -> Order | None:
        url = f"{self.url}/{urllib.parse.quote(number)}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                data = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise OrderBackendError(f"order API answered {error.code}") from error
        except (OSError, ValueError) as error:
            raise OrderBackendError(f"order API unreachable: {error}") from error
        return Order(
            number=number,
            status=str(data.get("status", "received")),
            carrier=data.get("carrier"),
            tracking_url=data.get("tracking_url"),
            expected_delivery=data.get("expected_delivery"),
            postcode=_text(data.get("postcode")),
            email=_text(data.get("email")),
            phone=_text(data.get("phone")),
        )


def _text(value: object) -> str | None:
    """A field the shop may send as a number (a postcode) or leave out."""
    return None if value is None or value == "" else str(value)


def configured_url(endpoints: Path = PROJECT_ROOT / "endpoints.yml") -> str | None:
    """The order API URL from the settings (`AUSKUNFT_ORDER_API_URL`), else `order_backend.url` in endpoints.yml."""
    if url := settings.current().order_api_url:
        return url
    if endpoints.exists():
        section = (YAML(typ="safe").load(endpoints.read_text(encoding="utf-8")) or {}).get("order_backend") or {}
        if isinstance(section, dict) and section.get("url"):
            return str(section["url"])
    return None


def order_backend() -> OrderBackend:
    if url := configured_url():
        return HttpOrderBackend(url)
    return SqliteOrderBackend(settings.current().orders_db)


STATUS_TEXT = {
    "received": "ist bei uns eingegangen und wird bald verpackt",
    "packed": "ist verpackt und wird in Kürze an den Versanddienstleister übergeben",
    "shipped": "ist unterwegs",
    "delivered": "wurde zugestellt",
    "cancelled": "wurde storniert",
}


WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
BERLIN = ZoneInfo("Europe/Berlin")
OPEN_STATUSES = ("received", "packed", "shipped")
"""Statuses with a delivery still to come: only for these the expected day is told (and can be overdue)."""


def today(clock: Callable[[], datetime] | None = None) -> date:
    """The shop's today: the date in Berlin (a server in UTC would turn the day an hour late)."""
    return (clock() if clock else datetime.now(BERLIN)).astimezone(BERLIN).date()


def expected_day(order: Order) -> date | None:
    """The expected delivery as a date; None when missing or not an ISO date (a shop may send free text)."""
    try:
        return date.fromisoformat(order.expected_delivery or "")
    except ValueError:
        return None


def german_date(day: date) -> str:
    """`Freitag, 27.11.2026`."""
    return f"{WEEKDAYS[day.weekday()]}, {day:%d.%m.%Y}"


def is_overdue(order: Order, on: date) -> bool:
    """Still to be delivered, and the announced day has passed."""
    day = expected_day(order)
    return order.status in OPEN_STATUSES and day is not None and day < on


def describe(order: Order, on: date) -> str:
    """One short German message about the order's state, reading the expected day against `on` (today)."""
    text = f"Ihre Bestellung {order.number} {STATUS_TEXT.get(order.status, 'wird bearbeitet')}"
    if order.carrier and order.status == "shipped":
        text += f" mit {order.carrier}"
    day = expected_day(order) if order.status in OPEN_STATUSES else None
    if day is not None and day < on:
        text += f". Die Zustellung war für {german_date(day)} angekündigt; das ist leider schon vorbei"
    elif day == on:
        text += " – die Zustellung ist für heute angekündigt"
    elif day is not None:
        text += f" – voraussichtliche Zustellung am {german_date(day)}"
    elif order.expected_delivery and order.status in OPEN_STATUSES:
        text += f" – voraussichtliche Zustellung: {order.expected_delivery}"
    text += "."
    if order.tracking_url and order.status == "shipped":
        text += f" [Sendung verfolgen]({order.tracking_url})"
    return text


def overdue_next_step(order: Order) -> str:
    """What happens next for an overdue order, as an offer (the customer decides; nobody is promised)."""
    if order.status == "shipped":
        carrier = f" bei {order.carrier}" if order.carrier else ""
        what = f"einen Nachforschungsauftrag{carrier} stellen"
    else:
        what = "nachsehen, warum sich der Versand verzögert"
    return f"Unser Kundenservice kann {what}. Soll ich Ihr Anliegen an unseren Kundenservice geben?"


def overdue_note(order: Order) -> str:
    """The agent's line beside the handoff reason."""
    day = expected_day(order)
    announced = f"{day:%d.%m.%Y}" if day else order.expected_delivery
    state = STATUS_TEXT.get(order.status, order.status)
    return f"Bestellung {order.number} ({state}): Zustellung war für {announced} angekündigt."


NOT_FOUND_TEXT = (
    "Zu dieser Bestellnummer und Postleitzahl bzw. E-Mail-Adresse finde ich leider keine Bestellung. Bitte prüfen "
    "Sie beides in Ihrer Bestellbestätigung. Bestellungen erscheinen etwa eine Stunde nach dem Kauf bei mir."
)
"""An unknown number and a wrong postcode or e-mail get this one answer: it must not tell which part was wrong."""
THROTTLED_TEXT = (
    "Aus Sicherheitsgründen kann ich gerade keine weitere Bestellung abfragen. Bitte versuchen Sie es später "
    "noch einmal."
)
UNAVAILABLE_TEXT = "Den Bestellstatus kann ich gerade nicht abrufen."
