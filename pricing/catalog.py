"""GPU offer catalog: what an accelerator costs per hour, by cloud region and purchase.

One CSV row describes one instance type in one region with whole-instance prices:

    provider,region,accelerator,instance_type,gpus_per_instance,
    on_demand_usd_per_hour,spot_usd_per_hour,spot_interruption_bucket,bucket_basis,
    source,as_of

and yields an on-demand ``Offer`` plus, if a spot price is given, a spot ``Offer``.
Prices are per instance; comparisons use

    usd_per_gpu_hour = usd_per_hour / gpus_per_instance

and ``Catalog.cheapest`` returns the offer with the lowest ``usd_per_gpu_hour`` for a
(provider, region, accelerator, purchase), ties broken by instance type name so the
answer is deterministic. ``as_of`` is the snapshot date (YYYY-MM-DD) or the literal
``unknown`` when the source snapshot is undated (``Offer.as_of`` is then None).

The bundled file ``pricing/data/gpu_offers.csv`` is produced by
``scripts/derive_price_catalog.py`` (provenance in that script). ``load_catalog`` reads
it, or a user file with the same columns, and validates every row: a bad row raises
``CatalogError`` naming the file, the row (rows are counted like file lines, the header
being row 1), the field and the fix; nothing is loaded from a file with a bad row.
"""

from __future__ import annotations

import csv
import datetime
import enum
import hashlib
import importlib.resources
import io
import math
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NoReturn

from pricing.spot import BUCKETS

