"""Prometheus metrics of one server (own registry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "gridshift_admission_decisions", "Admission decisions by webhook and outcome.",
            ["webhook", "outcome"], registry=self.registry)
        self.fail_open = Counter(
            "gridshift_admission_fail_open", "Requests admitted unchanged because gridshift "
            "could not decide in time or failed.", ["webhook", "cause"], registry=self.registry)
        self.latency = Histogram(
            "gridshift_admission_duration_seconds", "Time to answer an AdmissionReview.",
            ["webhook"], buckets=LATENCY_BUCKETS_S, registry=self.registry)
        self.bad_requests = Counter(
            "gridshift_admission_bad_requests", "Bodies that were not AdmissionReviews (HTTP 400).",
            ["webhook"], registry=self.registry)
        self.plan_assignments = Gauge(
            "gridshift_plan_assignments", "Assignments in the plan the webhook serves "
            "(arrivals included).", registry=self.registry)
        self.plan_created = Gauge(
            "gridshift_plan_created_timestamp_seconds", "Creation time of the served plan.",
            registry=self.registry)
        self.releases = Counter(
            "gridshift_releases", "Deferred Pods and Jobs released at their planned start.",
            ["kind", "result"], registry=self.registry)
        self.tally_dropped = Counter(
            "gridshift_serving_tally_dropped", "Rows of the serving-Pod tally the releaser "
            "dropped: Pods gone without a DELETE seen, or ended (Failed / Succeeded).",
            ["cause"], registry=self.registry)
        self.tally_restored = Counter(
            "gridshift_serving_tally_restored", "Live serving Pods the releaser counted again "
            "because the store had lost their row (a replaced or restored database).",
            registry=self.registry)
