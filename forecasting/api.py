"""``forecast()``: history in the frame contract -> forecasts with calibrated intervals.

Steps: (1) ``frame.prepare`` checks and repairs the history (every repair is reported);
(2) constant series are forecast as their constant; (3) every other series is backtested
with rolling origins (``backtest``), which scores each candidate by MASE and interval
coverage, picks one model per series (the ``median`` combination unless another model beats it
by more than one standard error over the windows) and calibrates its interval widths, narrower
or wider, so that the backtest covers the nominal level (factor shrunk towards 1 when the
windows are few; kept in ``scores`` as ``factor-L``); (4) each series is
forecast by its chosen model, fitted on at most ``history_steps`` recent steps; (5) series that
never go below zero get forecasts clipped at zero.

Backtest windows (``n_windows=None``, the default): as many as a fixed budget of fits allows,
``min(MAX_WINDOWS, max(MIN_WINDOWS, FIT_BUDGET // n - 1))`` for ``n`` backtested series, i.e.
8 windows up to 444 series, 3 from 801 series on: (windows + 1) fits per series, so no call
of up to 1,000 series makes more fits than 1,000 series with 3 windows (benchmarks/
forecast_speed.py, 90 days of history: 1,000 series 24-26 s on 2 cores, 444 series with 8
windows 25.4 s). More windows give the choice and the interval calibration more
evidence: on the held-out series of ``benchmarks/forecast_accuracy.py --sets heldout --study``
(never the test windows), 3 / 5 / 8 windows gave 80 % coverage 82.8 / 81.8 / 81.4 % (GPU load
early 2023), 78.0 / 76.7 / 77.8 % (carbon 2022), 84.3 / 82.9 / 80.9 % (prices 2022) and MASE
x seasonal naive 1.03 / 1.03 / 1.03, 0.92 / 0.92 / 0.91, 0.91 / 0.87 / 0.90. Fewer than 3
windows chose worse models on the shared cluster traces (GPU load 0.87 x seasonal naive MASE
with 2 against 0.82 with 3, before the one-standard-error choice rule). The cap keeps the
backtest near the present (with 48-h forecasts, 8 windows reach 16 days before the fit
window) and its cost bounded; 3, 5 and 8 are the values compared. Fit history: 3 weeks of
hourly data (3 or 4 weeks scored the same).

Output intervals are central: ``lo-L`` and ``hi-L`` are the (50 - L/2) % and (50 + L/2) %
quantiles, so ``hi-80`` is the 90 % quantile of the forecast distribution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from forecasting.backtest import Backtest, parse_choice, run_backtest, score_columns
from forecasting.engine import parse_engine, run_forecast
from forecasting.ensemble import combine, fitted_models
from forecasting.errors import ForecastError, InputDataError
from forecasting.frame import Prepared, freq_step, name_list, prepare
from forecasting.models import BASELINE, CONSTANT, ModelName, build, parse_models

MIN_WINDOWS, MAX_WINDOWS = 3, 8   # default backtest origins per series (module doc) ...
FIT_BUDGET = 4_000                # ... within (windows + 1) x series fits
HISTORY_CYCLES = 3          # default fit window: 3 x the longest season ...
MIN_HISTORY_STEPS = 200     # ... but never fewer steps than this


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    values: pd.DataFrame        # unique_id, ds (UTC), mean, lo-L, hi-L for each level L, model
    levels: tuple[int, ...]
    chosen: Mapping[str, str]   # unique_id -> model name ('constant' for constant series)
    scores: pd.DataFrame        # unique_id, model, mase, mae, coverage-L (of the model's own
                                # intervals), windows, factor-L (interval width factor): backtest
    repairs: tuple[str, ...]    # what was repaired in the input, one line each


def quantile_column(level: int, upper: bool = True) -> str:
    """Column of the upper (``hi-L``) or lower (``lo-L``) bound of the central L % interval."""
    return f"{'hi' if upper else 'lo'}-{int(level)}"


def _levels(levels: Sequence[int] | int) -> tuple[int, ...]:
    raw = [levels] if isinstance(levels, int | float | str | np.number) else list(levels)
    out = []
    for lv in raw:
        if (isinstance(lv, bool) or not isinstance(lv, int | float | np.number)
                or not float(lv).is_integer() or not 0 < float(lv) < 100):
            raise InputDataError("levels", f"{lv!r} is not a whole percentage between 1 and 99",
                                 fix="use e.g. 80 or 95")
        out.append(int(lv))
    if not out:
        raise InputDataError("levels", "no interval level given", fix="use e.g. (80,)")
    return tuple(sorted(set(out)))


def _history_steps(history_steps: int | None, season_lengths: Sequence[int]) -> int:
    if history_steps is None:
        return max(HISTORY_CYCLES * max((int(s) for s in season_lengths), default=1),
                   MIN_HISTORY_STEPS)
    if int(history_steps) < 3:
        raise InputDataError("history_steps", f"{history_steps} is too short",
                             fix="fit on at least a few seasons of history")
    return int(history_steps)


def seasons_for(freq: str) -> tuple[int, ...]:
    """The default seasons of ``freq`` data in steps: a day and a week, each where it is a
    whole number of steps above one ((24, 168) hourly, (96, 672) at 15 minutes, (7,) daily)."""
    step = freq_step(freq)
    out = []
    for period in (pd.Timedelta(days=1), pd.Timedelta(days=7)):
        steps = period / step
        if steps > 1 and float(steps).is_integer():
            out.append(int(steps))
    return tuple(out)


def default_windows(n_series: int) -> int:
    """Backtest windows per series when the caller does not say (module doc)."""
    return min(MAX_WINDOWS, max(MIN_WINDOWS, FIT_BUDGET // max(n_series, 1) - 1))


def forecast(frame: pd.DataFrame, *, horizon: int, levels: Sequence[int] = (80,), freq: str = "h",
             season_lengths: Sequence[int] | None = None, models: str | Sequence[str] = "auto",
             engine: str = "local", n_windows: int | None = None,
             history_steps: int | None = None, calibrate: bool = True,
             choice: str = "robust", source: str = "history") -> Forecast:
    """Forecast every series of ``frame`` (``unique_id, ds, y``) ``horizon`` steps ahead.

    ``models``: ``"auto"`` (seasonal_naive, stl_ets, weekly_naive and their median),
    ``"all"``, or model names (``forecasting.models.ModelName``); with several, each series
    gets the one with the lowest backtest MASE, except that a combination in the list
    (``median``) is kept unless beaten clearly (``choice="robust"``, see
    ``forecasting.backtest``; ``choice="lowest"``: the plain minimum). ``n_windows``:
    backtest origins (``None``: ``default_windows`` of the number of non-constant series;
    0 skips the backtest: the first non-baseline model is used everywhere, intervals
    uncalibrated).
    ``season_lengths``: seasons in steps (default ``seasons_for(freq)``: a day and a week,
    (24, 168) for hourly data). ``history_steps``: fit on at most this many recent steps
    (default 3 x the longest season, >= 200). ``source`` names the history in errors and
    warnings (the CLI passes the file). ``engine``:
    ``"local"`` or ``"ray"``. ``calibrate=False`` keeps the models' own intervals (the factors
    are still reported in ``scores``). Raises ``InputDataError`` for history it cannot repair.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise InputDataError("horizon", f"{horizon!r} is not a whole number of steps >= 1",
                             fix="pass e.g. horizon=48 for 48 hours of hourly data")
    horizon = int(horizon)
    lv = _levels(levels)
    names = parse_models(models)
    eng = parse_engine(engine)
    rule = parse_choice(choice)
    if n_windows is not None and n_windows < 0:
        raise InputDataError("n_windows", f"{n_windows} is negative", fix="use 0 to skip backtests")
    if season_lengths is None:
        season_lengths = seasons_for(freq)
    input_size = _history_steps(history_steps, season_lengths)
    prep = prepare(frame, freq=freq, season_lengths=season_lengths, source=source)
    repairs = list(prep.repairs)
    modelled = sorted(set(prep.seasons) - prep.constant)
    if n_windows is None:
        n_windows = default_windows(len(modelled))

    if n_windows > 0 and modelled:
        bt = run_backtest(prep, names, series=modelled, horizon=horizon, levels=lv, freq=freq,
                          n_windows=n_windows, input_size=input_size, engine=eng,
                          choice=rule)
    else:
        bt = Backtest(scores=pd.DataFrame(columns=score_columns(lv)), chosen={},
                      width_factors={}, skipped=tuple(modelled))
    default = next((n for n in names if n is not BASELINE), names[0])
    if bt.skipped and n_windows > 0:
        repairs.append(f"{name_list(list(bt.skipped))}: history too short to backtest "
                       f"{horizon}-step forecasts; {default.value} used, intervals uncalibrated")
    for model in sorted({f.model for f in bt.failures}):
        failed = [f for f in bt.failures if f.model == model]
        ids = sorted({f.unique_id for f in failed})
        repairs.append(f"{name_list(ids)}: {model} failed to fit in a backtest window "
                       f"({failed[0].message}); not chosen for {'it' if len(ids) == 1 else 'them'}")
    chosen = {uid: bt.chosen.get(uid, default.value) for uid in modelled}
    parts = [_modelled(prep, chosen, bt, names=names, horizon=horizon, levels=lv, freq=freq,
                       input_size=input_size, engine=eng, calibrate=calibrate, warnings=repairs)]
    parts.append(_constants(prep, horizon=horizon, levels=lv))
    values = pd.concat([p for p in parts if len(p)], ignore_index=True)
    values = _clip(values, prep.nonnegative, lv)
    chosen.update({uid: CONSTANT for uid in prep.constant})
    return Forecast(values=values, levels=lv, chosen=dict(sorted(chosen.items())),
                    scores=bt.scores, repairs=tuple(repairs))


