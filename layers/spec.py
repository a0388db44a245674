"""Declarative layer and indicator specs (frozen dataclasses validated at construction)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from .vocab import DECAYS, MEASURES, MODES, PLACE_TYPES, Decay, Measure, Mode, PlaceType

__all__ = ["DECAYS", "MEASURES", "MODES", "PLACE_TYPES", "Indicator", "LayerSpec", "OsmRule",
           "by_place_type"]

Thresholds = tuple[tuple[str, float], ...]


def by_place_type(small_town: float, village: float, countryside: float,
                  archipelago: float | None = None) -> Thresholds:
    """Per-place-type standards of an indicator beyond its town standard ``threshold_m``.

    ``archipelago`` defaults to the countryside standard (islands without a fixed road link have
    at most countryside service levels).

    >>> by_place_type(600, 800, 1500) == (("small_town", 600), ("village", 800),
    ...                                   ("countryside", 1500), ("archipelago", 1500))
    True
    """
    arch = countryside if archipelago is None else archipelago
    return ((PlaceType.SMALL_TOWN, small_town), (PlaceType.VILLAGE, village),
            (PlaceType.COUNTRYSIDE, countryside), (PlaceType.ARCHIPELAGO, arch))


@dataclass(frozen=True)
class Indicator:
    """One 0-100 indicator of a theme.

    Parameters
    ----------
    key
        Unique within the registry, ``<layer>.<name>`` by convention (``transit.rail``). Its
        label is the catalogue's ``indicator.<key>`` (:func:`geo.catalog.indicator_title`).
    measure
        A :class:`layers.vocab.Measure` (or its string; stored as the member).
        ``nearest``: distance to the nearest feature of ``kinds`` through ``decay``;
        ``count``: number of features of ``kinds`` reachable within ``budget_min`` by ``mode``,
        saturating at ``target_count``; ``gravity``: sum of decayed opportunities; ``stat``: a
        municipal statistic from ``table``/``column``, normalised across the places compared.
    kinds
        Feature kinds (the ``kind`` column) that count as this amenity.
    mode
        Travel mode, a :class:`layers.vocab.Mode` (or its string): ``walk`` (4.8 km/h), ``bike``
        (15 km/h) or ``car``.
    threshold_m
        The standard t in a town: the distance within which the need counts as met. With the
        default ``plateau`` decay the score is 100 up to t and 50 at 1.5 t; with ``logistic``
        (GHSCI soft threshold, k=5) and ``exponential`` t is the distance scoring 50.
    thresholds
        Standards for the other place types (``(place_type, metres)`` pairs, see
        :func:`by_place_type` and :mod:`geo.placetypes`); a type not listed uses ``threshold_m``.
        They may not shrink from town to small town to village to countryside.
    max_m
        Distance at which the linear decay reaches 0 in a town (default 3 t; scaled with t for
        the other place types).
    decay
        Default decay function, a :class:`layers.vocab.Decay` (``plateau``, ``logistic``,
        ``linear``, ``exponential``, ``step``).
    budget_min, target_count
        For ``count``/``gravity``: time budget and the count giving 100.
    table, column, higher_is_better
        For ``stat``: table name in the store, column, direction.
    min_area_ha
        For polygon amenities (green space): only features at least this large count.
    weight
        Weight of the indicator inside its theme.
    log_scale
        For ``stat``: standardise the logarithms (right-skewed statistics: prices, incomes).
    unit
        For ``stat``: the unit of ``column`` (a :func:`geo.messages.fmt_value` code: ``percent``,
        ``ksek``, ``sek_m2_year`` ...).
    """

    key: str
    measure: Measure = Measure.NEAREST
    kinds: tuple[str, ...] = ()
    mode: Mode = Mode.WALK
    threshold_m: float = 500.0
    thresholds: Thresholds = ()
    max_m: float | None = None
    decay: Decay = Decay.PLATEAU
    budget_min: float | None = None
    target_count: float | None = None
    table: str | None = None
    column: str | None = None
    higher_is_better: bool = True
    min_area_ha: float | None = None
    weight: float = 1.0
    log_scale: bool = False
    unit: str = ""

    def __post_init__(self) -> None:
        # typed as the members; a string (tests, callers building specs from text) becomes
        # its member here, a value outside the vocabulary fails naming the known ones
        for name, enum, known in (("measure", Measure, MEASURES), ("mode", Mode, MODES),
                                  ("decay", Decay, DECAYS)):
            value = getattr(self, name)
            if value not in known:
                raise ValueError(f"indicator {self.key}: {name} {value!r} not in {known}")
            object.__setattr__(self, name, enum(value))
        if self.measure == Measure.STAT:
            if not (self.table and self.column):
                raise ValueError(f"indicator {self.key}: a stat indicator needs table and column")
        elif not self.kinds:
            raise ValueError(f"indicator {self.key}: a {self.measure} indicator needs kinds")
        if self.measure.reach and not (self.budget_min and self.target_count):
            raise ValueError(f"indicator {self.key}: {self.measure} needs budget_min and target_count")
        if self.threshold_m <= 0 or self.weight < 0:
            raise ValueError(f"indicator {self.key}: threshold_m must be > 0 and weight >= 0")
        self._check_thresholds()

    def _check_thresholds(self) -> None:
        per = dict(self.thresholds)
        unknown = set(per) - set(PLACE_TYPES)
        if unknown:
            raise ValueError(f"indicator {self.key}: unknown place types {sorted(unknown)}; "
                             f"known: {', '.join(PLACE_TYPES)}")
        chain = [self.threshold_for(t) for t in PLACE_TYPES[:4]]  # archipelago: no order
        if any(b < a for a, b in pairwise(chain)) or min(per.values(), default=1) <= 0:
            raise ValueError(f"indicator {self.key}: thresholds must be > 0 and not shrink from "
                             f"town to countryside (got {chain})")

    def threshold_for(self, place_type: str | None) -> float:
        """The standard (m) for ``place_type``; the town standard for unknown or missing types."""
        return float(dict(self.thresholds).get(str(place_type), self.threshold_m))

    @property
    def layer(self) -> str:
        """The layer key (the part before the dot)."""
        return self.key.split(".", 1)[0]


@dataclass(frozen=True)
class OsmRule:
    """``key=value`` OSM tag (value ``*`` for any) mapped to a feature kind."""

    key: str
    value: str
    kind: str


@dataclass(frozen=True)
class LayerSpec:
    """A theme layer: what feeds it and how it is scored.

    Parameters
    ----------
    key
        Registry key (``schools``). Its label and description are the catalogue's
        ``layer.<key>`` and ``layer.<key>.description`` (:func:`geo.catalog.layer_title`).
    osm
        OSM tag rules; the first rule that matches a feature gives its kind.
    pack_kind_hints
        ``(substring of the pack file path, kind)`` pairs used when a pack file states no kind.
    name_kinds
        ``(kind, regular expression, new kind)`` rules for a pack file whose kind comes from
        :attr:`pack_kind_hints`: a feature of ``kind`` whose name matches the expression (searched,
        case-insensitive) gets ``new kind``. For a source whose one list holds several kinds told
        apart only by name: Skolverket's school units list "Fischerströmska gymnasiet" (an
        upper-secondary school) beside the compulsory schools.
    indicators
        The theme's indicators.
    default_weight
        Theme weight in the default (balanced) composite.
    color
        Marker colour on the map (a colour-blind-safe palette entry).
    icon
        Short symbol for legends.
    residential
        The layer of homes: the grid weights its cells by these features (:mod:`geo.grid`) and
        OSM building polygons of it become points carrying their footprint area.
    home_kinds
        For the ``residential`` layer: the kinds that mark where people live (the grid counts
        them per cell); required there, and only there, and each a kind the layer produces.
    departures
        Its features' ``value`` is departures per hour (GTFS): nearest indicators score each
        stop by its frequency class (:data:`geo.access.DEPARTURE_CLASSES`).
    named_after_area
        Its features are named after the place they serve or belong to, not where they are (a
        stop area "Ronneby flygplats" lies in Kallinge, a reserve "Ronneby blåmusslebankar" at
        sea): a name giving a locality the feature lies far outside raises no doubt about its
        position (:func:`geo.scoring.doubtful_positions`).
    """

    key: str
    osm: tuple[OsmRule, ...] = ()
    pack_kind_hints: tuple[tuple[str, str], ...] = ()
    name_kinds: tuple[tuple[str, str, str], ...] = ()
    indicators: tuple[Indicator, ...] = ()
    default_weight: float = 1.0
    color: str = "#444444"
    icon: str = "•"
    residential: bool = False
    home_kinds: tuple[str, ...] = ()
    departures: bool = False
    named_after_area: bool = False

    def __post_init__(self) -> None:
        if not self.key.isidentifier():
            raise ValueError(f"layer key {self.key!r} must be an identifier")
        for ind in self.indicators:
            if ind.layer != self.key:
                raise ValueError(f"indicator {ind.key!r} must start with '{self.key}.'")
        keys = [i.key for i in self.indicators]
        if len(keys) != len(set(keys)):
            raise ValueError(f"layer {self.key}: duplicate indicator keys")
        self._check_home_kinds()

    def _check_home_kinds(self) -> None:
        if self.residential != bool(self.home_kinds):
            raise ValueError(f"layer {self.key}: home_kinds are declared with residential=True, "
                             "and only there")
        produced = ({r.kind for r in self.osm} | {k for _, k in self.pack_kind_hints}
                    | {k for *_, k in self.name_kinds} | {self.key})
        unknown = sorted(set(self.home_kinds) - produced)
        if unknown:
            raise ValueError(f"layer {self.key}: home_kinds {unknown} are no kind of its OSM "
                             f"rules or pack hints ({', '.join(sorted(produced))})")

    @property
    def osm_tags(self) -> dict[str, bool | list[str]]:
        """The tags dict osmnx's ``features_*`` functions take."""
        tags: dict[str, bool | list[str]] = {}
        for r in self.osm:
            if r.value == "*":
                tags[r.key] = True
            elif tags.get(r.key) is not True:
                vals = tags.setdefault(r.key, [])
                assert isinstance(vals, list)
                if r.value not in vals:
                    vals.append(r.value)
        return tags

    def kind_for_tags(self, tags: dict[str, object]) -> str | None:
        """Return the kind of the first rule matching ``tags`` (a feature's OSM tags), else None."""
        for r in self.osm:
            v = tags.get(r.key)
            if v is None or (isinstance(v, float) and v != v):
                continue
            if r.value == "*" or str(v) == r.value:
                return r.kind
        return None

    def kind_for_pack_file(self, path: str) -> str:
        """Kind for a pack file that states none, from :attr:`pack_kind_hints`, else the layer key."""
        low = path.lower()
        for hint, kind in self.pack_kind_hints:
            if hint in low:
                return kind
        return self.key

    def kind_for_name(self, kind: str, name: object) -> str:
        """``kind`` of a pack feature called ``name``, after :attr:`name_kinds` (see there)."""
        if isinstance(name, str):
            for old, pattern, new in self.name_kinds:
                if old == kind and re.search(pattern, name, flags=re.IGNORECASE):
                    return new
        return kind
