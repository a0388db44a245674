"""Livability scores: indicators -> themes -> composite, per cell, locality and municipality.

Two steps:

- :func:`build_model` (slow, weight-independent): the H3 grid, every indicator over the cells and the
  locality centres, the locality roll-up matrix, which indicators are missing and why.
- :func:`score` (fast, milliseconds): theme and composite scores for given theme weights (a persona,
  custom weights or both), the optional Mazziotta-Pareto penalty, the roll-ups and ranks.

Aggregation rules
-----------------
- Theme = weighted mean of the theme's *available* indicators (indicator weights from the specs);
  composite = weighted mean of the available themes (theme weights). Missing indicators and themes
  are left out and the weights renormalised; they never count as zero.
- A locality's indicator score is the population-weighted mean of its cells' scores (evenly when its
  cells carry no weight); its themes and composite are computed from those indicator scores.
- A municipality's scores are the population-weighted means of its localities' scores.
- Mazziotta-Pareto penalty (``penalty=True``): composite = ``M - S * cv = M - S^2 / M`` over the theme
  scores (M weighted mean, S weighted standard deviation). The themes are already on a common 0-100
  scale, so they are used directly instead of z-scores; a balanced place loses nothing, an unbalanced
  one loses more the more its themes differ.
- Ranks: 1 = best composite; ties share the best rank.

What a score means
------------------
- Place types (:mod:`geo.placetypes`): every locality is a town, small town, village or archipelago
  place, every cell carries its locality's type (cells outside any locality: countryside), and each
  distance is scored against the standard of its point's type.
- Absolute scale: with the default ``plateau`` decay a distance indicator is 100 when the amenity
  lies within the standard for the place type, 50 at 1.5 times the standard, 20 at twice it, about
  0 beyond three times. So 100 means every need within its standard; a statistic scores 50 for an
  average municipality. The other decays (``--decay``) score 50 *at* the standard.
- Bands (:data:`BANDS`, words in :mod:`geo.texts`) turn a composite into words; a lower bound
  belongs to its band (80 is "most errands on foot", 79.9 the band below).
- Percentiles (:func:`percentiles`): ``pct_region`` is the share of the region's other scored
  localities with a lower composite (ties count half), ``pct_type`` the same among localities of
  the same place type (NaN for a type with one locality). Both lie in 0-100 and grow with the
  composite.
"""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from layers import LAYERS, Indicator, all_indicators, get_persona

from .access import DistanceEngine, IndicatorResult, compute_indicator
from .errors import LivabilityError, RegionNotFoundError, UnknownLayerError
from .grid import build_grid
from .network import MODE_SPEEDS_KMH, minutes, project_lonlat
from .placetypes import locality_types, point_types
from .texts import fmt_spec, kind_name, place_type_name, render, render_or

__all__ = [
    "BANDS",
    "Explanation",
    "ScoreModel",
    "Scores",
    "build_model",
    "compose",
    "explain",
    "percentiles",
    "resolve_weights",
    "score",
    "score_band",
]

log = logging.getLogger(__name__)


