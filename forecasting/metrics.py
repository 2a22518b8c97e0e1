"""Accuracy and calibration of forecasts against what happened.

MASE (Hyndman & Koehler 2006, "Another look at measures of forecast accuracy"): for a
forecast made at origin ``c`` over ``h`` steps, with seasonal period ``m`` (``m = 1`` when the
series has no usable season),

    MASE = mean_{t=c+1..c+h} |y_t - yhat_t|  /  mean_{t=m+1..c} |y_t - y_{t-m}|

i.e. the out-of-sample error scaled by the in-sample error of the seasonal naive forecast on
the history up to the origin. Below 1: better than what seasonal naive did in-sample. The
scale is undefined when the history repeats itself exactly (scale 0): such windows get NaN.

Coverage of a central ``L`` % interval: the share of actuals with ``lo-L <= y <= hi-L``;
a calibrated interval covers ``L`` % of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def seasonal_scale(y: np.ndarray, m: int) -> np.ndarray:
    """``scale[c]`` = mean |y_t - y_{t-m}| over t <= c (NaN where fewer than one pair)."""
    m = max(1, int(m))
    out = np.full(len(y), np.nan)
    if len(y) <= m:
        return out
    diffs = np.abs(y[m:] - y[:-m])
    out[m:] = np.cumsum(diffs) / np.arange(1, len(diffs) + 1)
    return out


def scales_at(history: pd.DataFrame, cutoffs: pd.DataFrame, periods: dict[str, int]) -> pd.Series:
    """MASE scale of each (unique_id, cutoff) row in ``cutoffs`` from the regular ``history``."""
    out = np.full(len(cutoffs), np.nan)
    pos_by_id = {uid: idx for uid, idx in cutoffs.groupby("unique_id", sort=False).indices.items()}
    for uid, grp in history.groupby("unique_id", sort=False):
        rows = pos_by_id.get(uid)
        if rows is None:
            continue
        scale = seasonal_scale(grp["y"].to_numpy(dtype=float), periods.get(uid, 1))
        ds = grp["ds"].to_numpy()
        at = np.searchsorted(ds, cutoffs["cutoff"].to_numpy()[rows], side="right") - 1
        out[rows] = np.where(at >= 0, scale[np.clip(at, 0, None)], np.nan)
    scale = pd.Series(out, index=cutoffs.index)
    return scale.where(scale > 0)


def _mean_by(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` per code in ``0..n-1``, NaN values skipped (NaN where none left)."""
    ok = ~np.isnan(values)
    total = np.bincount(codes[ok], weights=values[ok], minlength=n)
    count = np.bincount(codes[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def window_scores(cv: pd.DataFrame, history: pd.DataFrame, *, model_columns: dict[str, str],
                  levels: tuple[int, ...], periods: dict[str, int]) -> pd.DataFrame:
    """Per series, window and model: MASE, MAE and coverage per level.

    ``cv`` is statsforecast's cross-validation output (unique_id, ds, cutoff, y and one column
    per model alias plus ``<alias>-lo-L`` / ``<alias>-hi-L``); ``model_columns`` maps our model
    name to its alias there. Columns: unique_id, cutoff, model, mase, mae, coverage-L. A window
    whose forecast failed (NaN) has no MASE or MAE and covers nothing.
    """
    cols = ["unique_id", "cutoff", "model", "mase", "mae", *(f"coverage-{lv}" for lv in levels)]
    if cv.empty or not model_columns:
        return pd.DataFrame(columns=cols)
    window = cv.groupby(["unique_id", "cutoff"], sort=False).ngroup().to_numpy()
    keys = cv[["unique_id", "cutoff"]].drop_duplicates().reset_index(drop=True)  # ngroup order
    n_win = len(keys)
    scale = scales_at(history, keys, periods).to_numpy(dtype=float)
    y = cv["y"].to_numpy(dtype=float)
    rows = []
    for name, col in model_columns.items():
        yhat = cv[col].to_numpy(dtype=float)
        err = np.abs(y - yhat)
        # a window's MAE: NaN if any point failed (as pandas' sum of a NaN window would not be)
        failed = np.bincount(window, weights=np.isnan(err), minlength=n_win) > 0
        win_mae = np.where(failed, np.nan, _mean_by(window, err, n_win))
        with np.errstate(invalid="ignore", divide="ignore"):
            win_mase = np.where(scale > 0, win_mae / scale, np.nan)
        out = {"unique_id": keys["unique_id"].astype(str).to_numpy(),
               "cutoff": keys["cutoff"].to_numpy(), "model": name, "mase": win_mase,
               "mae": win_mae}
        for level in levels:
            inside = ((y >= cv[f"{col}-lo-{level}"].to_numpy(dtype=float))
                      & (y <= cv[f"{col}-hi-{level}"].to_numpy(dtype=float))).astype(float)
            out[f"coverage-{level}"] = _mean_by(window, inside, n_win)
        rows.append(pd.DataFrame(out))
    return pd.concat(rows, ignore_index=True)[cols]


def summarise_windows(per_window: pd.DataFrame, levels: tuple[int, ...]) -> pd.DataFrame:
    """``window_scores`` per series and model: mean over windows of MASE and MAE (failed
    windows skipped), mean coverage per level (failed windows count as covering nothing), and
    the number of windows."""
    cols = ["unique_id", "model", "mase", "mae", *(f"coverage-{lv}" for lv in levels), "windows"]
    if per_window.empty:
        return pd.DataFrame(columns=cols)
    grouped = per_window.groupby(["unique_id", "model"], sort=True)
    out = grouped[["mase", "mae", *(f"coverage-{lv}" for lv in levels)]].mean()
    out["windows"] = grouped.size()
    return out.reset_index()[cols]


def score_windows(cv: pd.DataFrame, history: pd.DataFrame, *, model_columns: dict[str, str],
                  levels: tuple[int, ...], periods: dict[str, int]) -> pd.DataFrame:
    """Per series and model: mean over windows of MASE and MAE, mean coverage per level and
    the number of windows (``window_scores`` summarised)."""
    return summarise_windows(window_scores(cv, history, model_columns=model_columns,
                                           levels=levels, periods=periods), levels)
