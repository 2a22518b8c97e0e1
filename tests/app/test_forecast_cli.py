"""``gridshift forecast`` through typer's CliRunner on a fresh app."""

from __future__ import annotations

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from app.commands.forecast import register
from tests.forecasting.synth import hourly


@pytest.fixture(scope="module")
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """gridshift (test root)."""

    return app


@pytest.fixture()
def history(tmp_path):
    path = tmp_path / "load.csv"
    hourly(2, days=15).to_csv(path, index=False)
    return path


def run(cli, *args):
    return CliRunner().invoke(cli, ["forecast", *map(str, args)])


def test_prints_the_forecast_table(cli, history, tmp_path):
    out = tmp_path / "fc.csv"
    res = run(cli, history, "--horizon", "6h", "--level", "80", "--level", "95", "--out", out)
    assert res.exit_code == 0, res.output
    assert "hi-95" in res.output and "s1" in res.output
    table = pd.read_csv(out)
    assert list(table.columns) == ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95",
                                   "model"]
    assert len(table) == 12


def test_backtest_prints_mase_and_coverage_per_model_and_series(cli, history):
    res = run(cli, history, "--horizon", "12h", "--backtest")
    assert res.exit_code == 0, res.output
    for word in ("mase", "coverage-80", "seasonal_naive", "stl_ets", "weekly_naive", "median",
                 "s0", "s1", "x seasonal_naive"):
        assert word in res.output


@pytest.mark.parametrize("choice", ["robust", "lowest"])
def test_the_choice_rule_is_the_one_asked_for(cli, history, tmp_path, choice):
    scores, table = tmp_path / "bt.csv", tmp_path / "fc.csv"
    assert run(cli, history, "--horizon", "12h", "--backtest", "--out", scores).exit_code == 0
    res = run(cli, history, "--horizon", "12h", "--choice", choice, "--out", table)
    assert res.exit_code == 0, res.output
    mase = pd.read_csv(scores).pivot_table(index="unique_id", columns="model", values="mase")
    picked = pd.read_csv(table).groupby("unique_id")["model"].first()
    for series, model in picked.items():
        if choice == "lowest":  # the plain minimum of the backtest MASE
            assert mase.loc[series, model] == mase.loc[series].min()
        else:  # the median stays unless another model scored better
            assert model == "median" or mase.loc[series, model] < mase.loc[series, "median"]


def test_columns_with_other_names_are_mapped(cli, tmp_path):
    path = tmp_path / "cluster.csv"
    hourly(1, days=8).rename(columns={"unique_id": "cluster", "ds": "time", "y": "gpus"}).to_csv(
        path, index=False)
    res = run(cli, path, "--horizon", "3h", "--id-col", "cluster", "--time-col", "time",
              "--value-col", "gpus", "--windows", "0")
    assert res.exit_code == 0, res.output
    assert "s0" in res.output


def test_repairs_are_warned_about(cli, tmp_path):
    path = tmp_path / "gappy.csv"
    hourly(1, days=8).drop(index=[50, 51]).to_csv(path, index=False)
    res = run(cli, path, "--horizon", "3h", "--windows", "0")
    assert res.exit_code == 0
    assert "gridshift: warning:" in res.output and "missing hour(s)" in res.output


@pytest.mark.parametrize(("args", "match"), [
    (["--horizon", "90m"], "--horizon: '90m' is not a whole number"),
    (["--horizon", "soon"], "--horizon/--freq"),
    (["--value-col", "load"], "no column 'load'"),
    (["--models", "prophet"], "unknown model 'prophet'"),
    (["--engine", "spark"], "engine 'spark' is unknown"),
    (["--seasons", "x"], "--seasons"),
    (["--choice", "best"], "'best' is not a choice rule"),
    (["--backtest", "--windows", "0"], "--windows: 0 windows leaves nothing to backtest"),
])
def test_bad_input_exits_2_with_one_line(cli, history, args, match):
    res = run(cli, history, *args)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("gridshift: ") and match in lines[0]
    assert "Traceback" not in res.output


