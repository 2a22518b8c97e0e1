"""pricing.mig: MIG profiles, NVIDIA placement rules, layouts and partition prices."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing import mig
from pricing.catalog import load_catalog

NAMES = {
    "A100-40GB": ["1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb",
                  "7g.40gb"],
    "A100-80GB": ["1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb",
                  "7g.80gb"],
    "H100": ["1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"],
}


@pytest.mark.parametrize("accelerator", mig.MIG_ACCELERATORS)
def test_profiles_match_nvidias_tables(accelerator: str) -> None:
    profiles = mig.profiles(accelerator)
    assert [p.name for p in profiles] == NAMES[accelerator]
    by = {p.name: p for p in profiles}
    small = NAMES[accelerator][0]
    assert (by[small].compute_slices, by[small].memory_slices, by[small].max_instances) == \
        (1, 1, 7)
    assert by[small].start_slots == (0, 1, 2, 3, 4, 5, 6)
    three = NAMES[accelerator][4]
    assert (by[three].compute_slices, by[three].memory_slices, by[three].start_slots,
            by[three].max_instances) == (3, 4, (0, 4), 2)
    assert by[NAMES[accelerator][3]].start_slots == (0, 2, 4)
    assert by[NAMES[accelerator][-1]].memory_gb == (40 if accelerator == "A100-40GB" else 80)
    for p in profiles:
        assert p.price_share == p.power_share == pytest.approx(p.compute_slices / 7)
        assert p.k8s_resource == f"nvidia.com/mig-{p.name}"


def test_aliases_gpus_without_mig_and_unknown_names() -> None:
    assert mig.profiles("H100-80GB") == mig.profiles("H100")
    for name in ("L40S", "L4", "A10G", "T4"):
        assert mig.profiles(name) == () and mig.valid_layouts(name) == ()
    with pytest.raises(ValueError, match="accelerator 'V100' is unknown"):
        mig.profiles("V100")
    with pytest.raises(ValueError, match="'3g.40gb' does not exist on A100-40GB"):
        mig.profile("A100-40GB", "3g.40gb")


@pytest.mark.parametrize(("names", "ok"), [
    (["7g.40gb"], True),
    (["4g.20gb", "3g.20gb"], True),
    (["3g.20gb", "3g.20gb"], True),
    (["2g.10gb", "2g.10gb", "3g.20gb"], True),
    (["1g.5gb"] * 7, True),
    (["4g.20gb", "2g.10gb", "1g.5gb"], True),
    (["1g.10gb"] * 4, True),
    (["1g.5gb+me", "1g.5gb", "2g.10gb", "3g.20gb"], True),
    (["1g.5gb"] * 8, False),                   # only 7 compute slices
    (["4g.20gb", "4g.20gb"], False),           # 4g can only start at slot 0
    (["3g.20gb", "3g.20gb", "1g.5gb"], False),  # memory is full
    (["7g.40gb", "1g.5gb"], False),
    (["1g.5gb+me", "1g.5gb+me"], False),       # one set of media engines
    (["2g.10gb"] * 4, False),                  # max 3
    (["1g.10gb"] * 4 + ["1g.5gb"], False),
])
def test_known_layouts(names: list[str], ok: bool) -> None:
    layout = mig.fits("A100-40GB", names)
    assert (layout is not None) is ok
    if layout is not None:
        assert sorted(layout.names) == sorted(names)
        assert layout.price_share == pytest.approx(sum(mig.profile("A100-40GB", n).compute_slices
                                                       for n in names) / 7)


def test_fits_rejects_unknown_profile_names() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        mig.fits("H100", ["3g.20gb"])


def check_layout(layout: mig.Layout) -> None:
    """Independent check of a witness placement against the rules in the docstring."""
    used: set[int] = set()
    for pl in layout.placements:
        assert pl.start in pl.profile.start_slots
        slots = set(pl.memory_slots)
        assert max(slots) < mig.MEMORY_SLICES and not used & slots
        used |= slots
    counts = Counter(p.name for p in layout.profiles)
    for p in layout.profiles:
        assert counts[p.name] <= p.max_instances
    assert sum(p.compute_slices for p in layout.profiles) == layout.compute_slices <= 7
    assert layout.price_share <= 1 + 1e-12
    assert layout.stranded_share == pytest.approx(1 - layout.price_share)
    assert sorted(pl.profile.name for pl in layout.placements) == sorted(layout.names)


@pytest.mark.parametrize("accelerator", mig.MIG_ACCELERATORS)
def test_every_enumerated_layout_is_valid_and_unique(accelerator: str) -> None:
    layouts = mig.valid_layouts(accelerator)
    assert len(layouts) == len({tuple(sorted(lay.names)) for lay in layouts})
    for layout in layouts:
        check_layout(layout)
    maximal = mig.valid_layouts(accelerator, maximal_only=True)
    assert set(maximal) <= set(layouts)
    core = [lay for lay in mig.valid_layouts(accelerator, include_media_extensions=False)
            if all("+me" not in n for n in lay.names)]
    assert all("+me" not in n for lay in core for n in lay.names)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(mig.MIG_ACCELERATORS), st.data())
def test_random_multisets_fit_exactly_when_a_brute_force_placement_exists(accelerator, data):
    profiles = mig.profiles(accelerator)
    picked = data.draw(st.lists(st.sampled_from(profiles), min_size=1, max_size=8))

    def placeable(rest: list[mig.MigProfile], used: frozenset[int]) -> bool:
        if not rest:
            return True
        p, others = rest[0], rest[1:]
        return any(placeable(others, used | set(range(s, s + p.memory_slices)))
                   for s in p.start_slots
                   if s + p.memory_slices <= 8 and not used & set(range(s, s + p.memory_slices)))

    counts = Counter(p.name for p in picked)
    expect = (all(counts[p.name] <= p.max_instances for p in picked)
              and sum(p.compute_slices for p in picked) <= 7
              and placeable(sorted(picked, key=lambda p: -p.memory_slices), frozenset()))
    assert (mig.fits(accelerator, [p.name for p in picked]) is not None) is expect


def test_partition_offers_charge_the_profile_share_of_the_gpu_hour() -> None:
    catalog = load_catalog()
    offer = next(o for o in catalog.offers if o.accelerator == "A100-80GB")
    parts = mig.partition_offers(offer)
    assert [p.profile.name for p in parts] == NAMES["A100-80GB"]
    three = next(p for p in parts if p.profile.name == "3g.40gb")
    assert three.usd_per_hour == pytest.approx(offer.usd_per_gpu_hour * 3 / 7)
    t4 = next(o for o in catalog.offers if o.accelerator == "T4")
    assert mig.partition_offers(t4) == ()
