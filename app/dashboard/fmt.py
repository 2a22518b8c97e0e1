"""How the dashboard writes numbers (tests parse them back with ``parse``)."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta


def usd(x: float) -> str:
    return f"-${-x:,.0f}" if x < 0 else f"${x:,.0f}"


def kwh(x: float) -> str:
    return f"{x:,.0f} kWh" if abs(x) >= 100 else f"{x:,.1f} kWh"


def kg(x: float) -> str:
    return f"{x:,.1f} kg"


def pct(new: float, old: float) -> str | None:
    """Relative change as '+12.3 %'; None when there is nothing to compare with."""
    if not old or not math.isfinite(old):
        return None
    return f"{100.0 * (new - old) / old:+.1f} %"


def when(t: datetime | None) -> str:
    return "-" if t is None else t.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def age(t: datetime | None, now: datetime) -> str:
    if t is None:
        return "no fetch time"
    d = now - t
    if d < timedelta(0):
        return "in the future (clock skew?)"
    if d < timedelta(hours=1):
        return f"{d.total_seconds() / 60:.0f} min old"
    if d < timedelta(days=2):
        return f"{d.total_seconds() / 3600:.1f} h old"
    return f"{d.days} days old"


_NUMBER = re.compile(r"[-+]?[0-9][0-9,]*(?:\.[0-9]+)?")


def parse(text: str) -> float:
    """The first number in a formatted value ('$1,785' -> 1785.0)."""
    match = _NUMBER.search(text.replace("$", ""))
    if match is None:
        raise ValueError(f"no number in {text!r}")
    return float(match.group(0).replace(",", ""))
