"""Folium map builders that work offline: Leaflet and its plugins are inlined, never fetched from a CDN.

folium loads Leaflet, jQuery, Bootstrap and awesome-markers from CDNs by default; without internet such
a map is blank. :class:`OfflineMap` and :class:`OfflineMarkerCluster` replace those links by ``data:``
URLs built from the files of the installed ``xstatic-leaflet`` and ``xstatic-leaflet-markercluster``
packages, and drop the assets the maps here do not use (jQuery, Bootstrap, awesome-markers). The
result is self-contained: it renders in a saved HTML file and in streamlit-folium's iframe alike.

Every string that comes from data passes through :func:`safe_text` before it reaches a tooltip: folium
puts tooltip text into a JavaScript template literal and then into HTML, so both HTML and template
syntax are neutralised.

This module never imports streamlit.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import h3
import jinja2
import numpy as np
import numpy.typing as npt
import pandas as pd
import xstatic.pkg.leaflet as xstatic_leaflet
import xstatic.pkg.leaflet_markercluster as xstatic_markercluster
from shapely.geometry.base import BaseGeometry

from geo.errors import DataSourceError

__all__ = [
    "HEX_RESOLUTION",
    "HIGHLIGHT_CLASS",
    "MAX_HEXAGONS",
    "MAX_POINTS",
    "NO_SCORE_COLOR",
    "OSM_TILE_URL",
    "PALETTE",
    "FitBoundsWhenSized",
    "FocusWhenSized",
    "HexIndex",
    "LayerDrawn",
    "MapContents",
    "OfflineFastMarkerCluster",
    "OfflineMap",
    "OfflineMarkerCluster",
    "RecolourHook",
    "RecolourIndex",
    "add_boundaries",
    "add_cells",
    "add_localities",
    "add_point_layer",
    "asset_data_url",
    "build_region_map",
    "coarsen_cells",
    "fit_zoom",
    "hexagon_cells",
    "highlight_group",
    "legend_bins",
    "map_html",
    "marker_radius",
    "recolour_data",
    "recolour_script",
    "safe_text",
    "score_color",
    "score_colors",
]

log = logging.getLogger(__name__)

#: Viridis in 8 steps (colour-blind safe, readable in greyscale), low score to high score.
PALETTE: tuple[str, ...] = (
    "#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725",
)
NO_SCORE_COLOR = "#9e9e9e"
OSM_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"
LOCALITY_CLASS = "locality-marker"
HIGHLIGHT_CLASS = "place-highlight"
#: The hexagons' resolution at county zoom (finer cells are averaged into their parents), and the
#: most hexagons drawn (above it they are coarsened further, down to resolution 5).
HEX_RESOLUTION = 7
MAX_HEXAGONS = 6000
#: The most features drawn per point layer (the first ones in the layer's order).
MAX_POINTS = 5000
#: Ring colour of the selected place: magenta is not in the viridis palette, so it never reads as a score.
HIGHLIGHT_COLOR = "#d81b60"

# (xstatic package, file) of every asset; css images are inlined into the css. ``BASE_DIR`` is the
# XStatic standard's public attribute naming the folder of a package's files.
_ASSETS: dict[str, tuple[ModuleType, str]] = {
    "leaflet.js": (xstatic_leaflet, "leaflet.js"),
    "leaflet.css": (xstatic_leaflet, "leaflet.css"),
    "markercluster.js": (xstatic_markercluster, "leaflet.markercluster.js"),
    "markercluster.css": (xstatic_markercluster, "MarkerCluster.css"),
    "markercluster.default.css": (xstatic_markercluster, "MarkerCluster.Default.css"),
}
_MIME = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def _asset_path(name: str) -> Path:
    try:
        package, fname = _ASSETS[name]
    except KeyError:
        raise KeyError(f"No map asset {name!r}. Known assets: {', '.join(_ASSETS)}") from None
    return Path(package.BASE_DIR) / fname


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


@cache
def asset_data_url(name: str) -> str:
    """Return asset ``name`` (``leaflet.js``, ``leaflet.css``, ...) as a ``data:`` URL.

    CSS ``url(images/x.png)`` references are inlined too, so nothing is fetched at all.
    """
    path = _asset_path(name)
    raw = path.read_bytes()
    if path.suffix == ".css":
        text = raw.decode("utf-8")

        def inline(m: re.Match[str]) -> str:
            ref = m.group(1).strip("'\"")
            img = path.parent / ref
            if ref.startswith("data:") or not img.is_file():
                return m.group(0)
            return f"url({_data_url(img.read_bytes(), _MIME.get(img.suffix, 'image/png'))})"

        raw = re.sub(r"url\(([^)]+)\)", inline, text).encode("utf-8")
    return _data_url(raw, _MIME[path.suffix])


class OfflineMap(folium.Map):
    """A :class:`folium.Map` whose Leaflet comes inlined from xstatic-leaflet (no CDN, no jQuery).

    :func:`build_region_map` sets ``contents`` (what it drew) and, for a recolourable map,
    ``recolour`` (what :func:`recolour_data` needs to colour it).
    """

    contents: MapContents
    recolour: RecolourIndex | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contents = MapContents()
        self.recolour = None
        # folium gives min/max zoom only to a tile layer; markercluster needs the map's maxZoom
        self.options.setdefault("maxZoom", kwargs.get("max_zoom") or 18)
        self.options.setdefault("minZoom", kwargs.get("min_zoom") or 5)
        self.default_js = [("leaflet", asset_data_url("leaflet.js"))]
        self.default_css = [("leaflet_css", asset_data_url("leaflet.css"))]


def _use_inlined_cluster_assets(element: folium.plugins.MarkerCluster) -> None:
    """Point a markercluster element's JS/CSS at the inlined xstatic-leaflet-markercluster files."""
    element.default_js = [("markerclusterjs", asset_data_url("markercluster.js"))]
    element.default_css = [
        ("markerclustercss", asset_data_url("markercluster.css")),
        ("markerclusterdefaultcss", asset_data_url("markercluster.default.css")),
    ]


