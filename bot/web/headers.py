"""Security headers on every response: a Content-Security-Policy without inline scripts, who may frame a page,
`nosniff`, the referrer policy, and HSTS when the gateway is served over HTTPS (`HSTS`, from the settings).

A small after-request hook rather than flask-talisman: the gateway needs two policies by path (staff pages may
be framed by nobody, the widget's frame by the configured shop origins), and Talisman's other duties (forcing
HTTPS, the session cookie's flags) are already the settings' (`SESSION_COOKIE_SECURE`, the proxy in front).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# no 'unsafe-inline' anywhere: scripts and styles come from files (bot/static, web_widget); JS may still set
# `element.style`, which CSP does not govern. Images may come from the shop's https pages (FAQ answers link them).
BASE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
HSTS_VALUE = "max-age=31536000; includeSubDomains"


def content_security_policy(path: str) -> str:
    """The widget's files may be framed by the shop's origins; everything else (staff pages, the demo shop, the
    API's answers) by nobody. The demo shop frames the widget, so frames from this origin are allowed."""
    if path.startswith("/widget/"):
        return f"{BASE_POLICY}; frame-ancestors {current_app.config['WIDGET_FRAME_ANCESTORS']}"
    return f"{BASE_POLICY}; frame-src 'self'; frame-ancestors 'none'"


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(request.path))
    if not request.path.startswith("/widget/"):
        headers.setdefault("X-Frame-Options", "DENY")  # for browsers without CSP level 2
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if current_app.config.get("HSTS"):
        headers.setdefault("Strict-Transport-Security", HSTS_VALUE)
    return response


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)
