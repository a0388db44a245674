"""Accessibility indicators: distances per travel mode, decay functions, counts and statistics.

Every indicator of the layer registry becomes an :class:`IndicatorResult` over a set of points (the
grid cells and the locality centres): a raw value (distance in metres, a count, a statistic), a
0-100 score, the nearest named amenity, and flags (``approximate``, ``partial``, ``missing``).

Distances
---------
Along the stored street network of the mode when there is one (``walk``; ``bike`` falls back to the
walking network, ``car`` uses ``drive``), as multi-source shortest paths from all amenities at once
(:class:`geo.network.StreetGraph`), with points and amenities snapped to their nearest node and the
snap distances added. Without a network: straight-line distance times :data:`DETOUR` (1.3 on foot
and by bike, 1.4 by car; typical network/Euclidean ratios in Swedish towns and the countryside),
and the result is flagged ``approximate``. Car costs are metres-equivalent at 50 km/h.

Polygon amenities (parks, reserves, industrial land) are represented by points along their outline
(every :data:`OUTLINE_STEP_M`, at most 200 per polygon) plus their centroid, so the distance is the
distance to the nearest edge of the area; points inside the polygon get distance 0. Counts use one
point per feature (its representative point).

Scores
------
Nearest measures go through a decay function of :data:`DECAYS` (a dispatch table): ``plateau``
(the default: 100 up to the standard ``t``, then ``200 / (1 + exp(k (d - t) / t))`` with
k = 2 ln 3: 50 at 1.5 t, 20 at 2 t, 2.4 at 3 t), ``logistic`` (GHSCI soft threshold, 50 at ``t``,
k = 5), ``linear`` (100 at 0, 0 at ``max_m``, default 3 t),
``exponential`` (50 at ``t``), ``step`` (100 within ``t``). Unreachable amenities score 0 (not
missing). Count measures: ``100 * min(1, n / target_count)`` with ``n`` the features reachable within
the time budget; gravity: the same with decayed counts. Transit features that carry ``value``
(departures per hour, from GTFS) are scored by frequency class: the best of
``factor(class) * decay(distance to the nearest stop of that class)`` (:data:`DEPARTURE_CLASSES`).
Statistics are standardised against every municipality of their table, as AARP's index does ("the
average place scores 50"): ``50 + STAT_Z_POINTS * z`` clipped to 0-100, with ``z`` the standard score
against the mean and standard deviation over ALL rows of the table (sign flipped where lower is
better), not only the region's municipalities. The pack's Kolada and SCB tables hold all 290
municipalities, so 50 is the average Swedish municipality; a table with at least
:data:`NATIONAL_MIN_MUNICIPALITIES` municipalities counts as national and its median is shown as the
national median. Tables that hold only the county's municipalities (rent, Skolverket's grade 6 and
teacher exports) cannot be compared nationally: they keep this standardisation over their own rows
and are labelled "compared within <county> only". Right-skewed statistics (house prices, incomes,
unemployment: skewness 1.1-2.1 over the 290 municipalities, 0.1-1.4 on a log scale) set
``log_scale`` and are standardised on log values, so the municipality at the geometric mean scores 50
and a few metropolitan municipalities do not squeeze the rest of the country together. Min-max
scaling would put two of five municipalities at 0 and 100 however small their difference. A
municipality the table has no value for stays NaN (never zero, never the average). A table with a
single value scores 50.

Partial data
------------
A layer or a source marked ``partial`` lists only some of the amenities that exist. An indicator is
*partial* when one of its kinds has no feature from a source marked complete, when the data pack's
``not_available_offline`` names one of its kinds (:func:`kind_gaps`: "Blekingesjukhuset Karlskrona
(hospital)"), or when its layer is partial for a reason that names no kind or source. On a partial
list the known nearest distance is an *upper* bound of the true one, so the known score is a *lower*
bound of the true score. It enters the composite as it is, with its full weight: the composite is
then a lower bound too, and removing features can only lower a place's scores, never raise them. A
confidence weight (partial indicators counting, say, half) was rejected: it would raise the theme of
every place where the partial indicator scores below the theme's others, i.e. the places hurt most
by the gap would gain from it. Instead the explanation says "nearest known", names the gap, and
beyond :data:`PARTIAL_SUPPORT` x the indicator's threshold (where the decay is below 1 point and the
data no longer tells "far" from "not listed") it does not state the distance at all ("no known
hospital within 40 km"). :attr:`IndicatorResult.complete` feeds each place's ``complete_share``
(:func:`geo.scoring.score`). An indicator with no known feature at all stays *missing* (left out).

Standards per place type: ``t`` is looked up per point (:meth:`layers.Indicator.threshold_for`
of the point's place type, :mod:`geo.placetypes`) when ``compute_indicator`` gets
``place_types``; the result keeps the per-point standards in ``thresholds``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import MultiPolygon

from layers import LAYERS, Indicator
from layers.vocab import Coverage, Decay, Measure, Mode

from .errors import LivabilityError
from .gapbounds import GapBound, bound_distances, gap_bounds
from .messages import NAMED_KINDS, Message, join, kind_name
from .network import StreetGraph
from .settings import WORK_CRS
from .store import LayerStatus

__all__ = [
    "DECAYS",
    "DEPARTURE_CLASSES",
    "DETOUR",
    "NATIONAL_MIN_MUNICIPALITIES",
    "OUTLINE_STEP_M",
    "PARTIAL_SUPPORT",
    "STAT_Z_POINTS",
    "Amenities",
    "DistanceEngine",
    "IndicatorResult",
    "Selection",
    "StatReference",
    "compute_indicator",
    "decay_score",
    "kind_gaps",
    "layer_gaps",
    "out_of_reach",
    "select_amenities",
    "select_for",
    "stat_by_municipality",
    "stat_values",
    "weighted_median",
]

log = logging.getLogger(__name__)

#: Straight-line -> travel distance factors used without a street network.
#: Points per standard deviation for statistics (+-2.5 standard deviations span 0-100).
STAT_Z_POINTS = 20.0
#: A statistics table with at least this many municipalities is national (Sweden has 290).
NATIONAL_MIN_MUNICIPALITIES = 250
DETOUR: dict[str, float] = {m.value: m.detour for m in Mode}
#: Spacing of the points that stand for a polygon's outline.
OUTLINE_STEP_M = 50.0
#: ``(minimum departures per hour, factor)``; features without a value get the last factor.
DEPARTURE_CLASSES: tuple[tuple[float, float], ...] = ((4.0, 1.0), (2.0, 0.75), (1.0, 0.5),
                                                      (0.0, 0.25))
_UNKNOWN_DEPARTURES_FACTOR = 0.5
#: On a partial layer, known distances beyond this many thresholds are not stated as facts (the
#: plateau decay is at most 20 and the logistic below 1 point beyond 2 t: the score is a lower bound
#: that hardly depends on the exact distance any more).
PARTIAL_SUPPORT = 2.0
#: Steepness of the plateau decay's fall: 50 at 1.5 t (``200 / (1 + 3)``).
_PLATEAU_K = 2.0 * float(np.log(3.0))
#: Stored networks per travel mode, best first (:attr:`layers.vocab.Mode.networks`).
_NETWORK_FOR_MODE: dict[str, tuple[str, ...]] = {m.value: m.networks for m in Mode}


# -- decay functions ----------------------------------------------------------------------------
def _plateau(d: np.ndarray, t: Any, max_m: Any) -> np.ndarray:
    with np.errstate(over="ignore"):
        fall = 200.0 / (1.0 + np.exp(_PLATEAU_K * (d - t) / t))
    return np.where(d <= t, 100.0, fall)


def _logistic(d: np.ndarray, t: float, max_m: float) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 100.0 / (1.0 + np.exp(5.0 * (d - t) / t))


def _linear(d: np.ndarray, t: float, max_m: float) -> np.ndarray:
    return 100.0 * np.clip(1.0 - d / max_m, 0.0, 1.0)


def _exponential(d: np.ndarray, t: float, max_m: float) -> np.ndarray:
    return np.asarray(100.0 * np.exp(-d / t * np.log(2.0)))


def _step(d: np.ndarray, t: float, max_m: float) -> np.ndarray:
    return np.where(d <= t, 100.0, 0.0)


#: Decay functions ``f(distance, t, max_m) -> 0..100`` by name.
DECAYS: dict[str, Callable[[np.ndarray, Any, Any], np.ndarray]] = {
    Decay.PLATEAU: _plateau,
    Decay.LOGISTIC: _logistic,
    Decay.LINEAR: _linear,
    Decay.EXPONENTIAL: _exponential,
    Decay.STEP: _step,
}


def decay_score(d: np.ndarray, name: str, t: float | np.ndarray,
                max_m: float | np.ndarray | None = None) -> np.ndarray:
    """Score 0-100 for distances ``d`` (``inf`` -> 0, NaN stays NaN).

    ``t`` (and ``max_m``) may be one value or one per distance (standards per place type).

    Examples
    --------
    >>> decay_score(np.array([500.0, np.inf]), "logistic", 500.0).tolist()
    [50.0, 0.0]
    >>> decay_score(np.array([400.0, 600.0, 600.0]), "plateau", np.array([400.0, 400.0, 600.0]))
    array([100.,  50., 100.])
    """
    try:
        fn = DECAYS[name]
    except KeyError:

        raise LivabilityError(
            f"No decay function {name!r}. Known: {', '.join(DECAYS)}"
        ) from None
    d = np.asarray(d, dtype=float)
    t_arr = np.asarray(t, dtype=float)
    m_arr = 3.0 * t_arr if max_m is None else np.asarray(max_m, dtype=float)
    out = np.asarray(fn(np.where(np.isinf(d), 0.0, d), t_arr, m_arr), dtype=float)
    out = np.where(np.isinf(d), 0.0, out)
    return np.where(np.isnan(d), np.nan, out)


# -- amenities -----------------------------------------------------------------------------------
@dataclass
class Amenities:
    """The candidate features of one indicator, as points in the work CRS.

    ``xy`` may hold several points per feature (polygon outlines); ``feature`` maps each point to
    its row in ``table`` (``name``, ``kind``, ``uid``, ``value``, ``coverage``, and ``lon`` / ``lat``:
    the anchor in WGS 84, for maps); ``anchor`` is one
    point per feature (for counts); ``polygons`` the metric polygons (for containment) or None.
    """

    xy: np.ndarray
    feature: np.ndarray
    table: pd.DataFrame
    anchor: np.ndarray
    polygons: gpd.GeoSeries | None = None

    def __len__(self) -> int:
        return len(self.table)


def _outline_points(geom: Any) -> np.ndarray:
    pts: list[tuple[float, float]] = []
    polys = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    for p in polys:
        ring = p.exterior
        k = int(np.clip(ring.length / OUTLINE_STEP_M, 4, 200))
        pts.extend((q.x, q.y) for q in (ring.interpolate(s) for s in np.linspace(0, ring.length, k,
                                                                                   endpoint=False)))
    c = geom.centroid
    pts.append((c.x, c.y))
    return np.asarray(pts, dtype=float)


def select_amenities(layer: gpd.GeoDataFrame, kinds: tuple[str, ...],
                     min_area_ha: float | None = None) -> tuple[Amenities, list[Message]]:
    """Pick the features of ``kinds`` (polygons at least ``min_area_ha``); returns notes too.

    Point features pass the area filter (their area is unknown); the note says how many.
    """
    notes: list[Message] = []
    empty = Amenities(np.zeros((0, 2)), np.zeros(0, dtype=np.int64),
                      pd.DataFrame(columns=["name", "kind", "uid", "value", "coverage", "lon", "lat"]),
                      np.zeros((0, 2)))
    if layer.empty or "kind" not in layer.columns:
        return empty, notes
    sel = layer[layer["kind"].isin(kinds)]
    if sel.empty:
        return empty, notes
    sel = sel.to_crs(WORK_CRS).reset_index(drop=True)
    is_poly = sel.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if min_area_ha:
        area_ha = sel.geometry.area.to_numpy() / 1e4
        small = is_poly & (area_ha < min_area_ha)
        if small.any():
            notes.append(Message("areas_too_small", {"n": int(small.sum()),
                                                     "min_ha": float(min_area_ha)}))
        n_pts = int((~is_poly).sum())
        if n_pts:
            notes.append(Message("point_features", {"n": n_pts}))
        sel = sel[~small].reset_index(drop=True)
        is_poly = is_poly[~small]
        if sel.empty:
            return empty, notes
    xy_parts, feat_parts = [], []
    anchors = np.column_stack([sel.geometry.representative_point().x,
                               sel.geometry.representative_point().y])
    for i, (g, poly) in enumerate(zip(sel.geometry, is_poly)):
        pts = _outline_points(g) if poly else anchors[i:i + 1]
        xy_parts.append(pts)
        feat_parts.append(np.full(len(pts), i, dtype=np.int64))
    lonlat = gpd.GeoSeries(gpd.points_from_xy(anchors[:, 0], anchors[:, 1]),
                           crs=WORK_CRS).to_crs("EPSG:4326")
    table = pd.DataFrame({
        "name": sel.get("name", None),
        "kind": sel["kind"].astype(str),
        "uid": sel["uid"] if "uid" in sel else np.arange(len(sel)).astype(str),
        "value": pd.to_numeric(sel["value"], errors="coerce") if "value" in sel else np.nan,
        "coverage": sel.get("coverage", "complete"),
        "lon": lonlat.x.to_numpy(), "lat": lonlat.y.to_numpy(),
    })
    polys = sel.geometry[is_poly] if is_poly.any() else None
    return Amenities(np.vstack(xy_parts), np.concatenate(feat_parts), table, anchors, polys), notes


# -- distances -----------------------------------------------------------------------------------
class DistanceEngine:
    """Travel costs from a fixed set of points to amenities, by mode.

    Parameters
    ----------
    points
        ``(n, 2)`` metric coordinates (cells, locality centres).
    networks
        Mode -> ``(nodes, edges)`` frames as stored (``snapshot.network``), any may be missing.
    hierarchies
        ``(network, mode) -> (hierarchy, fingerprint) | None``: contraction hierarchies stored
        with the networks (``snapshot.hierarchy``), read when a count first needs one (see
        :meth:`geo.network.StreetGraph.use_stored_hierarchy`).
    """

    def __init__(self, points: np.ndarray,
                 networks: dict[str, tuple[pd.DataFrame, pd.DataFrame] | None] | None = None,
                 graphs: dict[str, StreetGraph] | None = None,
                 hierarchies: Callable[[str, str], tuple[Any, str] | None] | None = None) -> None:
        self.points = np.asarray(points, dtype=float).reshape(-1, 2)
        self._frames = networks or {}
        self._hierarchies = hierarchies
        self._graphs: dict[str, StreetGraph | None] = dict(graphs or {})
        self._snaps: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: mode -> how its distances are measured when not along its own network
        self.notes: dict[str, Message] = {}

    def graph(self, mode: str) -> StreetGraph | None:
        """The street graph used for ``mode`` (built on first use), or None (straight line)."""
        if mode in self._graphs:
            return self._graphs[mode]
        g = None
        for name in _NETWORK_FOR_MODE[mode]:
            frames = self._frames.get(name)
            if frames is not None and len(frames[0]) and len(frames[1]):
                g = StreetGraph.from_frames(frames[0], frames[1], mode=mode)
                if self._hierarchies is not None:
                    g.use_stored_hierarchy(functools.partial(self._hierarchies, name, mode))
                if name != _NETWORK_FOR_MODE[mode][0]:
                    self.notes[mode] = Message("network_fallback", {"mode": mode, "network": name})
                break
        if g is None:
            self.notes[mode] = Message("no_network", {"mode": mode,
                                                      "network": _NETWORK_FOR_MODE[mode][0],
                                                      "factor": DETOUR[mode]})
        self._graphs[mode] = g
        return g

    def approximate(self, mode: str) -> bool:
        """True when ``mode`` uses straight-line distances."""
        return self.graph(mode) is None

    def _snap(self, mode: str, g: StreetGraph) -> tuple[np.ndarray, np.ndarray]:
        if mode not in self._snaps:
            self._snaps[mode] = g.snap(self.points[:, 0], self.points[:, 1])
        return self._snaps[mode]

    def _inside(self, amen: Amenities) -> tuple[np.ndarray, np.ndarray]:
        """Points inside an amenity polygon: (mask, feature index)."""
        mask = np.zeros(len(self.points), dtype=bool)
        feat = np.full(len(self.points), -1, dtype=np.int64)
        if amen.polygons is None or not len(self.points):
            return mask, feat
        pts = gpd.GeoSeries(gpd.points_from_xy(self.points[:, 0], self.points[:, 1]), crs=WORK_CRS)
        pi, gi = amen.polygons.sindex.query(pts, predicate="within")
        mask[pi] = True
        feat[pi] = amen.polygons.index.to_numpy()[gi]
        return mask, feat

    def nearest(self, mode: str, amen: Amenities,
                subset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cost (m) to the nearest amenity and its feature index for every point (``-1``: none).

        ``subset`` restricts the amenity *points* used (a boolean mask over ``amen.xy``).
        """
        n = len(self.points)
        xy, feat = amen.xy, amen.feature
        if subset is not None:
            xy, feat = xy[subset], feat[subset]
        if len(xy) == 0:
            return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
        g = self.graph(mode)
        if g is None:
            from scipy.spatial import cKDTree  # here, not at the top: the app's map page never
            # needs it (its import is ~0.15 s of a cold start)

            d, i = cKDTree(xy).query(self.points)
            dist, which = np.asarray(d) * DETOUR[mode], feat[np.asarray(i)]
        else:
            pnode, psnap = self._snap(mode, g)
            anode, asnap = g.snap(xy[:, 0], xy[:, 1])
            dnode, src = g.nearest_from(anode, asnap)
            dist = dnode[pnode] + psnap
            s = src[pnode]
            which = np.where(s >= 0, feat[np.maximum(s, 0)], -1)
        inside, ifeat = self._inside(amen)
        if subset is not None:
            keep = np.isin(ifeat, np.unique(feat))
            inside &= keep
        dist = np.where(inside, 0.0, dist)
        which = np.where(inside, ifeat, which)
        return dist, which

    def count_within(self, mode: str, amen: Amenities, budget_m: float) -> np.ndarray:
        """Number of amenity features within ``budget_m`` (metres-equivalent) of every point."""
        return np.asarray(self.count_within_rings(mode, amen, [budget_m])[0])

    def count_within_rings(self, mode: str, amen: Amenities, budgets_m: Sequence[float] | np.ndarray
                           ) -> np.ndarray:
        """:meth:`count_within` for several ascending budgets: ``(len(budgets_m), n_points)``.

        Along a network, one bounded search per distinct origin answers every budget
        (:meth:`geo.network.StreetGraph.counts_within_rings`).
        """
        n = len(self.points)
        budgets = np.asarray(budgets_m, dtype=float).reshape(-1)
        if len(amen) == 0:
            return np.zeros((len(budgets), n))
        g = self.graph(mode)
        if g is None:
            from scipy.spatial import cKDTree

            tree = cKDTree(amen.anchor)
            return np.array([np.asarray(tree.query_ball_point(self.points, b / DETOUR[mode],
                                                              return_length=True), dtype=float)
                             for b in budgets]).reshape(len(budgets), n)
        pnode, psnap = self._snap(mode, g)
        anode, asnap = g.snap(amen.anchor[:, 0], amen.anchor[:, 1])
        # searches start from whichever side has fewer distinct nodes (amenities or points)
        counts = g.counts_within_rings(anode, budgets, asnap, at=pnode)
        # a point's own snap distance uses up part of the budget: approximate by its node's count
        return np.where(psnap[None, :] <= budgets[:, None], counts, 0).astype(float)


