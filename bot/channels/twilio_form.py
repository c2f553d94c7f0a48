"""Reading Twilio's form posts: status callback or customer message, opt-out keywords, media and locations.

Pure functions of the form (no database, no Flask), so every shape Twilio documents is checked in one place.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

OPT_OUT = {
    "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT",  # Twilio's defaults
    "STOPP", "ABMELDEN", "ABBESTELLEN",
}  # fmt: skip
OPT_IN = {"START", "UNSTOP", "YES", "ANMELDEN"}
HELP = {"HILFE", "HELP", "INFO"}
INBOUND_STATUSES = {"", "received", "receiving"}
"""`SmsStatus`/`MessageStatus` of a customer's message; any other value (queued, sent, delivered, failed,
undelivered, read, …) is a status callback for one of ours."""
_PLEASE = re.compile(r"^(?:bitte\s+)?(.+?)(?:\s*,?\s+bitte)?$", re.IGNORECASE)
_TRAILING = " \t\r\n.!?,;:"


def is_status_callback(form: Mapping[str, str], own_senders: set[str]) -> bool:
    """A delivery report for a message we sent, not a customer writing: a status other than `received`, or
    our own number / messaging service as the sender."""
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    sender = (form.get("From") or "").strip()
    return status not in INBOUND_STATUSES or (bool(sender) and sender in own_senders)


def keyword(text: str) -> str | None:
    """The opt-out / opt-in / help keyword the text is, in any case, with trailing punctuation and "bitte"
    ("Stop bitte!", "bitte STOPP."), else None. A keyword inside a sentence is no keyword (as at Twilio)."""
    stripped = text.strip().strip(_TRAILING)
    match = _PLEASE.match(stripped)
    word = (match[1] if match else stripped).strip(_TRAILING).upper()
    return word if word in OPT_OUT | OPT_IN | HELP else None


def opt_out_type(form: Mapping[str, str]) -> str | None:
    """`OptOutType` (STOP, START, HELP): Twilio's Advanced Opt-Out has acted already and answered itself."""
    value = (form.get("OptOutType") or "").strip().upper()
    return value if value in ("STOP", "START", "HELP") else None


def media(form: Mapping[str, str]) -> tuple[dict[str, Any], ...]:
    """Every MMS/WhatsApp medium (`NumMedia`, `MediaUrlN`, `MediaContentTypeN`) and a shared location
    (`Latitude`/`Longitude`), as stored attachments."""
    found: list[dict[str, Any]] = []
    count = form.get("NumMedia") or "0"
    for index in range(min(int(count), 10) if count.isdigit() else 0):
        url = (form.get(f"MediaUrl{index}") or "").strip()
        if not url.startswith(("https://", "http://")):
            continue
        content_type = (form.get(f"MediaContentType{index}") or "").strip().lower()
        found.append({"kind": kind_of(content_type), "url": url, "content_type": content_type})
    latitude, longitude = _coordinate(form.get("Latitude"), 90), _coordinate(form.get("Longitude"), 180)
    if latitude is not None and longitude is not None:
        location: dict[str, Any] = {"kind": "location", "latitude": latitude, "longitude": longitude}
        for key, field in (("label", "Label"), ("address", "Address")):
            if form.get(field):
                location[key] = str(form[field])[:300]
        found.append(location)
    return tuple(found)


def kind_of(content_type: str) -> str:
    """`image/jpeg` → image, `video/mp4` → video, `audio/ogg` → audio, anything else → file."""
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "file"


def _coordinate(value: str | None, bound: float) -> float | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return number if -bound <= number <= bound else None
