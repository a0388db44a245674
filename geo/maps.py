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
import shapely
import xstatic.pkg.leaflet as xstatic_leaflet
import xstatic.pkg.leaflet_markercluster as xstatic_markercluster
from folium.template import Template as FoliumTemplate
from shapely.geometry.base import BaseGeometry

from geo.catalog import has, lang_of, t
from geo.errors import DataSourceError
from geo.scoring import BANDS

__all__ = [
    "HEX_RESOLUTION",
    "HIGHLIGHT_CLASS",
    "LAND_COLOR",
    "MAP_CSS",
    "MAX_HEXAGONS",
    "MAX_POINTS",
    "NO_SCORE_COLOR",
    "OSM_TILE_URL",
    "PALETTE",
    "SEA_COLOR",
    "ClickSnap",
    "FitBoundsWhenSized",
    "FocusWhenSized",
    "HexIndex",
    "HexTooltips",
    "LayerDrawn",
    "LegendEntry",
    "MapContents",
    "MapLegend",
    "OfflineFastMarkerCluster",
    "OfflineMap",
    "OfflineMarkerCluster",
    "PlaceLabels",
    "RecolourHook",
    "RecolourIndex",
    "TileNotice",
    "add_boundaries",
    "add_cells",
    "add_localities",
    "add_point_layer",
    "asset_data_url",
    "band_legend",
    "band_of",
    "build_region_map",
    "coarsen_cells",
    "fit_zoom",
    "hexagon_cells",
    "highlight_group",
    "legend_bins",
    "locality_tip",
    "map_html",
    "marker_points",
    "marker_radius",
    "ordinal",
    "recolour_data",
    "recolour_script",
    "safe_text",
    "score_color",
    "score_colors",
]

log = logging.getLogger(__name__)

#: Viridis in 5 steps (colour-blind safe, readable in greyscale), low score to high score: one
#: colour per score band of :data:`geo.scoring.BANDS` (0-20, 20-40, ... 80-100), so a colour reads as
#: the band's words ("most errands on foot").
PALETTE: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
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


#: Sea (the map's background) and land colours without tiles; with tiles the land is a faint wash.
SEA_COLOR = "#b8d4e6"
LAND_COLOR = "#f3f0e8"
#: Outlines are simplified to this many degrees (about 20 m) and rounded to 5 decimals (1 m).
OUTLINE_TOLERANCE_DEG = 0.0002


def _light_geojson(gdf: gpd.GeoDataFrame, tolerance: float = OUTLINE_TOLERANCE_DEG) -> str:
    """``gdf``'s geometry as GeoJSON, simplified (topology kept) and rounded to 5 decimals."""
    geoms = shapely.simplify(gdf.geometry.to_numpy(), tolerance, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, 5))
    return str(gpd.GeoDataFrame(geometry=list(geoms), crs=gdf.crs).to_json())


