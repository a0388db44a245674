"""Transit: bus stops and platforms (departures from GTFS when loaded), railway stations.

Standards per place type (bus stop 400 m in a town ... 1,200 m in the countryside): see the table
and its sources in :mod:`geo.placetypes`.
"""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule, by_place_type
from .vocab import Mode

SPEC = LayerSpec(
    key="transit",
    named_after_area=True,
    osm=(
        OsmRule("railway", "station", "rail_station"),
        OsmRule("railway", "halt", "rail_station"),
        OsmRule("highway", "bus_stop", "bus_stop"),
        OsmRule("public_transport", "platform", "bus_stop"),
        OsmRule("public_transport", "stop_position", "bus_stop"),
    ),
    pack_kind_hints=(("rail", "rail_station"), ("bus", "bus_stop"), ("stop", "bus_stop")),
    indicators=(
        Indicator("transit.bus",
                  kinds=("bus_stop",), mode=Mode.WALK, threshold_m=400,
                  thresholds=by_place_type(500, 600, 1200), weight=1.0),
        Indicator("transit.rail",
                  kinds=("rail_station",), mode=Mode.BIKE, threshold_m=3000, weight=1.0),
    ),
    default_weight=1.0,
    departures=True,
    color="#1b9e77",
    icon="⇄",
)