# -- statistics ----------------------------------------------------------------------------------
def _to_number(s: pd.Series) -> pd.Series:
    if s.dtype == object:
        s = s.astype(str).str.replace("\u00a0", "").str.replace(" ", "").str.replace(",", ".")
    return pd.to_numeric(s, errors="coerce")


def stat_values(df: pd.DataFrame, column: str | None, *, year: int | None = None,
                zero_is_missing: bool = True) -> tuple[pd.DataFrame, str]:
    """One value per municipality code with its year: the latest year with a value.

    Parameters
    ----------
    df
        A tidy statistics table (:func:`geo.sources.pack.tidy_table`): ``municipality`` (or
        ``kommun_kod``) code, optional ``year``, value columns.
    column
        The value column (falls back to ``value``).
    year
        Take this year instead of the latest.
    zero_is_missing
        Treat 0 as "no value" (the pack says so of its rent table); pass False for statistics that
        can be 0 or negative (changes in percent).

    Returns
    -------
    frame, column
        ``value`` and ``year`` (NaN without a year column) indexed by the 4-digit code, and the
        column actually used ("" when none fits).
    """
    empty = pd.DataFrame({"value": pd.Series(dtype=float), "year": pd.Series(dtype=float)})
    mcol = next((c for c in ("municipality", "kommun_kod", "Kommun-kod") if c in df.columns), None)
    if mcol is None:
        return empty, ""
    col = column if column in df.columns else ("value" if "value" in df.columns else None)
    if col is None:
        return empty, ""
    t = pd.DataFrame({"m": df[mcol].astype(str).str.strip().str.split(".").str[0].str.zfill(4),
                      "v": _to_number(df[col])})
    t["y"] = _to_number(df["year"]) if "year" in df.columns else np.nan
    t = t[t["v"].notna() & ((t["v"] != 0) if zero_is_missing else True)]
    if year is not None:
        t = t[t["y"] == year]
    if t.empty:
        return empty, col
    if t["y"].notna().any():
        latest = t.groupby("m")["y"].transform("max")
        t = t[t["y"] == latest]
    out = t.groupby("m").agg(value=("v", "mean"), year=("y", "max"))
    out.index.name = None
    return out, col


