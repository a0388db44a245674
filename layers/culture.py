"""Culture and leisure: libraries, theatres, cinemas, museums, sports venues.

Standards per place type: see :mod:`geo.placetypes`. Churches (Church of Sweden only in the pack)
feed no indicator: a place of worship is no daily errand, and free churches are missing.
"""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule, by_place_type
from .vocab import Mode

SPEC = LayerSpec(
    key="culture",
    osm=(
        OsmRule("amenity", "library", "library"),
        OsmRule("amenity", "theatre", "venue"),
        OsmRule("amenity", "cinema", "venue"),
        OsmRule("amenity", "arts_centre", "venue"),
        OsmRule("tourism", "museum", "venue"),
        OsmRule("leisure", "sports_centre", "sports"),
        OsmRule("leisure", "swimming_pool", "sports"),
        OsmRule("leisure", "pitch", "sports"),
        OsmRule("leisure", "fitness_centre", "sports"),
    ),
    pack_kind_hints=(("librar", "library"), ("sport", "sports"), ("museum", "venue")),
    indicators=(
        Indicator("culture.library",
                  kinds=("library",), mode=Mode.BIKE, threshold_m=2000),
        Indicator("culture.sports",
                  kinds=("sports",), mode=Mode.WALK, threshold_m=800,
                  thresholds=by_place_type(1000, 1500, 4000)),
        Indicator("culture.venue", kinds=("venue",), mode=Mode.BIKE,
                  threshold_m=4000, weight=0.5),
    ),
    default_weight=1.0,
    color="#e6ab02",
    icon="♫",
)