class OfflineMarkerCluster(folium.plugins.MarkerCluster):
    """A marker cluster whose plugin comes inlined from xstatic-leaflet-markercluster."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # folium/branca untyped
        _use_inlined_cluster_assets(self)


_JS_TEMPLATE_ESCAPES = {"`": "&#96;", "$": "&#36;", "\\": "&#92;", "{": "&#123;", "}": "&#125;"}


def safe_text(value: object) -> str:
    """Escape ``value`` for a folium tooltip: HTML-escaped and safe inside a JS template literal.

    Examples
    --------
    >>> safe_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> safe_text("`${x}`")
    '&#96;&#36;&#123;x&#125;&#96;'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return "".join(_JS_TEMPLATE_ESCAPES.get(c, c) for c in text)


def score_color(score: float | None) -> str:
    """Return the palette colour of a 0-100 score (grey when missing)."""
    if score is None or pd.isna(score):
        return NO_SCORE_COLOR
    i = int(min(max(float(score), 0.0), 99.999) // (100 / len(PALETTE)))
    return PALETTE[i]


def legend_bins() -> list[tuple[str, float, float]]:
    """Return ``(colour, low, high)`` for each palette class of the 0-100 score."""
    step = 100 / len(PALETTE)
    return [(c, round(i * step, 1), round((i + 1) * step, 1)) for i, c in enumerate(PALETTE)]


def marker_radius(population: float | None, *, smallest: float = 4.0, largest: float = 22.0) -> float:
    """Radius in pixels growing with the square root of population (area proportional)."""
    if population is None or pd.isna(population) or population <= 0:
        return smallest
    r = smallest + math.sqrt(float(population)) / 12.0
    return float(min(r, largest))


def _points(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    geom = gdf.geometry
    if len(geom) and not (geom.geom_type == "Point").all():
        geom = geom.where(geom.geom_type == "Point", geom.representative_point())
    return geom


def add_boundaries(m: folium.Map, boundary: gpd.GeoDataFrame,
                   municipalities: gpd.GeoDataFrame | None = None, *,
                   region_label: str = "") -> None:
    """Draw the region outline (filled as land) and municipality borders with escaped tooltips."""
    if boundary is not None and len(boundary):
        folium.GeoJson(
            boundary[["geometry"]].to_json(),
            name="boundary",
            style_function=lambda _f: {"color": "#37474f", "weight": 2, "fillColor": "#f4f1ea",
                                       "fillOpacity": 0.9},
            tooltip=folium.Tooltip(safe_text(region_label)) if region_label else None,
            control=False,
        ).add_to(m)
    if municipalities is not None and len(municipalities):
        group = folium.FeatureGroup(name="municipalities", control=False)
        for _, row in municipalities.iterrows():
            gj = folium.GeoJson(
                gpd.GeoSeries([row.geometry], crs=municipalities.crs).to_json(),
                style_function=lambda _f: {"color": "#607d8b", "weight": 1.2, "dashArray": "4 3",
                                           "fill": False},
            )
            gj.add_child(folium.Tooltip(safe_text(row.get("name", ""))))
            gj.add_to(group)
        group.add_to(m)


def coarsen_cells(cells: pd.DataFrame, resolution: int, column: str = "composite") -> pd.DataFrame:
    """Aggregate H3 cells to their parents at ``resolution`` (weighted mean of ``column``).

    Uses the ``weight`` column (population) when present and positive, else a plain mean.
    """
    df = cells[["h3", column, *(["weight"] if "weight" in cells else [])]].dropna(subset=[column])
    if not len(df) or h3.get_resolution(df["h3"].iloc[0]) <= resolution:
        return df[["h3", column]].reset_index(drop=True)
    w = df["weight"].clip(lower=0).fillna(0) if "weight" in df else pd.Series(1.0, index=df.index)
    if float(w.sum()) <= 0:
        w = pd.Series(1.0, index=df.index)
    w = w + 1e-9
    tmp = pd.DataFrame({"h3": [h3.cell_to_parent(c, resolution) for c in df["h3"]],
                        "vw": df[column] * w, "w": w})
    g = tmp.groupby("h3", as_index=False)[["vw", "w"]].sum()
    return pd.DataFrame({"h3": g["h3"], column: g["vw"] / g["w"]})


def hexagon_cells(cells: pd.DataFrame, *, resolution: int | None = HEX_RESOLUTION,
                  max_cells: int = MAX_HEXAGONS, column: str = "composite") -> pd.DataFrame:
    """The hexagons a static map draws for ``cells``: ``h3`` and ``column``, scored ones only.

    Cells finer than ``resolution`` are aggregated to it (:func:`coarsen_cells`); above
    ``max_cells`` hexagons they are coarsened further, one resolution at a time, down to 5.
    """
    df = cells.dropna(subset=[column])
    if resolution is not None:
        df = coarsen_cells(df, resolution, column)
    df = df[["h3", column]]
    while len(df) > max_cells:
        res = h3.get_resolution(df["h3"].iloc[0])
        if res <= 5:
            break
        df = coarsen_cells(df, res - 1, column)
    return df


def score_colors(values: npt.ArrayLike) -> list[str]:
    """:func:`score_color` of each value (vectorised; NaN -> grey).

    >>> score_colors([0, 12.5, 99.9, 100, float("nan")])
    ['#440154', '#46327e', '#fde725', '#fde725', '#9e9e9e']
    """
    v = np.asarray(values, dtype=float)
    idx = (np.clip(np.nan_to_num(v, nan=0.0), 0.0, 99.999) // (100 / len(PALETTE))).astype(int)
    return [NO_SCORE_COLOR if nan else PALETTE[i]
            for i, nan in zip(idx.tolist(), np.isnan(v).tolist(), strict=True)]


def _hexagon_layer(m: folium.Map, ids: Sequence[str], values: Sequence[float | None], *,
                   name: str, label: str) -> folium.GeoJson:
    """A GeoJSON layer of hexagons ``ids``; properties ``h`` (id), ``c`` (colour), ``v`` (score)."""
    colors = score_colors([np.nan if v is None else v for v in values])
    features = []
    for cell, value, color in zip(ids, values, colors, strict=True):
        ring = [[round(lng, 5), round(lat, 5)] for lat, lng in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        features.append({"type": "Feature",
                         "properties": {"h": str(cell), "c": color,
                                        "v": None if value is None else round(float(value))},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    layer = folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {"fillColor": f["properties"]["c"], "color": f["properties"]["c"],
                                  "weight": 0.3, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=["v"], aliases=[safe_text(label or name)]),
    )
    layer.add_to(m)
    log.info("%d hexagons drawn", len(features))
    return layer


def add_cells(m: folium.Map, cells: pd.DataFrame, *, name: str = "Hexagons",
              resolution: int | None = HEX_RESOLUTION, max_cells: int = MAX_HEXAGONS,
              column: str = "composite", label: str = "") -> int:
    """Draw H3 hexagons (column ``h3``) coloured by ``column``.

    Cells finer than ``resolution`` are aggregated to it (res-9 cells are a few pixels wide at county
    zoom); above ``max_cells`` they are coarsened further (:func:`hexagon_cells`). Returns the
    number of hexagons drawn.
    """
    if cells is None or not len(cells) or "h3" not in cells or column not in cells:
        return 0
    df = hexagon_cells(cells, resolution=resolution, max_cells=max_cells, column=column)
    if df.empty:  # no cell has a score (every indicator lacks data)
        return 0
    _hexagon_layer(m, df["h3"].tolist(), df[column].tolist(), name=name, label=label)
    return len(df)


@dataclass(frozen=True)
class HexIndex:
    """The hexagons of a recolourable map and how the grid's cells roll up into them.

    Independent of the weights: built once per map from every cell of the grid (scored or not),
    so the map's geometry never changes with a weighting; :meth:`aggregate` gives each hexagon the
    population-weighted mean score of its cells as :func:`coarsen_cells` does.

    Attributes
    ----------
    hexagons
        The hexagons' H3 ids, in the map's feature order.
    resolution, cell_resolution
        The hexagons' and the grid cells' H3 resolutions.
    cells
        The grid cells' H3 ids.
    parent
        Position in ``hexagons`` of each cell (read-only).
    weight
        Each cell's population weight, >= 0 (read-only; ones when the grid has none).
    """

    hexagons: tuple[str, ...]
    resolution: int
    cell_resolution: int
    cells: pd.Index
    parent: np.ndarray
    weight: np.ndarray

    @classmethod
    def of(cls, cells: pd.DataFrame, *, resolution: int = HEX_RESOLUTION,
           max_cells: int = MAX_HEXAGONS) -> HexIndex | None:
        """The index of ``cells`` (column ``h3``, optional ``weight``); None without cells.

        Cells are rolled up to ``resolution`` (never refined); while that gives more than
        ``max_cells`` hexagons, one resolution coarser, down to 5.
        """
        if cells is None or not len(cells) or "h3" not in cells:
            return None
        ids = cells["h3"].astype(str).to_numpy(dtype=object)
        cell_res = int(h3.get_resolution(ids[0]))
        target = min(resolution, cell_res)
        parents = cls._parents(ids, target, cell_res)
        while len(set(parents)) > max_cells and target > 5:
            target -= 1
            parents = cls._parents(ids, target, cell_res)
        codes, uniques = pd.factorize(pd.Series(parents, dtype=object), sort=False)
        w = (cells["weight"].clip(lower=0).fillna(0).to_numpy(dtype=float) if "weight" in cells
             else np.ones(len(ids)))
        parent = np.asarray(codes, dtype=np.int64)
        for arr in (parent, w):
            arr.setflags(write=False)
        return cls(tuple(str(u) for u in uniques), target, cell_res, pd.Index(ids), parent, w)

    @staticmethod
    def _parents(ids: np.ndarray, res: int, cell_res: int) -> list[str]:
        if res >= cell_res:
            return [str(c) for c in ids]
        return [h3.cell_to_parent(c, res) for c in ids]

    def values(self, scores: pd.DataFrame, column: str = "composite") -> np.ndarray:
        """``scores[column]`` in :attr:`cells` order (NaN for cells ``scores`` lacks)."""
        if scores is None or not len(scores) or column not in scores:
            return np.full(len(self.cells), np.nan)
        ids = scores.get("h3", scores.index)
        col: np.ndarray = scores[column].to_numpy(dtype=float)
        if len(ids) == len(self.cells) and bool((np.asarray(ids, dtype=object)
                                                 == self.cells.to_numpy()).all()):
            return col
        pos = self.cells.get_indexer(pd.Index(np.asarray(ids, dtype=object)))
        out = np.full(len(self.cells), np.nan)
        hit = pos >= 0
        out[pos[hit]] = col[hit]
        return out

    def aggregate(self, values: np.ndarray) -> np.ndarray:
        """Each hexagon's population-weighted mean of ``values`` (in :attr:`cells` order);
        NaN where none of its cells has a value."""
        n = len(self.hexagons)
        ok = ~np.isnan(values)
        if self.resolution == self.cell_resolution:  # no roll-up: the cells are the hexagons
            out = np.full(n, np.nan)
            out[self.parent[ok]] = values[ok]
            return out
        w = self.weight[ok]
        if float(w.sum()) <= 0:
            w = np.ones_like(w)
        w = w + 1e-9
        num = np.bincount(self.parent[ok], weights=values[ok] * w, minlength=n)
        den = np.bincount(self.parent[ok], weights=w, minlength=n)
        out = np.full(n, np.nan)
        has = den > 0
        out[has] = num[has] / den[has]
        return out


@dataclass(frozen=True)
class RecolourIndex:
    """What :func:`recolour_data` needs to colour a recolourable county map for a weighting.

    Attributes
    ----------
    hexagons
        The map's hexagons (None when it has none).
    codes, names
        The locality markers' codes and names, in the map's order.
    labels
        The translated words of the tooltips (``score``).
    """

    hexagons: HexIndex | None
    codes: tuple[str, ...]
    names: tuple[object, ...]
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LayerDrawn:
    """One point layer of a map: how many of its features are drawn."""

    key: str
    title: str
    drawn: int
    total: int

    @property
    def capped(self) -> bool:
        """True when the map leaves features of the layer out."""
        return self.drawn < self.total


@dataclass(frozen=True)
class MapContents:
    """What a county map draws: every aggregation and cap (for captions and benchmark rows).

    Attributes
    ----------
    cells, cell_resolution
        The grid cells the hexagons come from (for a static map the scored ones) and their
        resolution.
    hexagons, hex_resolution
        The hexagons drawn (a recolourable map: every hexagon of the grid; a weighting colours
        those with a score and hides the rest) and their resolution.
    localities
        Locality markers.
    layers
        The point layers, each with its count drawn and its total.
    point_cap
        The most features a point layer draws (:data:`MAX_POINTS`).
    """

    cells: int = 0
    cell_resolution: int | None = None
    hexagons: int = 0
    hex_resolution: int | None = None
    localities: int = 0
    layers: tuple[LayerDrawn, ...] = ()
    point_cap: int = MAX_POINTS

    @property
    def aggregated(self) -> bool:
        """True when the hexagons are coarser than the grid's cells."""
        return self.hexagons > 0 and self.hex_resolution != self.cell_resolution

    def describe(self, hexagons: int | None = None) -> str:
        """One English line: ``137 hexagons at H3 resolution 7 (from 1,696 res-9 cells); ...``.

        ``hexagons`` overrides the count (a weighting's scored hexagons on a recolourable map).
        """
        n = self.hexagons if hexagons is None else hexagons
        parts = []
        if self.hexagons:
            agg = (f" (means of {self.cells:,} res-{self.cell_resolution} cells)"
                   if self.aggregated else "")
            parts.append(f"{n:,} hexagons at H3 resolution {self.hex_resolution}{agg}")
        parts.append(f"{self.localities:,} locality markers")
        for lay in self.layers:
            cap = f" of {lay.total:,} (capped at {self.point_cap:,})" if lay.capped else ""
            parts.append(f"{lay.title}: {lay.drawn:,}{cap}")
        return "; ".join(parts)


def _locality_tooltip(name: object, code: object, score: object, rank: object,
                      labels: Mapping[str, str]) -> str:
    parts = [f"<b>{safe_text(name)}</b>"]
    if score is not None and not pd.isna(score):
        parts.append(f"{safe_text(labels.get('score', 'Score'))}: {float(score):.0f}")  # type: ignore[arg-type]
    if rank is not None and not pd.isna(rank):
        parts.append(f"#{int(rank)}")  # type: ignore[call-overload]
    parts.append(f"<span style='color:#777'>[{safe_text(code)}]</span>")
    return " · ".join(parts)


def add_localities(m: folium.Map, localities: gpd.GeoDataFrame, scores: pd.DataFrame | None = None,
                   *, name: str = "Localities", labels: Mapping[str, str] | None = None) -> int:
    """Draw locality markers sized by population and coloured by score.

    ``scores`` (optional) has ``code``, ``composite``, ``rank``; the tooltip text ends with the
    locality's code in brackets so a click can be mapped back to the place; each marker carries
    its code as the Leaflet option ``code`` too (what :class:`RecolourHook` finds it by).
    Returns the number of markers.
    """
    group = _locality_group(localities, scores, name=name, labels=labels)
    if group is None:
        return 0
    group.add_to(m)
    return len(group._children)


def _sorted_localities(localities: gpd.GeoDataFrame,
                       scores: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The localities with ``composite``, ``rank`` (from ``scores``) and ``population``, largest
    first (so small markers stay clickable on top)."""
    locs = localities.copy()
    locs["code"] = locs["code"].astype(str)
    if scores is not None and len(scores) and "code" in scores:
        s = scores[["code", *[c for c in ("composite", "rank") if c in scores]]].copy()
        s["code"] = s["code"].astype(str)
        locs = locs.drop(columns=[c for c in ("composite", "rank") if c in locs]).merge(
            s, on="code", how="left")
    for col in ("composite", "rank", "population"):
        if col not in locs:
            locs[col] = float("nan")
    return locs.sort_values("population", ascending=False, na_position="last")


def _locality_group(localities: gpd.GeoDataFrame, scores: pd.DataFrame | None, *, name: str,
                    labels: Mapping[str, str] | None) -> folium.FeatureGroup | None:
    labels = labels or {}
    if localities is None or not len(localities):
        return None
    locs = _sorted_localities(localities, scores)
    group = folium.FeatureGroup(name=safe_text(name))
    geoms = _points(locs)
    for (_, row), pt in zip(locs.iterrows(), geoms, strict=True):
        color = score_color(row["composite"])
        marker = folium.CircleMarker(
            location=(pt.y, pt.x),
            radius=marker_radius(row["population"]),
            color="#263238",
            weight=1,
            fill=True,
            fill_color=color,
            fill_opacity=0.9,
            class_name=LOCALITY_CLASS,
            tooltip=folium.Tooltip(_locality_tooltip(row.get("name"), row["code"], row["composite"],
                                                     row["rank"], labels)),
        )
        marker.options["code"] = str(row["code"])  # folium's path_options drops unknown options
        marker.add_to(group)
    return group


class OfflineFastMarkerCluster(folium.plugins.FastMarkerCluster):
    """:class:`folium.plugins.FastMarkerCluster` (markers made in the browser) with inlined assets."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # folium/branca untyped
        _use_inlined_cluster_assets(self)


# folium writes "var callback = " before this expression
_POINT_CALLBACK = """function (row) {
    var m = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 5, color: '#212121', weight: 1, fillColor: %s, fillOpacity: 0.9});
    m.bindTooltip(row[2]);
    return m;
}"""


# cluster bubbles in the layer's own colour (the default green would read as a score colour)
_CLUSTER_ICON = """function (cluster) {
    var n = cluster.getChildCount();
    var size = n < 10 ? 26 : (n < 100 ? 32 : 38);
    return L.divIcon({html: '<div style="background:' + %s + ';color:#fff;border:2px solid #fff;'
        + 'border-radius:50%%;width:' + size + 'px;height:' + size + 'px;line-height:' + (size - 4)
        + 'px;text-align:center;font:600 12px sans-serif;box-shadow:0 0 3px #0008">' + n + '</div>',
        className: 'theme-cluster marker-cluster', iconSize: L.point(size, size)});
}"""


def add_point_layer(m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, color: str,
                    show: bool = False, max_points: int = MAX_POINTS) -> int:
    """Add a toggleable, clustered layer of features (polygons shown at a representative point).

    Markers are created in the browser from one JSON array (fast to render, small to send);
    tooltip texts are escaped with :func:`safe_text` and travel as JSON strings. At most
    ``max_points`` features are drawn (the first ones): :func:`build_region_map` records the cap in
    the map's :class:`MapContents` so the page can say so. Returns the number drawn.
    """
    if gdf is None or not len(gdf):
        return 0
    if len(gdf) > max_points:
        log.info("layer %s: %d features, drawing the first %d", name, len(gdf), max_points)
        gdf = gdf.iloc[:max_points]
    names = gdf["name"] if "name" in gdf else pd.Series([None] * len(gdf), index=gdf.index)
    kinds = gdf["kind"] if "kind" in gdf else pd.Series([""] * len(gdf), index=gdf.index)
    rows = []
    for pt, nm, kind in zip(_points(gdf), names, kinds, strict=True):
        if pt is None or pt.is_empty:
            continue
        label = safe_text(nm) or "—"
        kind_txt = safe_text(str(kind).replace("_", " ")) if kind else ""
        tip = f"{label} <span style='color:#777'>({kind_txt})</span>" if kind_txt else label
        rows.append([round(pt.y, 6), round(pt.x, 6), tip])
    group = folium.FeatureGroup(name=safe_text(name), show=show)
    OfflineFastMarkerCluster(
        rows, callback=_POINT_CALLBACK % json.dumps(str(color)), control=False,
        icon_create_function=_CLUSTER_ICON % json.dumps(str(color)),
        options={"showCoverageOnHover": False, "maxClusterRadius": 40},
    ).add_to(group)
    group.add_to(m)
    return len(rows)


class RecolourHook(folium.MacroElement):
    """Defines ``window.__livabilityRecolour(data)`` in a map: new colours without a new map.

    Added after the hexagon layer and the locality markers of a recolourable map. The function
    takes :func:`recolour_data`'s dict: each hexagon with a score gets its colour and tooltip value
    (and is shown), hexagons without one are taken off the layer; each locality marker gets its
    fill colour and tooltip (already escaped on the server). ``window.__livabilityColoured``
    counts the calls (for tests). The app sends ``recolour_script(data)`` as part of
    streamlit-folium's dynamic layer, so a weight change only runs this in the live map.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (cells, places) {
            var hex = {}, marks = {};
            if (cells) { cells.eachLayer(function (l) { hex[l.feature.properties.h] = l; }); }
            if (places) {
                places.eachLayer(function (l) {
                    if (l.options.code != null) { marks[l.options.code] = l; }
                });
            }
            window.__livabilityRecolour = function (d) {
                var k, l, v;
                if (cells) {
                    for (k in hex) {
                        l = hex[k]; v = d.cells[k];
                        if (v) {
                            l.feature.properties.c = v[0]; l.feature.properties.v = v[1];
                            l.setStyle({fillColor: v[0], color: v[0]});
                            if (!cells.hasLayer(l)) { cells.addLayer(l); }
                        } else if (cells.hasLayer(l)) { cells.removeLayer(l); }
                    }
                }
                for (k in marks) {
                    v = d.localities[k];
                    if (v) { marks[k].setStyle({fillColor: v[0]}); marks[k].setTooltipContent(v[1]); }
                }
                window.__livabilityColoured = (window.__livabilityColoured || 0) + 1;
            };
        })({{ this.cells.get_name() if this.cells else 'null' }},
           {{ this.places.get_name() if this.places else 'null' }});
        {% endmacro %}
    """)

    def __init__(self, cells: folium.GeoJson | None, places: folium.FeatureGroup | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "RecolourHook"
        self.cells = cells
        self.places = places


def recolour_data(index: RecolourIndex, cells: pd.DataFrame | None,
                  localities: pd.DataFrame | None) -> dict[str, dict[str, list[object]]]:
    """The colours of one weighting for a recolourable map (see :class:`RecolourHook`).

    Parameters
    ----------
    index
        The map's :attr:`OfflineMap.recolour`.
    cells
        Cell scores (``h3`` column or index, ``composite``), or None.
    localities
        Locality scores (``code``, ``composite``, ``rank``), or None.

    Returns
    -------
    dict
        ``{"cells": {h3: [colour, rounded score]}, "localities": {code: [colour, tooltip html]}}``;
        hexagons without a score are left out (the map hides them), localities without one are grey.
        Tooltips are escaped with :func:`safe_text`.
    """
    out: dict[str, dict[str, list[object]]] = {"cells": {}, "localities": {}}
    hexes = index.hexagons
    if hexes is not None and cells is not None:
        agg = hexes.aggregate(hexes.values(cells))
        has = ~np.isnan(agg)
        ids = [h for h, ok in zip(hexes.hexagons, has.tolist(), strict=True) if ok]
        vals = agg[has]
        out["cells"] = {h: [c, round(float(v))]
                        for h, c, v in zip(ids, score_colors(vals), vals.tolist(), strict=True)}
    comp: dict[str, float] = {}
    rank: dict[str, float] = {}
    if localities is not None and len(localities) and "code" in localities:
        codes = localities["code"].astype(str).tolist()
        if "composite" in localities:
            comp = dict(zip(codes, localities["composite"].astype(float).tolist(), strict=True))
        if "rank" in localities:
            rank = dict(zip(codes, localities["rank"].astype(float).tolist(), strict=True))
    labels = dict(index.labels)
    nan = float("nan")
    colours = score_colors([comp.get(c, nan) for c in index.codes])
    out["localities"] = {
        code: [col, f"<div>{_locality_tooltip(name, code, comp.get(code), rank.get(code), labels)}"
                    "</div>"]
        for code, name, col in zip(index.codes, index.names, colours, strict=True)}
    return out


def recolour_script(data: Mapping[str, object]) -> str:
    """The script that applies :func:`recolour_data`'s ``data`` to the live map.

    The JSON has ``<``, ``>`` and ``&`` as ``\\u`` escapes, so it stays inert even inside a
    ``<script>`` element.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return f"if (window.__livabilityRecolour) {{ window.__livabilityRecolour({text}); }}\n"


class FitBoundsWhenSized(folium.MacroElement):
    """Fit the map to ``bounds`` once its container has its final size (iframes size late)."""

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            var bounds = {{ this.bounds|tojson }};
            // a FocusWhenSized (the selected place) takes over the view
            var fit = function () {
                map.invalidateSize();
                if (!window.__livabilityFocus) { map.fitBounds(bounds); }
            };
            setTimeout(fit, 250);
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, bounds: Sequence[Sequence[float]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "FitBoundsWhenSized"
        self.bounds = [[float(v) for v in corner] for corner in bounds]


class FocusWhenSized(folium.MacroElement):
    """Centre the map on the selected place once its container has its final size.

    Added to the highlight group: it sets ``window.__livabilityFocus`` at once so that
    :class:`FitBoundsWhenSized` (which fires earlier) leaves the view alone, then zooms to the place.
    The map is found through the parent layer, so this works in a feature group that streamlit-folium
    adds to a live map as well as in a standalone page.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        window.__livabilityFocus = true;
        (function (layer) {
            setTimeout(function () {
                var map = layer._map;
                if (!map) { return; }
                map.invalidateSize();
                {% if this.zoom is not none %}
                map.setView({{ this.center|tojson }}, {{ this.zoom }}, {animate: false});
                {% else %}
                map.fitBounds({{ this.bounds|tojson }}, {padding: [20, 20], animate: false});
                {% endif %}
            }, 400);
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, center: Sequence[float], zoom: float | None = None,
                 bounds: Sequence[Sequence[float]] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "FocusWhenSized"
        self.center = [float(v) for v in center]
        self.zoom = None if zoom is None else float(zoom)
        self.bounds = [[float(v) for v in c] for c in bounds] if bounds is not None else None
        if self.zoom is None and self.bounds is None:
            self.zoom = 12.0


def highlight_group(geometry: BaseGeometry, name: object, *, population: float | None = None,
                    focus: bool = False, zoom: float = 11.0,
                    group_name: str = "selected") -> folium.FeatureGroup:
    """A small layer that marks the selected place: a ring (or outline) above the markers and its name.

    Parameters
    ----------
    geometry
        A shapely geometry in EPSG:4326: a point (a locality) gets a ring a little larger than its
        marker, an area (a municipality) a thick outline; the label sits at the point or at the
        area's representative point.
    name
        The place's name (escaped with :func:`safe_text`).
    population
        Sizes the ring to surround the locality's marker (see :func:`marker_radius`).
    focus
        Also centre the map on the place (zoom ``zoom`` for a point, the area's bounds otherwise).
    group_name
        Name of the feature group (not shown in the layer control).

    Returns
    -------
    folium.FeatureGroup
        Not interactive, so clicks reach the locality marker underneath; add it to a map, or hand it
        to ``st_folium(feature_group_to_add=...)`` so the (cached) base map is not rebuilt.
    """
    if geometry is None or geometry.is_empty:
        raise DataSourceError(f"The place {name!r} has no geometry to highlight; rebuild the snapshot "
                              "(livability build) or pass a point or area")
    group = folium.FeatureGroup(name=group_name, control=False)
    if geometry.geom_type == "Point":
        anchor = geometry
    else:
        anchor = geometry.representative_point()
        folium.GeoJson(
            gpd.GeoSeries([geometry], crs="EPSG:4326").to_json(),
            style_function=lambda _f: {"color": HIGHLIGHT_COLOR, "weight": 4, "fill": False,
                                       "className": HIGHLIGHT_CLASS},
            interactive=False,
        ).add_to(group)
    lat, lon = float(anchor.y), float(anchor.x)
    ring = marker_radius(population) + 6 if geometry.geom_type == "Point" else 3.0
    # white halo under the ring: visible on dark hexagons and on the pale land alike
    halo = folium.CircleMarker((lat, lon), radius=ring, color="#ffffff", weight=7, opacity=0.9,
                               fill=False)
    marker = folium.CircleMarker((lat, lon), radius=ring, color=HIGHLIGHT_COLOR, weight=3.5,
                                 fill=False, class_name=HIGHLIGHT_CLASS)
    for layer in (halo, marker):
        layer.options["interactive"] = False  # folium's path_options drops this Leaflet option
    halo.add_to(group)
    marker.add_child(folium.Tooltip(
        safe_text(name), sticky=False, permanent=True, direction="top",
        offset=[0, -int(ring) - 2], className="place-label", interactive=False))
    marker.add_to(group)
    if focus:
        if geometry.geom_type == "Point":
            group.add_child(FocusWhenSized((lat, lon), zoom=zoom))
        else:
            minx, miny, maxx, maxy = geometry.bounds
            group.add_child(FocusWhenSized((lat, lon), bounds=[[miny, minx], [maxy, maxx]]))
    return group


def fit_zoom(bounds: Sequence[float], width_px: int = 520, height_px: int = 540) -> float:
    """Web-Mercator zoom (quarter steps) that fits ``(minx, miny, maxx, maxy)`` into the pixels.

    Used instead of Leaflet's ``fitBounds``, which measures the container before an iframe has its
    final size and so zooms out too far.

    >>> fit_zoom((14.4, 55.9, 16.3, 56.5))
    8.5
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)

    def merc_y(lat: float) -> float:
        lat = max(min(lat, 85.0), -85.0)
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    dx = max(maxx - minx, 1e-6) / 360.0
    dy = max(merc_y(maxy) - merc_y(miny), 1e-6) / (2 * math.pi)
    z = min(math.log2(width_px / 256 / dx), math.log2(height_px / 256 / dy))
    return float(max(1.0, min(18.0, math.floor(z * 4) / 4)))


def _draw_hexagons(m: folium.Map, cells: pd.DataFrame | None, *, recolour: bool, name: str,
                   label: str) -> tuple[HexIndex | None, folium.GeoJson | None, dict[str, Any]]:
    """The hexagon layer of :func:`build_region_map`: its index (recolourable maps), the layer,
    and the :class:`MapContents` fields that describe it."""
    none: dict[str, Any] = {"hexagons": 0, "hex_resolution": None, "cells": 0,
                            "cell_resolution": None}
    if cells is None or not len(cells) or "h3" not in cells:
        return None, None, none
    if recolour:
        index = HexIndex.of(cells)
        if index is None:
            return None, None, none
        layer = _hexagon_layer(m, index.hexagons, [None] * len(index.hexagons), name=name,
                               label=label)
        return index, layer, {"hexagons": len(index.hexagons), "hex_resolution": index.resolution,
                              "cells": len(index.cells), "cell_resolution": index.cell_resolution}
    if "composite" not in cells:
        return None, None, none
    shown = hexagon_cells(cells)
    if shown.empty:  # no cell has a score (every indicator lacks data)
        return None, None, none
    layer = _hexagon_layer(m, shown["h3"].tolist(), shown["composite"].tolist(), name=name,
                           label=label)
    scored = cells["h3"][cells["composite"].notna()]
    return None, layer, {"hexagons": len(shown),
                         "hex_resolution": int(h3.get_resolution(str(shown["h3"].iloc[0]))),
                         "cells": len(scored),
                         "cell_resolution": int(h3.get_resolution(str(scored.iloc[0])))}


def _recolour_index(index: HexIndex | None, localities: gpd.GeoDataFrame | None,
                    labels: Mapping[str, str]) -> RecolourIndex:
    codes: tuple[str, ...] = ()
    names: tuple[object, ...] = ()
    if localities is not None and len(localities):
        locs = _sorted_localities(localities, None)
        codes = tuple(str(c) for c in locs["code"])
        names = tuple(locs["name"]) if "name" in locs else (None,) * len(codes)
    return RecolourIndex(index, codes, names,
                         tuple(sorted((str(k), str(v)) for k, v in labels.items())))


def build_region_map(
    boundary: gpd.GeoDataFrame,
    localities: gpd.GeoDataFrame,
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    scores: pd.DataFrame | None = None,
    cells: pd.DataFrame | None = None,
    layers: Mapping[str, tuple[str, str, gpd.GeoDataFrame]] | None = None,
    tiles: bool = False,
    labels: Mapping[str, str] | None = None,
    region_label: str = "",
    highlight: folium.FeatureGroup | None = None,
    recolour: bool = False,
) -> OfflineMap:
    """Build the county map.

    Parameters
    ----------
    boundary, localities, municipalities
        From the snapshot (EPSG:4326).
    scores
        Locality scores (``code``, ``composite``, ``rank``) or None when not computed.
    cells
        Hexagon scores (``h3``, ``composite``) or None.
    layers
        ``{key: (title, colour, features)}`` drawn as toggleable clustered point layers (hidden at
        start).
    tiles
        Add OpenStreetMap tiles (needs internet) with their attribution; otherwise no base tiles, the
        region's outline drawn as land on a sea-coloured background.
    labels
        Translated UI words: ``score``, ``localities``, ``hexagons``.
    highlight
        A :func:`highlight_group` drawn above the markers (the app hands it to st_folium
        separately instead, so that its cached base map is reused).
    recolour
        Build a map whose colours a weighting sets afterwards, in the browser (:class:`RecolourHook`,
        :func:`recolour_data`): ``cells`` only needs ``h3`` (and ``weight``), every hexagon of the
        grid is drawn (grey until coloured), ``scores`` are ignored and markers start grey. The
        map is then the same for every weighting. Its ``recolour`` attribute holds the index.

    Returns
    -------
    OfflineMap
        Fitted to the region; its ``contents`` (:class:`MapContents`) says what it drew.
    """
    labels = labels or {}
    bounds = boundary.total_bounds if boundary is not None and len(boundary) else localities.total_bounds
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    m = OfflineMap(location=((miny + maxy) / 2, (minx + maxx) / 2),
                   zoom_start=fit_zoom((minx, miny, maxx, maxy)), tiles=None,
                   control_scale=True, prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5)
    if tiles:
        folium.TileLayer(OSM_TILE_URL, attr=OSM_ATTRIBUTION, name="OpenStreetMap",
                         max_zoom=19, control=False).add_to(m)
    m.get_root().header.add_child(folium.Element(  # type: ignore[attr-defined]
        "<style>.leaflet-container{background:#dbe7ee;}"
        ".leaflet-tooltip.place-label{font-weight:600;border:2px solid #d81b60;}</style>"))
    add_boundaries(m, boundary, municipalities, region_label=region_label)
    index, cell_layer, hexes = _draw_hexagons(m, cells, recolour=recolour,
                                              name=labels.get("hexagons", "Hexagons"),
                                              label=labels.get("score", ""))
    drawn = [LayerDrawn(key, title, add_point_layer(m, gdf, name=title, color=color),
                        0 if gdf is None else len(gdf))
             for key, (title, color, gdf) in (layers or {}).items()]
    places = _locality_group(localities, None if recolour else scores,
                             name=labels.get("localities", "Localities"), labels=labels)
    if places is not None:
        places.add_to(m)
    if recolour:
        m.add_child(RecolourHook(cell_layer, places))
        m.recolour = _recolour_index(index, localities, labels)
    m.contents = MapContents(**hexes, localities=0 if places is None else len(places._children),
                             layers=tuple(drawn))
    if highlight is not None:
        highlight.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    m.add_child(FitBoundsWhenSized([[miny, minx], [maxy, maxx]]))
    return m


def map_html(m: folium.Map) -> str:
    """Render ``m`` as a standalone HTML page (what a browser or a saved file gets)."""
    return str(m.get_root().render())


def cdn_links(html_text: str, hosts: Sequence[str] | None = None) -> list[str]:
    """Return the ``http(s)`` script/stylesheet URLs in ``html_text`` (should be none offline)."""
    urls = re.findall(r"""(?:src|href)=["'](https?://[^"']+)["']""", html_text)
    if hosts:
        urls = [u for u in urls if any(h in u for h in hosts)]
    return urls


def layer_frames(items: Iterable[tuple[str, str, str, gpd.GeoDataFrame]]
                 ) -> dict[str, tuple[str, str, gpd.GeoDataFrame]]:
    """Build the ``layers`` argument of :func:`build_region_map` from (key, title, colour, gdf)."""
    return {k: (t, c, g) for k, t, c, g in items if g is not None and len(g)}