def stat_by_municipality(df: pd.DataFrame, column: str | None) -> tuple[pd.Series, str]:
    """One value per municipality code: the latest year with a non-zero value (0 means missing).

    Returns the series (index: 4-digit code) and the column actually used ("" when none fits).
    """
    frame, col = stat_values(df, column)
    return frame["value"], col


@dataclass(frozen=True)
class StatReference:
    """The municipalities a statistic is standardised against: all rows of its table.

    ``mean`` and ``sd`` are of the values (or of their logarithms when ``log_scale``); ``median``,
    ``lo`` and ``hi`` of the values themselves. ``national``: the table covers the country (at least
    :data:`NATIONAL_MIN_MUNICIPALITIES` municipalities).
    """

    n: int
    mean: float
    sd: float
    median: float
    lo: float
    hi: float
    log_scale: bool = False

    @property
    def national(self) -> bool:
        """True when the table holds (nearly) all of Sweden's municipalities."""
        return self.n >= NATIONAL_MIN_MUNICIPALITIES

    @classmethod
    def of(cls, values: pd.Series, log_scale: bool = False) -> StatReference:
        """The reference of ``values`` (one per municipality; NaN and, on a log scale, values
        <= 0 are left out)."""
        v = pd.to_numeric(values, errors="coerce").dropna()
        if log_scale:
            v = v[v > 0]
        t = np.log(v.to_numpy(dtype=float)) if log_scale else v.to_numpy(dtype=float)
        if not len(t):
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"), float("nan"),
                       log_scale)
        return cls(len(t), float(np.mean(t)), float(np.std(t)), float(np.median(v)),
                   float(v.min()), float(v.max()), log_scale)

    def score(self, raw: np.ndarray, higher_is_better: bool = True) -> np.ndarray:
        """``50 + STAT_Z_POINTS * z`` clipped to 0-100 (NaN stays NaN; one value: 50)."""
        x = np.asarray(raw, dtype=float)
        if self.log_scale:
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
        if not self.sd > 0:
            return np.where(np.isnan(x), np.nan, 50.0)
        z = (x - self.mean) / self.sd
        return np.clip(50.0 + STAT_Z_POINTS * (z if higher_is_better else -z), 0.0, 100.0)

    def note(self) -> Message:
        """How the statistic was standardised."""
        if self.national:
            return Message("stat_national_log" if self.log_scale else "stat_national",
                           {"n": self.n, "median": self.median, "points": STAT_Z_POINTS})
        return Message("stat_standardised", {
            "n": self.n, "mean": float(np.exp(self.mean)) if self.log_scale else self.mean,
            "lo": self.lo, "hi": self.hi, "points": STAT_Z_POINTS})