__all__ = [
    "ACCELERATORS",
    "COLUMNS",
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

COLUMNS: tuple[str, ...] = (
    "provider", "region", "accelerator", "instance_type", "gpus_per_instance",
    "on_demand_usd_per_hour", "spot_usd_per_hour", "spot_interruption_bucket",
    "bucket_basis", "source", "as_of",
)
UNKNOWN_DATE = "unknown"


class CatalogError(ValueError):
    """A catalog file that cannot be used, with where and how to fix it.

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

    @property
    def usd_per_gpu_hour(self) -> float:
        return self.usd_per_hour / self.gpus_per_instance


def _rank(offer: Offer) -> tuple[float, str]:
    return offer.usd_per_gpu_hour, offer.instance_type


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


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------

def _bundled_bytes() -> bytes:
    return (importlib.resources.files("pricing") / "data" / "gpu_offers.csv").read_bytes()


def load_catalog(path: pathlib.Path | None = None) -> Catalog:
    """Read and validate a catalog CSV; ``None`` reads the bundled one."""
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
    return Catalog(offers=tuple(_parse(text, label)), version=version)


def _parse(text: str, label: str) -> list[Offer]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CatalogError(label, "is empty",
                           fix=f"start the file with the header {','.join(COLUMNS)}")
    header = [h.strip() for h in header]
    missing = [c for c in COLUMNS if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra or len(header) != len(COLUMNS):
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unknown column(s) {', '.join(extra)}")
        if not parts:
            parts.append("repeated column(s)")
        raise CatalogError(label, f"row 1 (header): {'; '.join(parts)}",
                           fix=f"use exactly the columns {','.join(COLUMNS)}")

    offers: list[Offer] = []
    seen: dict[tuple[str, str, str], int] = {}
    for cells in reader:
        row_no = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank line
        parser = _RowParser(label, row_no, header, cells)
        key, row_offers = parser.parse()
        if key in seen:
            raise CatalogError(label, f"duplicates row {seen[key]} (same provider, region "
                                      "and instance_type)",
                               fix="keep one row per instance type and region",
                               row=row_no, what=parser.what, field_name="instance_type")
        seen[key] = row_no
        offers.extend(row_offers)
    if not offers:
        raise CatalogError(label, "has a header but no offers", fix="add at least one row")
    return offers


class _RowParser:
    """Validates one CSV row; every problem names the row and the field."""

    def __init__(self, label: str, row_no: int, header: list[str], cells: list[str]) -> None:
        self.label, self.row_no = label, row_no
        if len(cells) != len(header):
            self.values: dict[str, str] = {}
            self.what = None
            self._fail(None, f"has {len(cells)} fields, expected {len(header)}",
                       "quote fields that contain commas and give every column a value "
                       "(empty is allowed where optional)")
        self.values = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        self.what = " ".join(self.values[k] or "?" for k in ("provider", "region",
                                                              "instance_type"))

    def _fail(self, field_name: str | None, problem: str, fix: str) -> NoReturn:
        raise CatalogError(self.label, problem, fix=fix, row=self.row_no, what=self.what,
                           field_name=field_name)

    def _required(self, name: str, fix: str) -> str:
        value = self.values[name]
        if not value:
            self._fail(name, "is missing", fix)
        return value

    def _price(self, name: str, *, required: bool) -> float | None:
        text = self.values[name]
        if not text:
            if required:
                self._fail(name, "is missing", "give the whole-instance price in USD per hour")
            return None
        try:
            value = float(text)
        except ValueError:
            self._fail(name, f"is not a number ({text!r})",
                       "write a plain decimal such as 3.06 (no currency sign)")
        if not math.isfinite(value):
            self._fail(name, f"is not finite ({text!r})", "write a finite decimal price")
        if value <= 0:
            self._fail(name, f"must be > 0, got {text}",
                       "give a positive USD per hour price" + (
                           "" if required else ", or leave it empty when there is no spot"))
        return value

    def parse(self) -> tuple[tuple[str, str, str], list[Offer]]:
        provider = self._required("provider", f"use one of {', '.join(p.value for p in Provider)}")
        if provider not in {p.value for p in Provider}:
            self._fail("provider", f"is unknown ({provider!r})",
                       f"use one of {', '.join(p.value for p in Provider)}")
        region = self._required("region", "give the cloud's region id, e.g. us-east-1")
        accelerator = self._required("accelerator",
                                     f"use one of {', '.join(sorted(ACCELERATORS))}")
        if accelerator not in ACCELERATORS:
            self._fail("accelerator", f"is unknown ({accelerator!r})",
                       f"use a canonical name: {', '.join(sorted(ACCELERATORS))}")
        instance_type = self._required("instance_type", "give the cloud's instance type name")
        gpus_text = self._required("gpus_per_instance", "give the number of GPUs (>= 1)")
        try:
            gpus = int(gpus_text)
        except ValueError:
            self._fail("gpus_per_instance", f"is not a whole number ({gpus_text!r})",
                       "give the number of whole GPUs per instance (fractional GPUs are "
                       "not supported)")
        if gpus < 1:
            self._fail("gpus_per_instance", f"must be >= 1, got {gpus}",
                       "give the number of whole GPUs per instance")
        on_demand = self._price("on_demand_usd_per_hour", required=True)
        spot = self._price("spot_usd_per_hour", required=False)
        bucket = self.values["spot_interruption_bucket"] or None
        basis = self.values["bucket_basis"] or None
        if spot is not None:
            assert on_demand is not None
            if spot >= on_demand:
                self._fail("spot_usd_per_hour", f"({spot}) is not below on-demand ({on_demand})",
                           "drop the spot price: a spot offer that is no cheaper only adds "
                           "interruption risk")
            if bucket not in BUCKETS:
                self._fail("spot_interruption_bucket",
                           "is missing" if bucket is None else f"is unknown ({bucket!r})",
                           f"use one of {', '.join(BUCKETS)} (or 10-15% with bucket_basis "
                           "'assumed' when the cloud publishes no rate)")
            if basis is None:
                self._fail("bucket_basis", "is missing",
                           "say where the bucket comes from, e.g. 'assumed'")
        else:
            if bucket is not None:
                self._fail("spot_interruption_bucket", f"is set ({bucket!r}) but there is no "
                           "spot price", "leave it empty, or add spot_usd_per_hour")
            if basis is not None:
                self._fail("bucket_basis", f"is set ({basis!r}) but there is no spot price",
                           "leave it empty, or add spot_usd_per_hour")
        source = self._required("source", "name the file and commit the prices come from")
        as_of_text = self._required("as_of", "give the snapshot date as YYYY-MM-DD "
                                             f"(or '{UNKNOWN_DATE}')")
        as_of: datetime.date | None
        if as_of_text == UNKNOWN_DATE:
            as_of = None
        else:
            try:
                as_of = datetime.date.fromisoformat(as_of_text)
            except ValueError:
                self._fail("as_of", f"is not a date ({as_of_text!r})",
                           f"write YYYY-MM-DD, or '{UNKNOWN_DATE}' if the snapshot is undated")
            if len(as_of_text) != 10:
                self._fail("as_of", f"is not in YYYY-MM-DD form ({as_of_text!r})",
                           "write the date as YYYY-MM-DD")

        common = dict(provider=provider, region=region, accelerator=accelerator,
                      instance_type=instance_type, gpus_per_instance=gpus,
                      source=source, as_of=as_of)
        assert on_demand is not None
        offers = [Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=on_demand,
                        interruption_bucket=None, bucket_basis=None, **common)]
        if spot is not None:
            offers.append(Offer(purchase=Purchase.SPOT, usd_per_hour=spot,
                                interruption_bucket=bucket, bucket_basis=basis, **common))
        return (provider, region, instance_type), offers
