"""The Let's Wait Awhile ML-job set and its next-workday rule, as their simulator has them."""

from __future__ import annotations

import pandas as pd

from app.replay.scenarios import LWA_N_JOBS, lwa_ml_jobs, lwa_next_workday, ml_year_jobs


def test_next_workday_follows_their_rule_quirks_included():
    ts = pd.Timestamp
    assert lwa_next_workday(ts("2020-03-04 12:00")) == ts("2020-03-04 12:00")  # Wed, in hours
    assert lwa_next_workday(ts("2020-03-04 08:00")) == ts("2020-03-04 09:00")
    assert lwa_next_workday(ts("2020-03-04 17:30")) == ts("2020-03-05 09:00")
    assert lwa_next_workday(ts("2020-03-07 11:00")) == ts("2020-03-09 09:00")  # Saturday
    assert lwa_next_workday(ts("2020-03-06 18:00")) == ts("2020-03-07 09:00")  # Fri eve: Sat


def test_the_lwa_jobs_arrive_on_workday_hours_with_4_to_90_hour_durations():
    jobs = lwa_ml_jobs(home_region="gb")
    assert len(jobs) == LWA_N_JOBS
    assert all(w.earliest_start.weekday() <= 4 for w in jobs)
    assert all(9 <= w.earliest_start.hour < 17 and w.earliest_start.minute in (0, 30)
               for w in jobs)
    assert {w.duration_h for w in jobs} <= {h / 2 for h in range(8, 180)}
    assert all(w.earliest_start.year == 2020 for w in jobs)
    assert lwa_ml_jobs(home_region="gb") == jobs  # seeded: the same set every time


def test_our_ml_year_jobs_are_due_by_the_next_local_workday_morning():
    jobs = ml_year_jobs(200, year=2023, homes=[("gb", "Europe/London")])
    for w in jobs:
        finish = w.earliest_start + pd.Timedelta(hours=w.duration_h)
        assert w.deadline >= finish
        local = w.deadline.astimezone(pd.Timestamp("2023-01-01", tz="Europe/London").tz)
        assert w.deadline == finish or (local.hour == 9 and local.weekday() <= 4)
