"""Shared pytest wiring: unit tests are fast and need nothing; e2e tests are marked."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests under tests/e2e are e2e tests and those under tests/faults fault tests, whatever
    their module forgot to say."""
    del config
    for item in items:
        if "/tests/e2e/" in str(item.path):
            item.add_marker(pytest.mark.e2e)
        if "/tests/faults/" in str(item.path):
            item.add_marker(pytest.mark.faults)