# -- gaps of partial data ----------------------------------------------------------------------
def _kind_words(kind: str) -> list[tuple[str, bool]]:
    """``(stem, compound)`` words naming ``kind``: English at a word start, Swedish anywhere."""
    en = kind_name(kind, "en").lower()
    words = [(en[:-1] if en.endswith("y") else en, False)]
    if kind in NAMED_KINDS:
        sv = [w.strip().lower() for w in kind_name(kind, "sv").split("/") if w.strip()]
        words += [(w[:-1] if w.endswith("a") else w, True) for w in sv]  # förskola: förskolor
    return words


def _mentions(item: str) -> set[str]:
    """Kinds named in ``item``; a match inside a longer one of another kind does not count
    (``skola`` in ``förskola``)."""
    low = item.lower()
    hits: list[tuple[int, int, str]] = []
    for kind in {*NAMED_KINDS, "hospital", "grocery", "pharmacy", "library"}:
        for stem, compound in _kind_words(kind):
            pat = re.escape(stem) if compound else r"\b" + re.escape(stem)
            hits += [(m.start(), m.end(), kind) for m in re.finditer(pat, low)]
    return {k for a, b, k in hits
            if not any(a2 <= a and b <= b2 and (b2 - a2) > (b - a) and k2 != k
                       for a2, b2, k2 in hits)}


