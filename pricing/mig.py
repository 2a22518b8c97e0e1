"""MIG partitions as data: profiles, placements, the layouts one GPU can hold, and prices.

Source: NVIDIA Multi-Instance GPU User Guide, "Supported MIG Profiles" (A100-SXM4-40GB,
A100-SXM4-80GB, H100-SXM5-80GB tables) and the GPU-instance placements that
``nvidia-smi mig -lgipp`` lists for them. gridshift's canonical ``H100`` is the 80 GB
part (``H100-80GB`` is accepted as an alias); the 94/96 GB H100 variants have other
profiles and are not modelled.

Geometry
--------
A MIG-capable GPU has 8 memory slices and 7 compute slices (SM groups). A profile
``<c>g.<m>gb`` takes ``c`` compute slices and a contiguous run of ``memory_slices``
memory slices that must start at one of the profile's allowed start slots:

    profile (A100-40GB / A100-80GB, H100)   compute  memory slices  starts      max
    1g.5gb    / 1g.10gb                      1        1              0..6        7
    1g.5gb+me / 1g.10gb+me                   1        1              0..6        1
    1g.10gb   / 1g.20gb                      1        2              0,2,4,6     4
    2g.10gb   / 2g.20gb                      2        2              0,2,4       3
    3g.20gb   / 3g.40gb                      3        4              0,4         2
    4g.20gb   / 4g.40gb                      4        4              0           1
    7g.40gb   / 7g.80gb                      7        8              0           1

(``+me`` = with the GPU's media engines; only one instance can hold them.) A set of
instances fits one GPU when their memory runs ``[start, start + memory_slices)`` are
pairwise disjoint within the 8 slices, their compute slices sum to at most 7, and no
profile exceeds its ``max``. ``valid_layouts`` enumerates every multiset of profiles
that has such a placement (one witness placement is kept per multiset).

Price and power share
---------------------
A profile carries the share of the whole GPU's price and power it is charged:

    price_share = power_share = compute_slices / 7

MIG partitions SMs, and both a cloud's GPU-hour and a GPU's dynamic power scale with
the SMs a tenant holds, so a 3g instance pays 3/7 of the GPU-hour and is attributed 3/7
of the GPU's power. The shares of any valid layout sum to at most 1; what a layout
leaves unused (``Layout.stranded_share = 1 - sum of shares``, e.g. 1/7 for 3g + 3g) is
still paid by whoever holds the GPU, so a planner that dedicates a whole GPU to a layout
should charge the whole GPU, not the sum of its profiles. Memory-heavy profiles
(1g.10gb on a 40 GB A100) are priced by compute like the rest: they strand memory, not
SMs, and the layout enumeration already stops them from over-filling a GPU.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from pricing.catalog import Offer

__all__ = [
    "COMPUTE_SLICES",
    "MEMORY_SLICES",
    "MIG_ACCELERATORS",
    "Layout",
    "MigProfile",
    "PartitionOffer",
    "Placement",
    "canonical_accelerator",
    "fits",
    "partition_offers",
    "profile",
    "profiles",
    "valid_layouts",
]

COMPUTE_SLICES = 7
MEMORY_SLICES = 8
MIG_ACCELERATORS: tuple[str, ...] = ("A100-40GB", "A100-80GB", "H100")
_ALIASES = MappingProxyType({"H100-80GB": "H100"})
_NO_MIG = frozenset({"L40S", "L4", "A10G", "T4"})


@dataclass(frozen=True, slots=True, kw_only=True)
class MigProfile:
    """One MIG GPU-instance profile of one GPU model (geometry: module docstring)."""

    name: str                       # e.g. "3g.20gb"
    accelerator: str                # canonical: A100-40GB, A100-80GB, H100
    compute_slices: int             # of 7
    memory_gb: int                  # nominal, as in the profile name
    max_instances: int              # per GPU
    price_share: float              # of the whole GPU's price
    power_share: float              # of the whole GPU's power
    memory_slices: int              # of 8
    start_slots: tuple[int, ...]    # allowed first memory slice
    media_extensions: bool = False  # "+me" profiles

    @property
    def k8s_resource(self) -> str:
        """The extended resource the NVIDIA device plugin exposes (mixed strategy)."""
        return f"nvidia.com/mig-{self.name}"


# (name suffix by memory size, compute, memory slices, starts, max, +me)
_GEOMETRY: tuple[tuple[int, int, tuple[int, ...], int, bool], ...] = (
    (1, 1, tuple(range(7)), 7, False),
    (1, 1, tuple(range(7)), 1, True),
    (1, 2, (0, 2, 4, 6), 4, False),
    (2, 2, (0, 2, 4), 3, False),
    (3, 4, (0, 4), 2, False),
    (4, 4, (0,), 1, False),
    (7, 8, (0,), 1, False),
)
_GB_PER_MEMORY_SLICE = {"A100-40GB": 5, "A100-80GB": 10, "H100": 10}


def _build(accelerator: str) -> tuple[MigProfile, ...]:
    gb = _GB_PER_MEMORY_SLICE[accelerator]
    out = []
    for compute, mem_slices, starts, max_n, media in _GEOMETRY:
        memory_gb = gb * mem_slices if mem_slices < MEMORY_SLICES else gb * MEMORY_SLICES
        name = f"{compute}g.{memory_gb}gb" + ("+me" if media else "")
        share = compute / COMPUTE_SLICES
        out.append(MigProfile(name=name, accelerator=accelerator, compute_slices=compute,
                              memory_gb=memory_gb, max_instances=max_n, price_share=share,
                              power_share=share, memory_slices=mem_slices,
                              start_slots=starts, media_extensions=media))
    return tuple(out)


_PROFILES: Mapping[str, tuple[MigProfile, ...]] = MappingProxyType(
    {a: _build(a) for a in MIG_ACCELERATORS})


def canonical_accelerator(accelerator: str) -> str:
    """``H100-80GB`` -> ``H100``; other names unchanged."""
    return _ALIASES.get(accelerator, accelerator)


def profiles(accelerator: str) -> tuple[MigProfile, ...]:
    """The MIG profiles of a GPU model, smallest first; ``()`` for a GPU without MIG."""
    name = canonical_accelerator(accelerator)
    if name in _PROFILES:
        return _PROFILES[name]
    if name in _NO_MIG:
        return ()
    raise ValueError(f"accelerator {accelerator!r} is unknown; expected one of "
                     f"{', '.join(sorted((*MIG_ACCELERATORS, *_NO_MIG)))}")


def profile(accelerator: str, name: str) -> MigProfile:
    """One profile by name, e.g. ``profile("A100-80GB", "3g.40gb")``."""
    for p in profiles(accelerator):
        if p.name == name:
            return p
    known = ", ".join(p.name for p in profiles(accelerator)) or "none (no MIG)"
    raise ValueError(f"MIG profile {name!r} does not exist on {accelerator}; "
                     f"its profiles are: {known}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    profile: MigProfile
    start: int  # first memory slice

    @property
    def memory_slots(self) -> range:
        return range(self.start, self.start + self.profile.memory_slices)


@dataclass(frozen=True, slots=True, kw_only=True)
class Layout:
    """A multiset of profiles that fits one GPU, with one valid placement of it."""

    accelerator: str
    profiles: tuple[MigProfile, ...]      # sorted by (compute, memory, name)
    placements: tuple[Placement, ...]     # a witness placement, by start slot
    compute_slices: int
    memory_slices: int
    price_share: float                    # sum over profiles
    power_share: float
    stranded_share: float                 # 1 - price_share

    def counts(self) -> Mapping[str, int]:
        return MappingProxyType(dict(Counter(p.name for p in self.profiles)))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.profiles)


def _sort_key(p: MigProfile) -> tuple[int, int, str]:
    return p.compute_slices, p.memory_slices, p.name


def _layout(accelerator: str, placed: list[Placement]) -> Layout:
    ordered = tuple(sorted((pl.profile for pl in placed), key=_sort_key))
    share = sum(p.price_share for p in ordered)
    return Layout(accelerator=accelerator, profiles=ordered,
                  placements=tuple(sorted(placed, key=lambda pl: pl.start)),
                  compute_slices=sum(p.compute_slices for p in ordered),
                  memory_slices=sum(p.memory_slices for p in ordered),
                  price_share=share, power_share=sum(p.power_share for p in ordered),
                  stranded_share=max(0.0, 1.0 - share))


def _enumerate(accelerator: str, options: tuple[MigProfile, ...]) -> dict[tuple[str, ...],
                                                                          Layout]:
    found: dict[tuple[str, ...], Layout] = {}

    def place(slot: int, placed: list[Placement], used: Counter[str], compute: int) -> None:
        if placed:
            key = tuple(sorted(pl.profile.name for pl in placed))
            found.setdefault(key, _layout(accelerator, placed))
        for s in range(slot, MEMORY_SLICES):
            for p in options:
                end = s + p.memory_slices
                if (s in p.start_slots and end <= MEMORY_SLICES
                        and used[p.name] < p.max_instances
                        and compute + p.compute_slices <= COMPUTE_SLICES):
                    used[p.name] += 1
                    placed.append(Placement(profile=p, start=s))
                    place(end, placed, used, compute + p.compute_slices)
                    placed.pop()
                    used[p.name] -= 1

    place(0, [], Counter(), 0)
    return found


_LAYOUTS: dict[tuple[str, bool], tuple[Layout, ...]] = {}


def valid_layouts(accelerator: str, *, include_media_extensions: bool = True,
                  maximal_only: bool = False) -> tuple[Layout, ...]:
    """Every multiset of profiles one GPU can hold (``()`` for a GPU without MIG).

    ``maximal_only`` keeps the layouts to which no further profile can be added.
    Sorted by descending price share, then by profile names.
    """
    name = canonical_accelerator(accelerator)
    options = tuple(p for p in profiles(name)
                    if include_media_extensions or not p.media_extensions)
    if not options:
        return ()
    key = (name, include_media_extensions)
    if key not in _LAYOUTS:
        found = _enumerate(name, options)
        _LAYOUTS[key] = tuple(sorted(found.values(),
                                     key=lambda lay: (-lay.price_share, lay.names)))
    layouts = _LAYOUTS[key]
    if not maximal_only:
        return layouts
    present = {tuple(sorted(lay.names)) for lay in layouts}
    return tuple(lay for lay in layouts
                 if not any(tuple(sorted((*lay.names, p.name))) in present for p in options))


def fits(accelerator: str, names: Iterable[str]) -> Layout | None:
    """The layout for exactly these profile names on one GPU, or None if they do not fit."""
    wanted = tuple(sorted(names))
    for p in wanted:
        profile(accelerator, p)  # unknown names are an error, not "does not fit"
    for lay in valid_layouts(accelerator):
        if tuple(sorted(lay.names)) == wanted:
            return lay
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class PartitionOffer:
    """A MIG profile bought as a share of a whole-GPU offer."""

    offer: Offer
    profile: MigProfile

    @property
    def usd_per_hour(self) -> float:
        return self.offer.usd_per_gpu_hour * self.profile.price_share


def partition_offers(offer: Offer) -> tuple[PartitionOffer, ...]:
    """One partition offer per MIG profile of the offer's GPU (``()`` without MIG)."""
    return tuple(PartitionOffer(offer=offer, profile=p) for p in profiles(offer.accelerator))
