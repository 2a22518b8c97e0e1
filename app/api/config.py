"""Webhook settings: opt-in, team budgets, capacity-type labels, zones, decision budget.

Read from the YAML file given to ``gridshift serve --config`` (all optional)::

    opt_in_namespaces: [ml-training, research]   # namespaces whose Pods/Jobs are all managed
    decision_budget_ms: 200                      # slower decisions admit unchanged (fail open)
    defer_threshold_s: 60                        # later planned starts are deferred (gated)
    budgets:                                     # per team, over the current plan's horizon
      nlp: {usd: 5000, kg_co2e: 400}
      vision: {usd: 2000}
    capacity_labels:                             # per provider of the fleet: which node label
      gcp: gke                                   #   says spot / on-demand (default below)
    zones:                                       # optional: cluster -> zones it may use
      use1-gpu: [us-east-1a, us-east-1b]

Capacity-type label styles (the node labels each provisioner sets):

    karpenter  karpenter.sh/capacity-type In [spot | on-demand]        (AWS, AKS node autoprovisioning)
    eks        eks.amazonaws.com/capacityType In [SPOT | ON_DEMAND]     (EKS managed node groups)
    gke        cloud.google.com/gke-spot In ["true"] | DoesNotExist     (GKE Spot VMs)
    aks        kubernetes.azure.com/scalesetpriority In [spot] | DoesNotExist,
               plus the toleration AKS spot pools taint their nodes with

Defaults: aws and azure -> karpenter, gcp -> gke, anything else -> karpenter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.errors import InputError
from app.inputs import read_yaml


class CapacityLabels(enum.StrEnum):
    KARPENTER = "karpenter"
    EKS = "eks"
    GKE = "gke"
    AKS = "aks"


DEFAULT_CAPACITY_LABELS: Mapping[str, CapacityLabels] = {
    "aws": CapacityLabels.KARPENTER, "azure": CapacityLabels.KARPENTER, "gcp": CapacityLabels.GKE,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Budget:
    usd: float | None = None
    kg_co2e: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookSettings:
    opt_in_namespaces: frozenset[str] = frozenset()
    decision_budget_ms: float = 200.0
    defer_threshold_s: float = 60.0
    budgets: Mapping[str, Budget] = field(default_factory=dict)
    capacity_labels: Mapping[str, CapacityLabels] = field(default_factory=dict)
    zones: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def capacity_style(self, provider: str) -> CapacityLabels:
        return self.capacity_labels.get(provider) or DEFAULT_CAPACITY_LABELS.get(
            provider, CapacityLabels.KARPENTER)


class _BudgetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    usd: float | None = Field(default=None, ge=0)
    kg_co2e: float | None = Field(default=None, ge=0)


class _SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    opt_in_namespaces: list[str] = []
    decision_budget_ms: float = Field(default=200.0, gt=0, le=10_000)
    defer_threshold_s: float = Field(default=60.0, ge=0)
    budgets: dict[str, _BudgetIn] = {}
    capacity_labels: dict[str, CapacityLabels] = {}
    zones: dict[str, list[str]] = {}


def settings_from_data(data: object, source: str) -> WebhookSettings:
    try:
        parsed = _SettingsIn.model_validate(data or {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field_ = ".".join(str(p) for p in err["loc"]) or None
        fix = {"extra_forbidden": "remove it or check its spelling"}.get(err["type"], "")
        raise InputError(source, err["msg"], field=field_, fix=fix) from None
    return WebhookSettings(
        opt_in_namespaces=frozenset(parsed.opt_in_namespaces),
        decision_budget_ms=parsed.decision_budget_ms,
        defer_threshold_s=parsed.defer_threshold_s,
        budgets={team: Budget(usd=b.usd, kg_co2e=b.kg_co2e) for team, b in parsed.budgets.items()},
        capacity_labels=dict(parsed.capacity_labels),
        zones={cluster: tuple(z) for cluster, z in parsed.zones.items()})


def load_settings(path: Path | None) -> WebhookSettings:
    if path is None:
        return WebhookSettings()
    return settings_from_data(read_yaml(path), str(path))
