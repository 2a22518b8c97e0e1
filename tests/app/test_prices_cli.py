"""``gridshift prices`` through typer's CliRunner on a fresh app (no network but loopback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.commands.prices import register
from tests.pricing.replay import ReplayServer, Reply

ENV = {"COLUMNS": "250", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    cli = typer.Typer()
    register(cli)

    @cli.callback()
    def _root() -> None:  # keeps "prices" a subcommand, as in the real app
        """gridshift"""

    return cli


def run(app: typer.Typer, *args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["prices", *args], env={**ENV, **(env or {})})


def test_filters_show_source_and_age(app) -> None:
    result = run(app, "--provider", "gcp", "--region", "asia-northeast1", "--accelerator", "L4")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("catalog bundled:")
    rows = [line for line in lines if "asia-northeast1" in line]
    assert rows and all(" L4 " in r and "gcp" in r for r in rows)
    assert all(r.rstrip().endswith(" d") for r in rows)  # age in days since 2026-04-28
    assert any(line.startswith("[1] anycloud-sh/catalog@f4a8218 gcp/vms.csv") for line in lines)


def test_spot_only_and_cheapest(app) -> None:
    result = run(app, "--provider", "aws", "--region", "us-east-1", "--spot", "--cheapest")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "us-east-1" in line]
    assert len(rows) == 7  # one per accelerator
    assert all(" spot " in r and "undated" in r for r in rows)
    assert "on-demand" not in result.output


def test_limit_caps_rows(app) -> None:
    result = run(app, "--accelerator", "H100", "--limit", "3")
    assert result.exit_code == 0
    assert "3 of" in result.output.splitlines()[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--accelerator", "V100"], "--accelerator 'V100' is unknown; fix: use one of"),
    (["--provider", "oracle"], "--provider 'oracle' is unknown"),
    (["--catalog", "/nonexistent/offers.csv"], "file not found"),
])
def test_bad_input_exits_2_with_one_line(app, args, message) -> None:
    result = run(app, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_no_match_exits_1(app) -> None:
    result = run(app, "--provider", "azure", "--accelerator", "L4")
    assert result.exit_code == 1
    assert "no offer matches provider=azure, accelerator=L4" in result.output


def test_onprem_clusters_are_listed(app, tmp_path: Path) -> None:
    decl = tmp_path / "onprem.yaml"
    decl.write_text("clusters:\n  - name: dc1\n    accelerator: H100\n    gpus_per_node: 8\n"
                    "    purchase_usd_per_node: 300000\n    lifetime_years: 4\n"
                    "    utilisation: 0.7\n", encoding="utf-8")
    result = run(app, "--onprem", str(decl), "--provider", "onprem")
    assert result.exit_code == 0, result.output
    assert "onprem-8xH100" in result.output and "1.5289" in result.output
    assert f"user-declared {decl}" in result.output
    decl.write_text("clusters: []\n", encoding="utf-8")
    assert run(app, "--onprem", str(decl)).exit_code == 2


def test_refresh_says_live_or_bundled(app, tmp_path: Path) -> None:
    page = {"Items": [{"currencyCode": "USD", "retailPrice": 3.5, "armRegionName": "eastus",
                       "armSkuName": "Standard_NC24ads_A100_v4", "skuName": "NC24ads A100 v4",
                       "meterName": "NC24ads A100 v4", "productName": "Virtual Machines NCads "
                       "A100 v4 Series", "unitOfMeasure": "1 Hour", "type": "Consumption",
                       "effectiveStartDate": "2025-03-01T00:00:00Z"}],
            "NextPageLink": None, "BillingCurrency": "USD", "Count": 1}
    with ReplayServer() as server:
        server.script("/prices", [Reply(200, json.dumps(page))])
        env = {"GRIDSHIFT_AZURE_PRICES_URL": server.url("/prices"),
               "GRIDSHIFT_SPOT_ADVISOR_URL": server.url("/missing.json")}  # 404
        result = run(app, "--refresh", "--cache-dir", str(tmp_path), "--provider", "azure",
                     "--region", "eastus", "--accelerator", "A100-80GB", env=env)
    assert result.exit_code == 0, result.output
    assert "azure-retail: live data fetched" in result.output
    assert "aws-spot-advisor: using the bundled catalog" in result.output
    assert "live fetch failed" in result.output and "HTTP 404" in result.output
    assert "Azure Retail Prices API" in result.output  # the refreshed row's source
    assert (tmp_path / "azure-retail.json").is_file()
