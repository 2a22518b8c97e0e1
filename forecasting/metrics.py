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


def score_windows(cv: pd.DataFrame, history: pd.DataFrame, *, model_columns: dict[str, str],
                  levels: tuple[int, ...], periods: dict[str, int]) -> pd.DataFrame:
    """Per series and model: mean over windows of MASE and MAE, pooled coverage per level.

    ``cv`` is statsforecast's cross-validation output (unique_id, ds, cutoff, y and one column
    per model alias plus ``<alias>-lo-L`` / ``<alias>-hi-L``); ``model_columns`` maps our model
    name to its alias there.
    """
    keys = cv[["unique_id", "cutoff"]].drop_duplicates().reset_index(drop=True)
    keys["scale"] = scales_at(history, keys, periods)
    cv = cv.merge(keys, on=["unique_id", "cutoff"], how="left")
    rows = []
    for name, col in model_columns.items():
        err = (cv["y"] - cv[col]).abs()
        frame = {"unique_id": cv["unique_id"], "cutoff": cv["cutoff"], "ae": err}
        for level in levels:
            inside = (cv["y"] >= cv[f"{col}-lo-{level}"]) & (cv["y"] <= cv[f"{col}-hi-{level}"])
            frame[f"coverage-{level}"] = inside.astype(float)
        per_row = pd.DataFrame(frame)
        win = per_row.groupby(["unique_id", "cutoff"], sort=False).mean()
        scale = keys.set_index(["unique_id", "cutoff"])["scale"].reindex(win.index)
        win["mase"] = win["ae"] / scale
        agg = win.groupby(level="unique_id", sort=True).agg(
            mase=("mase", "mean"), mae=("ae", "mean"),
            **{f"coverage-{lv}": (f"coverage-{lv}", "mean") for lv in levels},
            windows=("ae", "size"))
        agg.insert(0, "model", name)
        rows.append(agg.reset_index())
    cols = ["unique_id", "model", "mase", "mae", *(f"coverage-{lv}" for lv in levels), "windows"]
    if not rows:
        return pd.DataFrame(columns=cols)
    return pd.concat(rows, ignore_index=True)[cols]
