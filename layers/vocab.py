"""The shared vocabulary: travel modes, networks, decays, measures, coverage levels, place types.

One home for the words the layer specs, the engine (:mod:`geo`) and the CLI use, as
:class:`enum.StrEnum` members: each member *is* its string (``Mode.WALK == "walk"``), so values
stored in snapshots, manifests and tests compare equal to them, and ``Mode("bike")`` validates a
string. Everything a mode implies (its speed, the stored networks it falls back on, the detour
factor without a network) hangs off the member, so no module keeps its own list.

>>> Mode.BIKE.speed_kmh, Mode.BIKE.networks
(15.0, ('bike', 'walk'))
>>> NetworkMode("drive").travel_mode
<Mode.CAR: 'car'>
>>> [p.value for p in PlaceType][:3]
['town', 'small_town', 'village']
>>> parse_maxspeed("30 mph")
48.28032
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from enum import StrEnum

__all__ = [
    "CAR_REFERENCE_KMH",
    "DECAYS",
    "LOW_DENSITY_PER_HA",
    "MEASURES",
    "MODES",
    "NETWORK_MODES",
    "NETWORK_NAMES",
    "PLACE_TYPES",
    "SENSITIVITY_DECAYS",
    "SMALL_TOWN_MIN",
    "TOWN_MIN",
    "VILLAGE_MIN",
    "Coverage",
    "Decay",
    "Measure",
    "Mode",
    "NetworkMode",
    "PlaceType",
    "parse_maxspeed",
]


class Mode(StrEnum):
    """Travel mode of an indicator (how a resident gets to the amenity)."""

    WALK = "walk"
    BIKE = "bike"
    CAR = "car"

    @property
    def speed_kmh(self) -> float:
        """Speed that turns a cost in metres(-equivalent) into minutes (car: its reference speed)."""
        return _SPEED_KMH[self]

    @property
    def networks(self) -> tuple[str, ...]:
        """Stored networks to use, best first (bike falls back on the walking network; ``car`` is
        the old name of the ``drive`` network in stores)."""
        return _NETWORKS[self]

    @property
    def detour(self) -> float:
        """Straight-line -> travel distance factor used without a street network."""
        return _DETOUR[self]

    @property
    def directed(self) -> bool:
        """Whether its network keeps one-way streets (only the car's does)."""
        return self is Mode.CAR


#: The car's reference speed: car costs are metres driven at this speed (km/h).
CAR_REFERENCE_KMH = 50.0
_SPEED_KMH: dict[Mode, float] = {Mode.WALK: 4.8, Mode.BIKE: 15.0, Mode.CAR: CAR_REFERENCE_KMH}
_NETWORKS: dict[Mode, tuple[str, ...]] = {Mode.WALK: ("walk",), Mode.BIKE: ("bike", "walk"),
                                          Mode.CAR: ("drive", "car")}
# typical network/Euclidean ratios in Swedish towns and the countryside
_DETOUR: dict[Mode, float] = {Mode.WALK: 1.3, Mode.BIKE: 1.3, Mode.CAR: 1.4}


# osmnx 2.1.1's way filters (osmnx._overpass._get_network_filter with its default
# settings.default_access), copied so that one public string of ours selects the ways of both
# paths: the XML reader applies it, the Overpass path sends it (osmnx's ``custom_filter``).
# tests/test_vocab.py compares them with osmnx's own and fails when an osmnx upgrade changes them
# (our paths still agree then; the test asks whether to follow osmnx's new definition).
_ACCESS = '["access"!~"private"]'
_OSM_FILTERS: dict[str, str] = {
    "walk": (
        f'["highway"]["area"!~"yes"]{_ACCESS}'
        '["highway"!~"abandoned|bus_guideway|construction|cycleway|motor|no|planned|'
        'platform|proposed|raceway|razed|rest_area|services"]'
        '["foot"!~"no"]["service"!~"private"]'
        '["sidewalk"!~"separate"]["sidewalk:both"!~"separate"]'
        '["sidewalk:left"!~"separate"]["sidewalk:right"!~"separate"]'
    ),
    "bike": (
        f'["highway"]["area"!~"yes"]{_ACCESS}'
        '["highway"!~"abandoned|bus_guideway|construction|corridor|elevator|'
        "escalator|footway|motor|no|planned|platform|proposed|raceway|razed|"
        'rest_area|services|steps"]'
        '["bicycle"!~"no"]["service"!~"private"]'
    ),
    "drive": (
        f'["highway"]["area"!~"yes"]{_ACCESS}'
        '["highway"!~"abandoned|bridleway|bus_guideway|construction|corridor|'
        "cycleway|elevator|escalator|footway|no|path|pedestrian|planned|platform|"
        'proposed|raceway|razed|rest_area|service|services|steps|track"]'
        '["motor_vehicle"!~"no"]["motorcar"!~"no"]'
        '["service"!~"alley|driveway|emergency_access|parking|parking_aisle|private"]'
    ),
}


class NetworkMode(StrEnum):
    """A street network a build extracts and stores (``--modes``); osmnx's network type names."""

    WALK = "walk"
    BIKE = "bike"
    DRIVE = "drive"

    @property
    def travel_mode(self) -> Mode:
        """The travel mode that uses this network (``drive`` -> ``car``)."""
        return Mode.CAR if self is NetworkMode.DRIVE else Mode(self.value)

    @property
    def bidirectional(self) -> bool:
        """Whether every edge is stored in both directions (walk and bike)."""
        return not self.travel_mode.directed

    @property
    def osm_filter(self) -> str:
        """Overpass way filter (``["highway"]["area"!~"yes"]...``) selecting this network's ways."""
        return _OSM_FILTERS[self]


class Decay(StrEnum):
    """Decay function turning a distance into a 0-100 score (see :mod:`geo.access`)."""

    PLATEAU = "plateau"
    LOGISTIC = "logistic"
    LINEAR = "linear"
    EXPONENTIAL = "exponential"
    STEP = "step"


#: The decays rank bands cycle over (:func:`geo.sensitivity.rank_bands`).
SENSITIVITY_DECAYS: tuple[Decay, ...] = (Decay.PLATEAU, Decay.LOGISTIC, Decay.LINEAR)


class Measure(StrEnum):
    """What an indicator measures."""

    NEAREST = "nearest"  # distance to the nearest feature of its kinds, through a decay
    COUNT = "count"      # features reachable within a time budget, saturating at a target
    GRAVITY = "gravity"  # like count, each feature weighted by its decayed distance
    STAT = "stat"        # a municipal statistic from a table

    @property
    def uses_layer(self) -> bool:
        """Whether it reads features of a layer (all but ``stat``, which reads a table)."""
        return self is not Measure.STAT

    @property
    def reach(self) -> bool:
        """Whether it counts what is reachable within ``budget_min`` (count, gravity)."""
        return self in (Measure.COUNT, Measure.GRAVITY)


class Coverage(StrEnum):
    """How complete a source, a layer or the base data is."""

    COMPLETE = "complete"
    PARTIAL = "partial"
    MISSING = "missing"


class PlaceType(StrEnum):
    """Place type of a locality or a point, densest first (see :mod:`geo.placetypes`)."""

    TOWN = "town"
    SMALL_TOWN = "small_town"
    VILLAGE = "village"
    COUNTRYSIDE = "countryside"
    ARCHIPELAGO = "archipelago"


#: Population from which a locality is a town.
TOWN_MIN = 10_000
#: Population from which a locality is a small town.
SMALL_TOWN_MIN = 2_000
#: SCB's minimum population of a tätort (smaller named places are villages too).
VILLAGE_MIN = 200
#: People per hectare of footprint below which a locality drops one size class.
LOW_DENSITY_PER_HA = 4.0

#: The values as plain strings (for messages and argparse ``choices=``, whose error message shows
#: their ``repr``), in declaration order.
MODES: tuple[str, ...] = tuple(m.value for m in Mode)
NETWORK_MODES: tuple[str, ...] = tuple(m.value for m in NetworkMode)
DECAYS: tuple[str, ...] = tuple(m.value for m in Decay)
MEASURES: tuple[str, ...] = tuple(m.value for m in Measure)
PLACE_TYPES: tuple[str, ...] = tuple(m.value for m in PlaceType)
#: Every network name a store may hold, in the order modes fall back on them.
NETWORK_NAMES: tuple[str, ...] = tuple(dict.fromkeys(n for m in Mode for n in m.networks))


# -- maxspeed ------------------------------------------------------------------------------------
_MPH_KMH = 1.609344
_KNOT_KMH = 1.852
_SPEED_TOKEN = re.compile(r"(\d+(?:\.\d+)?)\s*(mph|knots|km/h|kmh|kph)?", re.IGNORECASE)


def _token_kmh(token: str) -> float:
    m = _SPEED_TOKEN.fullmatch(token.strip())
    if not m:
        return math.nan
    unit = (m.group(2) or "").lower()
    speed = float(m.group(1)) * (_MPH_KMH if unit == "mph" else _KNOT_KMH if unit == "knots"
                                 else 1.0)
    return speed if speed > 0 else math.nan


def parse_maxspeed(value: object) -> float:
    """An OSM ``maxspeed`` in km/h; NaN when it states no number (the caller's default applies).

    - numbers and numeric text: as they are (``"50"`` -> 50.0, ``" 90 "`` -> 90.0);
    - units: ``mph`` and ``knots`` converted (``"30 mph"`` -> 48.28), ``km/h`` accepted;
    - several values (``"50;70"``, lanes ``"80|60"``, lists from simplified edges): the **lower**
      one, the conservative choice (a car takes at least that long) and the one osmnx-simplified
      lists always got;
    - words (``"none"``, ``"signals"``, ``"walk"``, ``"SE:urban"``), ``""``, ``None``, NaN, booleans,
      0 and negative values: NaN, so the road's ``highway`` class speed is used. ``none`` (no limit)
      and ``signals`` (variable) state no speed to drive at, and ``walk`` (walking pace) only
      appears on living streets, whose class speed (15 km/h) is what a car does there.

    Examples
    --------
    >>> [parse_maxspeed(v) for v in ("50", "50;70", ["40", "60"], "none", None)]
    [50.0, 50.0, 40.0, nan, nan]
    """
    if isinstance(value, bool) or value is None:
        return math.nan
    if isinstance(value, int | float):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else math.nan
    if isinstance(value, str):
        parts = [_token_kmh(t) for t in re.split(r"[;|]", value)]
    elif isinstance(value, Iterable):  # list, tuple, numpy array of values
        parts = [parse_maxspeed(v) for v in value]
    else:
        try:  # numpy integers and the like
            return parse_maxspeed(float(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return math.nan
    known = [p for p in parts if not math.isnan(p)]
    return min(known) if known else math.nan
