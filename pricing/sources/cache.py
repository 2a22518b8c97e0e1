"""Raw vendor payloads cached on disk with their fetch time.

One JSON file per key: ``{"key", "url", "fetched_at" (ISO 8601 UTC), "payload"}``,
written to a temporary file and renamed, so a crash never leaves half a cache entry. An
entry that cannot be read back (corrupt, wrong shape) is reported as unusable, not
silently treated as empty. Default directory: ``$GRIDSHIFT_CACHE_DIR/prices`` or
``~/.cache/gridshift/prices``.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime

__all__ = ["CacheError", "CachedPayload", "PriceCache", "default_cache_dir"]


class CacheError(RuntimeError):
    """A cache entry exists but cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedPayload:
    key: str
    url: str
    fetched_at: datetime  # tz-aware UTC
    payload: object


def default_cache_dir() -> pathlib.Path:
    base = os.environ.get("GRIDSHIFT_CACHE_DIR")
    root = pathlib.Path(base) if base else pathlib.Path.home() / ".cache" / "gridshift"
    return root / "prices"


class PriceCache:
    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = pathlib.Path(directory)

    def _path(self, key: str) -> pathlib.Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            raise ValueError(f"cache key {key!r} must be letters, digits, '.', '_' or '-'")
        return self.directory / f"{key}.json"

    def put(self, key: str, payload: object, *, url: str, fetched_at: datetime) -> None:
        if fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be timezone-aware (UTC)")
        self.directory.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"key": key, "url": url, "fetched_at": fetched_at.isoformat(),
                           "payload": payload})
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(body)
            os.replace(tmp, self._path(key))
        except BaseException:
            pathlib.Path(tmp).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> CachedPayload | None:
        """The entry, None if there is none; ``CacheError`` if it is unusable."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            fetched_at = datetime.fromisoformat(raw["fetched_at"])
            if fetched_at.tzinfo is None:
                raise ValueError("fetched_at has no time zone")
            return CachedPayload(key=raw["key"], url=raw["url"], fetched_at=fetched_at,
                                 payload=raw["payload"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CacheError(f"{path}: unusable cache entry ({exc}); it is ignored until "
                             "the next successful fetch overwrites it") from None
