"""Reload the knowledge base in every process that serves it: the gateway's own and the action server's.

`reload_everywhere(app)` is what the editors' reload button, `POST /admin/kb/reload` and the in-page "add an
alternative" action call after an FAQ file changed. Both processes lint, embed only what changed and swap their
index; a file with errors is rejected by both, and both keep answering from the last good index. The action
server is reached over its token-guarded `POST /kb/reload` (actions/server.py), in parallel with the gateway, so
the editor sees its lint findings at once.

Several replicas: one action server URL is enough. With `AUSKUNFT_REDIS_URL` every reload is also announced on
the FAQ broadcast (knowledge_base/broadcast.py), from which every other gateway and action server reloads within
seconds; `processes.replicas` says how many processes heard it. A list of all action servers to call would only
duplicate that, and would go stale whenever one is added or replaced.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask

from bot import metrics
from bot.integrations.faq_search import KnowledgeBaseSearch
from common.settings_errors import load_settings
from knowledge_base.authoring.reload_report import ReloadResult
from knowledge_base.reload_token import authorization_header, reload_token
from knowledge_base.settings import Settings

ACTIONS_TIMEOUT = 120.0
"""The action server's first reload may load the model (tens of seconds on a busy machine)."""


@dataclass(frozen=True)
class ReloadOutcome:
    """The gateway's own `ReloadResult` and the action server's answer (its `ReloadResult` as JSON)."""

    gateway: ReloadResult
    actions: dict[str, Any] | None = None
    """The action server's report; None when it is not configured or did not answer."""
    actions_error: str | None = None
    """Why the action server's reload failed to happen (unreachable, 401, 500); None when it answered."""
    seconds: float = 0.0
    replicas_told: int | None = None
    """How many processes (other gateways, action servers) heard the broadcast; None without Redis."""

    @property
    def accepted(self) -> bool:
        """True when every process now serves the files as they are."""
        return self.gateway.accepted and self.actions_error is None and (self.actions or {}).get("accepted", True)

    @property
    def status(self) -> int:
        """200 accepted; 422 the files have errors (nothing changed anywhere); 502 the action server failed."""
        if not self.gateway.accepted or (self.actions is not None and not self.actions.get("accepted", True)):
            return 422
        return 502 if self.actions_error else 200

    def as_dict(self) -> dict[str, Any]:
        report = self.gateway.as_dict()
        return {
            "accepted": self.accepted,
            "errors": report["errors"],
            "warnings": report["warnings"],
            "findings": report["findings"],
            "seconds": round(self.seconds, 3),
            "processes": {
                "gateway": {k: v for k, v in report.items() if k != "findings"},
                "actions": (
                    {"error": self.actions_error}
                    if self.actions_error
                    else {k: v for k, v in self.actions.items() if k != "findings"}
                    if self.actions is not None
                    else {"skipped": "kein Aktionsserver konfiguriert"}
                ),
                "replicas": (
                    {"told": self.replicas_told} if self.replicas_told is not None
                    else {"skipped": "keine Verteilung über Redis konfiguriert (AUSKUNFT_REDIS_URL)"}
                ),
            },
        }


def record_metrics(result: ReloadResult) -> None:
    """Every reload of the gateway's index, by the button or by the file watcher."""
    if result.accepted:
        metrics.KB_RELOADS.inc()
        metrics.KB_INDEX_ENTRIES.set(result.entries)
        metrics.KB_INDEX_TEXTS.set(result.texts - result.entries)  # questions and alternatives (not answers)
    else:
        metrics.KB_RELOAD_FAILURES.inc()


_create_lock = threading.Lock()


def gateway_search(app: Flask) -> KnowledgeBaseSearch:
    """The app's one knowledge service, with one file watcher once loaded (`FAQ_SEARCH` in the config replaces it
    in tests, which then close it)."""
    with _create_lock:
        if "faq_search" not in app.extensions:
            app.extensions["faq_search"] = app.config.get("FAQ_SEARCH") or KnowledgeBaseSearch(
                watch=watch_enabled(app), on_reload=record_metrics
            )
        return app.extensions["faq_search"]


def watch_enabled(app: Flask) -> bool:
    """`KB_WATCH` in the config, else `AUSKUNFT_KB_WATCH` (default on)."""
    configured = app.config.get("KB_WATCH")
    if configured is not None:
        return bool(configured)
    return load_settings(Settings).kb_watch


def actions_url(app: Flask) -> str:
    """`ACTIONS_URL` in the config (`AUSKUNFT_ACTIONS_URL`, else derived from `AUSKUNFT_ACTIONS_PORT`: bot/config.py;
    empty: no action server, e.g. a gateway in front of a scripted Rasa)."""
    return str(app.config.get("ACTIONS_URL") or "").rstrip("/")


def reload_everywhere(app: Flask) -> ReloadOutcome:
    """Reload the gateway's knowledge base and the action server's, in parallel; never raises for bad files."""
    started = time.perf_counter()
    search = gateway_search(app)
    url = actions_url(app)
    remote: dict[str, Any] = {}
    call = threading.Thread(target=_reload_actions, args=(url, remote), daemon=True) if url else None
    if call is not None:
        call.start()
    gateway = search.reload()
    if call is not None:
        call.join(ACTIONS_TIMEOUT + 5)
        if call.is_alive():
            remote.setdefault("error", f"Aktionsserver {url} hat nach {ACTIONS_TIMEOUT:.0f} s nicht geantwortet")
    outcome = ReloadOutcome(
        gateway=gateway,
        actions=remote.get("report"),
        actions_error=remote.get("error"),
        seconds=time.perf_counter() - started,
        replicas_told=getattr(search, "last_announced", None),
    )
    if gateway.accepted and not outcome.accepted:
        metrics.KB_RELOAD_FAILURES.inc()  # the gateway's part counted as a reload; the action server's failed
    app.extensions["kb_last_reload"] = (time.time(), outcome)
    return outcome


def last_reload(app: Flask) -> tuple[float, ReloadOutcome] | None:
    """When the last `reload_everywhere` ran in this process, and what it did (for the editors' page)."""
    return app.extensions.get("kb_last_reload")


def _reload_actions(url: str, into: dict[str, Any]) -> None:
    try:
        response = requests.post(
            f"{url}/kb/reload", headers=authorization_header(reload_token()), timeout=(3.0, ACTIONS_TIMEOUT)
        )
    except requests.RequestException as error:
        into["error"] = f"Aktionsserver {url} nicht erreichbar: {error.__class__.__name__}"
        return
    if response.status_code in (200, 422):
        try:
            into["report"] = response.json()
            return
        except ValueError:
            pass
    into["error"] = f"Aktionsserver {url} antwortete {response.status_code}: {response.text[:200]}"
