"""The /v1 API, ops endpoints and the serve command; schemathesis against the OpenAPI schema."""

from __future__ import annotations

import atexit
import math
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
import typer
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from typer.testing import CliRunner

from app.api.config import WebhookSettings
from app.api.server import create_app
from app.api.state import ServerState
from app.commands import serve as serve_command
from app.inputs import load_fleet, read_yaml
from app.problem_io import EXAMPLES
from app.store import Store
from pricing.catalog import load_catalog
from tests.app.test_store import T0, synthetic_plan

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def make_app(db: Path):
    store = Store(f"sqlite:///{db}")
    state = ServerState(store=store, fleet=load_fleet(EXAMPLES / "fleet.yaml"),
                        catalog=load_catalog(None), settings=WebhookSettings(), api_token=TOKEN)
    return create_app(state, refresh_interval_s=3600), store


@pytest.fixture
def client(tmp_path):
    app, store = make_app(tmp_path / "api.db")
    with TestClient(app, raise_server_exceptions=False) as c:
        c.store = store
        yield c


def plan_body(names: tuple[str, ...] = ("llama3-8b-dpo", "ctr-calibration")) -> dict:
    fleet = read_yaml(EXAMPLES / "fleet.yaml")
    workloads = read_yaml(EXAMPLES / "workloads.yaml")
    picked = [w for w in workloads["workloads"] if w["name"] in names]
    return {"fleet": fleet, "workloads": {"workloads": picked},
            "start": "2026-11-23T00:00Z", "horizon_hours": 24, "time_limit_s": 2, "workers": 1}