# -- the model -----------------------------------------------------------------------------------
@dataclass
class ScoreModel:
    """Everything weight-independent: grid, indicator scores per cell and locality, missing data.

    Attributes
    ----------
    cells
        Grid cells (:func:`geo.grid.build_grid` columns).
    localities
        ``code``, ``name``, ``municipality``, ``municipality_name``, ``population``,
        ``place_type`` (:mod:`geo.placetypes`), ``lon``, ``lat``; ``cells`` carry ``place_type`` too.
    indicators
        Every indicator of the registry, in registry order (columns of the matrices).
    results
        Indicator key -> :class:`geo.access.IndicatorResult` over cells then locality centres.
    cell_scores, loc_scores
        ``(n_cells, n_ind)`` and ``(n_loc, n_ind)`` scores 0-100 (NaN: not computable).
    rollup
        ``(n_loc, n_cells)`` sparse matrix of population weights (rows sum to 1).
    themes
        Theme keys (columns of theme matrices), ``ind_theme`` the theme index of each indicator,
        ``ind_weight`` each indicator's weight in its theme.
    """

    region: str
    region_name: str
    resolution: int
    decay: str | None
    cells: pd.DataFrame
    localities: pd.DataFrame
    indicators: list[Indicator]
    results: dict[str, IndicatorResult]
    cell_scores: np.ndarray
    loc_scores: np.ndarray
    rollup: sparse.csr_matrix
    themes: list[str]
    ind_theme: np.ndarray
    ind_weight: np.ndarray
    municipality_names: dict[str, str] = field(default_factory=dict)
    loc_missing: list[str] = field(default_factory=list)
    build_seconds: float = 0.0

    @property
    def ind_keys(self) -> list[str]:
        """Indicator keys in column order."""
        return [i.key for i in self.indicators]

    @property
    def missing(self) -> dict[str, str]:
        """Indicators that could not be computed anywhere: key -> reason."""
        return {k: r.reason for k, r in self.results.items() if r.missing}

    @property
    def approximate(self) -> bool:
        """True when any computed distance is straight-line (no street network)."""
        return any(r.approximate for r in self.results.values() if not r.missing)

    @property
    def theme_matrix(self) -> np.ndarray:
        """``(n_ind, n_theme)``: indicator weight where the indicator belongs to the theme."""
        m = np.zeros((len(self.indicators), len(self.themes)))
        m[np.arange(len(self.indicators)), self.ind_theme] = self.ind_weight
        return m

    def indicator_matrices(self, decay: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Cell and locality indicator scores, re-scored with another ``decay`` if given."""
        if decay is None or decay == self.decay:
            return self.cell_scores, self.loc_scores
        n_cells = len(self.cells)
        cols = [self.results[k].rescore(decay)[:n_cells] for k in self.ind_keys]
        cs = np.column_stack(cols) if cols else np.zeros((n_cells, 0))
        return cs, _rollup(self.rollup, cs)


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


def build_model(snapshot: Any, *, resolution: int = 9, decay: str | None = None,
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
    loc = snapshot.localities()
    if loc.empty:
        raise LivabilityError(
            f"the snapshot of {snapshot.region_key!r} has no localities; rebuild it with a source "
            "of localities (the data pack's tätorter or OSM places)"
        )
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
    step(0.05, "grid")
    housing = snapshot.layer("housing")
    cells = build_grid(loc, resolution=resolution, housing=housing)
    loc_types = locality_types(loc)
    cells["place_type"] = point_types(cells["locality"], loc["code"], loc_types)
    ptypes = np.concatenate([cells["place_type"].to_numpy(dtype=object), loc_types])
    loc_xy = project_lonlat(loc.geometry.x.to_numpy(), loc.geometry.y.to_numpy())
    points = np.vstack([cells[["x", "y"]].to_numpy(dtype=float), loc_xy])
    point_munis = np.concatenate([cells["municipality"].astype(object).to_numpy(),
                                  loc["municipality"].astype(str).to_numpy()])
    networks = {m: snapshot.network(m) for m in ("walk", "bike", "drive", "car")}
    engine = DistanceEngine(points, networks)
    inds = all_indicators()
    results: dict[str, IndicatorResult] = {}
    layer_cache: dict[str, Any] = {}
    for k, ind in enumerate(inds):
        step(0.1 + 0.85 * k / max(len(inds), 1), ind.key)
        if ind.measure == "stat":
            results[ind.key] = compute_indicator(ind, engine, table=snapshot.table(ind.table),
                                                 municipalities=point_munis, decay=decay)
        else:
            if ind.layer not in layer_cache:
                layer_cache[ind.layer] = snapshot.layer(ind.layer)
            results[ind.key] = compute_indicator(ind, engine, layer=layer_cache[ind.layer],
                                                 layer_status=snapshot.layer_status(ind.layer),
                                                 decay=decay, place_types=ptypes)
    n_cells = len(cells)
    cell_scores = np.column_stack([results[i.key].score[:n_cells] for i in inds])
    code_index = pd.Index(loc["code"])
    li = code_index.get_indexer(cells["locality"].astype(object).where(cells["locality"].notna(),
                                                                       None))
    rollup = _rollup_matrix(li, cells["weight"].to_numpy(dtype=float), len(loc))
    loc_scores = _rollup(rollup, cell_scores)
    themes = list(LAYERS)
    ind_theme = np.array([themes.index(i.layer) for i in inds], dtype=np.int64)
    ind_weight = np.array([i.weight for i in inds], dtype=float)
    keys = [i.key for i in inds]
    loc_missing = [", ".join(k for k, v in zip(keys, row) if np.isnan(v)) for row in loc_scores]
    localities = pd.DataFrame({
        "code": loc["code"],
        "name": loc["name"].astype(str) if "name" in loc else loc["code"],
        "municipality": loc["municipality"].astype(str),
        "municipality_name": loc["municipality"].astype(str).map(mnames).fillna(""),
        "population": pd.to_numeric(loc.get("population"), errors="coerce").fillna(0).to_numpy(),
        "place_type": loc_types,
        "lon": loc.geometry.x.to_numpy(),
        "lat": loc.geometry.y.to_numpy(),
    })
    model = ScoreModel(
        region=snapshot.region_key, region_name=snapshot.region_name, resolution=resolution,
        decay=decay, cells=cells, localities=localities, indicators=inds, results=results,
        cell_scores=cell_scores, loc_scores=loc_scores, rollup=rollup, themes=themes,
        ind_theme=ind_theme, ind_weight=ind_weight, municipality_names=mnames,
        loc_missing=loc_missing, build_seconds=time.perf_counter() - t0,
    )
    step(1.0, "done")
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
    """
    if persona:
        base = dict(get_persona(persona).weights)
        w = {t: float(base.get(t, 0.0)) for t in themes}
    else:
        w = {t: float(LAYERS[t].default_weight) for t in themes}
    for k, v in (weights or {}).items():
        if k not in w:
            close = difflib.get_close_matches(k, themes, n=2)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UnknownLayerError(f"No theme {k!r} to weigh.{hint} Themes: {', '.join(themes)}")
        if not np.isfinite(v) or v < 0:
            raise LivabilityError(f"weight {k}={v} must be a number >= 0")
        w[k] = float(v)
    arr = np.array([w[t] for t in themes], dtype=float)
    if arr.sum() <= 0:
        raise LivabilityError("all theme weights are 0; give at least one theme a weight > 0")
    return arr


def compose(ind_scores: np.ndarray, theme_matrix: np.ndarray, theme_weights: np.ndarray, *,
            penalty: bool = False) -> tuple[np.ndarray, np.ndarray]:
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

    Returns
    -------
    themes, composite
        ``(n, n_theme)`` and ``(n,)``; NaN where nothing is available.
    """
    ok = ~np.isnan(ind_scores)
    s0 = np.where(ok, ind_scores, 0.0)
    num = s0 @ theme_matrix
    den = ok.astype(float) @ theme_matrix
    with np.errstate(invalid="ignore", divide="ignore"):
        themes = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        tok = ~np.isnan(themes)
        t0 = np.where(tok, themes, 0.0)
        wsum = tok.astype(float) @ theme_weights
        mean = np.where(wsum > 0, (t0 @ theme_weights) / np.where(wsum > 0, wsum, 1.0), np.nan)
        if penalty:
            second = (t0 ** 2) @ theme_weights / np.where(wsum > 0, wsum, 1.0)
            var = np.maximum(second - mean ** 2, 0.0)
            mean = np.where(mean > 0, mean - var / np.where(mean > 0, mean, 1.0), mean)
            mean = np.maximum(mean, 0.0)
    return themes, mean


def _rank(values: np.ndarray) -> np.ndarray:
    """1 = highest; ties share the best rank; NaN -> NaN."""
    from scipy.stats import rankdata

    ok = ~np.isnan(values)
    out = np.full(len(values), np.nan)
    out[ok] = rankdata(-values[ok], method="min")
    return out


#: ``(lower bound, band key)`` from the top; a composite belongs to the first band it reaches.
#: The words (en, sv) are :data:`geo.texts.BAND_NAMES`.
BANDS: tuple[tuple[float, str], ...] = (
    (80.0, "on_foot"),          # most errands on foot
    (60.0, "foot_or_bike"),     # many errands on foot or by bike
    (40.0, "bike_or_bus"),      # some errands on foot; a bike or bus helps
    (20.0, "car_useful"),       # a car is useful for most errands
    (0.0, "car_needed"),        # a car is needed for most errands
)


def score_band(values: Any) -> np.ndarray:
    """Band key of each composite (:data:`BANDS`; NaN -> None).

    >>> score_band([100, 80, 79.99, 40, 19.9, float("nan")]).tolist()
    ['on_foot', 'on_foot', 'foot_or_bike', 'bike_or_bus', 'car_needed', None]
    """
    v = np.atleast_1d(np.asarray(values, dtype=float))
    out = np.full(len(v), None, dtype=object)
    for lower, key in reversed(BANDS):
        out[~np.isnan(v) & (v >= lower)] = key
    return out


def percentiles(values: Any, groups: Any = None) -> np.ndarray:
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
        below = (x[None, :] < x[:, None]).sum(axis=1)
        ties = (x[None, :] == x[:, None]).sum(axis=1) - 1
        out[idx] = 100.0 * (below + 0.5 * ties) / (len(idx) - 1)
    return out


@dataclass
class Scores:
    """Scores for one weighting.

    ``localities``: code, name, municipality, municipality_name, population, ``place_type``,
    composite, rank, ``band`` (a :data:`BANDS` key; words: :func:`geo.texts.band_name`),
    ``pct_region`` and ``pct_type`` (:func:`percentiles` against all localities of the region and
    against those of the same place type), ``theme:<key>`` per theme, missing.
    ``municipalities``: code, name, population, composite, rank, themes. ``cells``: h3, locality,
    municipality, place_type, weight, lon, lat, composite, themes.
    """

    localities: pd.DataFrame
    municipalities: pd.DataFrame
    cells: pd.DataFrame
    weights: dict[str, float]
    persona: str | None
    penalty: bool
    missing: dict[str, str]
    approximate: bool
    loc_themes: np.ndarray = field(repr=False, default_factory=lambda: np.zeros((0, 0)))


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
    tm = model.theme_matrix
    cth, ccomp = compose(model.cell_scores, tm, tw, penalty=penalty)
    lth, lcomp = compose(model.loc_scores, tm, tw, penalty=penalty)
    tcols = [f"theme:{t}" for t in model.themes]
    L = model.localities
    lcols: dict[str, Any] = {c: L[c].to_numpy() for c in ("code", "name", "municipality",
                                                           "municipality_name", "population")}
    ltype = L["place_type"].to_numpy(dtype=object)
    lcols |= {"place_type": ltype, "composite": lcomp, "rank": _rank(lcomp),
              "band": score_band(lcomp), "pct_region": percentiles(lcomp),
              "pct_type": percentiles(lcomp, ltype)}
    lcols |= {c: lth[:, k] for k, c in enumerate(tcols)}
    lcols["missing"] = model.loc_missing
    loc = pd.DataFrame(lcols)
    # municipalities: population-weighted means of their localities
    codes, mi = np.unique(L["municipality"].to_numpy(dtype=str), return_inverse=True)
    pop = L["population"].to_numpy(dtype=float)
    r = _rollup_matrix(mi.astype(np.int64), pop, len(codes))
    mvals = _rollup(r, np.column_stack([lcomp, lth]))
    mcols: dict[str, Any] = {"code": codes,
                             "name": [model.municipality_names.get(c, c) for c in codes],
                             "population": np.bincount(mi, weights=pop, minlength=len(codes)),
                             "composite": mvals[:, 0], "rank": _rank(mvals[:, 0])}
    mcols |= {c: mvals[:, 1 + k] for k, c in enumerate(tcols)}
    mun = pd.DataFrame(mcols)
    C = model.cells
    ccols: dict[str, Any] = {c: C[c].to_numpy() for c in ("h3", "locality", "municipality",
                                                           "place_type", "weight", "lon", "lat")}
    ccols["composite"] = ccomp
    ccols |= {c: cth[:, k] for k, c in enumerate(tcols)}
    cells = pd.DataFrame(ccols)
    return Scores(loc, mun, cells, dict(zip(model.themes, tw.tolist())), persona, penalty,
                  model.missing, model.approximate, lth)


# -- explanation ---------------------------------------------------------------------------------
_TXT = {
    "en": {"rank": "rank", "of": "of", "composite": "Composite score", "theme": "Theme",
           "missing": "missing", "approx": "approximate: straight-line distance x detour factor",
           "partial": "partial data", "nearest": "nearest", "from_centre": "from the centre",
           "score": "score", "walk": "on foot", "bike": "by bike", "car": "by car",
           "cells": "cells", "weight": "weight", "muni": "municipality", "pop": "population",
           "none": "none within reach",
           "count": "reachable", "stat": "municipal value", "ptype": "place type",
           "standard": "standard"},
    "sv": {"rank": "plats", "of": "av", "composite": "Sammanvägt betyg", "theme": "Tema",
           "missing": "saknas", "approx": "ungefärligt: fågelvägen x omvägsfaktor",
           "partial": "ofullständiga data", "nearest": "närmast", "from_centre": "från centrum",
           "score": "betyg", "walk": "till fots", "bike": "med cykel", "car": "med bil",
           "cells": "rutor", "weight": "vikt", "muni": "kommun", "pop": "invånare",
           "none": "ingen inom räckhåll",
           "count": "nåbara", "stat": "kommunens värde", "ptype": "ortstyp",
           "standard": "norm"},
}


@dataclass
class Explanation:
    """One locality's score broken down into indicators, themes and named amenities.

    What the score means (for the app): ``place_type`` (:mod:`geo.placetypes`; words:
    :func:`geo.texts.place_type_name`), ``band`` (a :data:`BANDS` key; words:
    :func:`geo.texts.band_name`), ``pct_region`` / ``pct_type`` (percent of the region's other
    localities / of those of the same type with a lower composite; NaN for a grid cell or a type
    with one locality), ``n_type`` (localities of that type) and ``meaning_msg``, the sentence as a
    :mod:`geo.texts` message ("71, most errands on foot; better than 80% of the places in ...").
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
    indicators: list[dict[str, Any]]
    weights: dict[str, float]
    approximate: bool
    persona: str | None = None
    penalty: bool = False
    place_type: str = ""
    band: str | None = None
    pct_region: float = float("nan")
    pct_type: float = float("nan")
    n_type: int = 0
    meaning_msg: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for the UI and JSON."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def to_text(self, lang: str = "en") -> str:
        """A readable breakdown (``en`` or ``sv``: Swedish reasons, notes and numbers)."""
        lang = lang if lang in _TXT else "en"
        t = _TXT[lang]
        rank = "-" if np.isnan(self.rank) else f"{int(self.rank)}"
        pop = fmt_spec(int(self.population), ",", lang)
        lines = [f"{self.name} ({self.municipality_name or self.municipality} {t['muni']}, "
                 f"{t['pop']} {pop}): {t['composite']} {fmt_spec(self.composite, '.1f', lang)}, "
                 f"{t['rank']} {rank} {t['of']} {self.n_ranked}"]
        if self.meaning_msg:
            lines.append(f"  {t['ptype']}: {place_type_name(self.place_type, lang)}; "
                         f"{render(self.meaning_msg, lang)}")
        if self.approximate:
            lines.append(f"  ({t['approx']})")
        seen: dict[str, str] = {}
        for row in self.indicators:
            msgs = row.get("notes_msg") or []
            for k, note in enumerate(row["notes"]):
                if "network" in note and note not in seen:
                    seen[note] = render_or(msgs[k] if k < len(msgs) else None, lang, note)
        lines += [f"  ({n})" for n in seen.values()]
        for th, val in self.themes.items():
            title = LAYERS[th].title(lang)
            lines.append(f"  {t['theme']} {title}: "
                         f"{'-' if np.isnan(val) else fmt_spec(val, '.1f', lang)} "
                         f"({t['weight']} {fmt_spec(self.weights[th], 'g', lang)})")
            for row in (r for r in self.indicators if r["theme"] == th):
                lines.append("    " + _indicator_line(row, t, lang))
        return "\n".join(lines)


def _fmt_dist(m: float, lang: str = "en") -> str:
    return f"{fmt_spec(m / 1000, '.1f', lang)} km" if m >= 1000 else f"{m:.0f} m"


def _indicator_line(row: dict[str, Any], t: dict[str, str], lang: str = "en") -> str:
    head = f"{row['title_sv'] if lang == 'sv' else row['title']}: "
    if row["missing"]:
        return head + f"{t['missing']} ({render_or(row.get('reason_msg'), lang, row['reason'])})"
    flags = []
    if row["approximate"]:
        flags.append("≈")
    if row["partial"]:
        flags.append(t["partial"])
    flag = f" [{', '.join(flags)}]" if flags else ""
    body = f"{t['score']} {row['score']:.0f}"
    if row["measure"] == "stat":
        body += f"; {t['stat']} {fmt_spec(row['raw'], ',g' if lang == 'sv' else 'g', lang)}"
    elif row["measure"] in ("count", "gravity"):
        body += f"; {fmt_spec(row['raw'], ',.0f' if lang == 'sv' else '.0f', lang)} {t['count']}"
    near = row.get("nearest") or []
    if near:
        a = near[0]
        nm = a["name"] or kind_name(a["kind"], lang)
        dist = _fmt_dist(a["distance_m"], lang) if np.isfinite(a["distance_m"]) else "?"
        body += f"; {t['nearest']}: {nm}, {dist}, {t.get(row['mode'], row['mode'])}"
        if row["mode"] == "car":
            body += f" (~{a['minutes']:.0f} min)"
        if row.get("standard_m"):
            body += f"; {t['standard']} {_fmt_dist(row['standard_m'], lang)}"
    elif row["measure"] == "nearest":
        body += f"; {t['none']}"
    return head + body + flag


def find_locality(model: ScoreModel, place: str) -> int:
    """Row of the locality named or coded ``place`` (case-insensitive).

    Raises
    ------
    RegionNotFoundError
        With the closest names.
    """
    L = model.localities
    key = place.strip().casefold()
    for col in ("code", "name"):
        hit = np.flatnonzero(L[col].astype(str).str.casefold().to_numpy() == key)
        if len(hit):
            return int(hit[0])
    names = L["name"].astype(str).tolist()
    close = difflib.get_close_matches(place, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise RegionNotFoundError(f"No locality {place!r} in {model.region_name}.{hint} "
                              f"Run 'livability score --region {model.region}' to list them.")


def _standard_at(res: IndicatorResult, p: int) -> float | None:
    """The distance standard of a nearest indicator at point ``p`` (its place type's), or None."""
    t = getattr(res, "thresholds", None)
    if t is None or res.missing or res.measure != "nearest":
        return None
    return float(t[p])


def _indicator_rows(model: ScoreModel, p: int, ind_scores: np.ndarray) -> list[dict[str, Any]]:
    """Explanation rows for point ``p`` (a cell or a locality centre) with its indicator scores."""
    rows = []
    for j, ind in enumerate(model.indicators):
        res = model.results[ind.key]
        raw = float(res.raw[p]) if len(res.raw) else float("nan")
        near = []
        if not res.missing and len(res.nearest) and res.nearest[p] >= 0:
            a = res.amenities.iloc[int(res.nearest[p])]
            d = float(res.raw[p]) if res.measure == "nearest" else float("nan")
            if res.measure != "nearest" and res.classes:
                d = float(res.classes[0][1][p])
            near.append({"name": None if a["name"] is None or a["name"] != a["name"]
                         else str(a["name"]), "kind": str(a["kind"]), "distance_m": d,
                         "minutes": float(minutes(d, ind.mode)) if np.isfinite(d) else float("nan"),
                         "mode": ind.mode})
        val = float(ind_scores[j])
        rows.append({"key": ind.key, "title": ind.title("en"), "title_sv": ind.title("sv"),
                     "theme": ind.layer, "measure": ind.measure, "mode": ind.mode,
                     "score": val, "raw": raw, "missing": bool(res.missing or np.isnan(val)),
                     "reason": res.reason or ("no value for this place" if np.isnan(val) else ""),
                     "reason_msg": dict(getattr(res, "reason_msg", None) or {}) if res.reason
                     else ({"code": "no_value_here"} if np.isnan(val) else {}),
                     "approximate": res.approximate, "partial": res.partial,
                     "notes": list(res.notes), "notes_msg": list(getattr(res, "notes_msg", [])),
                     "nearest": near,
                     "speed_kmh": MODE_SPEEDS_KMH[ind.mode]})
        rows[-1]["standard_m"] = _standard_at(res, p)
    return rows


def explain(model: ScoreModel, scores: Scores, place: str) -> Explanation:
    """Break down the score of a locality (by name or code) or of one grid cell (by H3 id).

    Each indicator row: ``key``, ``title`` (en), ``title_sv``, ``theme``, ``measure``, ``mode``,
    ``score`` (the locality's population-weighted roll-up, or the cell's own), ``raw`` (from the
    locality's centre or the cell's centre: distance m / count / value), ``missing`` + ``reason``
    (+ ``reason_msg``), ``approximate``, ``partial``, ``notes`` (+ ``notes_msg``: :mod:`geo.texts`
    messages, ``render(msg, "sv")`` for Swedish) and ``nearest``: the named nearest amenity
    (``name``, ``kind``, ``distance_m``, ``minutes``, ``mode``).

    Raises
    ------
    RegionNotFoundError
        For an unknown name, with the closest matches.
    """
    cell_hit = np.flatnonzero(model.cells["h3"].to_numpy() == place.strip())
    if len(cell_hit):
        c = int(cell_hit[0])
        C = scores.cells
        lcode = C["locality"].iloc[c]
        lrow = model.localities.index[model.localities["code"] == lcode]
        lname = str(model.localities.loc[lrow[0], "name"]) if len(lrow) else ""
        muni = str(C["municipality"].iloc[c])
        rows = _indicator_rows(model, c, model.cell_scores[c])
        return _with_meaning(model, scores, str(C["place_type"].iloc[c]), None, Explanation(
            code=str(C["h3"].iloc[c]), name=f"{lname} ({C['h3'].iloc[c]})" if lname
            else str(C["h3"].iloc[c]), municipality=muni,
            municipality_name=model.municipality_names.get(muni, ""),
            population=float(C["weight"].iloc[c]), composite=float(C["composite"].iloc[c]),
            rank=float("nan"), n_ranked=int(scores.localities["rank"].notna().sum()), n_cells=1,
            themes={t: float(C[f"theme:{t}"].iloc[c]) for t in model.themes},
            indicators=rows, weights=scores.weights,
            approximate=any(r["approximate"] for r in rows if not r["missing"]),
            persona=scores.persona, penalty=scores.penalty,
        ))
    i = find_locality(model, place)
    rows = _indicator_rows(model, len(model.cells) + i, model.loc_scores[i])
    L = scores.localities
    return _with_meaning(model, scores, str(L["place_type"].iloc[i]), i, Explanation(
        code=str(L["code"].iloc[i]), name=str(L["name"].iloc[i]),
        municipality=str(L["municipality"].iloc[i]),
        municipality_name=str(L["municipality_name"].iloc[i]),
        population=float(L["population"].iloc[i]), composite=float(L["composite"].iloc[i]),
        rank=float(L["rank"].iloc[i]), n_ranked=int(L["rank"].notna().sum()),
        n_cells=int((model.rollup[i] != 0).sum()),
        themes={t: float(L[f"theme:{t}"].iloc[i]) for t in model.themes},
        indicators=rows, weights=scores.weights,
        approximate=any(r["approximate"] for r in rows if not r["missing"]),
        persona=scores.persona, penalty=scores.penalty,
    ))


def _with_meaning(model: ScoreModel, scores: Scores, place_type: str, i: int | None,
                  e: Explanation) -> Explanation:
    """Fill ``e``'s place type, band, percentiles and meaning message (``i``: locality row)."""
    L = scores.localities
    e.place_type = place_type
    e.band = score_band(e.composite)[0]
    e.n_type = int((L["place_type"] == place_type).sum())
    if i is not None:
        e.pct_region = float(L["pct_region"].iloc[i])
        e.pct_type = float(L["pct_type"].iloc[i])
    if e.band is None:
        return e
    msg: dict[str, Any] = {"code": "score_band", "score": e.composite, "band": e.band,
                           "place_type": place_type}
    if np.isfinite(e.pct_region):
        msg = {"code": "score_meaning", "score": e.composite, "band": e.band,
               "pct_region": e.pct_region, "pct_type": e.pct_type,
               "region": model.region_name, "place_type": place_type}
        if not np.isfinite(e.pct_type):
            del msg["pct_type"]
            msg["code"] = "score_meaning_sole"
    e.meaning_msg = msg
    return e
