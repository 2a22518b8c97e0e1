"""Row-by-row validation of catalog CSV text (the format ``pricing.catalog`` documents).

The header must hold every required column, may hold the optional ``vcpus``,
``memory_gib`` and ``currency`` columns, and nothing else. Each row is checked field by
field; the first bad one raises ``CatalogError`` naming the file, the row (counted like
file lines, header = row 1), the field and the fix, so nothing is loaded from a file
with a bad row. A second row for the same (provider, region, instance_type) is an error
naming both rows.
"""

from __future__ import annotations

import csv
import datetime
import io
import math
from typing import NoReturn

from pricing.catalog import (
    ACCELERATORS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    UNKNOWN_DATE,
    CatalogError,
    Offer,
    Provider,
    Purchase,
)
from pricing.spot import BUCKETS

__all__ = ["parse_catalog_csv"]

_PROVIDERS = ", ".join(p.value for p in Provider)


def parse_catalog_csv(text: str, label: str) -> list[Offer]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise CatalogError(label, "is empty",
                           fix=f"start the file with the header {','.join(REQUIRED_COLUMNS)}")
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    extra = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if missing or extra or len(set(header)) != len(header):
        parts = []
        if missing:
            parts.append(f"missing column(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unknown column(s) {', '.join(extra)}")
        if not parts:
            parts.append("repeated column(s)")
        raise CatalogError(label, f"row 1 (header): {'; '.join(parts)}",
                           fix=f"use the columns {','.join(REQUIRED_COLUMNS)} (optionally "
                               f"also {', '.join(OPTIONAL_COLUMNS)})")

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

    def _number(self, name: str, text: str, fix: str) -> float:
        try:
            value = float(text)
        except ValueError:
            self._fail(name, f"is not a number ({text!r})", fix)
        if not math.isfinite(value):
            self._fail(name, f"is not finite ({text!r})", fix)
        return value

    def _price(self, name: str, *, required: bool) -> float | None:
        text = self.values[name]
        if not text:
            if required:
                self._fail(name, "is missing", "give the whole-instance price in USD per hour")
            return None
        value = self._number(name, text, "write a plain decimal such as 3.06 (no currency sign)")
        if value <= 0:
            self._fail(name, f"must be > 0, got {text}",
                       "give a positive USD per hour price" + (
                           "" if required else ", or leave it empty when there is no spot"))
        return value

    def _optional_size(self, name: str) -> float | None:
        text = self.values.get(name, "")
        if not text:
            return None
        value = self._number(name, text, "write a plain number, or leave it empty")
        if value <= 0:
            self._fail(name, f"must be > 0, got {text}", "give the instance's size, or leave "
                                                         "it empty when unknown")
        return value

    def _gpus(self) -> int:
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
        return gpus

    def _spot_terms(self, on_demand: float, spot: float | None) -> tuple[str | None, str | None]:
        bucket = self.values["spot_interruption_bucket"] or None
        basis = self.values["bucket_basis"] or None
        if spot is not None:
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
        return bucket, basis

    def _as_of(self) -> datetime.date | None:
        as_of_text = self._required("as_of", "give the snapshot date as YYYY-MM-DD "
                                             f"(or '{UNKNOWN_DATE}')")
        if as_of_text == UNKNOWN_DATE:
            return None
        try:
            as_of = datetime.date.fromisoformat(as_of_text)
        except ValueError:
            self._fail("as_of", f"is not a date ({as_of_text!r})",
                       f"write YYYY-MM-DD, or '{UNKNOWN_DATE}' if the snapshot is undated")
        if len(as_of_text) != 10:
            self._fail("as_of", f"is not in YYYY-MM-DD form ({as_of_text!r})",
                       "write the date as YYYY-MM-DD")
        return as_of

    def parse(self) -> tuple[tuple[str, str, str], list[Offer]]:
        provider = self._required("provider", f"use one of {_PROVIDERS}")
        if provider not in {p.value for p in Provider}:
            self._fail("provider", f"is unknown ({provider!r})", f"use one of {_PROVIDERS}")
        region = self._required("region", "give the cloud's region id, e.g. us-east-1")
        accelerator = self._required("accelerator",
                                     f"use one of {', '.join(sorted(ACCELERATORS))}")
        if accelerator not in ACCELERATORS:
            self._fail("accelerator", f"is unknown ({accelerator!r})",
                       f"use a canonical name: {', '.join(sorted(ACCELERATORS))}")
        instance_type = self._required("instance_type", "give the cloud's instance type name")
        gpus = self._gpus()
        currency = self.values.get("currency", "")
        if currency and currency.upper() != "USD":
            self._fail("currency", f"is {currency!r}, not USD",
                       "convert the prices to USD (gridshift compares offers in USD only) "
                       "and write USD, or leave the column empty")
        on_demand = self._price("on_demand_usd_per_hour", required=True)
        assert on_demand is not None
        spot = self._price("spot_usd_per_hour", required=False)
        bucket, basis = self._spot_terms(on_demand, spot)
        source = self._required("source", "name the file and commit the prices come from")
        as_of = self._as_of()
        common: dict = {"provider": provider, "region": region, "accelerator": accelerator,
                      "instance_type": instance_type, "gpus_per_instance": gpus,
                      "source": source, "as_of": as_of, "vcpus": self._optional_size("vcpus"),
                      "memory_gib": self._optional_size("memory_gib")}
        offers = [Offer(purchase=Purchase.ON_DEMAND, usd_per_hour=on_demand,
                        interruption_bucket=None, bucket_basis=None, **common)]
        if spot is not None:
            offers.append(Offer(purchase=Purchase.SPOT, usd_per_hour=spot,
                                interruption_bucket=bucket, bucket_basis=basis, **common))
        return (provider, region, instance_type), offers
