"""One careful HTTP GET for the vendor sources: timeouts, bounded retries, Retry-After.

``get_json(session, url, source=..., ...)`` returns the decoded JSON body or raises a
``SourceError`` (see ``carbon.sources.base``):

- connection error or timeout -> retried up to ``max_retries`` times with exponential
  backoff (``backoff_s * 2**attempt``), then ``SourceUnavailable``;
- HTTP 5xx -> the same;
- HTTP 429 -> waits what ``Retry-After`` asks (seconds or an HTTP date) when that is at
  most ``max_retry_after_s`` and a retry is left, else ``RateLimited`` at once (a
  planner must not hang for minutes on one source: the chain falls back instead);
- HTTP 401/403 -> ``AuthError``; other 4xx -> ``BadResponse``; a body that is not JSON
  -> ``BadResponse``.

Error messages name the source, the URL path (never the query string or headers) and the
status; any text echoed from the server is cut to 200 characters and redacted.
``sleep`` is injectable so tests do not wait.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from carbon.sources.base import (
    AuthError,
    BadResponse,
    RateLimited,
    SourceUnavailable,
    redact,
)

__all__ = ["DEFAULT_POLICY", "HttpPolicy", "get_json", "retry_after_seconds"]

log = logging.getLogger("carbon.sources")


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpPolicy:
    timeout_s: float = 10.0
    max_retries: int = 2
    backoff_s: float = 0.5
    max_retry_after_s: float = 30.0


DEFAULT_POLICY = HttpPolicy()


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent."""
    if not value:
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def get_json(session: requests.Session, url: str, *, source: str,
             params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
             auth: tuple[str, str] | None = None, policy: HttpPolicy = DEFAULT_POLICY,
             secrets: Iterable[str] = (), sleep: Callable[[float], None] = time.sleep) -> Any:
    """GET ``url`` and decode JSON, retrying transient failures (module docstring)."""
    secrets = tuple(secrets)
    path = urlsplit(url).path or "/"
    attempt = 0
    while True:
        try:
            resp = session.get(url, params=params, headers=headers, auth=auth,
                               timeout=policy.timeout_s)
        except requests.Timeout:
            reason = f"GET {path}: no answer within {policy.timeout_s:g} s"
            err: Exception = SourceUnavailable(source, reason)
            wait = policy.backoff_s * 2 ** attempt
        except requests.RequestException as exc:
            reason = f"GET {path}: connection failed ({type(exc).__name__})"
            err = SourceUnavailable(source, reason)
            wait = policy.backoff_s * 2 ** attempt
        else:
            status = resp.status_code
            if status < 400:
                try:
                    return resp.json()
                except (ValueError, json.JSONDecodeError):
                    raise BadResponse(source, f"GET {path}: HTTP {status} body is not JSON") \
                        from None
            body = redact(resp.text[:200].replace("\n", " "), secrets)
            if status in (401, 403):
                raise AuthError(source, f"GET {path}: HTTP {status} (credentials rejected or "
                                        "missing; check the token/username in the environment "
                                        "or the config file)")
            if status == 429:
                ra = retry_after_seconds(resp.headers.get("Retry-After"))
                if attempt < policy.max_retries and ra is not None \
                        and ra <= policy.max_retry_after_s:
                    log.info("%s: HTTP 429 on %s, waiting %.1f s (Retry-After)", source, path, ra)
                    sleep(ra)
                    attempt += 1
                    continue
                asked = f", Retry-After {ra:g} s" if ra is not None else ""
                raise RateLimited(source, f"GET {path}: HTTP 429 rate limited{asked}", ra)
            if status < 500:
                raise BadResponse(source, f"GET {path}: HTTP {status}: {body}")
            err = SourceUnavailable(source, f"GET {path}: HTTP {status}")
            wait = policy.backoff_s * 2 ** attempt
        if attempt >= policy.max_retries:
            raise err
        log.info("%s, retrying in %.1f s", err, wait)
        sleep(wait)
        attempt += 1
