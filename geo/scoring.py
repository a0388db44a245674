"""Livability scores: indicators -> themes -> composite, per cell, locality and municipality.

Two steps:

- :func:`build_model` (slow, weight-independent): the H3 grid, every indicator over the cells, the
  locality roll-up matrix, which indicators are missing and why.
- :func:`score` (fast, milliseconds): theme and composite scores for given theme weights (a persona,
  custom weights or both), the optional Mazziotta-Pareto penalty, the roll-ups and ranks. Its first
  call on a model precomputes everything the weights do not change (theme scores, the few
  theme-weighted sums each weighting needs as one contiguous block, the municipal roll-up, the
  result frames' fixed columns); each call then is one matrix product and a few array operations
  (about 8 ms at 100k cells).

Aggregation rules
-----------------
- Theme = weighted mean of the theme's *available* indicators (indicator weights from the specs);
  composite = weighted mean of the available themes (theme weights). Missing indicators and themes
  are left out and the weights renormalised; they never count as zero.
- A locality's indicator score is the population-weighted mean of its cells' scores (evenly when its
  cells carry no weight); its themes and composite are computed from those indicator scores.
- A municipality's scores are the population-weighted means of its localities' scores.
- One place, one measurement: a locality's explanation comes from the same cells as its score (the
  population-weighted *median resident's* distance, and the amenity nearest for the largest share
  of residents); the locality's centre point is not used for any value.
- ``complete_share`` (0-1): the share of a place's composite weight resting on complete indicators
  (:attr:`geo.access.IndicatorResult.complete`); partial indicators keep their full weight (their
  known score is a lower bound, see :mod:`geo.access`, *Partial data*).
- Mazziotta-Pareto penalty (``penalty=True``): composite = ``M - S * cv = M - S^2 / M`` over the theme
  scores (M weighted mean, S weighted standard deviation). The themes are already on a common 0-100
  scale, so they are used directly instead of z-scores; a balanced place loses nothing, an unbalanced
  one loses more the more its themes differ.
- Ranks: 1 = best composite; ties share the best rank.

Municipal statistics
--------------------
A municipal statistic (``stat`` indicator: house price, tax rate, rent, unemployment, income, school
results) is one number for every place of a municipality, so it cannot tell two villages of one
municipality apart. Its share is capped at :data:`STAT_CAP` (20 %) twice:

- inside a theme that also has local indicators (distances, counts), the statistics together weigh
  at most 20 % of the theme (their weights are scaled down when they would weigh more); a theme
  made only of statistics (housing while no OSM buildings are loaded) is their weighted mean;
- in the composite, the statistics of all themes together weigh at most 20 %: when the themes'
  statistics would weigh more (a statistics-only theme with a large weight), every statistic's
  effective weight is scaled down and every local indicator's scaled up so the share is 20 %
  exactly. The composite then is ``(1 - c) * local + c * statistics`` with ``c`` the capped
  share, ``local`` and ``statistics`` the theme-weighted means of the two parts of the themes.

The share a place's composite rests on statistics is ``stat_share`` (Scores, Explanation). Without
local indicators anywhere (nothing but statistics) the cap cannot apply and the share is 1.
What a score means
------------------
- Place types (:mod:`geo.placetypes`): every locality is a town, small town, village or archipelago
  place, every cell carries its locality's type (cells outside any locality: countryside), and each
  distance is scored against the standard of its point's type.
- Absolute scale: with the default ``plateau`` decay a distance indicator is 100 when the amenity
  lies within the standard for the place type, 50 at 1.5 times the standard, 20 at twice it, about
  0 beyond three times. So 100 means every need within its standard; a statistic scores 50 for an
  average municipality. The other decays (``--decay``) score 50 *at* the standard.
- Bands (:data:`BANDS`, words: ``band.<key>`` in :mod:`geo.catalog`) turn a composite into words; a
  lower bound belongs to its band (80 is "most errands on foot", 79.9 the band below).
- Percentiles (:func:`percentiles`): ``pct_region`` is the share of the region's other scored
  localities with a lower composite (ties count half), ``pct_type`` the same among localities of
  the same place type (NaN for a type with one locality). Both lie in 0-100 and grow with the
  composite.
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from layers import LAYERS, Indicator, all_indicators, get_indicator, get_layer, get_persona, residential_layer
from layers.vocab import NETWORK_NAMES, Measure

from .access import DistanceEngine, IndicatorResult, compute_indicator, weighted_median
from .catalog import indicator_title, lang_of, layer_title, t
from .context import ContextRow, context_rows, municipality_names
from .errors import LimitError, LivabilityError, RegionNotFoundError, UnknownLayerError
from .gapbounds import misplaced
from .grid import build_grid
from .messages import Message, fmt_distance, fmt_spec, fmt_value, join, place_type_name, render
from .network import MODE_SPEEDS_KMH, minutes
from .placetypes import locality_types, point_types
from .settings import MAX_WEIGHT, WORK_CRS
from .store import Snapshot

__all__ = [
    "BANDS",
    "STAT_CAP",
    "ContextRow",
    "Explanation",
    "ScoreModel",
    "Scores",
    "assemble_model",
    "build_model",
    "capped_composites",
    "complete_share",
    "compose",
    "doubtful_positions",
    "explain",
    "gap_places",
    "model_cells",
    "municipal_context",
    "municipal_population",
    "percentiles",
    "position_doubts",
    "resolve_weights",
    "score",
    "score_band",
]

log = logging.getLogger(__name__)

#: Largest share of municipal statistics in a theme with local indicators, and in the composite.
STAT_CAP = 0.2


# -- the model -----------------------------------------------------------------------------------
@dataclass
class ScoreModel:
    """Everything weight-independent: grid, indicator scores per cell and locality, missing data.

    Every per-place result is keyed by the place's own identifier: cells by their H3 id, localities
    by their ``code`` (the frames' index; the ``h3`` and ``code`` columns stay for tables and
    exports). Look places up by key (``model.loc_scores.loc["T1", "transit.rail"]``,
    :meth:`cells_of`, :meth:`indicator_values`), never by row number.

    Attributes
    ----------
    cells
        Grid cells (:func:`geo.grid.build_grid` columns) indexed by H3 id.
    localities
        ``code``, ``name``, ``municipality``, ``municipality_name``, ``population``,
        ``place_type`` (:mod:`geo.placetypes`), ``lon``, ``lat``, indexed by ``code``; ``cells``
        carry ``place_type`` too.
    indicators
        Every indicator of the registry, in registry order (columns of the score frames).
    results
        Indicator key -> :class:`geo.access.IndicatorResult` over the cells (its arrays are in
        ``cells`` order; :meth:`indicator_values` gives them keyed by H3 id).
    cell_scores, loc_scores
        Scores 0-100 (NaN: not computable) indexed by H3 id and by locality code, one column per
        indicator key.
    rollup
        ``(n_loc, n_cells)`` sparse matrix of population weights (rows sum to 1) in ``localities``
        x ``cells`` order: the kernel's; :meth:`cells_of` gives one locality's row by code.
    themes
        Theme keys (columns of theme matrices), ``ind_theme`` the theme index of each indicator,
        ``ind_weight`` each indicator's weight in its theme.
    context
        Municipality code -> its :class:`geo.context.ContextRow` list (municipal statistics and
        context lines against the national median), for the region's municipalities.
    doubtful
        Amenity uid -> ``(locality, metres)`` for an amenity whose name gives a locality it lies
        far outside (:func:`doubtful_positions`): its position in the source may be wrong.
    """

    region: str
    region_name: str
    resolution: int
    decay: str | None
    cells: pd.DataFrame
    localities: pd.DataFrame
    indicators: list[Indicator]
    results: dict[str, IndicatorResult]
    cell_scores: pd.DataFrame
    loc_scores: pd.DataFrame
    rollup: sparse.csr_matrix
    themes: list[str]
    ind_theme: np.ndarray
    ind_weight: np.ndarray
    municipality_names: dict[str, str] = field(default_factory=dict)
    loc_missing: list[str] = field(default_factory=list)
    build_seconds: float = 0.0
    context: dict[str, list[ContextRow]] = field(default_factory=dict)
    doubtful: dict[str, tuple[str, float]] = field(default_factory=dict)
    _kernel: _Kernel | None = field(default=None, init=False, repr=False, compare=False)

    def kernel_source(self) -> tuple[object, ...]:
        """The objects :func:`score`'s precomputed kernel is built from (compared by identity)."""
        return (self.cells, self.localities, self.indicators, self.results, self.cell_scores,
                self.loc_scores, self.themes, self.ind_theme, self.ind_weight,
                self.municipality_names, self.loc_missing)

    def kernel(self) -> _Kernel:
        """:func:`score`'s weight-independent state, built once and rebuilt when one of the
        frames it comes from (:meth:`kernel_source`) is replaced."""
        k = self._kernel
        if k is None or any(a is not b for a, b in zip(k.source, self.kernel_source(),
                                                       strict=True)):
            k = self._kernel = _Kernel(self)
        return k

    @property
    def ind_stat(self) -> np.ndarray:
        """``(n_ind,)`` True for municipal statistics (capped at :data:`STAT_CAP`)."""
        return np.array([i.measure == "stat" for i in self.indicators], dtype=bool)

    @property
    def ind_keys(self) -> list[str]:
        """Indicator keys in column order."""
        return [i.key for i in self.indicators]

    @property
    def missing(self) -> dict[str, Message | None]:
        """Indicators that could not be computed anywhere: key -> reason."""
        return {k: r.reason for k, r in self.results.items() if r.missing}

    @property
    def approximate(self) -> bool:
        """True when any computed distance is straight-line (no street network)."""
        return any(r.approximate for r in self.results.values() if not r.missing)

    @property
    def ind_complete(self) -> np.ndarray:
        """``(n_ind,)`` True where the indicator rests on complete data (not partial, not missing)."""
        return np.array([self.results[k].complete for k in self.ind_keys], dtype=bool)

    @property
    def theme_matrix(self) -> np.ndarray:
        """``(n_ind, n_theme)``: indicator weight where the indicator belongs to the theme."""
        m = np.zeros((len(self.indicators), len(self.themes)))
        m[np.arange(len(self.indicators)), self.ind_theme] = self.ind_weight
        return m

    def cells_of(self, code: str) -> pd.Series:
        """The cells of locality ``code`` with their population weights (summing to 1), by H3 id.

        Raises
        ------
        KeyError
            For a code that is not a locality of the model.
        """
        row = self.rollup.getrow(self.localities.index.get_loc(code))
        return pd.Series(row.data, index=self.cells.index[row.indices], name="weight")

    def indicator_values(self, key: str) -> pd.DataFrame:
        """Indicator ``key`` per cell, by H3 id: ``raw`` (distance m, count or statistic),
        ``score`` (default decay), ``nearest`` (the nearest amenity's ``uid``; None: none) and
        ``standard_m`` (the point's distance standard; NaN for other measures)."""
        res = self.results[key]
        n = len(self.cells)
        uids = (res.amenities["uid"].astype(str).to_numpy(dtype=object)
                if len(res.nearest) and "uid" in res.amenities else np.zeros(0, dtype=object))
        near = np.full(n, None, dtype=object)
        if len(res.nearest):
            hit = res.nearest >= 0
            near[hit] = uids[res.nearest[hit]]
        std = (res.thresholds if res.thresholds is not None and res.measure == Measure.NEAREST
               else np.full(n, np.nan))
        return pd.DataFrame({"raw": res.raw if len(res.raw) else np.full(n, np.nan),
                             "score": res.score if len(res.score) else np.full(n, np.nan),
                             "nearest": near, "standard_m": std}, index=self.cells.index)

    def indicator_arrays(self, decay: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The kernels' view of :meth:`indicator_matrices`: ``(n_cells, n_ind)`` and
        ``(n_loc, n_ind)`` arrays in ``cells`` / ``localities`` order."""
        if decay is None or decay == self.decay:
            return self.cell_scores.to_numpy(dtype=float), self.loc_scores.to_numpy(dtype=float)
        cols = [self.results[k].rescore(decay) for k in self.ind_keys]
        cs = np.column_stack(cols) if cols else np.zeros((len(self.cells), 0))
        return cs, _rollup(self.rollup, cs)

    def indicator_matrices(self, decay: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Cell and locality indicator scores (as :attr:`cell_scores`, :attr:`loc_scores`),
        re-scored with another ``decay`` if given."""
        if decay is None or decay == self.decay:
            return self.cell_scores, self.loc_scores
        cs, ls = self.indicator_arrays(decay)
        return (pd.DataFrame(cs, index=self.cells.index, columns=self.ind_keys),
                pd.DataFrame(ls, index=self.localities.index, columns=self.ind_keys))


def _rollup(r: sparse.csr_matrix, s: np.ndarray) -> np.ndarray:
    """NaN-aware weighted means of the rows of ``s`` selected by ``r``."""
    ok = ~np.isnan(s)
    num = r @ np.where(ok, s, 0.0)
    den = r @ ok.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _rollup_matrix(groups: np.ndarray, weights: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    """Row-normalised membership matrix; groups whose members weigh 0 are weighted evenly."""
    member = groups >= 0
    g = groups[member]
    cols = np.flatnonzero(member)
    w = np.asarray(weights, dtype=float)[member]
    tot = np.bincount(g, weights=w, minlength=n_groups)
    cnt = np.bincount(g, minlength=n_groups).astype(float)
    use_even = tot[g] <= 0
    vals = np.where(use_even, 1.0 / np.maximum(cnt[g], 1), w / np.where(tot[g] > 0, tot[g], 1))
    return sparse.csr_matrix((vals, (g, cols)), shape=(n_groups, len(groups)))


def _layer_gaps(snapshot: Snapshot, key: str) -> list[str]:
    """The known gaps of layer ``key``: its manifest entry's ``gaps`` (none when absent)."""
    entry = snapshot.manifest["layers"].get(key)
    return [str(g) for g in entry.get("gaps", [])] if entry is not None else []


def _outline_places(snapshot: Snapshot) -> gpd.GeoDataFrame | None:
    """The snapshot's locality outlines (``name``, ``code``), None when it has none."""
    fp = snapshot.footprints()
    if fp is None or fp.empty or "name" not in fp or "code" not in fp:
        return None
    return fp[["name", "code", "geometry"]]


def gap_places(snapshot: Snapshot) -> gpd.GeoDataFrame | None:
    """Locality outlines (``name``, ``code``) that place a layer's named gaps
    (:mod:`geo.gapbounds`); None when no layer has named gaps (nothing to place: the outlines
    are not read) or the snapshot has no outlines."""
    if not any(entry.get("gaps") for entry in snapshot.manifest["layers"].values()):
        return None
    return _outline_places(snapshot)


def doubtful_positions(snapshot: Snapshot, results: dict[str, IndicatorResult],
                       municipalities: Collection[str] = ()) -> dict[str, tuple[str, float]]:
    """Amenity uid -> ``(locality, metres)`` for the amenities of ``results`` whose name gives a
    locality they lie 2-15 km outside of, inside another locality (:func:`geo.gapbounds.misplaced`,
    which also leaves out district names of the town they lie in): "Nättraby vårdcentral" listed
    inside Karlskrona. Flagged in explanations, never moved; layers ``named_after_area``
    (:class:`layers.spec.LayerSpec`) are left out, and so are localities named like one of the
    ``municipalities`` (a name may give the municipality)."""
    tables = [r.amenities for r in results.values() if not r.missing
              and not get_layer(get_indicator(r.key).layer).named_after_area
              and r.amenities is not None
              and len(r.amenities) and {"uid", "name", "lon", "lat"} <= set(r.amenities.columns)]
    if not tables:
        return {}
    places = _outline_places(snapshot)
    if places is None:
        return {}
    feats = pd.concat([t[["uid", "name", "lon", "lat"]] for t in tables]).drop_duplicates("uid")
    xy = gpd.GeoSeries(gpd.points_from_xy(feats["lon"], feats["lat"]), crs=4326).to_crs(WORK_CRS)
    found = misplaced(feats["name"].tolist(), np.column_stack([xy.x, xy.y]), places,
                      skip=municipalities)
    out = {str(u): hit for u, hit in zip(feats["uid"], found, strict=True) if hit is not None}
    if out:
        log.info("%d amenities lie far outside the locality their name gives (positions flagged, "
                 "not moved)", len(out))
    return out


def _table(snapshot: Snapshot, name: str | None) -> pd.DataFrame | None:
    """Statistics table ``name`` of the snapshot (None: no name or no such table)."""
    return snapshot.table(name) if name else None


def build_model(snapshot: Snapshot, *, resolution: int = 9, decay: str | None = None,
                progress: Callable[[float, str], None] | None = None) -> ScoreModel:
    """Compute the weight-independent part of the scores for a snapshot.

    Parameters
    ----------
    snapshot
        A :class:`geo.store.Snapshot`.
    resolution
        H3 resolution of the grid.
    decay
        Decay for every distance indicator (default: each indicator's own).
    progress
        Optional ``callback(fraction, message)``.
    """
    t0 = time.perf_counter()
    step = progress or (lambda f, m: None)
    step(0.05, "grid")
    loc, mnames, cells = model_cells(snapshot, resolution)
    ptypes = cells["place_type"].to_numpy(dtype=object)
    points = cells[["x", "y"]].to_numpy(dtype=float)
    point_munis = cells["municipality"].astype(object).to_numpy()
    networks = {m: snapshot.network(m) for m in NETWORK_NAMES}
    engine = DistanceEngine(points, networks, hierarchies=getattr(snapshot, "hierarchy", None))
    inds = all_indicators()
    results: dict[str, IndicatorResult] = {}
    layer_cache: dict[str, gpd.GeoDataFrame] = {}
    places = gap_places(snapshot)
    for k, ind in enumerate(inds):
        step(0.1 + 0.85 * k / max(len(inds), 1), ind.key)
        if not Measure(ind.measure).uses_layer:
            results[ind.key] = compute_indicator(ind, engine, table=_table(snapshot, ind.table),
                                                 municipalities=point_munis, decay=decay)
        else:
            if ind.layer not in layer_cache:
                layer_cache[ind.layer] = snapshot.layer(ind.layer)
            results[ind.key] = compute_indicator(ind, engine, layer=layer_cache[ind.layer],
                                                 layer_status=snapshot.layer_status(ind.layer),
                                                 decay=decay, gaps=_layer_gaps(snapshot, ind.layer),
                                                 place_types=ptypes, places=places)
    model = assemble_model(snapshot, loc, mnames, cells, results, resolution=resolution,
                           decay=decay, started=t0)
    step(1.0, "done")
    return model


def model_cells(snapshot: Snapshot, resolution: int = 9
                ) -> tuple[gpd.GeoDataFrame, dict[str, str], pd.DataFrame]:
    """The localities, municipality names and grid cells (both with ``place_type``) a model scores.

    The first step of :func:`build_model`, also the plan of a partitioned build
    (:mod:`geo.partition`): cells are claimed by localities across municipal borders, so the
    grid is built once for the whole region and split afterwards.

    Raises
    ------
    LivabilityError
        When the snapshot has no localities.
    """
    loc = snapshot.localities()
    if loc.empty:
        raise LivabilityError(message=Message("no_localities", {"region": snapshot.region_key}))
    loc = loc.reset_index(drop=True)
    loc["code"] = loc["code"].astype(str)
    munis = snapshot.municipalities()
    mnames: dict[str, str] = {}
    if not munis.empty and "code" in munis and "name" in munis:
        mnames = dict(zip(munis["code"].astype(str), munis["name"].astype(str)))
    if "municipality_name" in loc:
        for c, nm in zip(loc["municipality"].astype(str), loc["municipality_name"]):
            if nm is not None and str(nm) and c not in mnames:
                mnames[c] = str(nm)
    homes = residential_layer()
    housing = snapshot.layer(homes.key) if homes is not None else None
    cells = build_grid(loc, resolution=resolution, housing=housing,
                       footprints=snapshot.footprints(), municipalities=munis)
    loc["place_type"] = locality_types(loc)
    cells["place_type"] = point_types(cells["locality"], loc["code"], loc["place_type"])
    return loc, mnames, cells


def assemble_model(snapshot: Snapshot, loc: gpd.GeoDataFrame, mnames: dict[str, str],
                   cells: pd.DataFrame, results: dict[str, IndicatorResult], *, resolution: int,
                   decay: str | None, started: float) -> ScoreModel:
    """The :class:`ScoreModel` of indicator ``results`` over ``cells`` (:func:`model_cells`):
    the locality roll-up, the frames keyed by H3 id and locality code, the municipal context.

    The last step of :func:`build_model` and of a partitioned build (:mod:`geo.partition`, whose
    results are merged into ``cells`` order first).
    """
    inds = all_indicators()
    n_cells = len(cells)
    loc_types = (loc["place_type"].to_numpy(dtype=object) if "place_type" in loc
                 else locality_types(loc))
    cell_arr = np.column_stack([results[i.key].score for i in inds])
    code_index = pd.Index(loc["code"])
    li = code_index.get_indexer(cells["locality"].astype(object).where(cells["locality"].notna(),
                                                                       None))
    rollup = _rollup_matrix(li, cells["weight"].to_numpy(dtype=float), len(loc))
    loc_arr = _rollup(rollup, cell_arr)
    themes = list(LAYERS)
    ind_theme = np.array([themes.index(i.layer) for i in inds], dtype=np.int64)
    ind_weight = np.array([i.weight for i in inds], dtype=float)
    keys = [i.key for i in inds]
    loc_missing = [", ".join(k for k, v in zip(keys, row) if np.isnan(v)) for row in loc_arr]
    cells.index = pd.Index(cells["h3"].astype(str).to_numpy(dtype=object))
    localities = pd.DataFrame({
        "code": loc["code"],
        "name": loc["name"].astype(str) if "name" in loc else loc["code"],
        "municipality": loc["municipality"].astype(str),
        "municipality_name": loc["municipality"].astype(str).map(mnames).fillna(""),
        "population": pd.to_numeric(loc.get("population"), errors="coerce").fillna(0).to_numpy(),
        "place_type": loc_types,
        "lon": loc.geometry.x.to_numpy(),
        "lat": loc.geometry.y.to_numpy(),
    }).set_axis(code_index.rename(None))
    codes = sorted(set(mnames) | set(localities["municipality"]))
    model = ScoreModel(
        region=snapshot.region_key, region_name=snapshot.region_name, resolution=resolution,
        decay=decay, cells=cells, localities=localities, indicators=inds, results=results,
        cell_scores=pd.DataFrame(cell_arr, index=cells.index, columns=keys),
        loc_scores=pd.DataFrame(loc_arr, index=localities.index, columns=keys),
        rollup=rollup, themes=themes,
        ind_theme=ind_theme, ind_weight=ind_weight, municipality_names=mnames,
        loc_missing=loc_missing, build_seconds=time.perf_counter() - started,
        context=context_rows(snapshot, codes, names=mnames),
        doubtful=doubtful_positions(snapshot, results, set(mnames.values())),
    )
    log.info("score model for %s: %d cells, %d localities, %d/%d indicators computed "
             "(missing: %s) in %.1f s", model.region, n_cells, len(loc),
             len(inds) - len(model.missing), len(inds), ", ".join(model.missing) or "none",
             model.build_seconds)
    return model


# -- weights and composition ---------------------------------------------------------------------
def resolve_weights(themes: list[str], weights: dict[str, float] | None = None,
                    persona: str | None = None) -> np.ndarray:
    """Theme weights: the persona's (or each layer's default), updated by ``weights``.

    Raises
    ------
    UnknownLayerError
        For a theme key that is not a layer (the message lists the known ones).
    LimitError
        For a weight that is not a finite number in ``[0, MAX_WEIGHT]`` (``1e308`` would overflow
        the weighted sums and leave every place unscored), or when every weight is 0.
    """
    if persona:
        base = dict(get_persona(persona).weights)
        w = {t: float(base.get(t, 0.0)) for t in themes}
    else:
        w = {t: float(LAYERS[t].default_weight) for t in themes}
    for k, v in (weights or {}).items():
        if k not in w:
            close = difflib.get_close_matches(k, themes, n=2)
            raise UnknownLayerError(message=Message("theme_unknown", {
                "theme": k, "close": close, "themes": list(themes)}))
        try:
            val = float(v)
        except (TypeError, ValueError):
            val = float("nan")
        if not 0 <= val <= MAX_WEIGHT:  # False for NaN too
            raise LimitError(message=Message("weight_range", {
                "theme": k, "value": str(v)[:40], "max": MAX_WEIGHT}))
        w[k] = val
    arr = np.array([w[t] for t in themes], dtype=float)
    if arr.sum() <= 0:
        raise LimitError(message=Message("weights_zero"))
    return arr


def compose(ind_scores: np.ndarray, theme_matrix: np.ndarray, theme_weights: np.ndarray, *,
            penalty: bool = False, stat_mask: np.ndarray | None = None,
            stat_cap: float = STAT_CAP) -> tuple[np.ndarray, np.ndarray]:
    """Theme scores and composite from indicator scores (NaN-aware, weights renormalised).

    Parameters
    ----------
    ind_scores
        ``(n, n_ind)`` scores, NaN where missing.
    theme_matrix
        ``(n_ind, n_theme)`` indicator weights per theme.
    theme_weights
        ``(n_theme,)`` theme weights.
    penalty
        Apply the Mazziotta-Pareto penalty ``M - S^2 / M``.
    stat_mask, stat_cap
        ``(n_ind,)`` True for municipal statistics, whose share of a mixed theme and of the
        composite is capped at ``stat_cap`` (see the module notes); None: no statistics.

    Returns
    -------
    themes, composite
        ``(n, n_theme)`` and ``(n,)``; NaN where nothing is available.
    """
    themes, comp, _ = compose_share(ind_scores, theme_matrix, theme_weights, penalty=penalty,
                                    stat_mask=stat_mask, stat_cap=stat_cap)
    return themes, comp


def compose_share(ind_scores: np.ndarray, theme_matrix: np.ndarray, theme_weights: np.ndarray,
                  *, penalty: bool = False, stat_mask: np.ndarray | None = None,
                  stat_cap: float = STAT_CAP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`compose` that also returns each row's share of statistics in the composite."""
    themes, comp, share = capped_composites(ind_scores, theme_matrix,
                                            np.asarray(theme_weights, dtype=float)[None, :],
                                            stat_mask=stat_mask, stat_cap=stat_cap,
                                            penalty=penalty)
    return themes, comp[:, 0], share[:, 0]


_BLAS: list[Any] = []  # the threadpoolctl controller, made on first use ([None]: unavailable)


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """Run BLAS on one thread inside the block: :func:`score`'s product is memory-bound, and on a
    busy machine OpenBLAS' threads wait for each other (12 ms instead of 0.2 ms at 12k cells)."""
    if not _BLAS:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS.append(ThreadpoolController())
        except Exception:  # any failure only costs speed
            log.debug("threadpoolctl unavailable: BLAS keeps its threads", exc_info=True)
            _BLAS.append(None)
    ctl = _BLAS[0]
    return ctl.limit(limits=1, user_api="blas") if ctl is not None else contextlib.nullcontext()


@dataclass
class _Parts:
    """The weight-independent part of :func:`capped_composites` for one set of ``n`` rows.

    ``themes`` ``(n, n_theme)``: the theme scores (statistics capped inside mixed themes; NaN:
    theme missing). Every weighting needs a few theme-weighted sums per row (:data:`_ROWS`, the
    penalty's :data:`_PEN_ROWS`, ``complete_share``'s ``frac`` and ``has``): each such *block* is an
    ``(n, n_theme)`` array. Only the distinct theme columns that are not all zero are stored, as
    the rows of ``columns`` (C-contiguous ``(n_columns, n)``; a column equal to one already stored,
    such as a local-only theme's local weight and its availability, is stored once); entry ``i``
    says block ``e_block[i]`` takes column ``e_col[i]`` times theme ``e_theme[i]``'s weight.
    ``rows`` maps a block name to its index (an equal block shares it). All the sums of one
    weighting are then one matrix product over ``columns``.
    """

    themes: np.ndarray
    columns: np.ndarray
    e_block: np.ndarray
    e_col: np.ndarray
    e_theme: np.ndarray
    rows: dict[str, int]
    n_blocks: int

    def products(self, W: np.ndarray) -> np.ndarray:
        """``(n_blocks, n, n_draws)``: every block times the ``(n_theme, n_draws)`` weights."""
        n, d = self.columns.shape[1], W.shape[1]
        if d == 1:  # one weighting (score): a (n_blocks, n_columns) weight matrix, one product
            B = np.zeros((self.n_blocks, len(self.columns)))
            np.add.at(B, (self.e_block, self.e_col), W[self.e_theme, 0])  # shared columns add
            with _one_blas_thread():
                prod: np.ndarray = B @ self.columns
            return prod[:, :, None]
        out = np.zeros((self.n_blocks, n, d))
        for b in range(self.n_blocks):
            sel = self.e_block == b
            if sel.any():
                out[b] = self.columns[self.e_col[sel]].T @ W[self.e_theme[sel]]
        return out

    @classmethod
    def of(cls, themes: np.ndarray, blocks: dict[str, np.ndarray]) -> _Parts:
        """Pack the named ``(n, n_theme)`` blocks (non-zero columns, each distinct one once)."""
        rows: dict[str, int] = {}
        cols: list[np.ndarray] = []
        sums: list[float] = []
        entries: list[tuple[int, int, int]] = []
        for name, arr in blocks.items():
            same = next((rows[k] for k in rows if np.array_equal(blocks[k], arr)), None)
            if same is not None:
                rows[name] = same
                continue
            b = rows[name] = len(set(rows.values()))
            for th in np.flatnonzero((arr != 0).any(axis=0)):
                col = np.ascontiguousarray(arr[:, th])
                s = float(col.sum())
                j = next((i for i, (c, cs) in enumerate(zip(cols, sums, strict=True))
                          if cs == s and np.array_equal(c, col)), None)
                if j is None:
                    j = len(cols)
                    cols.append(col)
                    sums.append(s)
                entries.append((b, j, int(th)))
        e = np.array(entries, dtype=np.int64).reshape(-1, 3)
        columns = np.stack(cols) if cols else np.zeros((0, len(themes)))
        return cls(themes, columns, e[:, 0], e[:, 1], e[:, 2], rows, len(set(rows.values())))


#: Blocks of :class:`_Parts`: themes available (``tok``), their local and statistics
#: weights (``wl = 1 - sigma``, ``ws = sigma``) and those weights times the parts' means.
_ROWS = ("tok", "wl", "ws", "wl_local", "ws_stat")
#: Extra row blocks for the Mazziotta-Pareto penalty: the available themes and their squares.
_PEN_ROWS = ("t0", "t0_sq")


def _theme_parts(ind_scores: np.ndarray, theme_matrix: np.ndarray, stat_mask: np.ndarray,
                 cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Themes with the statistics capped inside mixed themes, their local and statistics parts
    (NaN where absent) and the statistics' capped share of each theme (NaN: theme missing)."""
    ok = ~np.isnan(ind_scores)
    s0 = np.where(ok, ind_scores, 0.0)
    okf = ok.astype(float)
    parts = []
    for mask in (~stat_mask, stat_mask):
        tm = theme_matrix * mask[:, None]
        num, den = s0 @ tm, okf @ tm
        with np.errstate(invalid="ignore", divide="ignore"):
            parts.append((np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan), den))
    (local, den_l), (stat, den_s) = parts
    with np.errstate(invalid="ignore", divide="ignore"):
        natural = den_s / np.where(den_l + den_s > 0, den_l + den_s, 1.0)
    sigma = np.where(den_l > 0, np.minimum(natural, cap), 1.0)
    sigma = np.where(den_s > 0, sigma, 0.0)
    sigma = np.where(den_l + den_s > 0, sigma, np.nan)
    themes = (1 - sigma) * np.nan_to_num(local) + sigma * np.nan_to_num(stat)
    return np.where(np.isnan(sigma), np.nan, themes), local, stat, sigma


def _complete_frac(ind_scores: np.ndarray, theme_matrix: np.ndarray,
                   complete: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(frac, has)`` of :func:`complete_share`: each theme's share of complete indicator weight
    (0 where the theme has nothing) and whether the theme has any indicator (as floats)."""
    ok = ~np.isnan(ind_scores)
    den = ok.astype(float) @ theme_matrix
    num = (ok & np.asarray(complete, dtype=bool)[None, :]).astype(float) @ theme_matrix
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
    return frac, (den > 0).astype(float)


def _composite_parts(ind_scores: np.ndarray, theme_matrix: np.ndarray,
                     stat_mask: np.ndarray | None, stat_cap: float, *, penalty: bool = False,
                     complete: np.ndarray | None = None) -> _Parts:
    """Everything of :func:`capped_composites` that does not depend on the theme weights
    (``complete``: also the blocks of :func:`complete_share` for these indicators)."""
    mask = (np.zeros(ind_scores.shape[1], dtype=bool) if stat_mask is None
            else np.asarray(stat_mask, dtype=bool))
    themes, local, stat, sigma = _theme_parts(ind_scores, theme_matrix, mask, stat_cap)
    tok = ~np.isnan(themes)
    wl = np.where(tok, 1 - sigma, 0.0)
    ws = np.where(tok, sigma, 0.0)
    blocks = dict(zip(_ROWS, (tok.astype(float), wl, ws, wl * np.nan_to_num(local),
                              ws * np.nan_to_num(stat)), strict=True))
    if penalty:
        t0 = np.where(tok, themes, 0.0)
        blocks |= dict(zip(_PEN_ROWS, (t0, t0 ** 2), strict=True))
    if complete is not None:
        blocks["frac"], blocks["has"] = _complete_frac(ind_scores, theme_matrix, complete)
    return _Parts.of(themes, blocks)


def _combine(parts: _Parts, W: np.ndarray, stat_cap: float, penalty: bool,
             P: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Composites and statistics' shares ``(n, n_draws)`` of :func:`capped_composites` from the
    precomputed ``parts`` and ``(n_theme, n_draws)`` weights ``W`` (``P``: ``parts.products(W)``
    when already computed)."""
    P = parts.products(W) if P is None else P
    r = parts.rows
    wsum, loc_w, stat_w = P[r["tok"]], P[r["wl"]], P[r["ws"]]
    with np.errstate(invalid="ignore", divide="ignore"):
        safe = np.where(wsum > 0, wsum, 1.0)
        natural = stat_w / safe
        share = np.where((natural > stat_cap) & (loc_w > 0), stat_cap, natural)
        lc = P[r["wl_local"]] / np.where(loc_w > 0, loc_w, 1.0)
        sc = P[r["ws_stat"]] / np.where(stat_w > 0, stat_w, 1.0)
        mean = np.where(wsum > 0, (1 - share) * lc + share * sc, np.nan)
        if penalty:
            var = np.maximum(P[r["t0_sq"]] / safe - (P[r["t0"]] / safe) ** 2, 0.0)
            mean = np.where(mean > 0, mean - var / np.where(mean > 0, mean, 1.0), mean)
            mean = np.maximum(mean, 0.0)
    return mean, np.where(wsum > 0, share, np.nan)


def capped_composites(ind_scores: np.ndarray, theme_matrix: np.ndarray, weights: np.ndarray, *,
                      stat_mask: np.ndarray | None = None, stat_cap: float = STAT_CAP,
                      penalty: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Themes and the composites of several weightings at once, statistics capped.

    The weight-independent part (themes, the local and statistics weights) is computed once; every
    weighting is then one matrix product (the same code as :func:`score`'s precomputed kernel).

    Parameters
    ----------
    ind_scores, theme_matrix
        As for :func:`compose`.
    weights
        ``(n_draws, n_theme)`` theme weights (one row per weighting).
    stat_mask, stat_cap, penalty
        As for :func:`compose`.

    Returns
    -------
    themes, composites, shares
        ``(n, n_theme)``, ``(n, n_draws)`` composites and the statistics' share of each.
    """
    parts = _composite_parts(np.asarray(ind_scores, dtype=float), theme_matrix, stat_mask,
                             stat_cap, penalty=penalty)
    mean, share = _combine(parts, np.asarray(weights, dtype=float).T, stat_cap, penalty)
    return parts.themes, mean, share


def _complete_combine(frac_w: np.ndarray, has_w: np.ndarray) -> np.ndarray:
    """:func:`complete_share` from ``frac @ w`` and ``has @ w``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(has_w > 0, frac_w / np.where(has_w > 0, has_w, 1.0), np.nan)


def complete_share(ind_scores: np.ndarray, theme_matrix: np.ndarray, theme_weights: np.ndarray,
                   complete: np.ndarray) -> np.ndarray:
    """Share (0-1) of each row's composite weight that rests on ``complete`` indicators.

    Each available indicator's weight in the composite is its theme's renormalised weight times its
    own renormalised weight in the theme (as in :func:`compose`, but before the statistics cap and
    without the penalty: an approximation of the capped weights); NaN where nothing is available.
    """
    frac, has = _complete_frac(ind_scores, theme_matrix, complete)
    w = np.asarray(theme_weights, dtype=float)
    return _complete_combine(frac @ w, has @ w)


def _rank(values: np.ndarray) -> np.ndarray:
    """1 = highest; ties share the best rank; NaN -> NaN (``rankdata(-v, method="min")``)."""
    v = np.asarray(values, dtype=float)
    ok = ~np.isnan(v)
    out = np.full(len(v), np.nan)
    x = -v[ok]
    s = np.sort(x, kind="stable")
    out[ok] = np.searchsorted(s, x, side="left") + 1
    return out


#: ``(lower bound, band key)`` from the top; a composite belongs to the first band it reaches.
#: The words (en, sv) are the ``band.<key>`` entries of :mod:`geo.catalog`.
BANDS: tuple[tuple[float, str], ...] = (
    (80.0, "on_foot"),          # most errands on foot
    (60.0, "foot_or_bike"),     # many errands on foot or by bike
    (40.0, "bike_or_bus"),      # some errands on foot; a bike or bus helps
    (20.0, "car_useful"),       # a car is useful for most errands
    (0.0, "car_needed"),        # a car is needed for most errands
)


def score_band(values: npt.ArrayLike) -> np.ndarray:
    """Band key of each composite (:data:`BANDS`; NaN -> None).

    >>> score_band([100, 80, 79.99, 40, 19.9, float("nan")]).tolist()
    ['on_foot', 'on_foot', 'foot_or_bike', 'bike_or_bus', 'car_needed', None]
    """
    v = np.atleast_1d(np.asarray(values, dtype=float))
    out = np.full(len(v), None, dtype=object)
    for lower, key in reversed(BANDS):
        out[~np.isnan(v) & (v >= lower)] = key
    return out


def percentiles(values: npt.ArrayLike, groups: npt.ArrayLike | None = None) -> np.ndarray:
    """Share (0-100) of the other places of the same group with a lower value; ties count half.

    NaN for NaN values and for a place without peers (the only one of its group).

    >>> percentiles([10.0, 20.0, 20.0, 40.0]).tolist()
    [0.0, 50.0, 50.0, 100.0]
    >>> percentiles([10.0, 20.0, 30.0], ["a", "b", "a"]).tolist()
    [0.0, nan, 100.0]
    """
    v = np.atleast_1d(np.asarray(values, dtype=float))
    g = np.zeros(len(v), dtype=object) if groups is None else np.asarray(groups, dtype=object)
    out = np.full(len(v), np.nan)
    for key in pd.unique(g):
        idx = np.flatnonzero((g == key) & ~np.isnan(v))
        if len(idx) < 2:
            continue
        x = v[idx]
        s = np.sort(x)
        below = np.searchsorted(s, x, side="left")  # O(n log n), not the n x n comparisons
        ties = np.searchsorted(s, x, side="right") - below - 1
        out[idx] = 100.0 * (below + 0.5 * ties) / (len(idx) - 1)
    return out


class _Kernel:
    """:func:`score`'s precomputed, weight-independent state of one :class:`ScoreModel`.

    Built on the first :func:`score` call and reused while the model keeps the same frames
    (:meth:`ScoreModel.kernel`): the theme-weighted blocks of cells and localities
    (:class:`_Parts`, ``complete_share``'s included), the municipal roll-up matrix, and every
    result column that does not depend on the weights (places' names and codes, coordinates,
    theme scores, the municipalities' theme scores) as the columns of three template frames. A
    result frame takes those columns as Series without copying them; pandas' copy-on-write copies
    one only when a result is modified, so no result can change the model or another result.
    """

    def __init__(self, model: ScoreModel) -> None:
        self.source = model.kernel_source()
        self.done = model.ind_complete
        self._tm, self._stat = model.theme_matrix, model.ind_stat
        self._arr = dict(zip(("cells", "localities"), (np.ascontiguousarray(a) for a in
                                                         model.indicator_arrays()), strict=True))
        self._parts: dict[tuple[str, bool], _Parts] = {}
        self.tcols = [f"theme:{t}" for t in model.themes]
        L, C = model.localities, model.cells
        codes, mi = np.unique(L["municipality"].to_numpy(dtype=str), return_inverse=True)
        pop = L["population"].to_numpy(dtype=float)
        self.mrollup = _rollup_matrix(mi.astype(np.int64), pop, len(codes))
        self.ltype = L["place_type"].to_numpy(dtype=object)
        lth, cth = self.parts("localities", False).themes, self.parts("cells", False).themes
        mth = _rollup(self.mrollup, lth)
        # built from numpy arrays once, so the columns get the dtypes such a frame infers
        self.lcols = _series({c: L[c].to_numpy() for c in (
            "code", "name", "municipality", "municipality_name", "population")}
            | {"place_type": self.ltype, "missing": list(model.loc_missing)}
            | _theme_columns(self.tcols, lth), L.index)
        self.ccols = _series({c: C[c].to_numpy() for c in (
            "h3", "locality", "municipality", "place_type", "weight", "lon", "lat")}
            | _theme_columns(self.tcols, cth), C.index)
        self.mcols = _series({"code": codes,
                              "name": [model.municipality_names.get(c, c) for c in codes],
                              "population": municipal_population(
                                  model, codes, np.bincount(mi, weights=pop, minlength=len(codes)))}
                             | _theme_columns(self.tcols, mth), pd.Index(codes.astype(object)))

    def parts(self, which: str, penalty: bool) -> _Parts:
        """The :class:`_Parts` of ``cells`` or ``localities`` (with the penalty blocks or not)."""
        key = (which, penalty)
        if key not in self._parts:
            self._parts[key] = _composite_parts(self._arr[which], self._tm, self._stat, STAT_CAP,
                                                penalty=penalty, complete=self.done)
        return self._parts[key]

    def rescore(self, which: str, tw: np.ndarray, penalty: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Composite, statistics' share and complete share of every row of ``which``."""
        parts = self.parts(which, penalty)
        W = tw[:, None]
        P = parts.products(W)
        comp, share = _combine(parts, W, STAT_CAP, penalty, P)
        done = _complete_combine(P[parts.rows["frac"], :, 0], P[parts.rows["has"], :, 0])
        return comp[:, 0], share[:, 0], done


#: The context line holding a municipality's own population (the pack's population table).
POPULATION_STAT = "context.population"


def municipal_population(model: ScoreModel, codes: np.ndarray, summed: np.ndarray) -> np.ndarray:
    """Each municipality's population: its population table's value, else its localities' sum.

    A municipality's people do not all live in its localities (tätorter): Karlskrona has about
    66,000 inhabitants, its tätorter 55,941. The pack's population table (the context line
    :data:`POPULATION_STAT`, ``kolada_population_2025``) says the municipality's own number; a
    municipality it has no value for (or a store without the table) keeps the sum.

    Parameters
    ----------
    model
        The score model (its ``context`` rows per municipality code).
    codes
        Municipality codes, in the order of ``summed``.
    summed
        The population of each municipality's localities.

    Returns
    -------
    numpy.ndarray
        ``(len(codes),)`` float populations.
    """
    out = np.asarray(summed, dtype=float).copy()
    for k, code in enumerate(codes):
        row = next((r for r in model.context.get(str(code), []) if r.key == POPULATION_STAT), None)
        if row is not None and np.isfinite(row.value) and row.value > 0:
            out[k] = float(row.value)
    return out


def _theme_columns(tcols: list[str], themes: np.ndarray) -> dict[str, np.ndarray]:
    """``theme:<key>`` -> its column of ``themes``."""
    return {c: themes[:, k] for k, c in enumerate(tcols)}


def _series(columns: dict[str, object], index: pd.Index) -> dict[str, pd.Series]:
    """The columns of a template frame built from ``columns``, as Series (shared, copy-on-write)."""
    frame = pd.DataFrame(columns, index=index)
    return {c: frame[c] for c in frame.columns}


def _frame(columns: dict[str, object]) -> pd.DataFrame:
    """A result frame from template Series and new arrays, without copying either."""
    return pd.DataFrame(columns, copy=False)


@dataclass
class Scores:
    """Scores for one weighting, each frame indexed by its places' own keys.

    ``localities`` and ``municipalities`` are indexed by ``code``, ``cells`` by H3 id (the ``code``
    and ``h3`` columns stay, for tables and exports): ``scores.localities.loc["T1", "composite"]``.
    ``localities``: code, name, municipality, municipality_name, population, composite, rank,
    ``theme:<key>`` per theme, missing, stat_share (the share of municipal statistics in the
    composite, at most :data:`STAT_CAP`). ``municipalities``: code, name, population, composite,
    rank, themes. ``cells``: h3, locality, municipality, weight, lon, lat, composite, stat_share,
    themes. ``complete_share`` (0-1, on localities,
    municipalities and cells) is the share of the composite's weight resting on complete data
    (:func:`complete_share`); ``complete_indicators`` lists the indicator keys computed from
    complete data.
    ``place_type``, ``band`` (a :data:`BANDS` key; words: :func:`geo.messages.band_name`),
    ``pct_region`` and ``pct_type`` (:func:`percentiles` against all localities of the region and
    against those of the same place type) are columns of ``localities``; cells carry
    ``place_type``.
    """

    localities: pd.DataFrame
    municipalities: pd.DataFrame
    cells: pd.DataFrame
    weights: dict[str, float]
    persona: str | None
    penalty: bool
    missing: dict[str, Message | None]
    approximate: bool
    complete_indicators: list[str] = field(default_factory=list)


def score(model: ScoreModel, weights: dict[str, float] | None = None, *,
          persona: str | None = None, penalty: bool = False) -> Scores:
    """Score every cell, locality and municipality for the given theme weights (fast).

    Parameters
    ----------
    model
        From :func:`build_model`.
    weights
        Theme weights (``{"schools": 3}``); they update the persona's (or the default) weights.
    persona
        A persona key (``family``, ``student`` ...).
    penalty
        Apply the Mazziotta-Pareto imbalance penalty.
    """
    tw = resolve_weights(model.themes, weights, persona)
    K = model.kernel()
    ccomp, cshare, cdone = K.rescore("cells", tw, penalty)
    lcomp, lshare, ldone = K.rescore("localities", tw, penalty)
    T, lc = K.tcols, K.lcols
    idx = lc["code"].index  # the template's index: the Series line up without reindexing
    loc = _frame({c: lc[c] for c in ("code", "name", "municipality", "municipality_name",
                                     "population", "place_type")}
                 | _on(idx, composite=lcomp, rank=_rank(lcomp), band=score_band(lcomp),
                       pct_region=percentiles(lcomp), pct_type=percentiles(lcomp, K.ltype))
                 | {c: lc[c] for c in [*T, "missing"]}
                 | _on(idx, stat_share=lshare, complete_share=ldone))
    # municipalities: population-weighted means of their localities
    mvals = _rollup(K.mrollup, np.column_stack([lcomp, ldone]))
    mc = K.mcols
    midx = mc["code"].index
    mun = _frame({c: mc[c] for c in ("code", "name", "population")}
                 | _on(midx, composite=mvals[:, 0], rank=_rank(mvals[:, 0]))
                 | {c: mc[c] for c in T} | _on(midx, complete_share=mvals[:, 1]))
    cc = K.ccols
    cidx = cc["h3"].index
    cells = _frame({c: cc[c] for c in ("h3", "locality", "municipality", "place_type", "weight",
                                       "lon", "lat")}
                   | _on(cidx, composite=ccomp, stat_share=cshare)
                   | {c: cc[c] for c in T} | _on(cidx, complete_share=cdone))
    return Scores(loc, mun, cells, dict(zip(model.themes, tw.tolist(), strict=True)), persona,
                  penalty, model.missing, model.approximate,
                  [k for k, c in zip(model.ind_keys, K.done, strict=True) if c])


def _on(index: pd.Index, **columns: np.ndarray) -> dict[str, pd.Series]:
    """New result columns as Series on ``index`` (no copy)."""
    return {k: pd.Series(v, index=index, copy=False) for k, v in columns.items()}


# -- explanation ---------------------------------------------------------------------------------
def _label(key: str, lang: str) -> str:
    """A label of :meth:`Explanation.to_text` (``explain.<key>`` of the catalogue)."""
    return t(f"explain.{key}", lang)


@dataclass(frozen=True)
class NearestPlace:
    """An amenity named in an explanation row: nearest for ``share`` (0-1) of the residents,
    ``distance_m`` the median of their distances to it; ``known`` when the list is partial;
    ``lat`` / ``lon``: where it is (WGS 84; a polygon's representative point), NaN when unknown.
    ``within``: for a gap item placed only by its locality (:mod:`geo.gapbounds`), that
    locality's name; ``distance_m`` is then an upper bound ("at most"), and there is no position.
    ``doubt``: the locality its name gives when it lies ``doubt_m`` outside it
    (:attr:`ScoreModel.doubtful`): its position in the source may be wrong."""

    name: str | None
    kind: str
    uid: str
    distance_m: float
    minutes: float
    mode: str
    share: float
    known: bool
    lat: float = float("nan")
    lon: float = float("nan")
    within: str | None = None
    doubt: str | None = None
    doubt_m: float = float("nan")


@dataclass(frozen=True)
class ExplanationRow:
    """One indicator of an :class:`Explanation` (see :func:`explain` for the fields)."""

    key: str
    theme: str
    measure: str
    mode: str
    score: float
    raw: float
    missing: bool
    reason: Message | None
    approximate: bool
    partial: bool
    complete: bool
    gaps: tuple[str, ...]
    gap: Message | None
    notes: tuple[Message, ...]
    n_cells: int
    speed_kmh: float
    nearest: tuple[NearestPlace, ...] = ()
    statement: Message | None = None
    median_m: float = float("nan")
    share: float = 0.0
    supported: bool = False
    support_m: float = float("nan")
    standard_m: float | None = None
    context: ContextRow | None = None


@dataclass
class Explanation:
    """One place's score broken down into indicators, themes and named amenities.

    A locality's rows (:class:`ExplanationRow`) come from its cells (see :func:`explain`);
    ``complete_share`` (0-1) is the share of its composite weight resting on complete data;
    ``stat_share``: the share of municipal statistics in the composite (at most :data:`STAT_CAP`);
    ``context``: the municipality's :class:`geo.context.ContextRow` s; a statistics row of
    ``indicators`` carries its own as ``context``.

    What the score means (for the app): ``place_type`` (:mod:`geo.placetypes`; words:
    :func:`geo.messages.place_type_name`), ``band`` (a :data:`BANDS` key; words:
    :func:`geo.messages.band_name`), ``pct_region`` / ``pct_type`` (percent of the region's other
    localities / of those of the same type with a lower composite; NaN for a grid cell or a type
    with one locality), ``n_type`` (localities of that type) and ``meaning``, the sentence as a
    :class:`geo.messages.Message` ("71, most errands on foot; better than 80% of the places in ...").
    """

    code: str
    name: str
    municipality: str
    municipality_name: str
    population: float
    composite: float
    rank: float
    n_ranked: int
    n_cells: int
    themes: dict[str, float]
    indicators: list[ExplanationRow]
    weights: dict[str, float]
    approximate: bool
    persona: str | None = None
    penalty: bool = False
    stat_share: float = float("nan")
    context: list[ContextRow] = field(default_factory=list)
    complete_share: float = float("nan")
    place_type: str = ""
    band: str | None = None
    pct_region: float = float("nan")
    pct_type: float = float("nan")
    n_type: int = 0
    meaning: Message | None = None

    def row(self, key: str) -> ExplanationRow:
        """The row of indicator ``key``.

        Raises
        ------
        KeyError
            For an indicator the explanation has no row of.
        """
        for r in self.indicators:
            if r.key == key:
                return r
        raise KeyError(key)

    def to_text(self, lang: str = "en") -> str:
        """A readable breakdown (``en`` or ``sv``: Swedish reasons, notes and numbers)."""
        lang = lang_of(lang)
        rank = "-" if np.isnan(self.rank) else f"{int(self.rank)}"
        pop = fmt_spec(int(self.population), ",", lang)
        lines = [f"{self.name} ({self.municipality_name or self.municipality} {_label('muni', lang)}, "
                 f"{_label('pop', lang)} {pop}): {_label('composite', lang)} "
                 f"{fmt_spec(self.composite, '.1f', lang)}, "
                 f"{_label('rank', lang)} {rank} {_label('of', lang)} {self.n_ranked}"]
        if np.isfinite(self.complete_share):
            lines.append("  " + render(Message("complete_share",
                                               {"pct": round(100 * self.complete_share)}), lang))
        if self.meaning is not None:
            lines.append(f"  {_label('ptype', lang)}: {place_type_name(self.place_type, lang)}; "
                         f"{render(self.meaning, lang)}")
        if self.approximate:
            lines.append(f"  ({_label('approx', lang)})")
        seen: dict[str, str] = {}  # English text -> text in lang (messages are not hashable)
        for row in self.indicators:
            for note in row.notes:
                if note.code in _NETWORK_NOTES:
                    seen.setdefault(str(note), render(note, lang))
        lines += [f"  ({n})" for n in seen.values()]
        for th, val in self.themes.items():
            title = layer_title(th, lang)
            lines.append(f"  {_label('theme', lang)} {title}: "
                         f"{'-' if np.isnan(val) else fmt_spec(val, '.1f', lang)} "
                         f"({_label('weight', lang)} {fmt_spec(self.weights[th], 'g', lang)})")
            for row in (r for r in self.indicators if r.theme == th):
                lines.append("    " + _indicator_line(row, lang))
        return "\n".join(lines + self._context_lines(lang))

    def _context_lines(self, lang: str) -> list[str]:
        """The statistics' share and the municipal context block of :meth:`to_text`."""
        lines = []
        if self.stat_share == self.stat_share:
            lines.append("  " + render(Message("stat_share", {"share": self.stat_share,
                                                              "cap": STAT_CAP}), lang))
        if self.context:
            lines.append("  " + render(Message("context_header", {
                "municipality": self.municipality_name or self.municipality}), lang))
            lines += ["    " + row.text(lang) for row in self.context]
        return lines


#: the notes of :class:`geo.access.DistanceEngine` (how distances are measured), listed once
_NETWORK_NOTES = ("network_fallback", "no_network")


def _indicator_line(row: ExplanationRow, lang: str = "en") -> str:
    head = f"{indicator_title(row.key, lang)}: "
    if row.missing:
        return head + f"{_label('missing', lang)} ({render(row.reason, lang)})"
    flags = []
    if row.approximate:
        flags.append("≈")
    if row.partial:
        flags.append(_label("partial", lang))
    flag = f" [{', '.join(flags)}]" if flags else ""
    body = f"{_label('score', lang)} {row.score:.0f}"
    median = f" ({_label('median', lang)})" if row.n_cells > 1 else ""
    if row.measure == "stat" and row.context is not None:
        ctx = row.context
        body += (f"; {_label('stat', lang)} {fmt_value(ctx.value, ctx.unit, lang)}"
                 f"{ctx.comparison(lang)}")
    elif row.measure == "stat":
        body += f"; {_label('stat', lang)} {fmt_spec(row.raw, ',g' if lang == 'sv' else 'g', lang)}"
    elif Measure(row.measure).reach:
        body += (f"; {fmt_spec(row.raw, ',.0f' if lang == 'sv' else '.0f', lang)} "
                 f"{_label('count', lang)}{median}")
    if row.statement is not None:
        body += "; " + render(row.statement, lang)
        if row.nearest and row.mode == "car" and np.isfinite(row.nearest[0].minutes):
            body += f" (~{row.nearest[0].minutes:.0f} min)"
    if row.gap is not None:
        body += "; " + render(row.gap, lang)
    if row.standard_m:
        body += f"; {_label('standard', lang)} {fmt_distance(row.standard_m, lang)}"
    return head + body + flag


def find_locality(model: ScoreModel, place: str) -> str:
    """Code of the locality named or coded ``place`` (case-insensitive).

    Raises
    ------
    RegionNotFoundError
        With the closest names.
    """
    L = model.localities
    key = place.strip().casefold()
    for col in ("code", "name"):
        hit = L.index[L[col].astype(str).str.casefold().to_numpy() == key]
        if len(hit):
            return str(hit[0])
    names = L["name"].astype(str).tolist()
    close = difflib.get_close_matches(place, names, n=3, cutoff=0.5)
    raise RegionNotFoundError(message=Message("locality_unknown", {
        "place": place, "region_name": model.region_name, "close": close,
        "region": model.region}))


def _standard_at(res: IndicatorResult, idx: np.ndarray, w: np.ndarray) -> float | None:
    """The distance standard of a nearest indicator for the residents of cells ``idx`` weighted
    ``w`` (the median resident's place type's), or None."""
    t = getattr(res, "thresholds", None)
    if t is None or res.missing or res.measure != "nearest":
        return None
    return float(weighted_median(t[idx], w))


def _modal_nearest(which: np.ndarray, w: np.ndarray) -> list[tuple[int, float]]:
    """The amenities nearest for the largest weight shares among ``which``, largest first, with
    their shares (empty: none)."""
    ok = which >= 0
    if not ok.any() or w.sum() <= 0:
        return []
    per = pd.Series(w[ok]).groupby(which[ok]).sum().sort_values(ascending=False, kind="stable")
    return [(int(k), float(v / w.sum())) for k, v in per.items()]


#: Other amenities named in an explanation row besides the one nearest for most residents, when
#: each is nearest for at least :data:`ALSO_MIN_SHARE` of them (Karlskrona: Bergåsa station for
#: most, Karlskrona Centralstation for the residents of Trossö).
ALSO_MAX = 2
ALSO_MIN_SHARE = 0.05


def _named(res: IndicatorResult, feat: int, dist: float, share: float, mode: str,
           doubtful: Mapping[str, tuple[str, float]] | None = None) -> NearestPlace:
    """Amenity row ``feat`` of ``res`` as a :class:`NearestPlace` (``doubtful``: the model's
    :attr:`ScoreModel.doubtful`)."""
    a = res.amenities.iloc[feat]
    name = None if a["name"] is None or a["name"] != a["name"] else str(a["name"])
    within = a.get("within")
    doubt = (doubtful or {}).get(str(a["uid"]))
    return NearestPlace(name, str(a["kind"]), str(a["uid"]), dist, float(minutes(dist, mode)),
                        mode, share, res.partial, lat=float(a.get("lat", float("nan"))),
                        lon=float(a.get("lon", float("nan"))),
                        within=str(within) if isinstance(within, str) else None,
                        doubt=doubt[0] if doubt else None,
                        doubt_m=float(doubt[1]) if doubt else float("nan"))


def position_doubts(places: Iterable[NearestPlace]) -> list[Message]:
    """A ``position_doubt`` message for each of ``places`` whose position is doubtful."""
    return [Message("position_doubt", {"place": [p.name, p.kind], "dist": p.doubt_m,
                                       "named": p.doubt})
            for p in places if p.doubt is not None]


class _NearestFields(TypedDict, total=False):
    """The keyword arguments :func:`_nearest_part` adds to an :class:`ExplanationRow`."""

    median_m: float
    share: float
    supported: bool
    support_m: float
    nearest: tuple[NearestPlace, ...]
    statement: Message | None


def _nearest_part(res: IndicatorResult, ind: Indicator, idx: np.ndarray, w: np.ndarray,
                  doubtful: Mapping[str, tuple[str, float]] | None = None) -> _NearestFields:
    """Nearest amenity, median resident's distance and the statement of a row from cells ``idx``
    weighted ``w`` (distances of a partial list beyond its support are not stated): keyword
    arguments of an :class:`ExplanationRow`."""
    dist = res.raw[idx] if res.measure == "nearest" else (
        res.classes[0][1][idx] if res.classes else np.full(len(idx), np.nan))
    median = weighted_median(dist, w)
    ranked = _modal_nearest(res.nearest[idx], w)
    feat, share = ranked[0] if ranked else (-1, 0.0)
    supported = res.complete or (np.isfinite(median) and median <= res.support_m)
    out: _NearestFields = {"median_m": median if supported else float("nan"), "share": share,
                           "supported": bool(supported), "support_m": res.support_m}
    if feat >= 0 and supported and np.isfinite(median):
        first = _named(res, feat, median, share, ind.mode, doubtful)
        nearest = [first]
        also: list[Message | None] = []
        for other, part in ranked[1:1 + ALSO_MAX]:
            mine = res.nearest[idx] == other
            d = weighted_median(dist[mine], w[mine])
            if part < ALSO_MIN_SHARE or not np.isfinite(d) or not (res.complete or d <= res.support_m):
                continue
            b = _named(res, other, d, part, ind.mode, doubtful)
            nearest.append(b)
            also.append(Message("nearest_also", {"place": [b.name, b.kind],
                                                 "pct": round(100 * part), "dist": d}))
        out["nearest"] = tuple(nearest)
        params: dict[str, object] = {"place": [first.name, first.kind], "dist": median,
                                     "mode": ind.mode}
        if first.within is not None:  # placed only by its locality: an upper bound
            head = Message("nearest_bound", params | {"within": first.within})
        elif len(idx) == 1:  # a grid cell: its own distance
            head = Message("nearest_known_point" if res.partial else "nearest_point", params)
        else:  # a locality: its median resident's
            params["pct"] = round(100 * share)
            head = Message("nearest_known_median" if res.partial else "nearest_median", params)
        out["statement"] = join(head, *also, *position_doubts(nearest))
    elif res.measure == "nearest":
        out["statement"] = (Message("no_known_within", {"kinds": list(ind.kinds),
                                                        "dist": res.support_m, "mode": ind.mode})
                            if res.partial else Message("none_in_reach"))
    return out


def _indicator_rows(model: ScoreModel, idx: np.ndarray, w: np.ndarray,
                    ind_scores: np.ndarray) -> list[ExplanationRow]:
    """Explanation rows of the place made of cells ``idx`` weighted ``w``, with its scores."""
    rows = []
    w = np.asarray(w, dtype=float)
    for j, ind in enumerate(model.indicators):
        res = model.results[ind.key]
        raw = weighted_median(res.raw[idx], w) if len(res.raw) else float("nan")
        part: _NearestFields = {}
        if not res.missing and len(res.nearest):
            part = _nearest_part(res, ind, idx, w, model.doubtful)
            if res.measure == "nearest":
                raw = part.get("median_m", raw)
        val = float(ind_scores[j])
        reason = res.reason if res.missing else (Message("no_value_here") if np.isnan(val) else None)
        rows.append(ExplanationRow(
            key=ind.key, theme=ind.layer,
            measure=ind.measure, mode=ind.mode, score=val, raw=raw,
            missing=bool(res.missing or np.isnan(val)), reason=reason,
            approximate=res.approximate, partial=res.partial, complete=res.complete,
            gaps=tuple(res.gaps), gap=res.gap_note() if not res.missing else None,
            notes=tuple(res.notes), n_cells=len(idx), speed_kmh=MODE_SPEEDS_KMH[ind.mode],
            standard_m=_standard_at(res, idx, w), **part))
    return rows


def _with_context(model: ScoreModel, rows: list[ExplanationRow], muni: str
                  ) -> tuple[list[ExplanationRow], list[ContextRow]]:
    """Statistics rows with the municipality's :class:`geo.context.ContextRow` (value, national
    median, unit, year, source), and a missing value's reason "no value for <municipality> in
    <table>"; plus the context."""
    ctx = {r.key: r for r in model.context.get(muni, [])}
    name = model.municipality_names.get(muni, muni)
    out = []
    for row, ind in zip(rows, model.indicators):
        c = ctx.get(ind.key)
        if ind.measure == "stat" and c is not None:
            row = replace(row, context=c)
            if row.missing and not model.results[ind.key].missing:
                row = replace(row, reason=Message("stat_no_value_for", {
                    "municipalities": [name], "table": ind.table}))
        out.append(row)
    return out, list(ctx.values())


def municipal_context(source: ScoreModel | Snapshot, municipality: str) -> list[ContextRow]:
    """A municipality's statistics against the national median, for a profile page.

    Parameters
    ----------
    source
        A :class:`ScoreModel` (its region's municipalities) or a :class:`geo.store.Snapshot`
        (any municipality in its tables).
    municipality
        4-digit code or name (case-insensitive).

    Returns
    -------
    list of ContextRow
        Scored statistics (house price, tax rate, rent, school results, unemployment, income),
        then context lines (reported crime, population, population change 2015-2025, forecast).

    Raises
    ------
    RegionNotFoundError
        For a municipality the model (its region) or the snapshot (its tables) does not know;
        the message suggests the closest names.
    """
    ctx = source.context if isinstance(source, ScoreModel) else None
    names = dict(source.municipality_names) if isinstance(source, ScoreModel) \
        else municipality_names(source)
    key = municipality.strip()
    code = next((c for c, n in names.items() if key.casefold() in (c.casefold(), n.casefold())),
                None)
    if code is None or (ctx is not None and code not in ctx):
        close = difflib.get_close_matches(key, list(names.values()), n=3, cutoff=0.5)
        params: dict[str, object] = {"municipality": municipality, "close": close}
        if ctx is not None:
            params["region_name"] = source.region_name
        raise RegionNotFoundError(message=Message(
            "municipality_unknown" if ctx is not None else "municipality_unknown_tables", params))
    if ctx is not None:
        return list(ctx[code])
    assert isinstance(source, Snapshot)
    return context_rows(source, [code], names=names)[code]


def explain(model: ScoreModel, scores: Scores, place: str) -> Explanation:
    """Break down the score of a locality (by name or code) or of one grid cell (by H3 id).

    A locality's rows come from the same population-weighted cells as its score. Each indicator row:
    ``key`` (its title: :func:`geo.catalog.indicator_title`), ``theme``, ``measure``, ``mode``,
    ``score`` (the locality's roll-up, or the cell's own), ``raw`` (the median resident's distance
    in m, count or value; NaN for a distance a partial list cannot support), ``missing`` +
    ``reason`` (a :class:`geo.messages.Message`; ``render(msg, "sv")`` for Swedish),
    ``approximate``, ``partial``, ``complete``, ``notes`` (messages), ``n_cells``, and for distance
    and count measures:

    ``nearest``
        :class:`NearestPlace` s (``name, kind, uid, distance_m, minutes, mode, share, known,
        lat, lon``):
        the amenity nearest for the
        largest share of residents (``share``, 0-1), ``distance_m`` the median resident's distance
        to their own nearest; ``known`` when the list is partial. Empty when none is in reach, or
        when a partial list's median distance is beyond ``support_m`` (not stated as a fact).
    ``median_m``, ``share``, ``supported``, ``support_m``
        The median resident's distance, the named amenity's share, whether the distance is
        stated, and up to what distance a partial list's distance is stated.
    ``statement``, ``gap``, ``gaps``
        The nearest-phrase ("nearest known: ..., median resident 1.4 km by bike" / "no known
        hospital within 40 km by car") and the gap ("hospital list incomplete: Blekingesjukhuset
        Karlskrona (hospital) missing") as messages, and the gap items.

    Statistics rows also carry the municipality's :class:`geo.context.ContextRow` as ``context``
    (``value``, ``national_median`` (NaN for a county-only table), ``unit``, ``year``,
    ``reference``, ``source``, ``license``, ``license_unclear``); a municipality the table lacks
    gets the reason "no value for <municipality> in <table>".
    ``Explanation.context`` lists the municipality's statistics and context lines,
    ``Explanation.stat_share`` their share of the composite.

    Raises
    ------
    RegionNotFoundError
        For an unknown name, with the closest matches.
    """
    h3_id = place.strip()
    if h3_id in model.cells.index:
        C = scores.cells
        c = int(model.cells.index.get_loc(h3_id))
        lcode = C.at[h3_id, "locality"]
        L = model.localities
        lname = str(L.at[lcode, "name"]) if lcode in L.index else ""
        muni = str(C.at[h3_id, "municipality"])
        rows, context = _with_context(model, _indicator_rows(
            model, np.array([c]), np.ones(1), model.cell_scores.loc[h3_id].to_numpy(dtype=float)),
            muni)
        return _with_meaning(model, scores, str(C.at[h3_id, "place_type"]), None, Explanation(
            code=h3_id, name=f"{lname} ({h3_id})" if lname else h3_id, municipality=muni,
            municipality_name=model.municipality_names.get(muni, ""),
            population=float(C.at[h3_id, "weight"]), composite=float(C.at[h3_id, "composite"]),
            rank=float("nan"), n_ranked=int(scores.localities["rank"].notna().sum()), n_cells=1,
            themes={t: float(C.at[h3_id, f"theme:{t}"]) for t in model.themes},
            indicators=rows, weights=scores.weights,
            approximate=any(r.approximate for r in rows if not r.missing),
            persona=scores.persona, penalty=scores.penalty,
            complete_share=_share(C, h3_id), stat_share=float(C.at[h3_id, "stat_share"]),
            context=context,
        ))
    code = find_locality(model, place)
    cells_of = model.rollup.getrow(model.localities.index.get_loc(code))
    L = scores.localities
    rows, context = _with_context(model, _indicator_rows(
        model, cells_of.indices, cells_of.data, model.loc_scores.loc[code].to_numpy(dtype=float)),
        str(L.at[code, "municipality"]))
    return _with_meaning(model, scores, str(L.at[code, "place_type"]), code, Explanation(
        code=code, name=str(L.at[code, "name"]),
        municipality=str(L.at[code, "municipality"]),
        municipality_name=str(L.at[code, "municipality_name"]),
        population=float(L.at[code, "population"]), composite=float(L.at[code, "composite"]),
        rank=float(L.at[code, "rank"]), n_ranked=int(L["rank"].notna().sum()),
        n_cells=int(cells_of.nnz),
        themes={t: float(L.at[code, f"theme:{t}"]) for t in model.themes},
        indicators=rows, weights=scores.weights,
        approximate=any(r.approximate for r in rows if not r.missing),
        persona=scores.persona, penalty=scores.penalty,
        complete_share=_share(L, code), stat_share=float(L.at[code, "stat_share"]),
        context=context,
    ))


def _share(frame: pd.DataFrame, key: str) -> float:
    """Place ``key``'s ``complete_share`` (NaN for frames without it)."""
    return float(frame.at[key, "complete_share"]) if "complete_share" in frame else float("nan")


def _with_meaning(model: ScoreModel, scores: Scores, place_type: str, code: str | None,
                  e: Explanation) -> Explanation:
    """Fill ``e``'s place type, band, percentiles and meaning message (``code``: a locality's)."""
    L = scores.localities
    e.place_type = place_type
    e.band = score_band(e.composite)[0]
    e.n_type = int((L["place_type"] == place_type).sum())
    if code is not None:
        e.pct_region = float(L.at[code, "pct_region"])
        e.pct_type = float(L.at[code, "pct_type"])
    if e.band is None:
        return e
    params: dict[str, object] = {"score": e.composite, "band": e.band, "place_type": place_type}
    if not np.isfinite(e.pct_region):
        e.meaning = Message("score_band", params)
        return e
    params |= {"pct_region": e.pct_region, "region": model.region_name}
    if np.isfinite(e.pct_type):
        e.meaning = Message("score_meaning", params | {"pct_type": e.pct_type})
    else:
        e.meaning = Message("score_meaning_sole", params)
    return e
