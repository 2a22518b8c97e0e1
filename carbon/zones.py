"""Cloud region -> grid zone: where a region draws its power from.

``zone_for(provider, cloud_region, overrides=None)`` answers with a ``RegionZone``:
the Electricity Maps zone key (which WattTime-style sources resolve from the
coordinates), the country (ISO 3166 alpha-2 and alpha-3; codecarbon's offline tracker
takes the alpha-3), the subdivision and city, approximate coordinates, a confidence
(``high``/``medium``/``low``; ``override`` for a fleet's own entry) and the sources.

The table (``data/region_zones.csv``) covers every AWS, GCP and Azure region that
offers GPUs in the price snapshots of shared/data and is rebuilt by
``scripts/derive_region_zones.py``, whose docstring states the method. No
authoritative public mapping exists; rows that are not ``high`` are uncertain and a
fleet should check them and override:

    zone_for("gcp", "us-west2", overrides={"gcp:us-west2": "US-CAL-CISO"})

Override keys are ``"provider:region"`` or ``(provider, region)``; values a zone key
(the rest of the row is kept) or a whole ``RegionZone`` (for regions the table lacks,
e.g. on-premises sites).
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources

__all__ = [
    "RegionZone",
    "UnknownRegionError",
    "find_region",
    "region_zones",
    "zone_for",
]

TABLE = "region_zones.csv"
CONFIDENCES = ("high", "medium", "low", "override")


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionZone:
    """One cloud region and the grid zone that powers it."""

    provider: str
    cloud_region: str
    zone: str
    country_iso2: str = ""
    country_iso3: str = ""
    subdivision: str = ""
    city: str = ""
    lat: float | None = None
    lon: float | None = None
    confidence: str = "override"
    location_source: str = ""
    zone_basis: str = ""

    def __post_init__(self) -> None:
        if not self.zone or not str(self.zone).strip():
            raise ValueError(f"region {self.provider}:{self.cloud_region}: zone is empty; give "
                             "an Electricity Maps zone key such as 'DE' or 'US-MIDA-PJM'")
        if self.confidence not in CONFIDENCES:
            raise ValueError(f"region {self.provider}:{self.cloud_region}: confidence "
                             f"{self.confidence!r} is not one of {', '.join(CONFIDENCES)}")
        for name, value, bound in (("lat", self.lat, 90.0), ("lon", self.lon, 180.0)):
            if value is not None and not (math.isfinite(value) and -bound <= value <= bound):
                raise ValueError(f"region {self.provider}:{self.cloud_region}: {name} = {value!r}"
                                 f" is outside [-{bound:g}, {bound:g}]")

    @property
    def key(self) -> str:
        return f"{self.provider}:{self.cloud_region}"

    @property
    def uncertain(self) -> bool:
        """True unless the table is sure (``high``) or the fleet said so (``override``)."""
        return self.confidence not in ("high", "override")


class UnknownRegionError(ValueError):
    """A cloud region with no row in the table and no override."""

    def __init__(self, provider: str, cloud_region: str, known: list[str]) -> None:
        self.provider, self.cloud_region = provider, cloud_region
        near = [k for k in known if k.split(":", 1)[1] == cloud_region]
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        same = sorted(k for k in known if k.startswith(f"{provider}:"))
        listing = ", ".join(k.split(":", 1)[1] for k in same) if same else "aws, gcp, azure"
        what = f"{provider} regions" if same else "providers"
        super().__init__(
            f"cloud region {provider}:{cloud_region} has no grid zone{hint}; known {what}: "
            f"{listing}; add it to the fleet's zone overrides, e.g. "
            f"{{'{provider}:{cloud_region}': 'DE'}}")


@functools.cache
def _table() -> dict[str, RegionZone]:
    path = resources.files("carbon") / "data" / TABLE
    out: dict[str, RegionZone] = {}
    with path.open("r", encoding="utf-8", newline="") as fh:
        for line, r in enumerate(csv.DictReader(fh), start=2):
            try:
                rz = RegionZone(provider=r["provider"], cloud_region=r["cloud_region"],
                                zone=r["zone"], country_iso2=r["country_iso2"],
                                country_iso3=r["country_iso3"], subdivision=r["subdivision"],
                                city=r["city"], lat=float(r["lat"]), lon=float(r["lon"]),
                                confidence=r["confidence"], location_source=r["location_source"],
                                zone_basis=r["zone_basis"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"carbon/data/{TABLE} line {line}: {exc}; re-run "
                                 "scripts/derive_region_zones.py") from None
            if rz.key in out:
                raise ValueError(f"carbon/data/{TABLE} line {line}: {rz.key} appears twice")
            out[rz.key] = rz
    return out


def region_zones() -> tuple[RegionZone, ...]:
    """Every row of the bundled table, by provider then region."""
    return tuple(_table().values())


def _norm(provider: str, cloud_region: str) -> tuple[str, str]:
    return str(provider).strip().lower(), str(cloud_region).strip()


def _override_key(key: str | tuple[str, str]) -> tuple[str, str]:
    if isinstance(key, tuple):
        return _norm(*key)
    provider, sep, region = str(key).partition(":")
    if not sep:
        raise ValueError(f"zone override key {key!r} must be 'provider:region' (e.g. "
                         "'aws:us-east-1') or a (provider, region) pair")
    return _norm(provider, region)


def zone_for(provider: str, cloud_region: str,
             overrides: Mapping[str | tuple[str, str], str | RegionZone] | None = None,
             ) -> RegionZone:
    """The grid zone of ``provider``'s ``cloud_region``; a fleet's override wins."""
    p, r = _norm(provider, cloud_region)
    base = _table().get(f"{p}:{r}")
    for key, value in (overrides or {}).items():
        if _override_key(key) != (p, r):
            continue
        if isinstance(value, RegionZone):
            return replace(value, provider=p, cloud_region=r)
        zone = str(value).strip()
        if base is None:
            return RegionZone(provider=p, cloud_region=r, zone=zone, confidence="override",
                              zone_basis="fleet override")
        return replace(base, zone=zone, confidence="override",
                       zone_basis=f"fleet override (table said {base.zone}: {base.zone_basis})")
    if base is None:
        raise UnknownRegionError(p, r, list(_table()))
    return base


def find_region(cloud_region: str, provider: str | None = None) -> RegionZone:
    """Look a region up by id alone (``'us-east-1'``, ``'aws:us-east-1'``); ambiguous -> error."""
    text = str(cloud_region).strip()
    if ":" in text and provider is None:
        provider, text = text.split(":", 1)
    if provider:
        return zone_for(provider, text)
    hits = [rz for rz in _table().values() if rz.cloud_region == text]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UnknownRegionError("?", text, list(_table()))
    raise ValueError(f"cloud region {text!r} exists at {', '.join(h.provider for h in hits)}; "
                     f"write it as provider:region, e.g. '{hits[0].key}'")
