"""Services: health care, pharmacies, grocery stores, Systembolaget.

Standards per place type (grocery on foot 800 m in a town ... 4 km in the countryside): see the
table and its sources in :mod:`geo.placetypes`. Systembolaget (stores and agents, complete in the
pack) weighs little: a newcomer asks about it, but it is no daily need. Left out on purpose:
recycling stations (only two of Blekinge's five municipalities report them, so an indicator would
mark the other three as far from one) and dentists (two features in the pack).
"""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule, by_place_type
from .vocab import Mode

SPEC = LayerSpec(
    key="services",
    osm=(
        OsmRule("amenity", "hospital", "hospital"),
        OsmRule("amenity", "clinic", "clinic"),
        OsmRule("amenity", "doctors", "clinic"),
        OsmRule("amenity", "dentist", "dentist"),
        OsmRule("amenity", "pharmacy", "pharmacy"),
        OsmRule("healthcare", "pharmacy", "pharmacy"),
        OsmRule("shop", "supermarket", "grocery"),
        OsmRule("shop", "convenience", "grocery"),
        OsmRule("shop", "alcohol", "alcohol_shop"),
    ),
    pack_kind_hints=(("hospital", "hospital"), ("sjukhus", "hospital"), ("grocery", "grocery"),
                     ("pharmac", "pharmacy"), ("health", "clinic"), ("systembolaget", "alcohol_shop")),
    indicators=(
        Indicator("services.grocery",
                  kinds=("grocery",), mode=Mode.WALK, threshold_m=800,
                  thresholds=by_place_type(1000, 1500, 4000), weight=2.0),
        Indicator("services.pharmacy",
                  kinds=("pharmacy",), mode=Mode.BIKE, threshold_m=2000),
        Indicator("services.health",
                  kinds=("clinic", "hospital"), mode=Mode.BIKE, threshold_m=3000, weight=1.5),
        Indicator("services.hospital",
                  kinds=("hospital",), mode=Mode.CAR, threshold_m=20000, weight=0.5),
        Indicator("services.systembolaget",
                  kinds=("alcohol_shop",), mode=Mode.BIKE, threshold_m=3000, weight=0.25),
    ),
    default_weight=1.0,
    color="#e7298a",
    icon="✚",
)
