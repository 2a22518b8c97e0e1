"""One HTTP GET with bounded retries, through an injected ``requests.Session``.

Retried: HTTP 429 (waiting ``Retry-After`` seconds, or the HTTP date it names, capped
at ``max_wait_s``), HTTP 5xx and connection errors/timeouts (waiting
``backoff_s * 2**attempt``), at most ``attempts`` tries in all. Not retried: other 4xx.
Every failure raises ``FetchError`` naming the URL and what went wrong; the caller
decides what to fall back to (``pricing.sources.refresh``).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import requests

__all__ = ["FetchError", "get_json", "get_text"]


class FetchError(RuntimeError):
    """A source could not be fetched or decoded: ``<url>: <problem>``."""

    def __init__(self, url: str, problem: str) -> None:
        self.url, self.problem = url, problem
        super().__init__(f"{url}: {problem}")


def _retry_after_s(value: str | None, default: float) -> float:
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def get_text(session: requests.Session, url: str, *,
             params: Mapping[str, str] | None = None, timeout_s: float = 20.0,
             attempts: int = 4, backoff_s: float = 1.0, max_wait_s: float = 60.0,
             sleep: Callable[[float], None] = time.sleep) -> str:
    """The response body of a successful GET (see the module docstring for retries)."""
    last = "no attempt made"
    for attempt in range(max(1, attempts)):
        try:
            response = session.get(url, params=params, timeout=timeout_s)
        except (requests.ConnectionError, requests.Timeout) as exc:
            last = f"connection failed ({type(exc).__name__})"
            if attempt + 1 < attempts:
                sleep(backoff_s * 2 ** attempt)
            continue
        status = response.status_code
        if status == 429:
            last = "HTTP 429 Too Many Requests"
            if attempt + 1 < attempts:
                sleep(min(max_wait_s, _retry_after_s(response.headers.get("Retry-After"),
                                                     backoff_s * 2 ** attempt)))
            continue
        if status >= 500:
            last = f"HTTP {status}"
            if attempt + 1 < attempts:
                sleep(backoff_s * 2 ** attempt)
            continue
        if status >= 400:
            raise FetchError(url, f"HTTP {status} ({response.reason}); not retried")
        return response.text
    raise FetchError(url, f"gave up after {attempts} attempt(s): {last}")


def get_json(session: requests.Session, url: str, **kwargs) -> object:
    """``get_text`` then JSON-decode; malformed JSON is a ``FetchError``."""
    text = get_text(session, url, **kwargs)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FetchError(url, f"malformed JSON ({exc.msg} at line {exc.lineno} "
                              f"column {exc.colno})") from None
