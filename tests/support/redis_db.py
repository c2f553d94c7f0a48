"""The Redis database tests may use (`AUSKUNFT_TEST_REDIS_URL`, else db 15 on this machine); skipped without one."""

from __future__ import annotations

import os

import pytest

DEFAULT_URL = "redis://127.0.0.1:6379/15"


def test_redis_url() -> str:
    """The URL, after checking that Redis answers there (else the test is skipped)."""
    redis = pytest.importorskip("redis")
    url = os.environ.get("AUSKUNFT_TEST_REDIS_URL", DEFAULT_URL)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {url}")
    return url


test_redis_url.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test
