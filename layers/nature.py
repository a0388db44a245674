"""Nature: parks, nature reserves, protected areas, beaches and bathing places, natural monuments."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule
from .vocab import Mode

SPEC = LayerSpec(
    key="nature",
    named_after_area=True,
    osm=(
        OsmRule("leisure", "nature_reserve", "nature_reserve"),
        OsmRule("boundary", "protected_area", "nature_reserve"),
        OsmRule("leisure", "park", "park"),
        OsmRule("leisure", "swimming_area", "bathing_place"),
        OsmRule("natural", "beach", "bathing_place"),
    ),
    pack_kind_hints=(("bathing", "bathing_place"), ("natural_monument", "natural_monument"),
                     ("biosphere", "biosphere_area"), ("nature_reserve", "nature_reserve"),
                     ("park", "park")),
    indicators=(
        Indicator("nature.green_space", kinds=("park", "nature_reserve"),
                  mode=Mode.WALK, threshold_m=500, min_area_ha=1.5, weight=1.5),
        Indicator("nature.reserve",
                  kinds=("nature_reserve",), mode=Mode.BIKE, threshold_m=3000),
        Indicator("nature.bathing",
                  kinds=("bathing_place",), mode=Mode.BIKE, threshold_m=2000),
    ),
    default_weight=1.0,
    color="#66a61e",
    icon="♣",
)