def _gap_items(line: str) -> list[tuple[str, set[str]]]:
    """Split a gap line into items with the kinds each names ("independent grocery stores and
    pharmacies" -> "independent grocery stores", "independent pharmacies")."""
    out: list[tuple[str, set[str]]] = []
    for part in (p.strip() for chunk in line.split(";") for p in chunk.split(", ")):
        left, sep, right = part.partition(" and ")
        kl, kr = (_mentions(left), _mentions(right)) if sep else (set(), set())
        if sep and kl and kr and kl != kr:
            if len(right.split()) == 1:  # a bare noun takes the left side's modifiers
                words = left.split()
                first = next(i for i, w in enumerate(words) if _mentions(w) or i == len(words) - 1)
                right = " ".join([*words[:first], right])
            out += [(left, kl), (right, kr)]
        elif part:
            out.append((part, _mentions(part)))
    return out


def _resolved(item: str, names: Sequence[str]) -> bool:
    """True when a feature's name holds every word of the named place ``item`` stands for."""
    if not item[:1].isupper():
        return False
    want = set(re.findall(r"\w+", item.split("(")[0].lower()))
    return bool(want) and any(want <= set(re.findall(r"\w+", str(n).lower())) for n in names)


def kind_gaps(lines: Sequence[str], kinds: Sequence[str],
              names: Sequence[str] = ()) -> tuple[list[str], list[str]]:
    """Items of gap lines (a pack's ``not_available_offline``) that name one of ``kinds``.

    Kinds are matched by their English name (``pharmacy`` also matches "pharmacies") and their
    Swedish one (``sjukhus`` in "Blekingesjukhuset"). Items naming a place that one of ``names``
    (the features present) already holds are left out: the gap has been filled.

    Returns
    -------
    items, matched
        The gap items, and the kinds they name (in ``kinds`` order).

    Examples
    --------
    >>> kind_gaps(["independent grocery stores and pharmacies; Blekingesjukhuset Karlskrona "
    ...            "(hospital)"], ["pharmacy"])
    (['independent pharmacies'], ['pharmacy'])
    >>> kind_gaps(["Blekingesjukhuset Karlskrona (hospital)"], ["hospital"],
    ...           names=["Blekingesjukhuset Karlskrona"])
    ([], [])
    """
    items: list[str] = []
    matched: set[str] = set()
    for line in lines:
        for item, named in _gap_items(str(line)):
            hit = named & set(kinds)
            if hit and not _resolved(item, names) and item not in items:
                items.append(item)
                matched |= hit
    return items, [k for k in kinds if k in matched]


def layer_gaps(lines: Sequence[str], kinds: Sequence[str]) -> list[str]:
    """The gap lines that name one of ``kinds`` (as they are, for a layer's manifest entry)."""
    return [str(ln) for ln in lines if kind_gaps([ln], kinds)[0]]


def weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """The value of the median unit of weight (the lower one at an exact half); NaN if none.

    NaN values are left out; ``inf`` counts as the largest value. Weights <= 0 everywhere: evenly.

    >>> weighted_median(np.array([100.0, 900.0, 300.0]), np.array([1.0, 1.0, 3.0]))
    300.0
    """
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    ok = ~np.isnan(v)
    v, w = v[ok], w[ok]
    if not len(v):
        return float("nan")
    if w.sum() <= 0:
        w = np.ones(len(v))
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, 0.5 * cum[-1] - 1e-9 * cum[-1])])


