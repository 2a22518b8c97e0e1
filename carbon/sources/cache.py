"""Disk cache of fetched intensity series, each stored with its fetch time.

Layout: ``<root>/<source>/<key>/<kind>/<start>_<hours>h_<fetched>.json``, one JSON
object per fetch (the series' fields; times ISO 8601 UTC). ``key`` is the zone, plus
``@provider:region`` when the answer depends on the cloud region (regional UK series,
WattTime regions from coordinates). Files are written to a temp
name and renamed, so a crash never leaves half an entry. Unreadable entries are
skipped (and named in the answer's notes), never fatal.

``get`` returns the most recently fetched entry that covers the asked window and is
younger than ``max_age`` (None = any age), cut to the window; the series keeps its
original ``fetched_at`` and gains a note saying it came from the cache and how old it is.
No credentials are ever stored: only the series.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from carbon.intensity import IntensityKind, IntensitySeries

__all__ = ["DiskCache"]

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _safe(part: str) -> str:
    return _SAFE.sub("_", part) or "_"


def _ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _to_json(s: IntensitySeries) -> dict:
    return {"zone": s.zone, "start": s.start.isoformat(), "g_per_kwh": list(s.g_per_kwh),
            "source": s.source, "kind": str(s.kind), "signal": str(s.signal),
            "fetched_at": s.fetched_at.isoformat() if s.fetched_at else None,
            "notes": list(s.notes)}


def _from_json(d: dict) -> IntensitySeries:
    return IntensitySeries(zone=d["zone"], start=datetime.fromisoformat(d["start"]),
                           g_per_kwh=tuple(d["g_per_kwh"]), source=d["source"], kind=d["kind"],
                           signal=d.get("signal", "average"),
                           fetched_at=(datetime.fromisoformat(d["fetched_at"])
                                       if d.get("fetched_at") else None),
                           notes=tuple(d.get("notes", ())))


class DiskCache:
    def __init__(self, root: Path | str,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.root = Path(root).expanduser()
        self.clock = clock

    def _dir(self, source: str, zone: str, kind: IntensityKind | str) -> Path:
        return self.root / _safe(source) / _safe(zone) / _safe(str(kind))

    def put(self, series: IntensitySeries, *, source: str, key: str | None = None) -> Path:
        """Store ``series`` under ``source`` and ``key`` (default: its zone)."""
        fetched = series.fetched_at or self.clock()
        d = self._dir(source, key or series.zone, series.kind)
        d.mkdir(parents=True, exist_ok=True)
        name = f"{_ts(series.start)}_{len(series.g_per_kwh)}h_{_ts(fetched)}.json"
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(_to_json(series), fh)
            os.replace(tmp, d / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return d / name

    def get(self, *, source: str, zone: str, kind: IntensityKind | str, start: datetime,
            hours: int, max_age: timedelta | None = None) -> IntensitySeries | None:
        d = self._dir(source, zone, kind)
        if not d.is_dir():
            return None
        now = self.clock()
        best: IntensitySeries | None = None
        skipped = []
        for f in sorted(d.glob("*.json")):
            if f.name.startswith(".tmp-"):
                continue
            try:
                s = _from_json(json.loads(f.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                skipped.append(f.name)
                continue
            if not s.covers(start, hours) or s.fetched_at is None:
                continue
            if max_age is not None and now - s.fetched_at > max_age:
                continue
            if best is None or s.fetched_at > best.fetched_at:
                best = s
        if best is None:
            return None
        age_h = (now - best.fetched_at).total_seconds() / 3600
        notes = [f"from disk cache, fetched {best.fetched_at:%Y-%m-%dT%H:%MZ} ({age_h:.1f} h old)"]
        if skipped:
            notes.append(f"skipped unreadable cache entries: {', '.join(skipped[:3])}")
        return best.window(start, hours).with_notes(*notes)
