"""The scale tests start a whole deployment (nginx, 2 gateways, 2 Rasa, 2 action servers, PostgreSQL, Redis):
minutes and most of a 2-core machine, so they run only when asked, `make test-scale` (`pytest --scale`)."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--scale"):
        return
    skip = pytest.mark.skip(reason="the scale test runs with `make test-scale` (pytest --scale)")
    for item in items:
        if item.get_closest_marker("scale") is not None:
            item.add_marker(skip)
