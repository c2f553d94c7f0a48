"""Issue 13, a guarantee that holds and must stay: the login's `next=` never leads off the site.

A phishing mail could link to the real login page with `next=` pointing at a look-alike site; after a genuine
login the staff member would land there. Each target is what such a link could carry; the redirect is read as a
browser reads it (backslashes as slashes, tabs and line breaks dropped), so "/\\evil.example" counts as off-site.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from flask import Flask

from bot.models import Role
from tests.support.app import make_app
from tests.support.login import PASSWORD, add_account, csrf_of

SITE = "http://localhost"  # the test client's host
OFF_SITE = [
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "/agent/\r\nLocation: http://evil.example",
    "/agent//evil.example",
    "/%2F%2Fevil.example",
    "https://localhost@evil.example/agent/",
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One gateway for the module: a login changes nothing another test reads (each uses its own client)."""
    app = make_app(tmp_path_factory.mktemp("redirect"))
    add_account(app, "anna@example.com")
    add_account(app, "eva@example.com", Role.EDITOR)
    return app


def login_with_next(app: Flask, target: str, email: str = "anna@example.com") -> str:
    """Log in through the form with `?next=target`; the Location of the answer."""
    client = app.test_client()
    token = csrf_of(client.get("/agent/login", query_string={"next": target}).get_data(as_text=True))
    form = {"email": email, "password": PASSWORD, "csrf_token": token}
    response = client.post("/agent/login", query_string={"next": target}, data=form)
    assert response.status_code == 302, (target, response.status_code)
    return response.headers["Location"]


def as_a_browser_reads_it(location: str) -> tuple[str, str]:
    """Scheme and host a browser on the login page goes to (WHATWG URL: `\\` is `/`, tabs and CR/LF dropped)."""
    cleaned = location.strip().replace("\\", "/")
    for dropped in "\t\r\n":
        cleaned = cleaned.replace(dropped, "")
    target = urlsplit(urljoin(f"{SITE}/agent/login", cleaned))
    return target.scheme, target.netloc


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_never_leads_off_the_site(app: Flask, target: str) -> None:
    location = login_with_next(app, target)
    assert as_a_browser_reads_it(location) == ("http", "localhost"), location
    assert location == "/agent/"  # ignored: the default page


def test_an_editor_lands_on_the_editors_pages_whatever_next_says(app: Flask) -> None:
    assert login_with_next(app, "//evil.example", "eva@example.com") == "/admin/"


def test_a_path_on_the_site_is_followed(app: Flask) -> None:
    assert login_with_next(app, "/admin/faq/?q=Versand") == "/admin/faq/?q=Versand"


def test_the_browser_reading_catches_what_a_naive_check_would_miss() -> None:
    # the helper itself must see these as off-site, else the test above could pass on a broken check
    assert as_a_browser_reads_it("/\\evil.example")[1] == "evil.example"
    assert as_a_browser_reads_it("/\t/evil.example")[1] == "evil.example"
    assert as_a_browser_reads_it("/agent/")[1] == "localhost"