def marker_points(localities: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Where the map draws each locality's marker (its point, or an area's representative point)."""
    return _points(localities)


def add_boundaries(m: folium.Map, boundary: gpd.GeoDataFrame,
                   municipalities: gpd.GeoDataFrame | None = None, *,
                   region_label: str = "", tiles: bool = False) -> None:
    """Draw the region as land over the sea-coloured map, and the municipality borders.

    The store's region polygon is the union of the island-keeping municipality polygons (the
    packs' boundaries keep the coastal islands), so the islands are land and the rest is sea.
    Neither layer is interactive: no tooltip over all land, and a click on land reaches the map
    (a point click). ``region_label`` is kept for callers and no longer shown. With ``tiles`` the
    land is a faint wash so the tiles show through.
    """
    del region_label  # the region's name over all land read as a tooltip on every hover
    if boundary is not None and len(boundary):
        fill = 0.15 if tiles else 1.0
        folium.GeoJson(
            _light_geojson(boundary[["geometry"]]),
            name="boundary",
            style_function=lambda _f: {"color": "#37474f", "weight": 1.5, "fillColor": LAND_COLOR,
                                       "fillOpacity": fill},
            interactive=False,
            control=False,
        ).add_to(m)
    if municipalities is not None and len(municipalities):
        folium.GeoJson(
            _light_geojson(municipalities[["geometry"]]),
            name="municipalities",
            style_function=lambda _f: {"color": "#607d8b", "weight": 1.2, "dashArray": "4 3",
                                       "fill": False},
            interactive=False,
            control=False,
        ).add_to(m)


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

    >>> score_colors([0, 25, 99.9, 100, float("nan")])
    ['#440154', '#3b528b', '#fde725', '#fde725', '#9e9e9e']
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
    )  # tooltips in words come from :class:`HexTooltips` (the score may change in the browser)
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
        The translated words of the map (``score``, ...).
    lang
        The language of the tooltips (``en`` / ``sv``).
    """

    hexagons: HexIndex | None
    codes: tuple[str, ...]
    names: tuple[object, ...]
    labels: tuple[tuple[str, str], ...] = ()
    lang: str = "en"


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
    labels
        Place names (one per named locality; the browser hides those that would collide).
    """

    cells: int = 0
    cell_resolution: int | None = None
    hexagons: int = 0
    hex_resolution: int | None = None
    localities: int = 0
    layers: tuple[LayerDrawn, ...] = ()
    point_cap: int = MAX_POINTS
    labels: int = 0

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


def ordinal(n: int, lang: str = "en") -> str:
    """A rank as the tooltip says it: ``3rd`` in English, the plain number in Swedish.

    The Swedish tooltip reads "plats 3 av 52", so it needs no ordinal suffix.

    >>> [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 52)], ordinal(3, "sv")
    (['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '52nd'], '3')
    """
    n = int(n)
    if lang_of(lang) != "en":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def band_of(score: float | None) -> str | None:
    """The :data:`geo.scoring.BANDS` key of a 0-100 score (None when missing)."""
    if score is None or pd.isna(score):
        return None
    for lower, key in BANDS:
        if float(score) >= lower:
            return key
    return BANDS[-1][1]


def locality_tip(name: object, score: object, rank: object, total: int | None,
                 lang: str = "en") -> str:
    """A locality marker's tooltip in words, no internal code (HTML; the name escaped).

    >>> locality_tip("Karlskrona", 71.2, 3, 52)
    '<b>Karlskrona</b>: 71, many errands on foot or by bike, 3rd of 52'
    >>> locality_tip("Ysane", None, None, 52, "sv")
    '<b>Ysane</b>: ingen poäng'
    """
    label = f"<b>{safe_text(name)}</b>"
    if score is None or pd.isna(score):
        return t("map_tip_no_score", lang, name=label)
    value = float(score)  # type: ignore[arg-type]
    band = safe_text(t(f"band.{band_of(value)}", lang))
    if rank is None or pd.isna(rank) or not total:
        return t("map_tip_score", lang, name=label, score=f"{value:.0f}", band=band)
    return t("map_tip_ranked", lang, name=label, score=f"{value:.0f}", band=band,
             rank=ordinal(int(rank), lang), total=int(total))  # type: ignore[call-overload]


def add_localities(m: folium.Map, localities: gpd.GeoDataFrame, scores: pd.DataFrame | None = None,
                   *, name: str = "Localities", lang: str = "en") -> int:
    """Draw locality markers sized by population and coloured by score.

    ``scores`` (optional) has ``code``, ``composite``, ``rank``; the tooltip says the name, score,
    band and rank in words (:func:`locality_tip`, no internal code); each marker carries its code
    as the Leaflet option ``code`` (what :class:`RecolourHook` finds it by; a click is mapped back
    to the place by the marker's position, see :class:`ClickSnap`). Returns the number of markers.
    """
    group = _locality_group(localities, scores, name=name, lang=lang)
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
                    lang: str = "en") -> folium.FeatureGroup | None:
    if localities is None or not len(localities):
        return None
    locs = _sorted_localities(localities, scores)
    group = folium.FeatureGroup(name=safe_text(name))
    geoms = _points(locs)
    total = int(locs["composite"].notna().sum())
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
            tooltip=folium.Tooltip(locality_tip(row.get("name"), row["composite"], row["rank"],
                                                total, lang)),
        )
        marker.options["code"] = str(row["code"])  # folium's path_options drops unknown options
        marker.add_to(group)
    return group


class OfflineFastMarkerCluster(folium.plugins.FastMarkerCluster):
    """:class:`folium.plugins.FastMarkerCluster` (markers made in the browser) with inlined assets.

    The markers are made when the cluster first joins a map, not when the page loads: a theme
    layer that starts switched off (all of them, see :func:`_point_group`) costs the first paint
    nothing but its JSON (about 1,450 markers of the Blekinge pack, built only when the layer
    control switches the layer on). ``L.markerClusterGroup.addLayers`` adds them in one batch.
    """

    _template = FoliumTemplate("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = (function(){
                {{ this.callback }}

                var data = {{ this.data|tojson }};
                var cluster = L.markerClusterGroup({{ this.options|tojavascript }});
                {%- if this.icon_create_function is not none %}
                cluster.options.iconCreateFunction =
                    {{ this.icon_create_function.strip() }};
                {%- endif %}
                var filled = false;
                cluster.on('add', function () {
                    if (filled) { return; }
                    filled = true;
                    var markers = new Array(data.length);
                    for (var i = 0; i < data.length; i++) { markers[i] = callback(data[i]); }
                    cluster.addLayers(markers);
                });
                cluster.addTo({{ this._parent.get_name() }});
                return cluster;
            })();
        {% endmacro %}""")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[no-untyped-call]  # folium/branca untyped
        _use_inlined_cluster_assets(self)


# folium writes "var callback = " before this expression: a marker from one row
# ``[lat, lon, name, kind index]``, its tooltip "name (kind words)" put together here, so the kind's
# words and markup travel once per layer instead of once per point (about 90 kB less for the
# Blekinge pack's ~1,450 points). Names and kind words arrive escaped (safe_text) from the server.
_POINT_CALLBACK = """(function (colour, kinds) {
    return function (row) {
        var m = L.circleMarker(new L.LatLng(row[0], row[1]),
            {radius: 5, color: '#212121', weight: 1, fillColor: colour, fillOpacity: 0.9});
        var kind = row[3] == null ? '' : kinds[row[3]];
        m.bindTooltip(kind ? row[2] + " <span style='color:#777'>(" + kind + ")</span>" : row[2]);
        return m;
    };
})(%s, %s)"""


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
    """Add a toggleable, clustered layer of features (see :func:`_point_group`); the count drawn."""
    return _point_group(m, gdf, name=name, color=color, show=show, max_points=max_points)[1]


def _point_group(m: folium.Map, gdf: gpd.GeoDataFrame, *, name: str, color: str,
                 show: bool = False, max_points: int = MAX_POINTS, lang: str = "en"
                 ) -> tuple[folium.FeatureGroup | None, int]:
    """Add a toggleable, clustered layer of features (polygons shown at a representative point).

    Markers are created in the browser from one JSON array (fast to render, small to send);
    tooltip texts are escaped with :func:`safe_text` and travel as JSON strings. At most
    ``max_points`` features are drawn (the first ones): :func:`build_region_map` records the cap in
    the map's :class:`MapContents` so the page can say so. The kind of a feature is said in words
    (``kind.<kind>`` of the catalogue in ``lang``). Returns the layer (None when empty) and the
    number drawn.
    """
    if gdf is None or not len(gdf):
        return None, 0
    if len(gdf) > max_points:
        log.info("layer %s: %d features, drawing the first %d", name, len(gdf), max_points)
        gdf = gdf.iloc[:max_points]
    names = gdf["name"] if "name" in gdf else pd.Series([None] * len(gdf), index=gdf.index)
    kinds = gdf["kind"] if "kind" in gdf else pd.Series([""] * len(gdf), index=gdf.index)
    rows: list[list[object]] = []
    words: dict[str, int] = {}  # kind words -> index into the callback's list
    for pt, nm, kind in zip(_points(gdf), names, kinds, strict=True):
        if pt is None or pt.is_empty:
            continue
        label = safe_text(nm) or "—"
        kind_txt = safe_text(_kind_words(kind, lang)) if kind and not pd.isna(kind) else ""
        idx = words.setdefault(kind_txt, len(words)) if kind_txt else None
        rows.append([round(pt.y, 5), round(pt.x, 5), label, idx])
    group = folium.FeatureGroup(name=safe_text(name), show=show)
    callback = _POINT_CALLBACK % (json.dumps(str(color)),
                                  json.dumps(list(words)).replace("<", "\\u003c"))
    OfflineFastMarkerCluster(
        rows, callback=callback, control=False,
        icon_create_function=_CLUSTER_ICON % json.dumps(str(color)),
        options={"showCoverageOnHover": False, "maxClusterRadius": 40},
    ).add_to(group)
    group.add_to(m)
    return group, len(rows)


def _kind_words(kind: object, lang: str) -> str:
    """``bus_stop`` -> "bus stop" / "busshållplats" (the catalogue's ``kind.`` words)."""
    key = f"kind.{kind}"
    return t(key, lang) if has(key) else str(kind).replace("_", " ")


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


class KeyboardStops(folium.MacroElement):
    """Only the locality markers are Tab stops inside the map (WCAG 2.4.3 focus order).

    Chromium makes every SVG shape with a focus listener focusable, and Leaflet 1.9 adds one to
    each shape with a tooltip, so a keyboard user had to Tab through every boundary and hexagon to
    leave the map. Shapes without a locality ``code`` get ``tabindex="-1"`` as they are added
    (still focusable by script, no longer a Tab stop); the markers keep their tooltip on focus.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            function skip(e) {
                var l = e.layer, el = l && typeof l.getElement === 'function' && l.getElement();
                if (el && el.tagName && el.tagName.toLowerCase() === 'path'
                        && !(l.options && l.options.code != null)) {
                    el.setAttribute('tabindex', '-1');
                }
            }
            map.on('layeradd', skip);
            map.eachLayer(function (l) { skip({layer: l}); });
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "KeyboardStops"


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
    nan = float("nan")
    values = [comp.get(c, nan) for c in index.codes]
    total = int(np.sum(~np.isnan(np.asarray(values, dtype=float))))
    colours = score_colors(values)
    out["localities"] = {
        code: [col, f"<div>{locality_tip(name, comp.get(code), rank.get(code), total, index.lang)}"
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


class MetricScale(folium.MacroElement):
    """A scale bar in kilometres only (folium's ``control_scale`` adds miles as well)."""

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "MetricScale"


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


def band_legend(lang: str = "en") -> list[tuple[str, int, int, str]]:
    """``(colour, low, high, band words)`` of each score band, best first (the legends' rows).

    >>> band_legend()[0]
    ('#fde725', 80, 100, 'most errands on foot')
    """
    out = []
    high = 100
    for lower, key in BANDS:
        out.append((score_color(lower), int(lower), int(high), t(f"band.{key}", lang)))
        high = int(lower)
    return out


def _js_json(value: object) -> str:
    """JSON for a ``<script>``: ``<``, ``>`` and ``&`` as ``\\u`` escapes (inert in HTML)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for c, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                   ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(c, esc)
    return text


class HexTooltips(folium.MacroElement):
    """Hexagon tooltips in words, from each hexagon's current score (``properties.v``).

    "This area: 45, some errands on foot, others by bike or bus": the text is made when the
    tooltip opens, so it follows a re-colouring (:class:`RecolourHook`) without new strings.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (cells) {
            var bands = {{ this.bands }}, tpl = {{ this.template }};
            cells.bindTooltip(function (l) {
                var v = l.feature && l.feature.properties.v, i, words = '';
                if (v === null || v === undefined) { return {{ this.none }}; }
                for (i = 0; i < bands.length; i++) { if (v >= bands[i][0]) { words = bands[i][1]; break; } }
                return tpl.replace('@score@', String(v)).replace('@band@', words);
            }, {sticky: true});
        })({{ this.cells.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, cells: folium.GeoJson, lang: str = "en") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "HexTooltips"
        self.cells = cells
        self.bands = _js_json([[lower, safe_text(t(f"band.{key}", lang))] for lower, key in BANDS])
        self.template = _js_json(safe_text(t("map_tip_area", lang, score="@score@", band="@band@")))
        self.none = _js_json(safe_text(t("map_tip_area_none", lang)))


def _label_tier(population: float | None) -> int:
    """Label size class 0 (largest) .. 3 by population."""
    if population is None or pd.isna(population):
        return 3
    p = float(population)
    return 0 if p >= 20000 else 1 if p >= 5000 else 2 if p >= 1000 else 3


class PlaceLabels(folium.MacroElement):
    """Permanent place names from our own data (works without tiles), sized by population.

    Each label sits right of its locality's marker (left of it where the map's right edge would
    cut the name) in a pane that takes no pointer events, so clicks reach the markers. On every
    zoom / move / resize the labels are laid out greedily in population order: a label that would
    overlap a larger place's label is hidden, so the map is free of collisions at each zoom.
    ``window.__livabilityLabels()`` returns the shown ones' names (for tests).
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            var data = {{ this.data }};
            var pane = map.getPane('placeLabels') || map.createPane('placeLabels');
            pane.style.zIndex = 450; pane.style.pointerEvents = 'none';
            var marks = data.map(function (d) {
                var icon = L.divIcon({className: 'place-name place-name-' + d[3],
                    html: '<span>' + d[2] + '</span>', iconSize: null,
                    iconAnchor: [-(d[4] + 3), 0]});
                return L.marker([d[0], d[1]], {icon: icon, interactive: false, keyboard: false,
                    pane: 'placeLabels'}).addTo(map);
            });
            function overlaps(a, b) {
                return a.left < b.right + 2 && b.left < a.right + 2 &&
                       a.top < b.bottom + 1 && b.top < a.bottom + 1;
            }
            function layout() {
                var els = marks.map(function (m) { return m.getElement(); }), boxes, kept = [];
                var edge = map.getContainer().getBoundingClientRect();
                els.forEach(function (e) {
                    if (e) { e.style.visibility = 'visible'; e.firstChild.style.transform = ''; }
                });
                boxes = els.map(function (e, i) {
                    if (!e) { return null; }
                    var b = e.firstChild.getBoundingClientRect();
                    if (b.right > edge.right - 2 && b.left - b.width > edge.left) {
                        // cut by the map's right edge: the name goes left of its marker
                        var dx = b.width + 2 * (data[i][4] + 3);
                        e.firstChild.style.transform = 'translate(' + (-dx) + 'px, -50%)';
                        b = e.firstChild.getBoundingClientRect();
                    }
                    return b;
                });
                els.forEach(function (e, i) {
                    if (!e) { return; }
                    var b = boxes[i], hit = kept.some(function (k) { return overlaps(b, k); });
                    e.style.visibility = hit ? 'hidden' : 'visible';
                    e.classList.toggle('place-name-hidden', hit);
                    if (!hit) { kept.push(b); }
                });
            }
            map.on('zoomend moveend resize', layout);
            setTimeout(layout, 0); setTimeout(layout, 600);
            window.__livabilityLabels = function () {
                layout();
                return marks.filter(function (m) {
                    var e = m.getElement(); return e && e.style.visibility !== 'hidden';
                }).map(function (m) { return m.getElement().textContent; });
            };
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, localities: gpd.GeoDataFrame) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "PlaceLabels"
        locs = _sorted_localities(localities, None)
        rows = []
        for (_, row), pt in zip(locs.iterrows(), _points(locs), strict=True):
            if pt is None or pt.is_empty or not safe_text(row.get("name")):
                continue
            pop = row["population"]
            rows.append([round(float(pt.y), 6), round(float(pt.x), 6), safe_text(row.get("name")),
                         _label_tier(pop), round(marker_radius(pop), 1)])
        self.rows = rows
        self.data = _js_json(rows)


class ClickSnap(folium.MacroElement):
    """Make a click on a locality marker report the marker's own position, and every click unique.

    streamlit-folium returns ``last_object_clicked`` / ``last_clicked`` as the clicked ``latlng``.
    Registered before its handlers, this sets a locality marker click's ``latlng`` to the marker's
    position (so the app finds the place by position, :func:`app.view_map.map_click`) and stamps
    every click with a counter ``n``, so a second click on the same spot is a new value too.

    It also focuses the map without scrolling on a press: Leaflet's keyboard handler focuses the
    map on ``mousedown``, and a plain ``focus()`` inside the component's iframe scrolls the app's
    page until the whole map is in view. The page then moves between the press and the release,
    so the release lands elsewhere and a click on a marker became a click on the map beside it.
    Focusing first with ``preventScroll`` (capture phase) leaves the page where it is, and
    Leaflet, already focused, does not focus again.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (map, places) {
            var box = map.getContainer();
            box.addEventListener('mousedown', function () {
                if (document.activeElement !== box) { box.focus({preventScroll: true}); }
            }, true);
            var n = 0;
            if (places) {
                places.eachLayer(function (l) {
                    l.on('click', function (e) {
                        var p = l.getLatLng();
                        e.latlng.lat = p.lat; e.latlng.lng = p.lng; e.latlng.n = ++n;
                    });
                });
            }
            map.on('click', function (e) { if (e.latlng.n == null) { e.latlng.n = ++n; } });
        })({{ this._parent.get_name() }}, {{ this.places.get_name() if this.places else 'null' }});
        {% endmacro %}
    """)

    def __init__(self, places: folium.FeatureGroup | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "ClickSnap"
        self.places = places


@dataclass(frozen=True)
class LegendEntry:
    """One layer's row in the in-map legend: the layer, its title and how it is drawn."""

    layer: Any
    title: str
    kind: str  # "hexagons", "localities" or "points"
    color: str = ""
    scored: bool = False


class MapLegend(folium.MacroElement):
    """A legend inside the map (Leaflet control) with a row per visible layer.

    It follows the layer control (``overlayadd`` / ``overlayremove``): a layer's row shows while
    the layer is on the map; the score scale (the five bands on the absolute 0-100 scale, grey =
    no score) shows while a scored layer (hexagons, localities) is. Collapsed behind a button on
    narrow maps (phones). Clicks on it do not reach the map.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (map) {
            var layers = [{{ this.layer_names }}];
            var rows = {{ this.rows }}, bands = {{ this.bands }}, words = {{ this.words }};
            var ctl = L.control({position: 'bottomright'});
            ctl.onAdd = function () {
                var div = L.DomUtil.create('div', 'map-legend leaflet-control');
                div.setAttribute('role', 'region'); div.setAttribute('aria-label', words.title);
                var btn = L.DomUtil.create('button', 'map-legend-toggle', div);
                btn.type = 'button'; btn.textContent = words.title;
                var body = L.DomUtil.create('div', 'map-legend-body', div);
                rows.forEach(function (r, i) {
                    var row = L.DomUtil.create('div', 'map-legend-entry', body);
                    row.setAttribute('data-layer', r.title);
                    var sw = L.DomUtil.create('span', 'map-legend-swatch map-legend-' + r.kind, row);
                    if (r.color) { sw.style.background = r.color; }
                    var txt = L.DomUtil.create('span', 'map-legend-text', row);
                    txt.innerHTML = r.title + (r.note ? ' <small>' + r.note + '</small>' : '');
                    r.el = row;
                });
                var scale = L.DomUtil.create('div', 'map-legend-scale', body);
                L.DomUtil.create('div', 'map-legend-head', scale).innerHTML = words.scale;
                var bar = L.DomUtil.create('div', 'map-legend-bar', scale);
                bands.slice().reverse().forEach(function (b) {
                    var sw = L.DomUtil.create('span', 'map-legend-step', bar);
                    sw.style.background = b[0]; sw.title = b[1] + '\u2013' + b[2] + ': ' + b[3];
                });
                var none = L.DomUtil.create('span', 'map-legend-step map-legend-none', bar);
                none.style.background = words.none_color; none.title = words.none;
                var ticks = L.DomUtil.create('div', 'map-legend-ticks', scale);
                ticks.innerHTML = '<span>0</span><span>20</span><span>40</span><span>60</span>' +
                    '<span>80</span><span>100</span>';
                var detail = L.DomUtil.create('div', 'map-legend-bands', scale);
                bands.concat([[words.none_color, null, null, words.none]]).forEach(function (b) {
                    var row = L.DomUtil.create('div', 'map-legend-band', detail);
                    L.DomUtil.create('span', 'map-legend-swatch', row).style.background = b[0];
                    L.DomUtil.create('span', 'map-legend-text', row).innerHTML =
                        (b[1] === null ? '' : '<b>' + b[1] + '\u2013' + b[2] + '</b> ') + b[3];
                });
                var open = map.getSize().x >= 1100;
                function show() {
                    detail.style.display = open ? '' : 'none';
                    btn.setAttribute('aria-expanded', open ? 'true' : 'false');
                    btn.textContent = words.title + (open ? ' \u25be' : ' \u25b8');
                }
                btn.onclick = function () { open = !open; show(); };
                show();
                L.DomEvent.disableClickPropagation(div); L.DomEvent.disableScrollPropagation(div);
                ctl._scale = scale;
                return div;
            };
            ctl.addTo(map);
            function update() {
                var scored = false;
                rows.forEach(function (r, i) {
                    var on = map.hasLayer(layers[i]);
                    r.el.style.display = on ? '' : 'none';
                    r.el.setAttribute('data-visible', on ? '1' : '0');
                    if (on && r.scored) { scored = true; }
                });
                ctl._scale.style.display = scored ? '' : 'none';
            }
            map.on('overlayadd overlayremove layeradd layerremove', function (e) {
                if (!e.layer || layers.indexOf(e.layer) >= 0) { update(); }
            });
            update();
        })({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, entries: Sequence[LegendEntry], lang: str = "en") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "MapLegend"
        self.entries = list(entries)
        self.layer_names = ""  # the layers' JS names, known once the map is rendered

        notes = {"localities": safe_text(t("map_legend_size", lang))}
        self.rows = _js_json([{"title": safe_text(e.title), "kind": e.kind, "color": e.color,
                               "scored": e.scored, "note": notes.get(e.kind, "")}
                              for e in self.entries])
        self.bands = _js_json([[c, lo, hi, safe_text(w)] for c, lo, hi, w in band_legend(lang)])
        self.words = _js_json({"title": safe_text(t("legend", lang)),
                               "scale": safe_text(t("map_legend_scale", lang)),
                               "none": safe_text(t("map_legend_no_score", lang)),
                               "none_color": NO_SCORE_COLOR})

    def render(self, **kwargs: Any) -> Any:
        """Name the layers (their JS variables) just before the script is rendered."""
        self.layer_names = ", ".join(e.layer.get_name() for e in self.entries)
        return super().render(**kwargs)  # type: ignore[no-untyped-call]  # branca untyped


class TileNotice(folium.MacroElement):
    """Say once, inside the map, that the background tiles did not load (offline), in words.

    Listens to the tile layer's ``tileerror``; the first one adds a small notice (``role=status``)
    at the top of the map; later errors add nothing. Clicks on it do not reach the map.
    """

    _template = jinja2.Template("""
        {% macro script(this, kwargs) %}
        (function (map, tiles) {
            var shown = false;
            tiles.on('tileerror', function () {
                if (shown) { return; }
                shown = true;
                var c = L.control({position: 'topleft'});
                c.onAdd = function () {
                    var d = L.DomUtil.create('div', 'map-notice leaflet-control');
                    d.setAttribute('role', 'status');
                    d.textContent = {{ this.message }};
                    L.DomEvent.disableClickPropagation(d);
                    return d;
                };
                c.addTo(map);
                window.__livabilityTileNotice = (window.__livabilityTileNotice || 0) + 1;
            });
        })({{ this._parent.get_name() }}, {{ this.tiles.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, tiles: folium.TileLayer, lang: str = "en") -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # folium/branca untyped
        self._name = "TileNotice"
        self.tiles = tiles
        self.message = _js_json(t("map_tiles_failed", lang))


#: The map's own CSS: sea background, readable place names (halo), the legend and the notice.
MAP_CSS = (
    "<style>body .leaflet-container{background:" + SEA_COLOR + ";}"
    ".leaflet-tooltip.place-label{font-weight:600;border:2px solid #d81b60;}"
    ".leaflet-tooltip{white-space:normal;width:max-content;max-width:240px;}"
    ".place-name{pointer-events:none;white-space:nowrap;}"
    ".place-name span{display:inline-block;transform:translateY(-50%);color:#111;"
    "font:600 11px/1.15 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;"
    "text-shadow:-1px -1px 0 #fff,1px -1px 0 #fff,-1px 1px 0 #fff,1px 1px 0 #fff,0 0 3px #fff;}"
    ".place-name-0 span{font-size:15px;font-weight:700;}"
    ".place-name-1 span{font-size:13px;font-weight:700;}"
    ".place-name-2 span{font-size:12px;}"
    ".place-name-3 span{font-size:11px;font-weight:500;}"
    ".map-legend{background:rgba(255,255,255,.95);color:#1a1a1a;border-radius:6px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.35);padding:4px 8px;font:12px/1.3 system-ui,sans-serif;"
    "max-width:240px;font-size:11.5px;}"
    ".map-legend-bar{display:flex;gap:0;margin-top:2px;}"
    ".map-legend-step{display:inline-block;width:28px;height:10px;}"
    ".map-legend-none{margin-left:8px;width:10px;}"
    ".map-legend-ticks{display:flex;justify-content:space-between;width:148px;font-size:10px;"
    "margin-left:-3px;color:#333;}"
    ".map-legend-bands{margin-top:2px;}"
    ".map-legend-toggle{border:0;background:none;font:600 12px system-ui,sans-serif;"
    "color:#1a1a1a;padding:2px 0;cursor:pointer;}"
    ".map-legend-entry,.map-legend-band{display:flex;align-items:center;gap:6px;margin:2px 0;}"
    ".map-legend-swatch{flex:none;display:inline-block;width:14px;height:12px;"
    "border:1px solid #263238;}"
    ".map-legend-localities{border-radius:50%;width:12px;background:#5ec962;}"
    ".map-legend-points{border-radius:50%;width:10px;height:10px;}"
    ".map-legend-hexagons{clip-path:polygon(25% 0,75% 0,100% 50%,75% 100%,25% 100%,0 50%);"
    "background:#21918c;border:0;}"
    ".map-legend-head{font-weight:600;margin-top:4px;}"
    ".map-legend small{color:#444;}"
    ".map-notice{background:#fff3cd;color:#1a1a1a;border:1px solid #b38600;border-radius:4px;"
    "padding:4px 8px;font:12px system-ui,sans-serif;max-width:260px;}</style>"
)


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
                    labels: Mapping[str, str], lang: str = "en") -> RecolourIndex:
    codes: tuple[str, ...] = ()
    names: tuple[object, ...] = ()
    if localities is not None and len(localities):
        locs = _sorted_localities(localities, None)
        codes = tuple(str(c) for c in locs["code"])
        names = tuple(locs["name"]) if "name" in locs else (None,) * len(codes)
    return RecolourIndex(index, codes, names,
                         tuple(sorted((str(k), str(v)) for k, v in labels.items())), lang_of(lang))


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
    lang: str = "en",
    tile_url: str = OSM_TILE_URL,
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
        Add OpenStreetMap tiles (needs internet) with their attribution, and a one-time notice in
        the map when they fail to load (:class:`TileNotice`); otherwise no base tiles, the
        region's outline drawn as land on a sea-coloured background.
    labels
        Translated UI words: ``score``, ``localities``, ``hexagons``.
    region_label
        Kept for callers; the region's name is no longer a tooltip over all land.
    highlight
        A :func:`highlight_group` drawn above the markers (the app hands it to st_folium
        separately instead, so that its cached base map is reused).
    recolour
        Build a map whose colours a weighting sets afterwards, in the browser (:class:`RecolourHook`,
        :func:`recolour_data`): ``cells`` only needs ``h3`` (and ``weight``), every hexagon of the
        grid is drawn (grey until coloured), ``scores`` are ignored and markers start grey. The
        map is then the same for every weighting. Its ``recolour`` attribute holds the index.
    lang
        Language of the tooltips, the place names' legend and the notices (``en`` / ``sv``).
    tile_url
        The tile URL template (tests point it at a closed local port).

    Returns
    -------
    OfflineMap
        Fitted to the region, with place names (:class:`PlaceLabels`) and a legend of the visible
        layers (:class:`MapLegend`); its ``contents`` (:class:`MapContents`) says what it drew.
    """
    labels = labels or {}
    lang = lang_of(lang)
    bounds = boundary.total_bounds if boundary is not None and len(boundary) else localities.total_bounds
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    m = OfflineMap(location=((miny + maxy) / 2, (minx + maxx) / 2),
                   zoom_start=fit_zoom((minx, miny, maxx, maxy)), tiles=None,
                   prefer_canvas=False, zoom_snap=0.25, zoom_delta=0.5)
    m.add_child(MetricScale())
    if tiles:
        tile_layer = folium.TileLayer(tile_url, attr=OSM_ATTRIBUTION, name="OpenStreetMap",
                                      max_zoom=19, control=False)
        tile_layer.add_to(m)
        m.add_child(TileNotice(tile_layer, lang))
    m.get_root().header.add_child(folium.Element(MAP_CSS))  # type: ignore[attr-defined]
    add_boundaries(m, boundary, municipalities, tiles=tiles)
    hex_title = labels.get("hexagons", "Hexagons")
    index, cell_layer, hexes = _draw_hexagons(m, cells, recolour=recolour, name=hex_title,
                                              label=labels.get("score", ""))
    legend: list[LegendEntry] = []
    if cell_layer is not None:
        m.add_child(HexTooltips(cell_layer, lang))
        legend.append(LegendEntry(cell_layer, hex_title, "hexagons", scored=True))
    drawn = []
    for key, (title, color, gdf) in (layers or {}).items():
        group = _point_group(m, gdf, name=title, color=color, lang=lang)
        drawn.append(LayerDrawn(key, title, group[1], 0 if gdf is None else len(gdf)))
        if group[0] is not None:
            legend.append(LegendEntry(group[0], title, "points", color=str(color)))
    loc_title = labels.get("localities", "Localities")
    places = _locality_group(localities, None if recolour else scores, name=loc_title, lang=lang)
    if places is not None:
        places.add_to(m)
        legend.insert(1 if cell_layer is not None else 0,
                      LegendEntry(places, loc_title, "localities", scored=True))
    names = PlaceLabels(localities) if localities is not None and len(localities) else None
    if names is not None:
        m.add_child(names)
    m.add_child(ClickSnap(places))
    if recolour:
        m.add_child(RecolourHook(cell_layer, places))
        m.recolour = _recolour_index(index, localities, labels, lang)
    m.contents = MapContents(**hexes, localities=0 if places is None else len(places._children),
                             layers=tuple(drawn), labels=0 if names is None else len(names.rows))
    if highlight is not None:
        highlight.add_to(m)
    m.add_child(KeyboardStops())
    folium.LayerControl(collapsed=True).add_to(m)
    if legend:
        m.add_child(MapLegend(legend, lang))
    m.add_child(FitBoundsWhenSized([[miny, minx], [maxy, maxx]]))
    return m


def map_html(m: folium.Map, *, title: str | None = None, lang: str | None = None) -> str:
    """Render ``m`` as a standalone HTML page (what a browser or a saved file gets).

    ``title`` (escaped) and ``lang`` name the page for screen readers (WCAG 2.4.2, 3.1.1) when
    it is shown in a frame of its own.
    """
    page = str(m.get_root().render())
    if lang is not None and re.fullmatch(r"[a-z]{2}(-[A-Z]{2})?", lang):
        page = page.replace("<html>", f'<html lang="{lang}">', 1)
    if title:
        page = page.replace("<head>", f"<head>\n    <title>{safe_text(title)}</title>", 1)
    return page


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
