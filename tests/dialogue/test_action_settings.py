"""The action server's settings (actions/settings.py): one class, checked when the server starts, naming the
variable as the gateway does; the actions read their files and the order API from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions import orders, server
from actions.settings import ActionServerSettings


def test_a_broken_order_number_pattern_stops_the_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_ORDER_NUMBER_PATTERN", r"LG-(\d{6}")
    with pytest.raises(SystemExit) as refused:
        server.main(["-p", "6398"])
    message = str(refused.value)
    assert message.startswith("invalid settings") and "AUSKUNFT_ORDER_NUMBER_PATTERN='LG-(\\\\d{6}'" in message
    assert "not a regular expression" in message


def test_an_order_api_that_is_no_url_is_refused_with_the_token_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_ORDER_API_URL", "shop.example/api")
    monkeypatch.setenv("AUSKUNFT_ACTIONS_HOST", "10.0.0.5")
    monkeypatch.delenv("SANIC_HOST", raising=False)
    monkeypatch.delenv("AUSKUNFT_ACTIONS_TOKEN", raising=False)
    with pytest.raises(SystemExit) as refused:
        server.main(["-p", "6398"])
    message = str(refused.value)
    assert "AUSKUNFT_ORDER_API_URL='shop.example/api': " in message
    assert "AUSKUNFT_ACTIONS_TOKEN: " in message and "SANIC_HOST=10.0.0.5" in message


def test_the_actions_read_the_order_backend_from_the_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUSKUNFT_ORDER_API_URL", raising=False)
    monkeypatch.setenv("AUSKUNFT_ORDERS_DB", str(tmp_path / "orders.db"))
    backend = orders.order_backend()
    assert isinstance(backend, orders.SqliteOrderBackend) and backend.path == tmp_path / "orders.db"
    monkeypatch.setenv("AUSKUNFT_ORDER_API_URL", "http://shop.internal:9000/orders/")
    assert orders.configured_url() == "http://shop.internal:9000/orders"
    assert ActionServerSettings().host == "127.0.0.1"
