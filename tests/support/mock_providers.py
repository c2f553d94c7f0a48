"""Local stand-ins for the Facebook Graph API and the Twilio REST API, on 127.0.0.1 over real HTTP.

They record every request (also the ones they fail on purpose) and answer like the real APIs do for the calls
the gateway makes; `fail(n, status)` fails the next n requests, `slow(n, seconds)` makes them time out.
Also: signing webhooks exactly as Facebook and Twilio do.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from twilio.request_validator import RequestValidator


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = field(default_factory=time.monotonic)

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


class MockProvider:
    """A threaded HTTP server; subclasses answer in `respond`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.failures: list[int] = []
        self.fail_when: Callable[[Recorded], bool] | None = None
        self.slow_requests: list[float] = []
        self.delay: Callable[[Recorded], float] = lambda _request: 0.0
        """How long an answer takes (a real provider's round trip), so that two senders overlap in a test."""
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                provider._handle(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, times: int, status: int = 500, when: Callable[[Recorded], bool] | None = None) -> None:
        """Fail the next `times` requests (those for which `when` holds) with `status`."""
        with self.lock:
            self.failures.extend([status] * times)
            self.fail_when = when

    def slow(self, times: int, seconds: float, when: Callable[[Recorded], bool] | None = None) -> None:
        """Answer the next `times` requests (those for which `when` holds) only after `seconds`."""
        with self.lock:
            self.slow_requests.extend([seconds] * times)
            self.fail_when = when

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        parts = urlsplit(handler.path)
        recorded = Recorded(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers), body, 0)
        with self.lock:
            slow = bool(self.slow_requests) and (self.fail_when is None or self.fail_when(recorded))
            seconds = self.slow_requests.pop(0) if slow else 0.0
        if slow:  # the client times out meanwhile; recorded as 504, as if it never arrived
            recorded.status = 504
            with self.lock:
                self.requests.append(recorded)
            time.sleep(seconds)
            return
        with self.lock:
            if self.failures and (self.fail_when is None or self.fail_when(recorded)):
                recorded.status = status = self.failures.pop(0)
            else:
                status = 0
        if not status:
            time.sleep(self.delay(recorded))
            status, answer = self.respond(recorded)
            recorded.status = status
        else:
            answer = {"error": {"message": "simulated failure", "code": status}}
        with self.lock:
            self.requests.append(recorded)
        data = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout)

    def respond(self, request: Recorded) -> tuple[int, Any]:
        raise NotImplementedError

    def accepted(self) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.status < 300]

    def wait_for(self, condition: Callable[[list[Recorded]], bool], timeout: float = 10.0) -> list[Recorded]:
        """Wait until `condition(accepted requests)` holds; the accepted requests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition(accepted := self.accepted()):
                return accepted
            time.sleep(0.02)
        raise AssertionError(f"timed out; received: {[r.body[:200] for r in self.requests]}")


def is_message(request: Recorded) -> bool:
    """A Send API call with a message (not a sender action)."""
    return b'"message"' in request.body


class GraphApi(MockProvider):
    """`POST /{version}/me/messages?access_token=…`: the Send API (messages and sender actions)."""

    def __init__(self, page_token: str, version: str) -> None:
        self.page_token = page_token
        self.version = version
        self.counter = 0
        super().__init__()

    def respond(self, request: Recorded) -> tuple[int, Any]:
        if request.path != f"/{self.version}/me/messages":
            return 404, {"error": {"message": "unknown path", "code": 803}}
        if request.query.get("access_token") != [self.page_token]:
            return 400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190}}
        body = request.json
        recipient = body["recipient"]["id"]
        if "sender_action" in body:
            return 200, {"recipient_id": recipient}
        with self.lock:
            self.counter += 1
            number = self.counter
        return 200, {"recipient_id": recipient, "message_id": f"m_out_{number}"}

    def messages(self, psid: str | None = None) -> list[dict[str, Any]]:
        """The `message` objects sent (sender actions left out), oldest first."""
        bodies = [r.json for r in self.accepted()]
        return [b["message"] for b in bodies if "message" in b and (psid is None or b["recipient"]["id"] == psid)]

    def texts(self, psid: str | None = None) -> list[str]:
        return [m["text"] for m in self.messages(psid)]

    def actions(self) -> list[str]:
        return [r.json["sender_action"] for r in self.accepted() if "sender_action" in r.json]


class TwilioApi(MockProvider):
    """`POST /2010-04-01/Accounts/{sid}/Messages.json` with HTTP basic auth (account SID : auth token)."""

    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.counter = 0
        super().__init__()

    def respond(self, request: Recorded) -> tuple[int, Any]:
        if request.path != f"/2010-04-01/Accounts/{self.account_sid}/Messages.json":
            return 404, {"code": 20404, "message": "The requested resource was not found", "status": 404}
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return 401, {"code": 20003, "message": "Authenticate", "status": 401}
        form = request.form
        with self.lock:
            self.counter += 1
            sid = f"SM{self.counter:032d}"
        return 201, {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "status": "queued",
            "num_segments": "1",
        }

    def sent(self, to: str | None = None) -> list[dict[str, str]]:
        return [r.form for r in self.accepted() if to is None or r.form.get("To") == to]

    def bodies(self, to: str | None = None) -> list[str]:
        return [f["Body"] for f in self.sent(to)]


def messenger_signature(app_secret: str, body: bytes) -> str:
    """What Facebook puts in `X-Hub-Signature-256`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(auth_token: str, url: str, form: dict[str, str]) -> str:
    """What Twilio puts in `X-Twilio-Signature`: the URL it requested plus the sorted form parameters."""
    return RequestValidator(auth_token).compute_signature(url, form)


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class MediaHost:
    """A provider's media CDN (Meta's `scontent…`, Twilio's media URLs): `GET /<name>.png` answers a PNG,
    anything else 404; records each request's path and `Authorization` header."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.requests.append((self.path, self.headers.get("Authorization")))
                found = self.path.endswith(".png")
                self.send_response(200 if found else 404)
                self.send_header("Content-Type", "image/png" if found else "text/plain")
                body = PNG if found else b"not found"
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
