"""pricing.sources.skypilot: SkyPilot vms.csv in, offers out (pure importer)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pricing.catalog import CatalogError, Purchase, load_catalog
from pricing.sources.skypilot import (
    MIN_SPOT_DISCOUNT,
    import_skypilot_catalog,
    read_skypilot_rows,
    usable_spot,
)

AWS_HEADER = ("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,GpuInfo,Price,"
              "SpotPrice,Region,AvailabilityZone")
GPU = '"{\'Gpus\': [{\'Name\': \'H100\', \'Count\': 8}]}"'


def aws(*rows: str) -> str:
    return "\n".join([AWS_HEADER, *rows]) + "\n"


P5 = [f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},55.04,21.0363,us-east-1,use1-az1",
      f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},55.04,20.7289,us-east-1,use1-az2",
      f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},55.04,20.5715,us-east-1,use1-az3",
      f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},55.04,20.4171,us-east-1,use1-atl2-az1"]


def test_whole_vm_rows_take_the_median_over_regular_zones() -> None:
    result = import_skypilot_catalog(aws(*P5), provider="aws", label="vms.csv", source="t",
                                     as_of=dt.date(2026, 5, 1))
    on_demand, spot = result.offers
    assert on_demand.purchase is Purchase.ON_DEMAND and on_demand.usd_per_hour == 55.04
    assert spot.usd_per_hour == 20.7289  # median of az1..az3; the Local Zone is left out
    assert spot.interruption_bucket == "10-15%" and spot.bucket_basis == "assumed"
    assert (on_demand.vcpus, on_demand.memory_gib, on_demand.gpus_per_instance) == (192, 2048, 8)
    assert on_demand.source == "t: median of 3 zones"
    assert [s.row for s in result.skipped] == [5]
    assert "Local Zone" in result.summary()


def test_unusable_rows_are_skipped_and_reported() -> None:
    text = aws(P5[0],
               f"p5e.48xlarge,H200,8.0,192.0,2048.0,{GPU},,82.28,us-east-1,use1-az1",
               f"g6f.2xlarge,L4,0.25,8.0,32.0,{GPU},0.68,0.17,us-east-1,use1-az1",
               f"p4d.24xlarge,A100,8.0,96.0,1152.0,{GPU},,,us-east-1,use1-az1",
               "m5.large,,,2.0,8.0,,0.096,0.04,us-east-1,use1-az1")
    result = import_skypilot_catalog(text, provider="aws", label="vms.csv", source="t",
                                     as_of=None)
    assert {o.instance_type for o in result.offers} == {"p5.48xlarge"}
    reasons = {s.row: s.reason for s in result.skipped}
    assert "no on-demand price" in reasons[3] and "fractional" in reasons[4]
    assert "no on-demand price" in reasons[5]
    assert 6 not in reasons  # CPU-only instances are simply not GPU offers
    assert "3 rows skipped (row 3:" in result.summary()


def test_spot_needs_a_real_discount() -> None:
    assert usable_spot(21.17764, 21.1776) is None  # capped at on-demand, rounded
    assert usable_spot(10.0, 10.0 * (1 - MIN_SPOT_DISCOUNT) - 1e-9) is not None
    assert usable_spot(10.0, None) is None and usable_spot(10.0, 0.0) is None


@pytest.mark.parametrize(("row", "field", "problem"), [
    (("p5.48xlarge,H100,8.0,192.0,2048.0,{'Gpus': [{'Name': 'H100', 'Count': 8}]},55.04,21.0,us-east-1,"
     "use1-az1"), None, "has 11 fields, expected 10"),
    (f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},$55.04,21.0,us-east-1,use1-az1",
     "Price", "is not a number"),
    (f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},55.04,-1,us-east-1,use1-az1",
     "SpotPrice", "must be a finite number >= 0"),
    (f"p5.48xlarge,H100,8.0,192.0,2048.0,{GPU},55.04,21.0,,use1-az1", "Region", "is missing"),
    (P5[0], "InstanceType", "duplicates row 2"),
])
def test_malformed_rows_name_the_row_and_nothing_is_returned(row, field, problem) -> None:
    with pytest.raises(CatalogError) as err:
        import_skypilot_catalog(aws(P5[0], row), provider="aws", label="vms.csv", source="t",
                                as_of=None)
    assert str(err.value).startswith("vms.csv: row 3")
    assert problem in str(err.value) and err.value.field == field


def test_currency_other_than_usd_is_rejected() -> None:
    text = (AWS_HEADER + ",Currency\n" + P5[0] + ",USD\n" + P5[1] + ",EUR\n")
    with pytest.raises(CatalogError, match=r"row 3: field 'Currency' is 'EUR', not USD"):
        read_skypilot_rows(text, label="vms.csv")


def test_gcp_pairs_host_and_accelerator_rows_per_zone() -> None:
    text = ("InstanceType,AcceleratorName,AcceleratorCount,vCPUs,MemoryGiB,Region,"
            "AvailabilityZone,Price,SpotPrice,GpuInfo\n"
            "g2-standard-4,,,4.0,16.0,europe-west2,europe-west2-a,0.2,0.08,\n"
            ",L4,1.0,,,europe-west2,europe-west2-a,0.7,0.22,L4\n"
            "g2-standard-4,,,4.0,16.0,europe-west2,europe-west2-b,0.2,,\n"
            ",L4,1.0,,,europe-west2,europe-west2-b,0.7,0.22,L4\n"
            ",T4,1.0,,,europe-west2,europe-west2-a,0.35,0.1,T4\n")
    result = import_skypilot_catalog(text, provider="gcp", label="gcp.csv", source="t",
                                     as_of=None)
    on_demand, spot = result.offers
    assert on_demand.usd_per_hour == pytest.approx(0.9) and on_demand.vcpus == 4
    assert spot.usd_per_hour == pytest.approx(0.30)  # only zone a has both spot parts
    assert [s.row for s in result.skipped] == [6]
    assert "without a host VM row" in result.skipped[0].reason


def test_header_problems() -> None:
    with pytest.raises(CatalogError, match="missing column.*SpotPrice"):
        read_skypilot_rows("InstanceType,AcceleratorName,AcceleratorCount,Price,Region\n",
                           label="x.csv")
    with pytest.raises(CatalogError, match="is empty"):
        read_skypilot_rows("", label="x.csv")
    with pytest.raises(CatalogError, match="no GPU offer"):
        import_skypilot_catalog(aws("m5.large,,,2.0,8.0,,0.096,0.04,us-east-1,use1-az1"),
                                provider="aws", label="x.csv", source="t", as_of=None)


def test_real_snapshots_import_like_the_bundled_catalog(shared_data: Path) -> None:
    bundled = load_catalog()
    for provider, name, as_of in (("gcp", "gcp_gpu_offers_2026-04-28.csv", dt.date(2026, 4, 28)),
                                  ("azure", "azure_gpu_offers_2026-04-22.csv",
                                   dt.date(2026, 4, 22))):
        text = (shared_data / "pricing" / name).read_text(encoding="utf-8")
        result = import_skypilot_catalog(text, provider=provider, label=name, source="s",
                                         as_of=as_of)
        mine = {(o.region, o.instance_type, o.purchase, round(o.usd_per_hour, 6))
                for o in result.offers}
        theirs = {(o.region, o.instance_type, o.purchase, round(o.usd_per_hour, 6))
                  for o in bundled.offers if o.provider == provider
                  and "+" not in o.instance_type}  # N1 + T4 rows pair in another host table
        assert mine == theirs, provider
        if provider == "gcp":  # N1-attached T4s are reported, not priced
            assert any("T4" in s.reason for s in result.skipped)
