"""Every route of the gateway, read from `app.url_map` rather than listed by hand, so that a route added later is
checked by the security tests without anyone remembering to add it.

What is public, and what proves itself by other means than the staff session and its CSRF token, is listed here
once: anything else under any path is staff-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.routing import Rule

PUBLIC = {
    "pages.demo_shop",  # the demo shop with the widget
    "pages.widget_file",  # the widget's files
    "pages.widget_library",  # the two libraries it renders answers with (web_widget/package.json)
    "static",  # CSS and scripts of the staff pages
    "auth.login",  # the login form itself
    "metrics.metrics",  # its own check: the token or loopback (tests/gateway/web/test_metrics.py)
    "messenger.verify",  # Facebook's handshake: the verify token
}
"""Endpoints that anyone may open; their own protection, if any, is tested elsewhere."""

TOKEN_OR_SIGNATURE = {
    "widget_api.": "the widget proves itself with its conversation token (no cookie, so no CSRF)",
    "messenger.webhook": "X-Hub-Signature-256",
    "sms.webhook": "X-Twilio-Signature",
    "mail_confirm.": "the signed, expiring link of the confirmation mail (tests/security/test_transcript_mail.py)",
}
"""Endpoints (or blueprints, ending in ".") that need no staff session and no CSRF token, and what they check
instead."""

ADMIN_ONLY = ("/admin/privacy/",)
"""Path prefixes for admins alone (customers' personal data); the rest of /admin is for editors too."""

CHANGES = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str
    url: str


def not_staff(endpoint: str) -> bool:
    """Public, or protected by a token or a signature instead of the staff session."""
    return endpoint in PUBLIC or any(
        endpoint == name or (name.endswith(".") and endpoint.startswith(name)) for name in TOKEN_OR_SIGNATURE
    )


def url_for_rule(rule: Rule, values: dict[str, Any]) -> str:
    """The rule's URL with `values` for its variables (a variable without a value is a test to extend)."""
    missing = set(rule.arguments) - set(values)
    assert not missing, f"{rule.rule}: no test value for {sorted(missing)}; add one to the test's `values`"
    _domain, url = rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)  # type: ignore[misc]
    return url


def routes(app: Flask, values: dict[str, Any], methods: set[str] | None = None) -> list[Route]:
    """Every (rule, method) of `app`, HEAD and OPTIONS left out; `methods` narrows the methods."""
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if methods is None or method in methods:
                found.append(Route(rule.rule, rule.endpoint, method, url_for_rule(rule, values)))
    return sorted(found, key=lambda r: (r.rule, r.method))


def staff_routes(app: Flask, values: dict[str, Any], methods: set[str] | None = None) -> list[Route]:
    """The routes that need a logged-in staff member: all but `PUBLIC` and `TOKEN_OR_SIGNATURE`."""
    return [route for route in routes(app, values, methods) if not not_staff(route.endpoint)]
