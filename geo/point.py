"""Score any point of the region on the fly: a map click or a search hit that is not a locality.

A point is scored exactly as a grid cell is (:func:`geo.scoring.build_model`): every indicator of
the registry is computed by :func:`geo.access.compute_indicator` over a one-point
:class:`geo.access.DistanceEngine`, with the same layers, statuses, gaps, decay, tables and the
point's own place type and municipality; the themes and the composite come from
:func:`geo.scoring.capped_composites` (the code :func:`geo.scoring.score`'s kernel runs), the rows
of the explanation from the same helpers as :func:`geo.scoring.explain` of a cell. So a point at a
cell's centre gets that cell's scores.

Where the point is
------------------
- Its place type, locality and municipality are those of the grid cell holding it (the H3 cell at
  the model's resolution) when that cell is in the grid: the grid's own rules decide (a locality's
  footprint, attached housing). A point in no grid cell lies in the ``countryside``, in the
  municipality whose polygon holds it.
- A point in no grid cell and no municipality polygon is not scored: inside the region's bounding
  box it lies in the sea or beyond the county border (the store keeps no land outline that would
  tell the two apart), farther out it is outside the region; both raise
  :class:`geo.errors.RegionNotFoundError` with a message (``point_off_land``, ``point_outside``).
  The pack's municipality polygons (Valmyndigheten) include the inner coastal waters, so a point
  in a bay inside a municipality would be scored as countryside as if it were land.
- Possibly water: when the snapshot stores the known land (``Snapshot.land``: the packs'
  coast-clipped outlines, see ``geo.build._land``), a point outside it and outside every
  locality footprint (tätort outline or disc: central Karlskrona on Trossö, which the outline
  drops, is in Karlskrona's outline) is still scored, since it may be an island the outline
  leaves out, but :attr:`PointScore.caveats` carries ``point_maybe_water``. Farther out than
  every known feature of any layer (stops, schools, bathing places...) outside the land, plus
  :data:`WATER_MARGIN_M`, it is open water: refused with ``point_off_land`` like a point in no
  municipality (Blekinge: the farthest such feature, measured at index build and logged, sets
  the line). Without a stored land outline nothing changes.

Distances
---------
Without a street network: straight line x detour (the grid's rule, flagged approximate). Along a
network, one search from the point's node per mode (cost from the point to every node) replaces
the grid's multi-source search from the amenities: the same shortest paths, so the same
distances (summed in another order: equal to about 1e-9 m); when two amenities are exactly
equally near, either may be named (as for the grid).

Speed
-----
The first call on a model builds a :class:`PointIndex` (layers read once, graphs, municipality
polygons, the region's bounds) and keeps it on the model; every later call computes only the
point's own distances (about 0.2 s for the Blekinge pack's 18 indicators, see
``artifacts/point/timings.json``). :func:`geo.scoring.score` gives the percentiles (its kernel is
cached on the model too).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.sparse.csgraph import dijkstra

from layers.vocab import MODES, NETWORK_NAMES, Measure

from .access import (
    DETOUR,
    Amenities,
    DistanceEngine,
    IndicatorResult,
    Selection,
    compute_indicator,
    select_for,
)
from .errors import LimitError, RegionNotFoundError
from .messages import Message
from .network import StreetGraph, minutes, project_lonlat
from .placetypes import PlaceType
from .scoring import (
    Explanation,
    ExplanationRow,
    NearestPlace,
    ScoreModel,
    Scores,
    _indicator_rows,
    _layer_gaps,
    _named,
    _with_context,
    _with_meaning,
    capped_composites,
    complete_share,
    gap_places,
    resolve_weights,
    score,
)
from .settings import STORE_CRS, WORK_CRS
from .store import LayerStatus, Snapshot, open_region

if TYPE_CHECKING:  # imported where the index is built: the app's map page never needs scipy.spatial
    from scipy.spatial import cKDTree

__all__ = ["PointIndex", "PointNearest", "PointScore", "Trip", "point_index", "score_point"]

log = logging.getLogger(__name__)

_LOCK = threading.Lock()
#: The attribute of a :class:`ScoreModel` that keeps its :class:`PointIndex`.
_ATTR = "_point_index"


# -- results -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Trip:
    """The way to one amenity by one mode: cost in metres (car: metres-equivalent at 50 km/h),
    minutes, and whether the distance is straight line x detour (``approximate``)."""

    mode: str
    distance_m: float
    minutes: float
    approximate: bool


@dataclass(frozen=True)
class PointNearest:
    """The amenity nearest to the point for one indicator, with the way there by every mode.

    ``place`` is a :class:`geo.scoring.NearestPlace` (distance by the indicator's own mode,
    exactly as scored; ``known`` when the list is partial: "nearest known"). ``stated`` is False
    for a partial list's amenity beyond :attr:`geo.access.IndicatorResult.support_m`: the
    explanation row does not state that distance as a fact ("no known hospital within 40 km"), a
    reader should see it as "the nearest we know of; there may be a closer one". ``trips``: one
    :class:`Trip` per mode (walk, bike, car), the indicator's own mode being ``place``'s.
    """

    indicator: str
    theme: str
    place: NearestPlace
    stated: bool
    trips: tuple[Trip, ...]

    def trip(self, mode: str) -> Trip | None:
        """The trip by ``mode`` (None: not computed)."""
        return next((t for t in self.trips if t.mode == mode), None)


@dataclass(frozen=True)
class PointScore:
    """The score of one point, scored as a grid cell is (see the module notes).

    Attributes
    ----------
    lat, lon
        The point (WGS 84).
    h3, in_grid
        The H3 cell at the model's resolution holding the point, and whether it is a grid cell.
    locality, locality_name
        The locality of that cell (None / "" outside every locality).
    near_locality, near_locality_name, near_locality_m
        The nearest locality centre and its straight-line distance (for "2.1 km from Lyckeby").
    municipality, municipality_name, place_type
        Where the point is scored (see the module notes).
    composite, band, themes, stat_share, complete_share
        As :func:`geo.scoring.score` gives them for a cell (``band``: a
        :data:`geo.scoring.BANDS` key, None when unscored; ``themes``: theme key -> score).
    pct_cells, pct_places
        Percent (0-100) of the region's scored grid cells / localities with a lower composite
        (ties count half); NaN when the point is unscored.
    weights, persona, penalty
        The weighting.
    rows
        One :class:`geo.scoring.ExplanationRow` per indicator (the rows of a cell's explanation:
        score, distance, nearest named amenity, "nearest known" statements of partial lists,
        gaps, municipal statistics with their context).
    nearest
        :class:`PointNearest` per distance indicator with a nearest amenity, in registry order
        (also beyond a partial list's support, flagged ``stated=False``).
    approximate
        True when a computed distance is straight line x detour.
    explanation
        The same as a :class:`geo.scoring.Explanation` (``to_text`` for the CLI, a profile's
        renderer), its ``meaning`` the point's sentence (``point_meaning``).
    seconds
        Time this call took.
    caveats
        Messages to show first (``point_maybe_water``: outside the known land and every
        footprint, see the module notes).
    """

    lat: float
    lon: float
    h3: str
    in_grid: bool
    locality: str | None
    locality_name: str
    near_locality: str | None
    near_locality_name: str
    near_locality_m: float
    municipality: str
    municipality_name: str
    place_type: str
    composite: float
    band: str | None
    themes: dict[str, float]
    stat_share: float
    complete_share: float
    pct_cells: float
    pct_places: float
    weights: dict[str, float]
    persona: str | None
    penalty: bool
    rows: tuple[ExplanationRow, ...]
    nearest: tuple[PointNearest, ...]
    approximate: bool
    explanation: Explanation
    seconds: float
    caveats: tuple[Message, ...] = ()

    @property
    def meaning(self) -> Message | None:
        """The sentence of the score ("71, most errands on foot; better than 80% of ...")."""
        return self.explanation.meaning

    def row(self, key: str) -> ExplanationRow:
        """The row of indicator ``key`` (KeyError for an unknown key)."""
        return self.explanation.row(key)

    def nearest_of(self, key: str) -> PointNearest | None:
        """The named nearest amenity of indicator ``key`` (None: none named)."""
        return next((n for n in self.nearest if n.indicator == key), None)

    def indicator_scores(self) -> dict[str, float]:
        """Indicator key -> score (NaN: not computable here)."""
        return {r.key: r.score for r in self.rows}


# -- the index kept on the model -----------------------------------------------------------------
class _PointEngine(DistanceEngine):
    """A one-point :class:`DistanceEngine` sharing the index's graphs; along a network, the
    nearest amenity comes from one search from the point (see the module notes)."""

    def __init__(self, xy: np.ndarray, index: PointIndex) -> None:
        super().__init__(xy, None)
        self._graphs = dict(index.graphs)  # built once per model (None: straight line)
        self.notes = dict(index.notes)
        self._from: dict[str, np.ndarray] = {}

    def costs_from(self, mode: str) -> np.ndarray | None:
        """Cost from the point (its node plus its snap distance) to every node of ``mode``'s
        graph (None without a graph)."""
        g = self.graph(mode)
        if g is None:
            return None
        if mode not in self._from:
            node, snap = self._snap(mode, g)
            d = dijkstra(g.matrix, directed=True, indices=int(node[0]))
            self._from[mode] = np.asarray(d, dtype=float) + float(snap[0])
        return self._from[mode]

    def nearest(self, mode: str, amen: Amenities,
                subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`DistanceEngine.nearest` (one point)."""
        g = self.graph(mode)
        if g is None:
            return super().nearest(mode, amen, subset)
        xy, feat = amen.xy, amen.feature
        if subset is not None:
            xy, feat = xy[subset], feat[subset]
        if len(xy) == 0:
            return np.full(1, np.inf), np.full(1, -1, dtype=np.int64)
        cost = self.costs_from(mode)
        assert cost is not None
        anode, asnap = g.snap(xy[:, 0], xy[:, 1])
        tot = cost[anode] + asnap
        k = int(np.argmin(tot))
        dist = np.array([tot[k]])
        which = np.array([feat[k] if np.isfinite(tot[k]) else -1], dtype=np.int64)
        inside, ifeat = self._inside(amen)
        if subset is not None:
            inside &= np.isin(ifeat, np.unique(feat))
        return np.where(inside, 0.0, dist), np.where(inside, ifeat, which)


@dataclass
class PointIndex:
    """What every point of one model needs, read from its snapshot once.

    ``layers`` (layer key -> features as stored), ``status`` and ``gaps`` per layer, ``tables``
    per statistics table, ``graphs`` / ``notes`` per travel mode (None: straight line),
    ``features`` (layer key -> features in the work CRS indexed by ``uid``, for the trips),
    ``munis`` (municipality polygons, EPSG:4326) and the region's ``bounds``
    (west, south, east, north), ``loc_tree`` (locality centres in the work CRS),
    ``selections`` (indicator key -> its :func:`geo.access.select_for`, the same for every point)
    and ``stats`` (``(indicator key, municipality)`` -> the statistic's one-point result: a
    statistic depends only on the municipality).
    """

    layers: dict[str, gpd.GeoDataFrame]
    status: dict[str, LayerStatus]
    gaps: dict[str, list[str]]
    tables: dict[str, pd.DataFrame | None]
    graphs: dict[str, StreetGraph | None]
    notes: dict[str, Message]
    features: dict[str, gpd.GeoSeries]
    munis: gpd.GeoDataFrame
    munis_tree: shapely.STRtree
    bounds: tuple[float, float, float, float]
    loc_tree: cKDTree
    selections: dict[str, Selection] = field(default_factory=dict)
    stats: dict[tuple[str, str], IndicatorResult] = field(default_factory=dict)
    build_seconds: float = 0.0
    #: The known land united with every footprint (EPSG:4326), None without a stored land outline.
    known: shapely.Geometry | None = None

    #: The known land and footprints in the work CRS (for distances), None without land.
    known_metric: shapely.Geometry | None = None
    #: Open water begins this far (m) from the known land and footprints: 1 km beyond the
    #: farthest known feature of any layer (a stop, a school, a bathing place) outside them.
    water_m: float = math.inf

    def maybe_water(self, lon: float, lat: float) -> bool:
        """True when the point lies outside the known land and every footprint (see the notes)."""
        return self.known is not None and not shapely.intersects_xy(self.known, lon, lat)

    def open_water(self, lon: float, lat: float) -> bool:
        """True when the point lies farther from the known land and footprints than any known
        feature, plus 1 km (see the notes): no data says anything is there."""
        if self.known_metric is None or not self.maybe_water(lon, lat):
            return False
        x, y = project_lonlat(np.array([lon]), np.array([lat]))[0]
        return float(shapely.distance(shapely.Point(x, y), self.known_metric)) > self.water_m

    @classmethod
    def of(cls, model: ScoreModel, snapshot: Snapshot) -> PointIndex:
        """Read what ``model``'s points need from ``snapshot`` (the one the model was built from)."""
        t0 = time.perf_counter()
        layers: dict[str, gpd.GeoDataFrame] = {}
        tables: dict[str, pd.DataFrame | None] = {}
        for ind in model.indicators:
            if Measure(ind.measure).uses_layer:
                if ind.layer not in layers:
                    layers[ind.layer] = snapshot.layer(ind.layer)
            elif ind.table and ind.table not in tables:
                tables[ind.table] = snapshot.table(ind.table)
        probe = DistanceEngine(np.zeros((0, 2)), {m: snapshot.network(m) for m in NETWORK_NAMES})
        graphs = {m: probe.graph(m) for m in MODES}
        features = {}
        for key, lay in layers.items():
            if len(lay) and "uid" in lay:
                metric = lay.to_crs(WORK_CRS)
                features[key] = gpd.GeoSeries(metric.geometry.to_numpy(), crs=WORK_CRS,
                                              index=metric["uid"].astype(str).to_numpy())
        munis = snapshot.municipalities()
        if len(munis):
            munis = munis.to_crs(STORE_CRS).reset_index(drop=True)
            munis = munis[munis.geometry.notna() & ~munis.geometry.is_empty].reset_index(drop=True)
        parts = [b for b in (munis, snapshot.boundary()) if b is not None and len(b)]
        if parts:
            bb = np.array([b.to_crs(STORE_CRS).total_bounds for b in parts])
            bounds = (float(bb[:, 0].min()), float(bb[:, 1].min()), float(bb[:, 2].max()),
                      float(bb[:, 3].max()))
        else:
            c = model.cells
            bounds = (float(c["lon"].min()), float(c["lat"].min()), float(c["lon"].max()),
                      float(c["lat"].max()))
        from scipy.spatial import cKDTree

        L = model.localities
        loc_xy = project_lonlat(L["lon"].to_numpy(dtype=float), L["lat"].to_numpy(dtype=float))
        status = {k: snapshot.layer_status(k) for k in layers}
        gaps = {k: _layer_gaps(snapshot, k) for k in layers}
        places = gap_places(snapshot)
        selections = {ind.key: select_for(ind, layers[ind.layer], status[ind.layer],
                                          gaps[ind.layer], places)
                      for ind in model.indicators if Measure(ind.measure).uses_layer}
        return cls(layers, status, gaps, tables, graphs, dict(probe.notes), features, munis,
                   shapely.STRtree(munis.geometry.to_numpy() if len(munis) else []),
                   bounds, cKDTree(loc_xy), selections, _stats(model, tables, munis),
                   time.perf_counter() - t0, *_water(_known(snapshot), features))

    def municipality_at(self, lon: float, lat: float) -> str | None:
        """Code of the municipality polygon holding the point (first listed), or None."""
        if not len(self.munis) or "code" not in self.munis:
            return None
        hit = self.munis_tree.query(shapely.Point(lon, lat), predicate="within")
        return str(self.munis["code"].iloc[int(np.min(hit))]) if len(hit) else None


def _known(snapshot: Snapshot) -> shapely.Geometry | None:
    """The snapshot's known land united with its footprints (EPSG:4326), prepared; None without
    a stored land outline."""
    land = snapshot.land() if hasattr(snapshot, "land") else None
    if land is None or not len(land):
        return None
    parts = [land.to_crs(STORE_CRS).geometry]
    fp = snapshot.footprints()
    if fp is not None and len(fp):
        parts.append(fp.to_crs(STORE_CRS).geometry)
    geoms = [g for p in parts for g in p.to_numpy() if g is not None and not g.is_empty]
    known = shapely.union_all(geoms)
    shapely.prepare(known)
    return known


#: How far beyond the farthest known offshore feature open water begins (m).
WATER_MARGIN_M = 1000.0


def _water(known: shapely.Geometry | None, features: dict[str, gpd.GeoSeries]
           ) -> tuple[shapely.Geometry | None, shapely.Geometry | None, float]:
    """``known``, the same in the work CRS, and where open water begins (m from it: the farthest
    feature of any layer outside it + :data:`WATER_MARGIN_M`); ``(None, None, inf)`` without."""
    if known is None:
        return None, None, math.inf
    metric = gpd.GeoSeries([known], crs=STORE_CRS).to_crs(WORK_CRS).iloc[0]
    shapely.prepare(metric)
    pts = [g.representative_point().to_numpy() for g in features.values() if len(g)]
    far = 0.0
    if pts:
        d = shapely.distance(np.concatenate(pts), metric)
        d = d[np.isfinite(d)]
        far = float(d.max()) if len(d) else 0.0
    log.info("open water begins %.0f m from the known land (farthest known feature %.0f m)",
             far + WATER_MARGIN_M, far)
    return known, metric, far + WATER_MARGIN_M


def _stats(model: ScoreModel, tables: dict[str, pd.DataFrame | None],
           munis: gpd.GeoDataFrame) -> dict[tuple[str, str], IndicatorResult]:
    """Every statistic's one-point result per municipality of the region.

    Computed over all the region's municipalities at once, as the grid computes it over its
    cells, so its notes (municipalities the table lacks) and a municipality without a value
    (NaN, not a missing indicator) are the grid's.
    """
    codes = set(model.cells["municipality"].dropna().astype(str))
    codes |= set(model.localities["municipality"].dropna().astype(str))
    if "code" in munis:
        codes |= set(munis["code"].astype(str))
    order = np.array(sorted(codes), dtype=object)
    engine = DistanceEngine(np.zeros((len(order), 2)))
    out: dict[tuple[str, str], IndicatorResult] = {}
    for ind in model.indicators:
        if Measure(ind.measure).uses_layer:
            continue
        res = compute_indicator(ind, engine, table=tables.get(ind.table or ""),
                                municipalities=order, decay=model.decay)
        for i, code in enumerate(order.tolist()):
            out[(ind.key, str(code))] = replace(res, raw=res.raw[i:i + 1],
                                                score=res.score[i:i + 1],
                                                nearest=res.nearest[i:i + 1])
    return out


def point_index(model: ScoreModel, snapshot: Snapshot | None = None) -> PointIndex:
    """The :class:`PointIndex` of ``model``, built on first use and kept on the model.

    Parameters
    ----------
    model
        From :func:`geo.scoring.build_model`.
    snapshot
        The snapshot the model was built from; None: the model's region is opened from the
        configured data folder (:func:`geo.store.open_region`: also a county stored as a view of a
        larger snapshot).
    """
    idx = getattr(model, _ATTR, None)
    if isinstance(idx, PointIndex):
        return idx
    with _LOCK:
        idx = getattr(model, _ATTR, None)
        if not isinstance(idx, PointIndex):
            snap = snapshot if snapshot is not None else open_region(model.region)
            idx = PointIndex.of(model, snap)
            setattr(model, _ATTR, idx)
            log.info("point index for %s built in %.2f s", model.region, idx.build_seconds)
    return idx


# -- where the point is --------------------------------------------------------------------------
@dataclass(frozen=True)
class _Where:
    h3: str
    in_grid: bool
    locality: str | None
    municipality: str
    place_type: str


def _check_coordinates(lat: object, lon: object) -> tuple[float, float]:
    """``(lat, lon)`` as floats on Earth, else :class:`LimitError`."""
    try:
        la, lo = float(lat), float(lon)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        la = lo = float("nan")
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise LimitError(message=Message("point_invalid", {"lat": str(lat)[:30],
                                                           "lon": str(lon)[:30]}))
    return la, lo


def _locate(model: ScoreModel, idx: PointIndex, lat: float, lon: float) -> _Where:
    """The point's cell, locality, municipality and place type (see the module notes)."""
    cell = h3.latlng_to_cell(lat, lon, model.resolution)
    C = model.cells
    if cell in C.index:
        loc = C.at[cell, "locality"]
        loc = None if loc is None or loc != loc else str(loc)
        return _Where(cell, True, loc, str(C.at[cell, "municipality"]),
                      str(C.at[cell, "place_type"]))
    muni = idx.municipality_at(lon, lat)
    if muni is None or idx.open_water(lon, lat):
        west, south, east, north = idx.bounds
        params: dict[str, object] = {"lat": lat, "lon": lon, "region": model.region_name}
        if west <= lon <= east and south <= lat <= north:
            raise RegionNotFoundError(message=Message("point_off_land", params))
        raise RegionNotFoundError(message=Message("point_outside", params | {
            "south": south, "north": north, "west": west, "east": east}))
    return _Where(cell, False, None, muni, PlaceType.COUNTRYSIDE.value)


# -- scoring -------------------------------------------------------------------------------------
def _results(model: ScoreModel, idx: PointIndex, engine: DistanceEngine,
             where: _Where) -> dict[str, IndicatorResult]:
    """Every indicator at the point, computed as :func:`geo.scoring.build_model` does."""
    out: dict[str, IndicatorResult] = {}
    munis = np.array([where.municipality], dtype=object)
    ptypes = np.array([where.place_type], dtype=object)
    for ind in model.indicators:
        if not Measure(ind.measure).uses_layer:  # one value per municipality: computed once
            key = (ind.key, where.municipality)
            if key not in idx.stats:  # a municipality without cells or polygon (not expected)
                idx.stats[key] = compute_indicator(ind, engine,
                                                   table=idx.tables.get(ind.table or ""),
                                                   municipalities=munis, decay=model.decay)
            out[ind.key] = idx.stats[key]
        else:
            out[ind.key] = compute_indicator(ind, engine, layer=idx.layers[ind.layer],
                                             layer_status=idx.status[ind.layer],
                                             decay=model.decay, gaps=idx.gaps[ind.layer],
                                             place_types=ptypes,
                                             selection=idx.selections[ind.key])
    return out


def _share_below(values: np.ndarray, x: float) -> float:
    """Percent of ``values`` (NaN left out) below ``x``, ties counting half; NaN when none."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    if not len(v) or not np.isfinite(x):
        return float("nan")
    return float(100.0 * ((v < x).sum() + 0.5 * (v == x).sum()) / len(v))


def _trips(engine: _PointEngine, idx: PointIndex, res: IndicatorResult, place: NearestPlace,
           theme: str, xy: np.ndarray) -> tuple[Trip, ...]:
    """The way to ``place`` by every mode (the indicator's own mode: as scored)."""
    geom = idx.features.get(theme, gpd.GeoSeries(dtype=object)).get(place.uid)
    pt = shapely.Point(float(xy[0, 0]), float(xy[0, 1]))
    out = []
    for mode in MODES:
        if mode == res.mode:
            out.append(Trip(mode, place.distance_m, place.minutes, res.approximate))
            continue
        if geom is None:
            continue
        cost = engine.costs_from(mode)
        g = engine.graph(mode)
        if cost is None or g is None:
            d = float(geom.distance(pt)) * DETOUR[mode]
        else:
            rp = geom.representative_point() if geom.geom_type != "Point" else geom
            node, snap = g.snap(np.array([rp.x]), np.array([rp.y]))
            d = 0.0 if geom.geom_type != "Point" and geom.contains(pt) else \
                float(cost[int(node[0])] + snap[0])
        out.append(Trip(mode, d, float(minutes(d, mode)), cost is None))
    return tuple(out)


def _nearest(engine: _PointEngine, idx: PointIndex, model: ScoreModel,
             results: dict[str, IndicatorResult], xy: np.ndarray) -> tuple[PointNearest, ...]:
    """The nearest amenity of every distance indicator that has one, with its trips."""
    out = []
    for ind in model.indicators:
        res = results[ind.key]
        if res.missing or res.measure != Measure.NEAREST or not len(res.nearest):
            continue
        feat, dist = int(res.nearest[0]), float(res.raw[0])
        if feat < 0 or not np.isfinite(dist):
            continue
        place = _named(res, feat, dist, 1.0, ind.mode, model.doubtful)
        out.append(PointNearest(ind.key, ind.layer, place, res.complete or dist <= res.support_m,
                                _trips(engine, idx, res, place, ind.layer, xy)))
    return tuple(out)


def score_point(model: ScoreModel, lat: float, lon: float,
                weights: dict[str, float] | Scores | None = None, *, persona: str | None = None,
                penalty: bool = False, snapshot: Snapshot | None = None) -> PointScore:
    """Score the point ``(lat, lon)`` as a grid cell is scored (see the module notes).

    Parameters
    ----------
    model
        From :func:`geo.scoring.build_model`.
    lat, lon
        The point, WGS 84 degrees.
    weights
        Theme weights (they update the persona's or the default ones, as for
        :func:`geo.scoring.score`), or a :class:`geo.scoring.Scores` whose weighting (weights,
        persona, penalty) is taken.
    persona, penalty
        As for :func:`geo.scoring.score` (ignored when ``weights`` is a Scores).
    snapshot
        The snapshot the model was built from, needed by the first call on a model
        (:func:`point_index`); None: opened from the configured data folder.

    Returns
    -------
    PointScore

    Raises
    ------
    LimitError
        For coordinates that are not a point on Earth, or bad weights.
    RegionNotFoundError
        For a point not on land in the region (in the sea, beyond the border, far outside);
        the message says so and asks for a click on land inside the region.
    """
    t0 = time.perf_counter()
    lat, lon = _check_coordinates(lat, lon)
    idx = point_index(model, snapshot)
    where = _locate(model, idx, lat, lon)
    if isinstance(weights, Scores):
        scores = weights
        tw = np.array([scores.weights[t] for t in model.themes], dtype=float)
        persona, penalty = scores.persona, scores.penalty
    else:
        tw = resolve_weights(model.themes, weights, persona)
        scores = score(model, dict(zip(model.themes, tw.tolist(), strict=True)), penalty=penalty)
        scores.persona = persona
    xy = project_lonlat(np.array([lon]), np.array([lat]))
    engine = _PointEngine(xy, idx)
    results = _results(model, idx, engine, where)
    ind = np.array([[float(results[k].score[0]) for k in model.ind_keys]])
    tm = model.theme_matrix
    themes, comp, share = capped_composites(ind, tm, tw[None, :], stat_mask=model.ind_stat,
                                            penalty=penalty)
    done = float(complete_share(ind, tm, tw, model.ind_complete)[0])
    composite = float(comp[0, 0])
    here = replace(model, results=results)
    rows, context = _with_context(here, _indicator_rows(here, np.array([0]), np.ones(1), ind[0]),
                                  where.municipality)
    L = model.localities
    near_m, near_i = idx.loc_tree.query(xy[0]) if len(L) else (float("nan"), -1)
    near = str(L.index[int(near_i)]) if len(L) else None
    lname = str(L.at[where.locality, "name"]) if where.locality in L.index else ""
    mname = model.municipality_names.get(where.municipality, "")
    pct_cells = _share_below(scores.cells["composite"].to_numpy(dtype=float), composite)
    pct_places = _share_below(scores.localities["composite"].to_numpy(dtype=float), composite)
    theme_scores = {t: float(themes[0, k]) for k, t in enumerate(model.themes)}
    e = _with_meaning(model, scores, where.place_type, None, Explanation(
        code=where.h3, name=f"{lat:.4f}, {lon:.4f}", municipality=where.municipality,
        municipality_name=mname, population=0.0, composite=composite, rank=float("nan"),
        n_ranked=int(scores.localities["rank"].notna().sum()), n_cells=1, themes=theme_scores,
        indicators=rows, weights=dict(zip(model.themes, tw.tolist(), strict=True)),
        approximate=any(r.approximate for r in rows if not r.missing), persona=persona,
        penalty=penalty, complete_share=done, stat_share=float(share[0, 0]), context=context))
    if e.band is not None and np.isfinite(pct_places) and np.isfinite(pct_cells):
        e.meaning = Message("point_meaning", {
            "score": composite, "band": e.band, "place_type": where.place_type,
            "pct_places": pct_places, "pct_cells": pct_cells, "region": model.region_name})
    nearest = _nearest(engine, idx, model, results, xy)
    return PointScore(
        lat=lat, lon=lon, h3=where.h3, in_grid=where.in_grid, locality=where.locality,
        locality_name=lname, near_locality=near,
        near_locality_name=str(L.at[near, "name"]) if near is not None else "",
        near_locality_m=float(near_m), municipality=where.municipality, municipality_name=mname,
        place_type=where.place_type, composite=composite, band=e.band, themes=theme_scores,
        stat_share=e.stat_share, complete_share=done, pct_cells=pct_cells,
        pct_places=pct_places, weights=e.weights, persona=persona, penalty=penalty,
        rows=tuple(rows), nearest=nearest, approximate=e.approximate, explanation=e,
        seconds=time.perf_counter() - t0,
        caveats=(Message("point_maybe_water"),) if idx.maybe_water(lon, lat) else ())