# -- indicators ----------------------------------------------------------------------------------
@dataclass
class IndicatorResult:
    """An indicator over the points of a model.

    ``raw``: distance (m, metres-equivalent by car), count, or statistic per point; ``score``
    0-100 with the default decay (NaN where not computable); ``nearest``: row in ``amenities``
    (-1: none); ``classes``: ``(factor, distances)`` per departure class for re-scoring with
    another decay (nearest measures only). ``reason`` (why missing; None otherwise) and ``notes``
    are :class:`geo.messages.Message` s (``render(msg, "sv")`` for Swedish). ``partial``: the
    amenity list is incomplete (see *Partial data* above); ``gaps`` then holds the pack's
    ``not_available_offline`` items naming its kinds, ``gap_kinds`` those kinds.
    """

    key: str
    measure: str
    mode: str
    missing: bool = False
    reason: Message | None = None
    approximate: bool = False
    partial: bool = False
    notes: list[Message] = field(default_factory=list)
    raw: np.ndarray = field(default_factory=lambda: np.zeros(0))
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    nearest: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    amenities: pd.DataFrame = field(default_factory=pd.DataFrame)
    classes: list[tuple[float, np.ndarray]] = field(default_factory=list)
    decay: str = "logistic"
    threshold_m: float = 500.0
    max_m: float | None = None
    unit: str = "m"
    gaps: list[str] = field(default_factory=list)
    gap_kinds: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """True when computed from complete data (not missing, not partial)."""
        return not (self.missing or self.partial)

    @property
    def support_m(self) -> float:
        """Distance up to which a partial layer's known nearest is stated (``PARTIAL_SUPPORT t``)."""
        return PARTIAL_SUPPORT * float(self.threshold_m)

    def gap_note(self) -> Message | None:
        """What the partial list lacks (None when complete)."""
        if not self.partial:
            return None
        if self.gaps:
            return Message("partial_gap", {"kinds": list(self.gap_kinds), "gaps": list(self.gaps)})
        return Message("partial_generic")
    #: the standard t per point (its place type's), or None: ``threshold_m`` everywhere
    thresholds: np.ndarray | None = None

    def standards(self) -> tuple[Any, Any]:
        """``(t, max_m)`` for the decay: per point when :attr:`thresholds` is set."""
        if self.thresholds is None:
            return self.threshold_m, self.max_m
        scale = self.thresholds / self.threshold_m
        return self.thresholds, (None if self.max_m is None else self.max_m * scale)

    def rescore(self, decay: str) -> np.ndarray:
        """Scores under another decay (only nearest measures change)."""
        if self.missing or self.measure != Measure.NEAREST or not self.classes:
            return self.score
        t, max_m = self.standards()
        parts = [f * decay_score(d, decay, t, max_m) for f, d in self.classes]
        return np.asarray(np.max(np.vstack(parts), axis=0))


def _missing(ind: Indicator, n: int, reason: Message | None, notes: list[Message] | None = None,
             **kw: Any) -> IndicatorResult:
    return IndicatorResult(ind.key, ind.measure, ind.mode, missing=True, reason=reason,
                           notes=list(notes or []), raw=np.full(n, np.nan),
                           score=np.full(n, np.nan), nearest=np.full(n, -1, dtype=np.int64), **kw)


def _partial(kinds: Sequence[str], table: pd.DataFrame, layer_status: LayerStatus | None,
             gap_kinds: Sequence[str]) -> bool:
    """Whether the amenities of ``kinds`` (``table``: the selected ones) are an incomplete list."""
    cov = table["coverage"].astype(str)
    complete_kinds = set(table.loc[(cov == Coverage.COMPLETE).to_numpy(), "kind"].astype(str))
    if gap_kinds or any(k not in complete_kinds for k in kinds):
        return True
    if getattr(layer_status, "coverage", "") != Coverage.PARTIAL:
        return False
    reason = getattr(layer_status, "reason", None)
    parts = reason.parts if isinstance(reason, Message) else ()
    # a layer partial for named kinds or sources is judged by kind and feature above
    return not any(p.code in ("layer_absent_kinds", "layer_partial_sources") for p in parts)
def _point_thresholds(ind: Indicator, place_types: np.ndarray | None, n: int) -> np.ndarray | None:
    """The indicator's standard at each of ``n`` points from their place types (None: none given)."""
    if place_types is None or not hasattr(ind, "threshold_for"):
        return None
    types = pd.Series(np.asarray(place_types, dtype=object))
    table = {t: float(ind.threshold_for(t)) for t in pd.unique(types)}
    return np.asarray(types.map(table), dtype=float).reshape(n)


def compute_indicator(ind: Indicator, engine: DistanceEngine, *, layer: gpd.GeoDataFrame | None = None,
                      layer_status: LayerStatus | None = None, table: pd.DataFrame | None = None,
                      municipalities: np.ndarray | None = None,
                      decay: str | None = None, gaps: Sequence[str] = (),
                      place_types: np.ndarray | None = None,
                      selection: Selection | None = None,
                      places: gpd.GeoDataFrame | None = None) -> IndicatorResult:
    """Compute one :class:`layers.Indicator` over the engine's points.

    The indicator's measure picks the function (:data:`_MEASURES`, a dispatch table keyed by
    :class:`layers.vocab.Measure`); what a layer contributes beyond its features is declared in its
    spec (``departures``), never looked up by the layer's name.

    Parameters
    ----------
    ind
        The indicator spec.
    engine
        Distances from the points.
    layer, layer_status
        The indicator's layer and its :class:`geo.store.LayerStatus` (distance/count measures).
    table, municipalities
        The statistics table and each point's municipality code (stat measures).
    decay
        Overrides the indicator's default decay.
    gaps
        The layer's known gaps (a pack's ``not_available_offline`` lines); those naming the
        indicator's kinds make it partial (:func:`kind_gaps`).
    place_types
        Each point's place type (:mod:`geo.placetypes`): distances are scored against that
        type's standard (:meth:`layers.Indicator.threshold_for`); None: the town standard.
    selection
        The indicator's :func:`select_for` of this ``layer``, ``layer_status``, ``gaps`` and
        ``places``, computed before (distance/count measures); None: computed here.
    places
        Locality outlines (``name``, ``code``): a gap item naming one of them bounds the nearest
        distance (:mod:`geo.gapbounds`; only without a street network for the mode).
    """
    x = _Inputs(ind, engine, len(engine.points), decay or ind.decay, layer, layer_status, table,
                municipalities, gaps, place_types, selection, places)
    return _MEASURES[Measure(ind.measure)](x)


@dataclass
class _Inputs:
    """The arguments of :func:`compute_indicator`, handed to the measure's function."""

    ind: Indicator
    engine: DistanceEngine
    n: int
    dec: str
    layer: gpd.GeoDataFrame | None
    layer_status: LayerStatus | None
    table: pd.DataFrame | None
    municipalities: np.ndarray | None
    gaps: Sequence[str]
    place_types: np.ndarray | None
    selection: Selection | None = None
    places: gpd.GeoDataFrame | None = None


@dataclass
class _Found:
    """The amenities a feature measure works on, its notes and the result fields they share."""

    amen: Amenities
    notes: list[Message]
    common: dict[str, Any]
    bounds: tuple[GapBound, ...] = ()


