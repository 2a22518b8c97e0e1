"""``gridshift forecast HISTORY``: forecasts with intervals, or a backtest, from a history file.

HISTORY is a CSV or Parquet table in the frame contract ``unique_id, ds, y`` (other column
names via --id-col/--time-col/--value-col; without an id column the file is one series), or
with --jobs a job table (columns start, end, gpus, or named by --start-col/--end-col/
--gpus-col) turned into GPUs in use per step; jobs without an end run until --until.
Repairs made to the history are printed as warnings on stderr.

Exit codes:
    0   forecast (or backtest) printed
    2   bad input: one line ``gridshift: ...`` naming the file, the series, the field and the fix
    1   forecasting failed inside statsforecast (the message names the models and series)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from app.timeparse import parse_hours, parse_time
from forecasting import (
    EngineUnavailableError,
    Forecast,
    ForecastError,
    InputDataError,
    SourceError,
    forecast,
)
from forecasting.frame import freq_step
from forecasting.sources.files import read_history, read_table
from forecasting.sources.usage import gpus_in_use

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1

err = Console(stderr=True)


def _fail(message: str, code: int) -> typer.Exit:
    err.print(f"gridshift: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _steps(horizon: str, freq: str) -> int:
    try:
        hours = parse_hours(horizon)
        step_h = freq_step(freq) / pd.Timedelta(hours=1)
    except (ValueError, InputDataError) as exc:
        raise _fail(f"--horizon/--freq: {exc}", EXIT_BAD_INPUT) from None
    steps = hours / step_h
    if steps < 1 or abs(steps - round(steps)) > 1e-9:
        raise _fail(f"--horizon: {horizon!r} is not a whole number (>= 1) of {freq!r} steps",
                    EXIT_BAD_INPUT)
    return round(steps)


def _seasons(text: str) -> tuple[int, ...]:
    try:
        out = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise _fail(f"--seasons: expected whole numbers of steps like '24,168', got {text!r}",
                    EXIT_BAD_INPUT) from None
    if not out or min(out) < 1:
        raise _fail(f"--seasons: expected lengths >= 1 like '24,168', got {text!r}", EXIT_BAD_INPUT)
    return out


def _job_options(jobs: bool, *, start_col: str, end_col: str, gpus_col: str,
                 until: str | None, history_cols: bool) -> dict[str, object]:
    """``gpus_in_use`` keywords from the --jobs options; refused without --jobs, and with it
    --time-col/--value-col (``history_cols``), which a job table does not have."""
    if jobs and history_cols:
        raise _fail("--time-col/--value-col: a job table (--jobs) has none; name its columns "
                    "with --start-col, --end-col and --gpus-col", EXIT_BAD_INPUT)
    given = {"--start-col": start_col != "start", "--end-col": end_col != "end",
             "--gpus-col": gpus_col != "gpus", "--until": until is not None}
    if not jobs:
        stray = [name for name, on in given.items() if on]
        if stray:
            raise _fail(f"{stray[0]}: only job tables have it; add --jobs if HISTORY is one",
                        EXIT_BAD_INPUT)
        return {}
    options: dict[str, object] = {"start": start_col, "end": end_col, "gpus": gpus_col}
    if until is not None:
        try:
            options["until"] = pd.Timestamp(parse_time(until, now=datetime.now(UTC)))
        except ValueError as exc:
            raise _fail(f"--until: {exc}", EXIT_BAD_INPUT) from None
    return options


def _fmt(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%dT%H:%MZ")
    if isinstance(value, float):
        return "-" if pd.isna(value) else f"{value:.3f}"
    return str(value)


def _print_frame(frame: pd.DataFrame, title: str) -> None:
    table = Table(title=title, title_justify="left")
    for col in frame.columns:
        table.add_column(col, justify="left" if col in ("unique_id", "ds", "model") else "right")
    for row in frame.itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    Console(width=200).print(table)


def _print_backtest(fc: Forecast, horizon: int) -> None:
    scores = fc.scores.copy()
    if scores.empty:
        Console().print("no backtest: every series was too short or constant (see warnings)")
        return
    scores.insert(2, "chosen", [("*" if fc.chosen.get(u) == m else "")
                                for u, m in zip(scores["unique_id"], scores["model"], strict=True)])
    _print_frame(scores, f"backtest: {horizon}-step rolling origins, MASE vs in-sample seasonal "
                         "naive, coverage of the model's own intervals")
    summary = scores.groupby("model")[["mase", *(f"coverage-{lv}" for lv in fc.levels)]].mean()
    base = summary["mase"].get("seasonal_naive")
    if base is not None and base > 0:
        summary["x seasonal_naive"] = summary["mase"] / base
    _print_frame(summary.reset_index(), "mean over series")


def register(app: typer.Typer) -> None:
    """Add ``forecast`` to ``app``."""

    @app.command("forecast")
    def forecast_command(
        history: Annotated[Path, typer.Argument(help="History CSV or Parquet (unique_id, ds, y).")],
        horizon: Annotated[str, typer.Option(help="How far ahead, e.g. 48h or 7d.")] = "48h",
        level: Annotated[list[int], typer.Option(
            help="Central interval level in %; repeat for several.")] = [80],  # noqa: B006
        backtest: Annotated[bool, typer.Option(
            "--backtest", help="Print MASE and interval coverage per model and series.")] = False,
        engine: Annotated[str, typer.Option(help="local, or ray (needs the ray extra).")] = "local",
        models: Annotated[str, typer.Option(
            help="auto, thorough, all, or comma-separated model names.")] = "auto",
        id_col: Annotated[str | None, typer.Option(
            "--id-col", help="Series id column (default unique_id; absent = one series).")] = None,
        time_col: Annotated[str, typer.Option("--time-col", help="Timestamp column.")] = "ds",
        value_col: Annotated[str, typer.Option("--value-col", help="Value column.")] = "y",
        freq: Annotated[str, typer.Option(help="Step of the history (pandas alias).")] = "h",
        seasons: Annotated[str | None, typer.Option(
            help="Season lengths in steps, e.g. 24,168; default: a day and a week in steps "
                 "of --freq (24,168 hourly, 96,672 at 15min, 7 daily).")] = None,
        windows: Annotated[int | None, typer.Option(
            min=0, help="Backtest windows (origins); default: 8 for up to 444 series, fewer "
                        "for more (3 from 801), within a fixed number of fits.")] = None,
        choice: Annotated[str, typer.Option(
            help="robust: keep the median unless a model beats it by more than one standard "
                 "error over the backtest windows; lowest: the lowest backtest MASE.")
        ] = "robust",
        jobs: Annotated[bool, typer.Option(
            "--jobs", help="HISTORY is a job table, one row per job with columns start, end "
                           "(empty: still running) and gpus, times with a zone: forecast the "
                           "GPUs in use per --freq step (one series per --id-col value, e.g. "
                           "cluster; without it, one series 'all').")] = False,
        start_col: Annotated[str, typer.Option(
            "--start-col", help="With --jobs: the column of job start times.")] = "start",
        end_col: Annotated[str, typer.Option(
            "--end-col", help="With --jobs: the column of job end times.")] = "end",
        gpus_col: Annotated[str, typer.Option(
            "--gpus-col", help="With --jobs: the column of GPUs per job.")] = "gpus",
        until: Annotated[str | None, typer.Option(
            "--until", help="With --jobs: when the table was taken, e.g. 'now' or "
                            "2026-12-04T06:00Z; jobs without an end run until then (default: "
                            "the latest start or end in the table).")] = None,
        out: Annotated[Path | None, typer.Option(
            "--out", help="Also write the table (forecast or backtest) to this CSV.")] = None,
    ) -> None:
        """Forecast HISTORY with prediction intervals, or backtest the models on it."""
        steps = _steps(horizon, freq)
        season_lengths = None if seasons is None else _seasons(seasons)
        if backtest and windows == 0:
            raise _fail("--windows: 0 windows leaves nothing to backtest; give 1 or more, or "
                        "leave it out for the default", EXIT_BAD_INPUT)
        job_options = _job_options(jobs, start_col=start_col, end_col=end_col,
                                   gpus_col=gpus_col, until=until,
                                   history_cols=(time_col, value_col) != ("ds", "y"))
        try:
            if jobs:
                frame = gpus_in_use(read_table(history), id_cols=(id_col,) if id_col else (),
                                    freq=freq, source=str(history), **job_options)
            else:
                frame = read_history(history, id_col=id_col, time_col=time_col,
                                     value_col=value_col)
            fc = forecast(frame, horizon=steps, levels=level, freq=freq,
                          season_lengths=season_lengths, models=models, engine=engine,
                          n_windows=windows, choice=choice, source=str(history))
        except (InputDataError, SourceError, EngineUnavailableError) as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        except ForecastError as exc:
            raise _fail(str(exc), EXIT_FAILED) from None
        for line in fc.repairs:
            err.print(f"gridshift: warning: {history}: {line}", markup=False, highlight=False,
                      soft_wrap=True)
        if backtest:
            _print_backtest(fc, steps)
            table = fc.scores
        else:
            _print_frame(fc.values, f"forecast of {history.name}: {steps} steps, "
                                    f"levels {list(fc.levels)}")
            table = fc.values
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            table.to_csv(out, index=False)
            Console().print(f"written to {out}")
