"""Who may hear an order's status (normalising the second factor) and how often one may try (the limits' keys)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from actions import order_access, order_limits
from actions import settings as action_settings
from actions.order_access import Factor
from actions.orders import DEMO_ORDERS, Order
from actions.settings import ActionServerSettings
from common.settings_errors import SettingsError
from knowledge_base.settings import PROJECT_ROOT as ROOT

ORDER = DEMO_ORDERS[0]  # LG-123456: 10115, erika.mustermann@example.org, +4915112345678


@pytest.mark.parametrize(
    ("text", "postcode"),
    [("10115", "10115"), ("10 115", "10115"), (" 10115 ", "10115"), ("PLZ 10115 Berlin", "10115"),
     ("D-01067", "01067"), ("1011", None), ("101155", None), ("10115 und 80331", None), ("", None), (None, None)],
)  # fmt: skip
def test_postcodes_are_read_with_or_without_spaces(text: str | None, postcode: str | None) -> None:
    assert order_access.normalise_postcode(text) == postcode


@pytest.mark.parametrize(
    ("text", "email"),
    [(" Erika.Mustermann@Example.ORG ", "erika.mustermann@example.org"),
     ("meine Adresse: STRASSE@example.org.", "strasse@example.org"),
     ("keine", None), ("a@b", None), ("", None)],
)  # fmt: skip
def test_emails_are_stripped_and_casefolded(text: str, email: str | None) -> None:
    assert order_access.normalise_email(text) == email


def test_an_email_with_digits_is_read_as_the_email() -> None:
    assert order_access.read_factor("kunde10115@example.org") == Factor("email", "kunde10115@example.org")
    assert order_access.read_factor("10 115") == Factor("postcode", "10115")
    assert order_access.read_factor("weiß nicht") is None


def test_the_factor_must_match_the_orders_own() -> None:
    assert order_access.proves(ORDER, Factor("postcode", "10115"))
    assert order_access.proves(ORDER, Factor("email", "erika.mustermann@example.org"))
    assert not order_access.proves(ORDER, Factor("postcode", "80331"))
    assert not order_access.proves(ORDER, Factor("email", "max.muster@example.org"))
    bare = Order("LG-111111", "shipped")  # a shop that sends no postcode or e-mail: nobody can prove it
    assert not order_access.proves(bare, Factor("postcode", "10115"))
    shop = Order("LG-111111", "shipped", postcode="10 115", email=" Erika@Example.org")  # the shop's own spelling
    assert order_access.proves(shop, Factor("postcode", "10115"))
    assert order_access.proves(shop, Factor("email", "erika@example.org"))


def test_only_the_orders_own_verified_phone_owns_it() -> None:
    assert order_access.owned_by_phone(ORDER, "+4915112345678")
    assert not order_access.owned_by_phone(ORDER, "+4915112345679")
    assert not order_access.owned_by_phone(ORDER, None)
    assert not order_access.owned_by_phone(Order("LG-111111", "shipped"), "+4915112345678")


def test_the_ownership_fields_stay_out_of_logs() -> None:
    assert "10115" not in repr(ORDER) and "erika" not in repr(ORDER) and "+49" not in repr(ORDER)


def test_the_client_key_is_the_gateways_pseudonym_else_the_conversation() -> None:
    assert order_limits.client_key("9f86d081", "sender-1") == "client:9f86d081"
    assert order_limits.client_key(None, "sender-1") == "sender:sender-1"
    # a sender id cannot pass for a client's pseudonym, nor the other way round
    assert order_limits.client_key("sender-1", "x") != order_limits.client_key(None, "sender-1")


def throttle(**limits: str) -> order_limits.OrderThrottle:
    return order_limits.OrderThrottle(ActionServerSettings(**limits))


def test_failures_count_per_conversation_and_lookups_per_client() -> None:
    limits = throttle(limit_order_failures_per_conversation="2 per hour", limit_order_lookups_per_client="3 per hour")
    assert limits.record_failure("a") is True
    assert limits.record_failure("a") is False  # the last one allowed
    assert not limits.may_fail_again("a") and limits.may_fail_again("b")
    assert [limits.allow_lookup("client:x") for _ in range(4)] == [True, True, True, False]
    assert limits.allow_lookup("client:y")


def test_a_bad_limit_stops_the_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUSKUNFT_LIMIT_ORDER_LOOKUPS_PER_CLIENT", "10 per fortnight")
    with pytest.raises(SettingsError, match="AUSKUNFT_LIMIT_ORDER_LOOKUPS_PER_CLIENT"):
        action_settings.current()
    monkeypatch.setenv("AUSKUNFT_LIMIT_ORDER_LOOKUPS_PER_CLIENT", "5 per minute; 20 per day")
    monkeypatch.setenv("AUSKUNFT_LIMIT_ORDER_FAILURES_PER_CONVERSATION", "1/hour")
    assert action_settings.current().limit_order_failures_per_conversation == "1/hour"


def test_with_redis_two_action_servers_share_the_counts() -> None:
    redis = pytest.importorskip("redis")
    url = os.environ.get("AUSKUNFT_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    first, second = (throttle(redis_url=url, limit_order_lookups_per_client="2 per hour") for _ in range(2))
    client = f"client:{uuid.uuid4().hex}"  # fresh counts on a shared Redis
    assert [first.allow_lookup(client), second.allow_lookup(client), first.allow_lookup(client)] == [True, True, False]


def test_redis_down_counts_in_the_process_rather_than_letting_everything_through() -> None:
    limits = throttle(redis_url="redis://127.0.0.1:9/0", limit_order_lookups_per_client="2 per hour")
    assert [limits.allow_lookup("client:z") for _ in range(3)] == [True, True, False]


def test_the_action_server_does_not_start_with_a_bad_limit(tmp_path: Path) -> None:
    env = {**os.environ, "AUSKUNFT_LIMIT_ORDER_FAILURES_PER_CONVERSATION": "drei pro Stunde"}
    env["AUSKUNFT_LOG_DIR"] = str(tmp_path)
    command = [sys.executable, "-m", "actions.server", "-p", "9"]  # it stops before it would listen anywhere
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "AUSKUNFT_LIMIT_ORDER_FAILURES_PER_CONVERSATION='drei pro Stunde'" in done.stderr
