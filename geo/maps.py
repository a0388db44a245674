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
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import h3
import jinja2
import pandas as pd
import xstatic.pkg.leaflet as xstatic_leaflet
import xstatic.pkg.leaflet_markercluster as xstatic_markercluster
from shapely.geometry.base import BaseGeometry

from geo.errors import DataSourceError

__all__ = [
    "HIGHLIGHT_CLASS",
    "NO_SCORE_COLOR",
    "OSM_TILE_URL",
    "PALETTE",
    "FitBoundsWhenSized",
    "FocusWhenSized",
    "OfflineFastMarkerCluster",
    "OfflineMap",
    "OfflineMarkerCluster",
    "add_boundaries",
    "add_cells",
    "add_localities",
    "add_point_layer",
    "asset_data_url",
    "build_region_map",
    "coarsen_cells",
    "fit_zoom",
    "highlight_group",
    "legend_bins",
    "map_html",
    "marker_radius",
    "safe_text",
    "score_color",
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
    """A :class:`folium.Map` whose Leaflet comes inlined from xstatic-leaflet (no CDN, no jQuery)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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


def add_cells(m: folium.Map, cells: pd.DataFrame, *, name: str = "Hexagons",
              resolution: int | None = 7, max_cells: int = 6000, column: str = "composite",
              label: str = "") -> int:
    """Draw H3 hexagons (column ``h3``) coloured by ``column``.

    Cells finer than ``resolution`` are aggregated to it (res-9 cells are a few pixels wide at county
    zoom); above ``max_cells`` they are coarsened further. Returns the number of hexagons drawn.
    """
    if cells is None or not len(cells) or "h3" not in cells or column not in cells:
        return 0
    df = cells.dropna(subset=[column])
    if resolution is not None:
        df = coarsen_cells(df, resolution, column)
    df = df[["h3", column]]
    while len(df) > max_cells:
        res = h3.get_resolution(df["h3"].iloc[0])
        if res <= 5:
            break
        df = coarsen_cells(df, res - 1, column)
    if df.empty:  # no cell has a score (every indicator lacks data)
        return 0
    features = []
    for cell, value in zip(df["h3"], df[column], strict=True):
        ring = [[round(lng, 5), round(lat, 5)] for lat, lng in h3.cell_to_boundary(cell)]
        ring.append(ring[0])
        features.append({"type": "Feature",
                         "properties": {"c": score_color(value), "v": round(float(value))},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {"fillColor": f["properties"]["c"], "color": f["properties"]["c"],
                                  "weight": 0.3, "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(fields=["v"], aliases=[safe_text(label or name)]),
    ).add_to(m)
    log.info("%d hexagons drawn", len(features))
    return len(features)


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
    locality's code in brackets so a click can be mapped back to the place.
    Returns the number of markers.
    """
    labels = labels or {}
    if localities is None or not len(localities):
        return 0
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
    # large places first so small markers stay clickable on top
    locs = locs.sort_values("population", ascending=False, na_position="last")
    group = folium.FeatureGroup(name=safe_text(name))
    geoms = _points(locs)
    for (_, row), pt in zip(locs.iterrows(), geoms, strict=True):
        color = score_color(row["composite"])
        folium.CircleMarker(
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
        ).add_to(group)
    group.add_to(m)
    return len(locs)


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
                    show: bool = False, max_points: int = 5000) -> int:
    """Add a toggleable, clustered layer of features (polygons shown at a representative point).

    Markers are created in the browser from one JSON array (fast to render, small to send);
    tooltip texts are escaped with :func:`safe_text` and travel as JSON strings.
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
) -> folium.Map:
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

    Returns
    -------
    folium.Map
        An :class:`OfflineMap` fitted to the region.
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
    if cells is not None:
        add_cells(m, cells, name=labels.get("hexagons", "Hexagons"), label=labels.get("score", ""))
    for _key, (title, color, gdf) in (layers or {}).items():
        add_point_layer(m, gdf, name=title, color=color)
    add_localities(m, localities, scores, name=labels.get("localities", "Localities"), labels=labels)
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
