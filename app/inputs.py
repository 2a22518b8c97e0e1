"""Fleet and workload YAML files -> planner domain values, validated at the edge.

Fleet file::

    regions:
      - name: aws-us-east-1          # fleet-wide id, referenced by workloads
        provider: aws                # aws | gcp | azure | ...
        cloud_region: us-east-1
        grid_zone: US-MIDA-PJM       # Electricity Maps zone code (default: carbon/zones.py)
        pue: 1.135                   # optional, default per provider (carbon/data/pue.csv)
        location: {lat: 38.9, lon: -77.4}
        clusters:
          - name: use1-gpu
            capacity: {H100: 16, A10G: 32}   # GPUs the planner may use
            mig: {H100: {"3g.40gb+4g.40gb": 2}}   # optional: MIG layouts running now
            spot_capacity: {H100: 8}  # optional: at most 8 of its H100s on spot
        market:                      # optional, for the market-based figure
          {clean_share: 0.6, residual_mix_g_per_kwh: 420, source: "PPA 2026"}

Workloads file::

    workloads:
      - name: llama-ft
        team: nlp
        gpus: 8
        accelerators: {H100: 2.0, A100-80GB: 1.0}   # relative speed, preferred first
        duration: 10h                 # on speed 1.0
        earliest_start: now           # ISO 8601 with zone, 'now' or '+6h' (from the plan start)
        deadline: +36h
        home_region: aws-us-east-1
        allowed_regions: [aws-us-east-1, gcp-europe-west2]   # optional: data residency
        gang: true                    # optional, default true
        checkpoint_interval: 30m      # optional; without it no spot
        restart_overhead: 6m          # optional, default 6m
        utilisation: 0.8              # optional GPU utilisation, default 0.8
    serving:                          # optional always-on services (planner/serving.py)
      - name: chat-eu
        team: assistants
        home_region: gcp-europe-west4
        model_memory_gb: 30           # weights + KV cache: decides how many GPUs a replica holds
        throughput_rps: {H100: 40, L40S: 12, "A100-80GB:3g.40gb": 9}   # requests/s of a
                                      # replica: whole GPUs, or one MIG instance (accel:profile)
        demand_rps: [80, 95, 120]     # per hour from the plan start (last value holds), or one number
        # demand_history: chat-eu-rps.csv  # instead: forecast it (app/serving_io.py), sized
        # demand_level: 90                 # for the upper bound of the 90 % interval
        users: [{name: frankfurt, lat: 50.1, lon: 8.7}]
        latency_slo_ms: 40            # RTT to every user location (fleet latency_ms, else estimate)
        on_demand_floor: 0.5          # optional, share of demand on on-demand replicas (default 1)
        failover_fraction: 0.5        # optional, share still served if any one region is lost
        utilisation: 0.6              # optional
    budgets:                          # optional caps per team over the horizon (training only:
      nlp: {usd: 5000, kg_co2e: 300}  # live traffic is not shed for a budget)

A fleet may give measured round-trip times for latency SLOs::

    latency_ms: {gcp-europe-west4: {frankfurt: 9.5}}

The pydantic models of these files, and the one-line errors for a file that does not fit
them, are in app/input_schema.py; this module reads the YAML and adds the checks that
need the fleet, the catalog or the clock before building domain values.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from app.errors import InputError
from app.input_schema import ClusterIn, FleetIn, WorkloadsIn, validated
from app.timeparse import parse_hours, parse_time
from carbon import energy
from carbon.footprint import MarketInstruments
from carbon.intensity import known_zones
from carbon.zones import zone_for
from planner.domain import Cluster, Fleet, Region, TrainingWorkload
from planner.limits import Limit, LimitKind
from pricing import mig
from pricing.catalog import Catalog, Purchase


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps timestamps as strings, so every time goes through parse_time."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(str(path), "file not found", fix="check the path") from None
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(str(path), f"YAML syntax error at {where}{problem}",
                         fix="correct the YAML (indentation, ':' after keys, quotes)") from None


def load_fleet(path: Path) -> Fleet:
    return fleet_from_data(read_yaml(path), str(path))


def fleet_from_data(data: Any, source: str) -> Fleet:
    """A Fleet from parsed YAML/JSON; ``source`` names the input in error messages."""
    path = source
    parsed = validated(FleetIn, data, source, "regions")
    known_accelerators = energy.known_accelerators()
    zones = known_zones()
    regions, names, cluster_names = [], set(), set()
    for r in parsed.regions:
        if r.name in names:
            raise InputError(str(path), f"region {r.name!r} appears twice", field="regions.name",
                             fix="give each region a unique name")
        names.add(r.name)
        grid_zone = r.grid_zone
        if grid_zone is None:
            try:
                grid_zone = zone_for(r.provider, r.cloud_region).zone
            except (KeyError, ValueError):
                raise InputError(str(path), f"region {r.name!r}: no known grid zone for "
                                 f"{r.provider} {r.cloud_region}", field="grid_zone",
                                 fix="give grid_zone (an Electricity Maps zone code)") from None
        if grid_zone not in zones:
            raise InputError(str(path), f"region {r.name!r}: grid zone {grid_zone!r} has no "
                             f"intensity data", field="grid_zone",
                             fix=f"use one of {', '.join(sorted(zones))}")
        clusters = []
        for c in r.clusters:
            if c.name in cluster_names:
                raise InputError(str(path), f"cluster {c.name!r} appears twice",
                                 field="clusters.name", fix="give each cluster a unique name")
            cluster_names.add(c.name)
            for accelerator in c.capacity:
                if accelerator not in known_accelerators:
                    raise InputError(
                        str(path), f"cluster {c.name!r}: unknown accelerator {accelerator!r}",
                        field="capacity", fix=f"use one of {', '.join(sorted(known_accelerators))}")
            for accelerator, gpus in c.spot_capacity.items():
                if not 0 <= gpus <= c.capacity.get(accelerator, 0):
                    raise InputError(
                        str(path), f"cluster {c.name!r}: spot_capacity {accelerator} = {gpus} "
                        f"is outside 0..{c.capacity.get(accelerator, 0)} (its capacity)",
                        field="spot_capacity", fix="cap spot at most at the cluster's GPUs")
            clusters.append(Cluster(name=c.name, region=r.name, capacity_gpus=dict(c.capacity),
                                    mig_layouts=_mig_layouts(str(path), c),
                                    spot_capacity_gpus=dict(c.spot_capacity)))
        try:
            market = (None if r.market is None else
                      MarketInstruments.from_mapping(r.market, where=f"region {r.name!r}"))
        except ValueError as exc:
            raise InputError(str(path), str(exc), field="market") from None
        regions.append(Region(
            name=r.name, provider=r.provider.lower(), cloud_region=r.cloud_region,
            grid_zone=grid_zone, pue=r.pue if r.pue is not None else energy.pue_for(r.provider.lower()),
            latitude=r.location.lat, longitude=r.location.lon, clusters=tuple(clusters),
            market=market))
    latency: dict[tuple[str, str], float] = {}
    for region, by_user in parsed.latency_ms.items():
        if region not in names:
            raise InputError(str(path), f"latency_ms names unknown region {region!r}",
                             field="latency_ms", fix=f"use a region of the fleet: "
                             f"{', '.join(sorted(names))}")
        for user, ms in by_user.items():
            if not (math.isfinite(ms) and ms > 0):
                raise InputError(str(path), f"latency_ms {region}/{user} must be > 0 ms, "
                                 f"got {ms}", field="latency_ms", fix="give a measured RTT in ms")
            latency[(region, user)] = float(ms)
    return Fleet(regions=tuple(regions), latency_ms=latency)


def _mig_layouts(path: str, c: ClusterIn) -> dict[str, dict[tuple[str, ...], int]]:
    out: dict[str, dict[tuple[str, ...], int]] = {}
    for accelerator, by_layout in c.mig.items():
        total = 0
        for text, gpus in by_layout.items():
            names = tuple(sorted(n.strip() for n in text.split("+") if n.strip()))
            try:
                layout = mig.fits(accelerator, names)
            except ValueError as exc:
                raise InputError(path, f"cluster {c.name!r}: {exc}", field="mig",
                                 fix="use profiles of that GPU, joined by '+'") from None
            if layout is None:
                raise InputError(path, f"cluster {c.name!r}: MIG layout {text!r} does not fit "
                                 f"one {accelerator}", field="mig",
                                 fix="give profiles that fit one GPU together")
            if gpus < 0:
                raise InputError(path, f"cluster {c.name!r}: MIG layout {text!r} has {gpus} "
                                 "GPUs", field="mig", fix="give a count >= 0")
            total += gpus
            out.setdefault(accelerator, {})[names] = gpus
        if total > c.capacity.get(accelerator, 0):
            raise InputError(path, f"cluster {c.name!r}: {total} {accelerator} GPUs in MIG "
                             f"layouts, capacity {c.capacity.get(accelerator, 0)}", field="mig",
                             fix="partition at most the cluster's GPUs")
    return out


def check_fleet_prices(path: Path | str, fleet: Fleet, catalog: Catalog) -> None:
    """Every accelerator a cluster offers must have an on-demand price in the catalog."""
    for region in fleet.regions:
        for cluster in region.clusters:
            for accelerator, gpus in cluster.capacity_gpus.items():
                if gpus and catalog.cheapest(provider=region.provider, region=region.cloud_region,
                                             accelerator=accelerator, purchase=Purchase.ON_DEMAND) is None:
                    raise InputError(
                        str(path), f"cluster {cluster.name!r}: no on-demand price for {accelerator} in "
                        f"{region.provider} {region.cloud_region} (catalog {catalog.version})",
                        field="capacity", fix="remove that accelerator or give a catalog that prices it")


def load_workloads(path: Path, fleet: Fleet, *, now: datetime) -> tuple[TrainingWorkload, ...]:
    return workloads_from_data(read_yaml(path), str(path), fleet, now=now)


def load_budgets(path: Path) -> tuple[Limit, ...]:
    """Team budgets of a workloads file (``budgets: {team: {usd: .., kg_co2e: ..}}``)."""
    return budgets_from_data(read_yaml(path), str(path))


def budgets_from_data(data: Any, source: str) -> tuple[Limit, ...]:
    parsed = validated(WorkloadsIn, data, source, "workloads")
    limits = []
    for team, budget in sorted(parsed.budgets.items()):
        if budget.usd is not None:
            limits.append(Limit(kind=LimitKind.USD, cap=budget.usd, team=team))
        if budget.kg_co2e is not None:
            limits.append(Limit(kind=LimitKind.KG_CO2E, cap=budget.kg_co2e, team=team))
    return tuple(limits)


def workloads_from_data(data: Any, source: str, fleet: Fleet, *,
                        now: datetime) -> tuple[TrainingWorkload, ...]:
    """Workloads from parsed YAML/JSON; relative times count from ``now``."""
    path = source
    parsed = validated(WorkloadsIn, data, source, "workloads")
    known_accelerators = energy.known_accelerators()
    regions = set(fleet.region_names)
    out, names = [], set()
    for w in parsed.workloads:
        def fail(field: str, problem: str, fix: str = "", _name: str = w.name) -> InputError:
            return InputError(str(path), problem, fix=fix, workload=_name, field=field)

        if w.name in names:
            raise fail("name", "name appears twice", "give each workload a unique name")
        names.add(w.name)
        for accelerator in w.accelerators:
            if accelerator not in known_accelerators:
                raise fail("accelerators", f"unknown accelerator {accelerator!r}",
                           f"use one of {', '.join(sorted(known_accelerators))}")
        for field, region in [("home_region", w.home_region)] + [
                ("allowed_regions", r) for r in w.allowed_regions]:
            if region not in regions:
                raise fail(field, f"unknown region {region!r}",
                           f"use a region name of the fleet: {', '.join(sorted(regions))}")
        if w.allowed_regions and w.home_region not in w.allowed_regions:
            raise fail("allowed_regions", f"the home region {w.home_region!r} is not allowed",
                       "add the home region to allowed_regions or change home_region")
        values: dict[str, Any] = {}
        for field in ("duration", "checkpoint_interval", "restart_overhead"):
            value = getattr(w, field)
            if value is None:
                values[field] = None
                continue
            try:
                values[field] = parse_hours(value)
            except ValueError as exc:
                raise fail(field, str(exc)) from None
            if not math.isfinite(values[field]) or values[field] > 24 * 365:
                raise fail(field, f"must be a finite duration of at most a year, got {value!r}")
            if field == "restart_overhead":
                if values[field] < 0:
                    raise fail(field, f"must be >= 0, got {value!r}", "give a duration like '6m'")
            elif values[field] < 1 / 60:
                raise fail(field, f"must be at least one minute, got {value!r}",
                           "give a duration like '30m' or '6h'")
        for field in ("earliest_start", "deadline"):
            try:
                values[field] = parse_time(getattr(w, field), now=now)
            except ValueError as exc:
                raise fail(field, str(exc)) from None
        fastest = max(w.accelerators.values())
        earliest_finish = values["earliest_start"].timestamp() + values["duration"] / fastest * 3600
        if earliest_finish > values["deadline"].timestamp():
            finish = datetime.fromtimestamp(earliest_finish, values["deadline"].tzinfo)
            raise fail("deadline",
                       f"{values['deadline']:%Y-%m-%dT%H:%MZ} is before the earliest finish "
                       f"{finish:%Y-%m-%dT%H:%MZ} on any allowed accelerator",
                       "move the deadline later, the earliest start sooner, or shorten the duration")
        out.append(TrainingWorkload(
            name=w.name, team=w.team, gpus=w.gpus, accelerators=dict(w.accelerators),
            duration_h=values["duration"], earliest_start=values["earliest_start"],
            deadline=values["deadline"], home_region=w.home_region,
            allowed_regions=tuple(w.allowed_regions), gang=w.gang,
            checkpoint_interval_h=values["checkpoint_interval"],
            restart_overhead_h=values["restart_overhead"], utilisation=w.utilisation))
    return tuple(out)