def _value_columns(levels: Sequence[int]) -> list[str]:
    cols = ["unique_id", "ds", "mean"]
    for level in levels:
        cols += [quantile_column(level, upper=False), quantile_column(level)]
    return [*cols, "model"]


def _ranking(bt: Backtest | None, uid: str, names: Sequence[ModelName]) -> list[str]:
    """Models for ``uid`` best first: by backtest MASE, then the request order, baseline last."""
    order = [n.value for n in names if n is not BASELINE] + [BASELINE.value]
    if bt is None or bt.scores.empty:
        return order
    rows = bt.scores[(bt.scores["unique_id"] == uid) & bt.scores["mae"].notna()]
    ranked = rows.sort_values(["mase", "mae"], na_position="last")["model"].tolist()
    return [m for m in ranked if m in order] + [m for m in order if m not in ranked]


def _modelled(prep: Prepared, chosen: dict[str, str], bt: Backtest | None, *, names, horizon: int,
              levels: Sequence[int], freq: str, input_size: int, engine, calibrate: bool,
              warnings: list[str]) -> pd.DataFrame:
    """Forecast each series with its chosen model; a model that fails on a series hands it to
    the next best (warned), down to the baseline. Updates ``chosen`` accordingly."""
    out = []
    todo = dict(chosen)
    tried: dict[str, set[str]] = {uid: set() for uid in todo}
    while todo:
        groups: dict[tuple[tuple[int, ...], str], list[str]] = {}
        for uid, model in todo.items():
            groups.setdefault((prep.seasons[uid], model), []).append(uid)
        todo = {}
        for (seasons, model), uids in sorted(groups.items()):
            sub = prep.frame[prep.frame["unique_id"].isin(set(uids))]
            sub = sub.groupby("unique_id", sort=False).tail(input_size)
            name = ModelName(model)
            fc, failed = run_forecast(sub, [build(n, seasons) for n in fitted_models([name])],
                                      freq=freq, horizon=horizon, levels=levels, engine=engine)
            fc, failed = combine(fc, [name], levels, failed)
            failed = [f for f in failed if f.model == model]
            for f in failed:
                tried[f.unique_id].add(model)
                nxt = next((m for m in _ranking(bt, f.unique_id, names)
                            if m not in tried[f.unique_id]), None)
                if nxt is None:
                    raise ForecastError(f"series {f.unique_id!r}: every model failed; last: "
                                        f"{model}: {f.message}")
                warnings.append(f"series {f.unique_id!r}: {model} failed to fit ({f.message}); "
                                f"{nxt} used instead")
                todo[f.unique_id] = chosen[f.unique_id] = nxt
            fc = fc[~fc["unique_id"].isin({f.unique_id for f in failed})]
            if len(fc):
                out.append(_to_values(fc, model, bt if calibrate else None, levels))
    if not out:
        return pd.DataFrame(columns=_value_columns(levels))
    return pd.concat(out, ignore_index=True)[_value_columns(levels)]


