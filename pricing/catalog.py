"""GPU offer catalog: what an accelerator costs per hour, by region and purchase option.

One CSV row describes one instance type in one region with whole-instance prices:

    provider,region,accelerator,instance_type,gpus_per_instance,vcpus,memory_gib,
    on_demand_usd_per_hour,spot_usd_per_hour,spot_interruption_bucket,bucket_basis,
    source,as_of                                      [,currency]

and yields an on-demand ``Offer`` plus, if a spot price is given, a spot ``Offer``.
``vcpus``, ``memory_gib`` and ``currency`` are optional columns (a file written before
they existed still loads); ``currency``, when present, must be ``USD`` on every row.
Prices are per instance; comparisons use

    usd_per_gpu_hour = usd_per_hour / gpus_per_instance

and ``Catalog.cheapest`` returns the offer with the lowest ``usd_per_gpu_hour`` for a
(provider, region, accelerator, purchase), ties broken by instance type name so the
answer is deterministic. ``as_of`` is the snapshot date (YYYY-MM-DD) or the literal
``unknown`` when the source snapshot is undated (``Offer.as_of`` is then None).

Providers are the three clouds plus ``onprem``: an on-premises cluster priced by
amortised cost per GPU-hour (``pricing.onprem``), added to a catalog with
``Catalog.merged``.

The bundled file ``pricing/data/gpu_offers.csv`` is produced by
``scripts/derive_price_catalog.py`` (provenance in that script). ``load_catalog`` reads
it, or a user file with the same columns, and validates every row
(``pricing.catalog_csv``): a bad row raises ``CatalogError`` naming the file, the row
(rows are counted like file lines, the header being row 1), the field and the fix;
nothing is loaded from a file with a bad row.

Errors: ``CatalogError(ValueError)`` for every unusable catalog input (files, vendor
rows, duplicate offers when merging).
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import importlib.resources
import math
import pathlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pricing.spot import BUCKETS

__all__ = [
    "ACCELERATORS",
    "COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "Accelerator",
    "Catalog",
    "CatalogError",
    "Offer",
    "Provider",
    "Purchase",
    "load_catalog",
]


class Purchase(enum.StrEnum):
    ON_DEMAND = "on-demand"
    SPOT = "spot"


class Provider(enum.StrEnum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"
    ONPREM = "onprem"


class Accelerator(enum.StrEnum):
    """Canonical accelerator names (GCP's and Azure's plain ``A100`` is A100_40GB)."""

    H100 = "H100"  # 80 GB, SXM or PCIe/NVL as the cloud sells it
    A100_80GB = "A100-80GB"
    A100_40GB = "A100-40GB"
    L40S = "L40S"
    L4 = "L4"
    A10G = "A10G"
    T4 = "T4"


ACCELERATORS: frozenset[str] = frozenset(a.value for a in Accelerator)

#: the column order the bundled file is written in
COLUMNS: tuple[str, ...] = (
    "provider", "region", "accelerator", "instance_type", "gpus_per_instance",
    "vcpus", "memory_gib",
    "on_demand_usd_per_hour", "spot_usd_per_hour", "spot_interruption_bucket",
    "bucket_basis", "source", "as_of",
)
OPTIONAL_COLUMNS: tuple[str, ...] = ("vcpus", "memory_gib", "currency")
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in OPTIONAL_COLUMNS)
UNKNOWN_DATE = "unknown"


class CatalogError(ValueError):
    """A catalog input that cannot be used, with where and how to fix it.

    Message: ``<path>: row <n> (<provider> <region> <instance_type>): field '<f>'
    <problem>; fix: <fix>`` (file-level problems omit the row part).
    """

    def __init__(self, path: str, problem: str, *, fix: str, row: int | None = None,
                 what: str | None = None, field_name: str | None = None) -> None:
        self.path, self.row, self.field, self.problem, self.fix = (
            path, row, field_name, problem, fix)
        where = path
        if row is not None:
            where += f": row {row}" + (f" ({what})" if what else "")
        text = f"{where}: " + (f"field '{field_name}' " if field_name else "") + problem
        super().__init__(f"{text}; fix: {fix}")


def _positive_or_none(name: str, value: float | None, what: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{what}: {name} must be a finite number > 0 or None, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    """One way to buy GPU hours: an instance type in a region, on-demand or spot."""

    provider: str
    region: str
    accelerator: str
    instance_type: str
    gpus_per_instance: int
    purchase: Purchase
    usd_per_hour: float                 # whole instance
    interruption_bucket: str | None     # spot only, e.g. "5-10%"
    bucket_basis: str | None            # where the bucket comes from ("assumed", ...)
    source: str
    as_of: datetime.date | None         # snapshot date; None = source undated
    vcpus: float | None = None          # whole instance; None = not published
    memory_gib: float | None = None     # whole instance host memory

    def __post_init__(self) -> None:
        name = f"offer {self.provider} {self.region} {self.instance_type} {self.purchase}"
        if isinstance(self.gpus_per_instance, bool) or not isinstance(self.gpus_per_instance,
                                                                      int) \
                or self.gpus_per_instance < 1:
            raise ValueError(f"{name}: gpus_per_instance must be an integer >= 1, "
                             f"got {self.gpus_per_instance!r}")
        if not (isinstance(self.usd_per_hour, (int, float)) and math.isfinite(self.usd_per_hour)
                and self.usd_per_hour > 0):
            raise ValueError(f"{name}: usd_per_hour must be a finite number > 0, "
                             f"got {self.usd_per_hour!r}")
        purchase = Purchase(self.purchase)
        if purchase is Purchase.SPOT and self.interruption_bucket not in BUCKETS:
            raise ValueError(f"{name}: a spot offer needs an interruption_bucket in "
                             f"{', '.join(BUCKETS)}, got {self.interruption_bucket!r}")
        if purchase is Purchase.ON_DEMAND and self.interruption_bucket is not None:
            raise ValueError(f"{name}: an on-demand offer has no interruption_bucket")
        _positive_or_none("vcpus", self.vcpus, name)
        _positive_or_none("memory_gib", self.memory_gib, name)

    @property
    def usd_per_gpu_hour(self) -> float:
        return self.usd_per_hour / self.gpus_per_instance

    def age_days(self, today: datetime.date) -> int | None:
        """Days between the snapshot and ``today`` (None when the snapshot is undated)."""
        return None if self.as_of is None else (today - self.as_of).days


def _rank(offer: Offer) -> tuple[float, str]:
    return offer.usd_per_gpu_hour, offer.instance_type


def offer_key(offer: Offer) -> tuple[str, str, str, str]:
    """What makes an offer unique in a catalog."""
    return offer.provider, offer.region, offer.instance_type, str(Purchase(offer.purchase))


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """Offers indexed by (provider, region, accelerator) once, at construction."""

    offers: tuple[Offer, ...]
    version: str  # "bundled:<sha256-12>" or "<path>:<sha256-12>"
    _index: Mapping[tuple[str, str, str], tuple[Offer, ...]] = field(
        init=False, repr=False, compare=False)
    _cheapest: Mapping[tuple[str, str, str, Purchase], Offer] = field(
        init=False, repr=False, compare=False)
    _by_region: Mapping[tuple[str, str], frozenset[str]] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        offers = tuple(self.offers)
        object.__setattr__(self, "offers", offers)
        index: dict[tuple[str, str, str], list[Offer]] = {}
        cheapest: dict[tuple[str, str, str, Purchase], Offer] = {}
        by_region: dict[tuple[str, str], set[str]] = {}
        for offer in offers:
            key = (offer.provider, offer.region, offer.accelerator)
            index.setdefault(key, []).append(offer)
            by_region.setdefault((offer.provider, offer.region), set()).add(offer.accelerator)
            ckey = (*key, Purchase(offer.purchase))
            best = cheapest.get(ckey)
            if best is None or _rank(offer) < _rank(best):
                cheapest[ckey] = offer
        # plain dicts (private, never handed out) keep the catalog picklable
        object.__setattr__(self, "_index",
                           {k: tuple(sorted(v, key=_rank)) for k, v in index.items()})
        object.__setattr__(self, "_cheapest", cheapest)
        object.__setattr__(self, "_by_region", {k: frozenset(v) for k, v in by_region.items()})

    def offers_for(self, *, provider: str, region: str, accelerator: str,
                   purchase: Purchase | None = None) -> tuple[Offer, ...]:
        """All matching offers, cheapest per GPU-hour first."""
        found = self._index.get((provider, region, accelerator), ())
        if purchase is None:
            return found
        return tuple(o for o in found if o.purchase == purchase)

    def cheapest(self, *, provider: str, region: str, accelerator: str,
                 purchase: Purchase) -> Offer | None:
        """The offer with the lowest usd_per_gpu_hour, or None if there is none."""
        return self._cheapest.get((provider, region, accelerator, Purchase(purchase)))

    def accelerators_in(self, *, provider: str, region: str) -> frozenset[str]:
        return self._by_region.get((provider, region), frozenset())

    def regions(self, provider: str | None = None) -> tuple[tuple[str, str], ...]:
        """Sorted (provider, region) pairs that have at least one offer."""
        return tuple(sorted(k for k in self._by_region if provider in (None, k[0])))

    def select(self, *, provider: str | None = None, region: str | None = None,
               accelerator: str | None = None,
               purchase: Purchase | None = None) -> tuple[Offer, ...]:
        """Offers matching every given filter, cheapest per GPU-hour first."""
        found = [o for o in self.offers
                 if (provider is None or o.provider == provider)
                 and (region is None or o.region == region)
                 and (accelerator is None or o.accelerator == accelerator)
                 and (purchase is None or o.purchase == purchase)]
        return tuple(sorted(found, key=lambda o: (*_rank(o), o.provider, o.region,
                                                  str(o.purchase))))

    def merged(self, extra: Iterable[Offer], *, label: str) -> Catalog:
        """A new catalog with ``extra`` added; a duplicate offer is an error, not an override."""
        extra = tuple(extra)
        seen = {offer_key(o) for o in self.offers}
        for offer in extra:
            key = offer_key(offer)
            if key in seen:
                raise CatalogError(label, f"offer {' '.join(key)} is already in the catalog "
                                          f"({self.version})",
                                   fix="give the added offer its own region or instance "
                                       "type name, or remove it from one of the sources")
            seen.add(key)
        digest = hashlib.sha256(repr(sorted(offer_key(o) + (o.usd_per_hour,)
                                            for o in extra)).encode()).hexdigest()[:12]
        return Catalog(offers=self.offers + extra, version=f"{self.version}+{label}:{digest}")


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------

def _bundled_bytes() -> bytes:
    return (importlib.resources.files("pricing") / "data" / "gpu_offers.csv").read_bytes()


def load_catalog(path: pathlib.Path | None = None) -> Catalog:
    """Read and validate a catalog CSV; ``None`` reads the bundled one."""
    from pricing.catalog_csv import parse_catalog_csv

    if path is None:
        raw, label = _bundled_bytes(), "pricing/data/gpu_offers.csv (bundled)"
    else:
        label = str(path)
        try:
            raw = pathlib.Path(path).read_bytes()
        except FileNotFoundError:
            raise CatalogError(label, "file not found",
                               fix="pass the path of an existing catalog CSV, or omit it "
                                   "to use the bundled catalog") from None
        except OSError as exc:
            raise CatalogError(label, f"cannot be read ({exc.strerror})",
                               fix="check the path and its permissions") from None
    digest = hashlib.sha256(raw).hexdigest()[:12]
    version = f"bundled:{digest}" if path is None else f"{label}:{digest}"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogError(label, "is not UTF-8 text", fix="save the file as UTF-8 CSV") from None
    return Catalog(offers=tuple(parse_catalog_csv(text, label)), version=version)
