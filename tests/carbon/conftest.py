"""Fixtures for carbon tests: a loopback vendor server, a session, fast HTTP policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from carbon.sources.http import HttpPolicy
from tests.carbon.vendor_server import VendorServer

NOW = datetime(2026, 3, 10, 12, 20, tzinfo=UTC)


@pytest.fixture
def vendor():
    with VendorServer() as server:
        yield server


@pytest.fixture
def session():
    with requests.Session() as s:
        yield s


@pytest.fixture
def fast() -> HttpPolicy:
    return HttpPolicy(timeout_s=0.5, max_retries=1, backoff_s=0.0, max_retry_after_s=5.0)


class Sleeps(list):
    """An injectable ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