def _to_values(fc: pd.DataFrame, model: str, bt: Backtest | None, levels: Sequence[int]
               ) -> pd.DataFrame:
    res = pd.DataFrame({"unique_id": fc["unique_id"], "ds": fc["ds"], "mean": fc[model]})
    for level in levels:
        lo, hi = fc[f"{model}-lo-{level}"], fc[f"{model}-hi-{level}"]
        if bt is not None:
            factors = {u: bt.width_factors.get((u, model, level), 1.0)
                       for u in fc["unique_id"].unique()}
            k = fc["unique_id"].map(factors).to_numpy(dtype=float)
            lo, hi = res["mean"] - k * (res["mean"] - lo), res["mean"] + k * (hi - res["mean"])
        res[quantile_column(level, upper=False)] = lo
        res[quantile_column(level)] = hi
    _nest(res, levels)
    res["model"] = model
    return res


def _nest(res: pd.DataFrame, levels: Sequence[int]) -> None:
    """Make the intervals nested (``levels`` ascending): each level's bounds at least as wide
    as the level below. Factors calibrated per level can cross at short horizons (a 99 %
    upper bound under the 95 % one); the wider bound is kept, as in monotone rearrangement of
    crossing quantiles (Chernozhukov, Fernandez-Val & Galichon 2010)."""
    for inner, outer in pairwise(levels):
        for upper, widest in ((False, np.fmin), (True, np.fmax)):
            col = quantile_column(outer, upper)
            res[col] = widest(res[col], res[quantile_column(inner, upper)])


def _constants(prep: Prepared, *, horizon: int, levels: Sequence[int]) -> pd.DataFrame:
    rows = []
    last = prep.frame.groupby("unique_id", sort=True).tail(1).set_index("unique_id")
    for uid in sorted(prep.constant):
        value = float(last.at[uid, "y"])
        ds = pd.date_range(last.at[uid, "ds"] + prep.step, periods=horizon, freq=prep.step)
        res = pd.DataFrame({"unique_id": uid, "ds": ds, "mean": value})
        for level in levels:
            res[quantile_column(level, upper=False)] = value
            res[quantile_column(level)] = value
        res["model"] = CONSTANT
        rows.append(res)
    if not rows:
        return pd.DataFrame(columns=_value_columns(levels))
    return pd.concat(rows, ignore_index=True)[_value_columns(levels)]


def _clip(values: pd.DataFrame, nonnegative: frozenset[str], levels: Sequence[int]) -> pd.DataFrame:
    mask = values["unique_id"].isin(nonnegative)
    cols = ["mean", *(quantile_column(lv, u) for lv in levels for u in (False, True))]
    values.loc[mask, cols] = values.loc[mask, cols].clip(lower=0.0)
    return values.sort_values(["unique_id", "ds"], ignore_index=True)