def _stat(x: _Inputs) -> IndicatorResult:
    """A municipal statistic, standardised (see *Scores* above)."""
    ind, n, table, municipalities = x.ind, x.n, x.table, x.municipalities
    if table is None:
        return _missing(ind, n, Message("stat_table_missing", {"table": ind.table}),
                        unit="stat")
    values, col = stat_by_municipality(table, ind.column)
    if values.empty:
        return _missing(ind, n, Message("stat_no_values", {"table": ind.table,
                                                   "column": ind.column}), unit="stat")
    munis = np.asarray(municipalities if municipalities is not None else [None] * n,
                       dtype=object)
    here = [m for m in pd.unique(munis) if m is not None and m == m]
    if not values.index.isin(here).any():
        return _missing(ind, n, Message("stat_no_municipalities", {"table": ind.table}),
                        unit="stat")
    raw = pd.Series(munis).map(values).to_numpy(dtype=float)
    ref = StatReference.of(values, getattr(ind, "log_scale", False))
    score = ref.score(raw, ind.higher_is_better)
    notes = [ref.note()]
    absent = sorted(str(m) for m in here if m not in values.index)
    if absent:
        notes.append(Message("stat_no_value_for", {"municipalities": absent,
                                                   "table": ind.table}))
    if col != ind.column:
        notes.append(Message("column_used", {"column": col}))
    return IndicatorResult(ind.key, Measure.STAT, ind.mode, raw=raw, score=score,
                           nearest=np.full(n, -1, dtype=np.int64), unit="stat",
                           notes=notes)


@dataclass(frozen=True)
class Selection:
    """The point-independent part of a feature indicator (:func:`select_for`): its amenities and
    notes, or why it is missing (``why``); whether the list is partial, and its gaps.

    :func:`compute_indicator` makes it on every call; one computed once and passed as its
    ``selection`` gives the same result for any points, so many single points (:mod:`geo.point`)
    skip the selection.
    """

    amen: Amenities
    notes: tuple[Message, ...]
    why: Message | None
    partial: bool
    gap_items: tuple[str, ...] = ()
    gap_kinds: tuple[str, ...] = ()
    #: gap items placed by their locality (:mod:`geo.gapbounds`): nearest measures bound by them
    bounds: tuple[GapBound, ...] = ()

    @property
    def missing(self) -> bool:
        """True when no amenity of the indicator's kinds is there."""
        return len(self.amen) == 0


def select_for(ind: Indicator, layer: gpd.GeoDataFrame | None,
               layer_status: LayerStatus | None = None, gaps: Sequence[str] = (),
               places: gpd.GeoDataFrame | None = None) -> Selection:
    """The amenities of ``ind``'s kinds in ``layer`` with their notes, partial flag and gaps (or
    why there are none), as :func:`compute_indicator` takes them (its ``layer``,
    ``layer_status``, ``gaps`` and ``places``: locality outlines with ``name`` and ``code``, for
    the gap items placed by their locality, :mod:`geo.gapbounds`)."""
    status = getattr(layer_status, "reason", None)
    status_reason = status if isinstance(status, Message) else None
    partial = getattr(layer_status, "coverage", "") == Coverage.PARTIAL
    lay = layer if layer is not None else gpd.GeoDataFrame()
    amen, notes = select_amenities(lay, tuple(ind.kinds), ind.min_area_ha)
    if len(amen) == 0:
        why: Message
        if lay.empty:
            why = Message("layer_not_loaded", {"kinds": list(ind.kinds), "layer": ind.layer})
        else:
            present = sorted(lay["kind"].astype(str).unique()) if "kind" in lay else []
            params: dict[str, object] = {"kinds": list(ind.kinds), "n": len(lay),
                                         "layer": ind.layer, "present": present}
            if ind.min_area_ha:
                why = Message("kinds_absent_area", params | {"min_ha": float(ind.min_area_ha)})
            else:
                why = Message("kinds_absent", params)
        return Selection(amen, tuple(notes), join(why, status_reason), partial)
    names = [str(v) for v in amen.table["name"] if v is not None and v == v]
    gap_items, gap_kinds = kind_gaps(gaps, tuple(ind.kinds), names)
    partial = _partial(tuple(ind.kinds), amen.table, layer_status, gap_kinds)
    bounds: list[GapBound] = []
    if partial and gap_items and places is not None and ind.measure == Measure.NEAREST:
        pairs = [(item, k) for item in gap_items
                 for k in [next((k for k in ind.kinds if k in _mentions(item)), None)] if k]
        bounds = gap_bounds(pairs, places)
    return Selection(amen, tuple(notes), None, partial, tuple(gap_items), tuple(gap_kinds),
                     tuple(bounds))


def _features(x: _Inputs) -> IndicatorResult | _Found:
    """The amenities of the indicator's kinds, or the *missing* result when there are none."""
    ind, engine, n, dec = x.ind, x.engine, x.n, x.dec
    sel = x.selection if x.selection is not None else select_for(ind, x.layer, x.layer_status,
                                                                 x.gaps, x.places)
    notes = list(sel.notes)
    if sel.missing and not sel.bounds:  # (bounds on an empty cut: a partition, geo.partition)
        return _missing(ind, n, sel.why, notes, partial=sel.partial)
    approximate = engine.approximate(ind.mode)
    if ind.mode in engine.notes:
        notes.append(engine.notes[ind.mode])
    partial = sel.partial
    common = dict(approximate=approximate, partial=partial, amenities=sel.amen.table,
                  decay=dec, threshold_m=ind.threshold_m, max_m=ind.max_m,
                  gaps=list(sel.gap_items) if partial else [],
                  gap_kinds=list(sel.gap_kinds) if partial else [],
                  thresholds=_point_thresholds(ind, x.place_types, n))
    return _Found(sel.amen, notes, common, sel.bounds if partial else ())


def _count_within(x: _Inputs, amen: Amenities, budget: float) -> np.ndarray:
    """Features reachable within ``budget`` (metres(-equivalent)) from every point."""
    return x.engine.count_within(x.ind.mode, amen, budget)


def _gravity_within(x: _Inputs, amen: Amenities, budget: float) -> np.ndarray:
    """Each feature weighs decay(distance); nearest-per-feature through four count rings."""
    n = x.n
    rings = np.linspace(budget / 4, budget, 4)
    prev = np.zeros(n)
    cnt = np.zeros(n)
    for r, c in zip(rings, x.engine.count_within_rings(x.ind.mode, amen, rings), strict=True):
        cnt += (c - prev) * decay_score(np.full(n, r), x.dec, x.ind.threshold_m, x.ind.max_m) / 100
        prev = c
    return cnt


