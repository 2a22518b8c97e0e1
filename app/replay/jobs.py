"""Past jobs for a replay: a job table (CSV or Parquet) or a workloads YAML -> workloads.

Job table columns (one row per job; file lines are counted with the header as line 1)::

    name            optional; default job-<row>
    submit_time     ISO 8601 with a zone ('2023-03-01T09:30Z'), or Unix seconds
    gpus            whole number >= 1
    accelerator     e.g. H100; or 'accelerators' = 'H100:2|A100-80GB:1' (relative speeds)
    duration_h      hours on speed 1.0 (or 'duration' = '6h', '90m')
    deadline        ISO 8601 with a zone, or
    slack_h         hours allowed on top of the duration (deadline = submit + duration + slack)
    checkpointable  optional true/false (default false): a checkpoint every hour, so spot
                    is allowed; or 'checkpoint_interval_h' (hours; empty = none)
    home_region     a region name of the fleet
    team            optional (default 'default')
    allowed_regions optional, '|'-separated region names (empty: any region of the fleet)

The submit time becomes the workload's ``earliest_start``. A workloads YAML
(``app.inputs``) is read as it is, relative times counting from the replay start.
Bad input raises ``InputError`` naming the file, the line, the field and the fix.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd

from app.errors import InputError
from app.inputs import load_workloads
from app.timeparse import parse_hours
from carbon import energy
from planner.domain import Fleet, TrainingWorkload

DEFAULT_CHECKPOINT_INTERVAL_H = 1.0
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(str(path), "file not found", fix="check the path")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's problem
        raise InputError(str(path), f"cannot read the table: {str(exc).splitlines()[0]}",
                         fix="give a CSV with a header row or a Parquet file") from None


def load_jobs(path: Path, fleet: Fleet, *, start: datetime) -> tuple[TrainingWorkload, ...]:
    """Workloads of a job table or workloads YAML, sorted by submit time."""
    if path.suffix.lower() in (".yaml", ".yml"):
        jobs = load_workloads(path, fleet, now=start)
    else:
        jobs = jobs_from_frame(read_table(path), str(path), fleet)
    return tuple(sorted(jobs, key=lambda w: (w.earliest_start, w.name)))


def _time(value: object) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"time {value.isoformat()} has no time zone")
        return value.astimezone(UTC)
    text = str(value).strip()
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected ISO 8601 like '2023-03-01T09:30Z' or Unix seconds, "
                         f"got {text!r}") from None
    if dt.tzinfo is None:
        raise ValueError(f"time {text!r} has no time zone; add 'Z' for UTC")
    return dt.astimezone(UTC)


def _hours(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        return parse_hours(text)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip() == ""


def _accelerators(row: dict) -> dict[str, float]:
    if not _blank(row.get("accelerators")):
        out = {}
        for part in str(row["accelerators"]).split("|"):
            name, _, speed = part.partition(":")
            out[name.strip()] = float(speed) if speed.strip() else 1.0
        return out
    if _blank(row.get("accelerator")):
        raise KeyError("accelerator")
    return {str(row["accelerator"]).strip(): 1.0}


def jobs_from_frame(df: pd.DataFrame, source: str, fleet: Fleet) -> list[TrainingWorkload]:
    """Workloads from a job-table frame (module docstring); ``source`` names it in errors."""
    cols = set(df.columns)
    if {"creation_time", "num_gpu"} <= cols:
        raise InputError(source, "this is an Alibaba openb pod list, not a job table",
                         fix="convert it first: python -m app.replay.convert POD_LIST JOBS.csv")
    need = [("submit_time",), ("gpus",), ("accelerator", "accelerators"),
            ("duration_h", "duration"), ("deadline", "slack_h"), ("home_region",)]
    for alternatives in need:
        if not cols & set(alternatives):
            raise InputError(source, f"column {' or '.join(repr(a) for a in alternatives)} is "
                             "missing", field=alternatives[0],
                             fix="add it (see app/replay/jobs.py for the columns)")
    known = energy.known_accelerators()
    regions = set(fleet.region_names)
    out, names = [], set()
    for i, row in enumerate(df.to_dict("records")):
        line = i + 2
        name = str(row["name"]).strip() if not _blank(row.get("name")) else f"job-{i + 1}"
        where = f"{source} line {line}"
        field = "submit_time"
        try:
            submit = _time(row["submit_time"])
            field = "gpus"
            gpus_f = float(row["gpus"])
            if gpus_f != int(gpus_f) or gpus_f < 1:
                raise ValueError(f"must be a whole number >= 1, got {row['gpus']!r}")
            field = "accelerator"
            accelerators = _accelerators(row)
            for a in accelerators:
                if a not in known:
                    raise ValueError(f"unknown accelerator {a!r}; use one of "
                                     f"{', '.join(sorted(known))}")
            field = "duration_h" if "duration_h" in cols else "duration"
            duration = _hours(row[field])
            if not (math.isfinite(duration) and duration > 0):
                raise ValueError(f"must be > 0 hours, got {row[field]!r}")
            if "deadline" in cols and not _blank(row.get("deadline")):
                field = "deadline"
                deadline = _time(row["deadline"])
            else:
                field = "slack_h"
                slack = _hours(row["slack_h"])
                if not (math.isfinite(slack) and slack >= 0):
                    raise ValueError(f"must be >= 0 hours, got {row['slack_h']!r}")
                deadline = submit + timedelta(hours=duration / max(accelerators.values()) + slack)
            field = "checkpointable"
            interval = None
            if "checkpoint_interval_h" in cols and not _blank(row.get("checkpoint_interval_h")):
                field = "checkpoint_interval_h"
                interval = _hours(row["checkpoint_interval_h"])
            elif not _blank(row.get("checkpointable")):
                text = str(row["checkpointable"]).strip().lower()
                if text not in _TRUE | _FALSE:
                    raise ValueError(f"write true or false, got {row['checkpointable']!r}")
                interval = DEFAULT_CHECKPOINT_INTERVAL_H if text in _TRUE else None
            field = "home_region"
            home = str(row["home_region"]).strip()
            allowed = tuple(r.strip() for r in str(row.get("allowed_regions") or "").split("|")
                            if r.strip())
            for r in (home, *allowed):
                if r not in regions:
                    raise ValueError(f"unknown region {r!r}; use a region of the fleet: "
                                     f"{', '.join(sorted(regions))}")
            field = "name"
            if name in names:
                raise ValueError("name appears twice; give each job a unique name")
            names.add(name)
            field = "deadline"
            earliest_finish = submit + timedelta(hours=duration / max(accelerators.values()))
            if deadline < earliest_finish:
                raise ValueError(f"{deadline:%Y-%m-%dT%H:%MZ} is before the earliest finish "
                                 f"{earliest_finish:%Y-%m-%dT%H:%MZ}")
            team = str(row["team"]).strip() if not _blank(row.get("team")) else "default"
            out.append(TrainingWorkload(
                name=name, team=team, gpus=int(gpus_f), accelerators=accelerators,
                duration_h=duration, earliest_start=submit, deadline=deadline, home_region=home,
                allowed_regions=allowed, checkpoint_interval_h=interval))
        except KeyError as exc:
            raise InputError(where, f"no value for {exc.args[0]!r}", workload=name,
                             field=str(exc.args[0]), fix="fill the cell") from None
        except (ValueError, TypeError) as exc:
            raise InputError(where, str(exc).splitlines()[0], workload=name, field=field,
                             fix="correct the cell") from None
    return out