def test_a_missing_file_exits_2(cli, tmp_path):
    res = run(cli, tmp_path / "nope.csv")
    assert res.exit_code == 2 and "no such file" in res.output


def test_errors_about_the_rows_name_the_file(cli, tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text("unique_id,ds,y\n")
    res = run(cli, path)
    assert res.exit_code == 2
    assert f"gridshift: {path}: has no rows" in res.output.replace("\n", "")


def test_seasons_follow_the_frequency(cli, tmp_path):
    # 15-minute data: a day is 96 steps and a week 672; with 8 days only the daily season
    # fits (2 x 672 > 768), and the warning says the week was dropped, in steps of 15 minutes
    path = tmp_path / "q15.csv"
    ds = pd.date_range("2024-03-04", periods=8 * 96, freq="15min", tz="UTC")
    pd.DataFrame({"unique_id": "a", "ds": ds, "y": range(len(ds))}).to_csv(path, index=False)
    res = run(cli, path, "--freq", "15min", "--horizon", "1h", "--windows", "0")
    assert res.exit_code == 0, res.output
    assert "[672] not modelled" in res.output.replace("\n", "")


def test_a_job_table_is_forecast_as_gpus_in_use_with_jobs(cli, tmp_path):
    # two clusters, a 4-GPU job every 6 hours running 3 hours, for 10 days
    starts = pd.date_range("2024-03-01", periods=40, freq="6h", tz="UTC")
    jobs = pd.DataFrame({"cluster": ["eu", "us"] * 20, "start": starts,
                         "end": starts + pd.Timedelta(hours=3), "gpus": 4})
    path = tmp_path / "jobs.csv"
    jobs.to_csv(path, index=False)
    plain = run(cli, path)
    assert plain.exit_code == 2 and "forecast it with --jobs" in plain.output
    out = tmp_path / "fc.csv"
    res = run(cli, path, "--jobs", "--id-col", "cluster", "--horizon", "6h", "--out", out)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert sorted(table["unique_id"].unique()) == ["eu", "us"] and len(table) == 12


def test_a_job_table_with_its_own_column_names_and_running_jobs(cli, tmp_path):
    # a pod list: creation/deletion times, num_gpu; the last pod still runs (no deletion)
    starts = pd.date_range("2024-03-01", periods=40, freq="6h", tz="UTC")
    pods = pd.DataFrame({"creation_time": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                         "deletion_time": (starts + pd.Timedelta(hours=3))
                         .strftime("%Y-%m-%dT%H:%M:%SZ"), "num_gpu": 2})
    pods.loc[39, "deletion_time"] = None
    path = tmp_path / "pods.csv"
    pods.to_csv(path, index=False)
    names = ("--start-col", "creation_time", "--end-col", "deletion_time", "--gpus-col",
             "num_gpu")
    missing = run(cli, path, "--jobs", "--horizon", "6h")
    assert missing.exit_code == 2 and "--start-col" in missing.output
    out = tmp_path / "fc.csv"
    # until 12 h after the last pod started: the running pod is counted up to then
    until = (starts[-1] + pd.Timedelta(hours=12)).strftime("%Y-%m-%dT%H:%MZ")
    res = run(cli, path, "--jobs", *names, "--until", until, "--horizon", "6h", "--out", out)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, parse_dates=["ds"])
    assert set(table["unique_id"]) == {"all"}
    assert table["ds"].min() == pd.Timestamp(until)   # the history runs up to --until


@pytest.mark.parametrize(("args", "message"), [
    (("--start-col", "creation_time"), "--start-col: only job tables have it; add --jobs"),
    (("--until", "now"), "--until: only job tables have it"),
    (("--jobs", "--time-col", "t"), "--time-col/--value-col: a job table (--jobs) has none"),
    (("--jobs", "--until", "tomorrow"), "--until: expected an ISO 8601 time"),
    (("--jobs", "--until", "2024-03-02T00:00"), "'2024-03-02T00:00' has no time zone"),
])
def test_job_options_are_refused_where_they_mean_nothing(cli, history, args, message):
    res = run(cli, history, *args)
    assert res.exit_code == 2
    assert message in " ".join(res.output.split()), res.output