def _reach(x: _Inputs, counts: Callable[[_Inputs, Amenities, float], np.ndarray]
           ) -> IndicatorResult:
    """Count measures: ``100 * min(1, counts / target_count)`` within the time budget."""
    found = _features(x)
    if isinstance(found, IndicatorResult):
        return found
    ind, engine, amen, notes = x.ind, x.engine, found.amen, found.notes
    if ind.budget_min is None or ind.target_count is None:
        raise LivabilityError(f"indicator {ind.key} counts features but has no budget_min or "
                              "target_count; set both in its layer spec (layers/)")
    speed = Mode(ind.mode).speed_kmh * 1000.0 / 60.0
    budget = float(ind.budget_min) * speed
    cnt = counts(x, amen, budget)
    score = 100.0 * np.minimum(1.0, cnt / float(ind.target_count))
    which = engine.nearest(ind.mode, amen)[1]
    return IndicatorResult(ind.key, ind.measure, ind.mode, raw=cnt, score=score,
                           nearest=which, unit="count", notes=notes,
                           **found.common)


def _by_departures(ind: Indicator) -> bool:
    """Whether the indicator's layer declares its ``value`` departures per hour."""
    spec = LAYERS.get(ind.layer)
    return bool(spec is not None and spec.departures)


def _bounded(engine: DistanceEngine, mode: str, bounds: Sequence[GapBound], dist: np.ndarray,
             which: np.ndarray, table: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """``min(known nearest, bound)`` per point (:mod:`geo.gapbounds`); a bound that wins names a
    row appended to the amenity table (no position: NaN lon/lat; ``within``: its locality)."""
    dist, which = dist.copy(), which.copy()
    rows = []
    for j, b in enumerate(bounds):
        d = bound_distances(engine.points, b, DETOUR[mode])
        better = d < dist
        dist[better] = d[better]
        which[better] = len(table) + j
        rows.append({"name": b.name, "kind": b.kind, "uid": f"gap:{b.code}:{b.kind}",
                     "value": np.nan, "coverage": Coverage.PARTIAL, "lon": np.nan, "lat": np.nan,
                     "within": b.place})
    ext = pd.concat([table.assign(within=None), pd.DataFrame(rows)], ignore_index=True)
    return dist, which, ext


def _nearest(x: _Inputs) -> IndicatorResult:
    """Distance to the nearest feature through the decay (by frequency class on departures)."""
    found = _features(x)
    if isinstance(found, IndicatorResult):
        return found
    ind, engine, amen, notes = x.ind, x.engine, found.amen, found.notes
    dist, which = engine.nearest(ind.mode, amen)
    by_departures = _by_departures(ind)
    if found.bounds and not by_departures and engine.approximate(ind.mode):
        dist, which, found.common["amenities"] = _bounded(engine, ind.mode, found.bounds, dist,
                                                          which, amen.table)
    classes: list[tuple[float, np.ndarray]] = [(1.0, dist)]
    values = amen.table["value"].to_numpy(dtype=float)
    if by_departures and np.isfinite(values).any():
        classes = []
        pt_val = values[amen.feature]
        lower = np.inf
        for min_dep, factor in DEPARTURE_CLASSES:
            sel = (pt_val >= min_dep) & (pt_val < lower)
            lower = min_dep
            if sel.any():
                classes.append((factor, engine.nearest(ind.mode, amen, subset=sel)[0]))
        unknown = ~np.isfinite(pt_val)
        if unknown.any():
            classes.append((_UNKNOWN_DEPARTURES_FACTOR,
                            engine.nearest(ind.mode, amen, subset=unknown)[0]))
        notes.append(Message("departures_weighted",
                             {"classes": [[m, f] for m, f in DEPARTURE_CLASSES]}))
    res = IndicatorResult(ind.key, Measure.NEAREST, ind.mode, raw=dist, nearest=which,
                          classes=classes, notes=notes, **found.common)
    res.score = res.rescore(x.dec)
    return res


def out_of_reach(ind: Indicator, engine: DistanceEngine, selection: Selection, *,
                 decay: str | None = None, place_types: np.ndarray | None = None) -> IndicatorResult:
    """The result of a feature indicator whose amenities (``selection``, not missing) all lie out
    of every point's reach: what :func:`compute_indicator` gives for amenities infinitely far away
    (nearest: distance ``inf``, score 0, no nearest; count and gravity: 0).

    A partition of a large region (:mod:`geo.partition`) holds only the amenities within its
    indicator's reach; where there are none, its points score this.
    """
    n = len(engine.points)
    dec = decay or ind.decay
    notes = list(selection.notes)
    approximate = engine.approximate(ind.mode)
    if ind.mode in engine.notes:
        notes.append(engine.notes[ind.mode])
    common: dict[str, Any] = dict(
        approximate=approximate, partial=selection.partial,
        amenities=selection.amen.table.iloc[:0], decay=dec, threshold_m=ind.threshold_m,
        max_m=ind.max_m, gaps=list(selection.gap_items) if selection.partial else [],
        gap_kinds=list(selection.gap_kinds) if selection.partial else [],
        thresholds=_point_thresholds(ind, place_types, n))
    none = np.full(n, -1, dtype=np.int64)
    if Measure(ind.measure) == Measure.NEAREST:
        far = np.full(n, np.inf)
        res = IndicatorResult(ind.key, Measure.NEAREST, ind.mode, raw=far, nearest=none,
                              classes=[(1.0, far)], notes=notes, **common)
        res.score = res.rescore(dec)
        return res
    return IndicatorResult(ind.key, ind.measure, ind.mode, raw=np.zeros(n), score=np.zeros(n),
                           nearest=none, unit="count", notes=notes, **common)


#: The function computing each measure (dispatch table: a new measure is one entry here and one
#: member of :class:`layers.vocab.Measure`).
_MEASURES: dict[Measure, Callable[[_Inputs], IndicatorResult]] = {
    Measure.NEAREST: _nearest,
    Measure.COUNT: functools.partial(_reach, counts=_count_within),
    Measure.GRAVITY: functools.partial(_reach, counts=_gravity_within),
    Measure.STAT: _stat,
}