def test_v1_needs_the_bearer_token(client):
    assert client.get("/v1/plans").status_code == 401
    wrong = client.get("/v1/plans", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/plans", headers=AUTH).json() == {"plans": []}
    assert client.get("/healthz").json() == {"status": "ok"}  # ops endpoints are open


def test_a_posted_plan_is_stored_listed_and_served(client):
    created = client.post("/v1/plans", json=plan_body(), headers=AUTH)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {a["workload"] for a in body["plan"]["assignments"]} == {"llama3-8b-dpo",
                                                                   "ctr-calibration"}
    latest = client.get("/v1/plans/latest", headers=AUTH).json()
    assert latest["id"] == body["id"]
    assert latest["plan"]["totals"] == body["plan"]["totals"]
    assert any(p["kind"] == "price" for p in latest["provenance"])
    assert any(p["kind"] == "carbon" for p in latest["provenance"])
    assert client.get(f"/v1/plans/{body['id']}", headers=AUTH).json()["id"] == body["id"]
    listed = client.get("/v1/plans", headers=AUTH).json()["plans"]
    assert [p["id"] for p in listed] == [body["id"]]
    # the webhook serves it at once
    assert client.get("/readyz").json()["serving_plan"] == body["id"]


def test_bad_plan_input_is_a_422_naming_the_field_and_nothing_is_stored(client):
    body = plan_body()
    body["workloads"]["workloads"][0]["gpus"] = 0
    response = client.post("/v1/plans", json=body, headers=AUTH)
    assert response.status_code == 422
    assert "request body: workloads" in response.json()["detail"]
    assert "'gpus'" in response.json()["detail"]
    body = plan_body()
    body["fleet"]["regions"][0]["grid_zone"] = "XX-NOWHERE"
    response = client.post("/v1/plans", json=body, headers=AUTH)
    assert response.status_code == 422 and "grid zone" in response.json()["detail"]
    assert client.get("/v1/plans", headers=AUTH).json() == {"plans": []}


def test_unknown_and_missing_plans_are_404s_that_say_what_to_do(client):
    missing = client.get("/v1/plans/latest", headers=AUTH)
    assert missing.status_code == 404 and "POST /v1/plans" in missing.json()["detail"]
    assert client.get("/v1/plans/abc", headers=AUTH).status_code == 404


def test_footprint_and_measurements(client):
    client.store.save_plan(synthetic_plan(6))
    posted = client.post("/v1/measurements", headers=AUTH, json={"measurements": [
        {"region": "aws-us-east-1", "started_at": "2026-11-23T00:00:00Z",
         "ended_at": "2026-11-23T01:00:00Z", "energy_kwh": 2.0, "kg_co2e": 0.7,
         "source": "codecarbon 2.8", "team": "nlp"}]})
    assert posted.status_code == 201 and posted.json() == {"stored": 1}
    fp = client.get("/v1/footprint", headers=AUTH).json()
    assert fp["planned"]["total"]["kg_co2e"] == pytest.approx(3.3)
    assert fp["measured"]["total"] == {"energy_kwh": 2.0, "kg_co2e": 0.7}
    since = (T0 + timedelta(hours=2)).isoformat()
    assert client.get("/v1/footprint", params={"since": since},
                      headers=AUTH).json()["measured"]["readings"] == 0
    bad = client.post("/v1/measurements", headers=AUTH, json={"measurements": [
        {"region": "r", "started_at": "2026-11-23T02:00:00Z", "ended_at": "2026-11-23T01:00:00Z",
         "energy_kwh": 1, "kg_co2e": 1, "source": "s"}]})
    assert bad.status_code == 422 and "ended_at" in bad.json()["detail"]


def test_forecasts_come_from_the_forecasting_package_with_intervals(client):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    history = [{"unique_id": uid, "ds": (start + timedelta(hours=h)).isoformat(),
                "y": 10 + 5 * math.sin(2 * math.pi * h / 24) + k}
               for k, uid in enumerate(("cluster-a", "cluster-b")) for h in range(24 * 14)]
    response = client.post("/v1/forecasts", headers=AUTH, json={
        "history": history, "horizon": 24, "levels": [80], "models": "seasonal_naive",
        "n_windows": 1})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["chosen"] == {"cluster-a": "seasonal_naive", "cluster-b": "seasonal_naive"}
    rows = body["forecasts"]
    assert len(rows) == 48 and rows[0]["ds"].endswith("Z")
    assert all(r["lo-80"] <= r["mean"] <= r["hi-80"] for r in rows)
    # the backtest behind the choice comes with it: one row per series and model
    scores = {(r["unique_id"], r["model"]): r for r in body["scores"]}
    assert set(scores) == {("cluster-a", "seasonal_naive"), ("cluster-b", "seasonal_naive")}
    assert all(r["mase"] >= 0 and r["windows"] == 1 and r["factor-80"] > 0
               for r in scores.values())
    lowest = client.post("/v1/forecasts", headers=AUTH, json={
        "history": history, "horizon": 24, "models": "seasonal_naive,weekly_naive",
        "n_windows": 1, "choice": "lowest"}).json()
    for uid in ("cluster-a", "cluster-b"):
        mine = [r for r in lowest["scores"] if r["unique_id"] == uid]
        assert lowest["chosen"][uid] == min(mine, key=lambda r: r["mase"])["model"]
    assert client.post("/v1/forecasts", headers=AUTH, json={
        "history": history, "horizon": 1, "choice": "best"}).status_code == 422
    naive = client.post("/v1/forecasts", headers=AUTH, json={
        "history": [{"unique_id": "x", "ds": "2026-11-01T00:00:00", "y": 1}], "horizon": 1})
    assert naive.status_code == 422 and "time zone" in str(naive.json()["detail"])


def test_openapi_schema_documents_the_routes_and_the_bearer_scheme(client):
    schema = client.get("/openapi.json").json()
    for path in ("/mutate", "/validate", "/v1/plans", "/v1/plans/latest", "/v1/plans/{plan_id}",
                 "/v1/forecasts", "/v1/footprint", "/healthz", "/readyz", "/metrics"):
        assert path in schema["paths"], path
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# ---- serve command: bad input ---------------------------------------------------------

def _cli() -> typer.Typer:
    app = typer.Typer()
    serve_command.register(app)

    @app.callback()
    def _root() -> None:
        """gridshift"""

    return app


def test_serve_refuses_to_run_v1_without_a_token(tmp_path, monkeypatch):
    monkeypatch.delenv("GRIDSHIFT_API_TOKEN", raising=False)
    result = CliRunner().invoke(_cli(), ["serve", "--fleet", str(EXAMPLES / "fleet.yaml"),
                                         "--db", f"sqlite:///{tmp_path / 'x.db'}"])
    assert result.exit_code == 2 and "GRIDSHIFT_API_TOKEN" in result.output


def test_serve_rejects_half_a_tls_pair_and_a_bad_config(tmp_path):
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    result = CliRunner().invoke(_cli(), ["serve", "--fleet", str(EXAMPLES / "fleet.yaml"),
                                         "--tls-cert", str(cert), "--no-auth"])
    assert result.exit_code == 2 and "go together" in result.output
    config = tmp_path / "webhook.yaml"
    config.write_text(yaml.safe_dump({"budgets": {"nlp": {"usd": -1}}}))
    result = CliRunner().invoke(_cli(), ["serve", "--fleet", str(EXAMPLES / "fleet.yaml"),
                                         "--config", str(config), "--no-auth"])
    assert result.exit_code == 2 and "budgets.nlp.usd" in result.output


def test_serve_reports_an_unusable_store_with_exit_4(tmp_path):
    result = CliRunner().invoke(_cli(), ["serve", "--fleet", str(EXAMPLES / "fleet.yaml"),
                                         "--no-auth", "--db",
                                         "postgresql+psycopg://u@127.0.0.1:1/x?connect_timeout=2"])
    assert result.exit_code == 4 and "cannot open" in result.output


# ---- schemathesis ---------------------------------------------------------------------

_SCHEMA_DIR = Path(tempfile.mkdtemp(prefix="gridshift-st-"))
atexit.register(shutil.rmtree, _SCHEMA_DIR, True)
_SCHEMA_APP, _SCHEMA_STORE = make_app(_SCHEMA_DIR / "st.db")
_SCHEMA_STORE.save_plan(synthetic_plan(5))
schema = schemathesis.openapi.from_asgi("/openapi.json", _SCHEMA_APP)


@schema.parametrize()
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_route_conforms_to_its_schema_and_never_errors(case):
    # Left out, on purpose: positive_data_acceptance (the schema cannot say which fleets and
    # workloads are valid - zones, accelerators, deadlines - so schema-valid bodies may be
    # rightly refused with a 422 naming the field) and negative_data_rejection (unknown query
    # parameters are ignored, as HTTP APIs do, and the token is always sent here).
    # Everything else runs: no 5xx, documented status codes, content types, response schemas.
    from schemathesis.checks import negative_data_rejection, positive_data_acceptance

    case.call_and_validate(headers=AUTH,
                           excluded_checks=[positive_data_acceptance, negative_data_rejection])
