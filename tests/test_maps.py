"""geo.maps: offline assets, escaping, colours, sizes, hexagons, the county payload."""

from __future__ import annotations

import re

import folium
import geopandas as gpd
import h3
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo import maps
from geo.catalog import layer_title

HOSTILE = "<img src=x onerror=alert(1)>"


def _synthetic() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """SYNTHETIC boundary and localities."""
    boundary = gpd.GeoDataFrame(geometry=[box(15.0, 56.0, 15.5, 56.3)], crs="EPSG:4326")
    locs = gpd.GeoDataFrame(
        {"code": ["A1", "B2", "C3"], "name": ["Alpha", HOSTILE, "Gamma `${x}`"],
         "population": [10000, 500, None]},
        geometry=[Point(15.1, 56.1), Point(15.2, 56.2), Point(15.3, 56.25)], crs="EPSG:4326")
    return boundary, locs


def test_assets_are_inlined_not_cdn() -> None:
    b, locs = _synthetic()
    layer = gpd.GeoDataFrame({"name": ["X"], "kind": ["school"]}, geometry=[Point(15.1, 56.1)],
                             crs="EPSG:4326")
    m = maps.build_region_map(b, locs, layers={"schools": ("Schools", "#d95f02", layer)})
    html = maps.map_html(m)
    assert maps.cdn_links(html) == []
    assert "jquery" not in html.lower() and "bootstrap" not in html.lower()
    assert html.count("data:text/javascript;base64,") == 2  # leaflet + markercluster
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html
    assert "L.markerClusterGroup" in html
    assert re.search(r"var callback = \s*\(function \(colour, kinds\)", html)  # a valid expression


def test_leaflet_css_images_inlined() -> None:
    import base64

    css = base64.b64decode(maps.asset_data_url("leaflet.css").split(",", 1)[1]).decode()
    assert "url(images/" not in css and "data:image/png;base64," in css
    with pytest.raises(KeyError, match="Known assets"):
        maps.asset_data_url("nope.js")


def test_hostile_names_escaped_in_tooltips() -> None:
    b, locs = _synthetic()
    layer = gpd.GeoDataFrame({"name": [HOSTILE], "kind": ["<b>kind</b>"]},
                             geometry=[Point(15.1, 56.1)], crs="EPSG:4326")
    m = maps.build_region_map(b, locs, layers={"x": ("Layer <i>", "#000", layer)})
    html = maps.map_html(m)
    assert HOSTILE not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>kind</b>" not in html and "Layer <i>" not in html
    assert "${x}" not in html and "&#36;&#123;x&#125;" in html


@pytest.mark.parametrize(("text", "expected"), [
    (HOSTILE, "&lt;img src=x onerror=alert(1)&gt;"),
    ("a`b", "a&#96;b"),
    ("\\", "&#92;"),
    (None, ""),
    (float("nan"), ""),
    ("Sölvesborg & Co", "Sölvesborg &amp; Co"),
])
def test_safe_text(text: object, expected: str) -> None:
    assert maps.safe_text(text) == expected


def test_score_colors_and_legend() -> None:
    assert maps.score_color(0) == maps.PALETTE[0]
    assert maps.score_color(100) == maps.PALETTE[-1]
    # one colour per score band (geo.scoring.BANDS): 40-60 is the middle one
    assert maps.score_color(49.9) == maps.PALETTE[2]
    assert maps.score_color(79.99) == maps.PALETTE[3] and maps.score_color(80) == maps.PALETTE[4]
    assert maps.score_color(float("nan")) == maps.NO_SCORE_COLOR
    assert maps.score_color(None) == maps.NO_SCORE_COLOR
    bins = maps.legend_bins()
    assert len(bins) == 5 and bins[0][1] == 0 and bins[-1][2] == 100
    assert [lo for _c, lo, _hi in bins] == [0, 20, 40, 60, 80]


def test_marker_radius_grows_with_population() -> None:
    r = [maps.marker_radius(p) for p in (None, 0, 200, 2000, 20000, 10**7)]
    assert r[0] == r[1] == 4.0
    assert r[2] < r[3] < r[4] <= r[5] == 22.0


def test_localities_coloured_by_score_with_words_in_tooltip() -> None:
    _b, locs = _synthetic()
    scores = pd.DataFrame({"code": ["A1", "B2", "C3"], "composite": [90.0, 10.0, None],
                           "rank": [1, 2, None]})
    m = folium.Map(tiles=None)
    assert maps.add_localities(m, locs, scores) == 3
    html = maps.map_html(m)
    assert html.count("locality-marker") == 3
    assert maps.PALETTE[4] in html and maps.PALETTE[0] in html and maps.NO_SCORE_COLOR in html
    assert "<b>Alpha</b>: 90, most errands on foot, 1st of 2" in html
    assert "[A1]" not in html and " · #1" not in html  # no internal code, no "#rank"


def test_coarsen_cells_weighted_mean() -> None:
    parent = h3.latlng_to_cell(56.1, 15.1, 7)
    kids = list(h3.cell_to_children(parent, 9))[:2]
    cells = pd.DataFrame({"h3": kids, "composite": [10.0, 40.0], "weight": [3.0, 1.0]})
    out = maps.coarsen_cells(cells, 7)
    assert out["h3"].tolist() == [parent]
    assert out["composite"].iloc[0] == pytest.approx(17.5)
    m = folium.Map(tiles=None)
    assert maps.add_cells(m, cells) == 1
    assert maps.add_cells(m, cells, resolution=None) == 2
    assert maps.add_cells(m, pd.DataFrame()) == 0


def test_tiles_only_when_asked() -> None:
    b, locs = _synthetic()
    assert "tile.openstreetmap.org" not in maps.map_html(maps.build_region_map(b, locs))
    html = maps.map_html(maps.build_region_map(b, locs, tiles=True))
    assert "tile.openstreetmap.org" in html and "OpenStreetMap contributors" in html


@pytest.mark.pack
def test_county_payload_under_2mb(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    from layers import LAYERS

    snap = blekinge_snapshot
    try:
        from geo.scoring import build_model, score
        s = score(build_model(snap))
        scores, cells = s.localities, s.cells
    except ImportError:
        scores = cells = None
    layers = {k: (layer_title(k), spec.color, snap.layer(k)) for k, spec in LAYERS.items()
              if snap.layer_status(k).available}
    m = maps.build_region_map(snap.boundary(), snap.localities(),
                              municipalities=snap.municipalities(), scores=scores, cells=cells,
                              layers=layers)
    html = maps.map_html(m)
    assert len(html.encode()) < 2_000_000, len(html.encode())
    assert html.count("locality-marker") >= 40
    assert maps.cdn_links(html) == []


def test_map_scripts_are_valid_javascript(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Every inline script of a full map parses (node --check); catches template mistakes."""
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    b, locs = _synthetic()
    layer = gpd.GeoDataFrame({"name": [HOSTILE, "B"], "kind": ["school", "x"]},
                             geometry=[Point(15.1, 56.1), Point(15.2, 56.2)], crs="EPSG:4326")
    cells = pd.DataFrame({"h3": [h3.latlng_to_cell(56.1, 15.1, 9)], "composite": [50.0]})
    html = maps.map_html(maps.build_region_map(
        b, locs, cells=cells, layers={"schools": ("Schools", "#d95f02", layer)}))
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert scripts
    for i, js in enumerate(scripts):
        f = tmp_path / f"s{i}.js"
        f.write_text(js)
        res = subprocess.run([node, "--check", str(f)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[:500]


# -- the selected place -------------------------------------------------------------------------
def test_highlight_layer_escaped_and_above_markers() -> None:
    b, locs = _synthetic()
    group = maps.highlight_group(Point(15.2, 56.2), HOSTILE + " `${x}`", population=500)
    html = maps.map_html(maps.build_region_map(b, locs, highlight=group))
    assert html.count(maps.HIGHLIGHT_CLASS) == 1
    assert "place-label" in html and '"permanent": true' in html
    assert HOSTILE not in html and "${x}" not in html
    assert "&lt;img src=x onerror=alert(1)&gt; &#96;&#36;&#123;x&#125;&#96;" in html
    # the ring is drawn after (so above) the locality markers, and clicks pass through it
    assert html.rfind(maps.LOCALITY_CLASS) < html.find(maps.HIGHLIGHT_CLASS)
    assert html.count('"interactive": false') >= 2
    ring = re.search(r'"className": "place-highlight".*?"radius": ([\d.]+)', html)
    assert ring and float(ring.group(1)) == pytest.approx(maps.marker_radius(500) + 6)
    assert "window.__livabilityFocus = true" not in html  # no zoom unless asked


def test_no_highlight_without_place() -> None:
    b, locs = _synthetic()
    html = maps.map_html(maps.build_region_map(b, locs))
    assert maps.HIGHLIGHT_CLASS not in html and "place-label" not in html.split("</style>", 1)[1]
    assert "__livabilityFocus" in html  # only the fit's check of it


def test_highlight_focus_and_area() -> None:
    from geo.errors import DataSourceError

    pt = maps.highlight_group(Point(15.2, 56.2), "Beta", focus=True, zoom=11)
    html = maps.map_html(maps.build_region_map(*_synthetic(), highlight=pt))
    assert "window.__livabilityFocus = true" in html
    assert "setView([56.2, 15.2], 11.0, {animate: false})" in html
    area = maps.highlight_group(box(15.0, 56.0, 15.2, 56.1), "Kommun <b>", focus=True)
    html = maps.map_html(maps.build_region_map(*_synthetic(), highlight=area))
    assert "fitBounds([[56.0, 15.0], [56.1, 15.2]]" in html
    assert "Kommun &lt;b&gt;" in html and "Kommun <b>" not in html
    with pytest.raises(DataSourceError, match="no geometry"):
        maps.highlight_group(Point(), "Empty")


def test_highlight_scripts_are_valid_javascript(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    group = maps.highlight_group(Point(15.2, 56.2), HOSTILE, focus=True)
    html = maps.map_html(maps.build_region_map(*_synthetic(), highlight=group))
    for i, js in enumerate(re.findall(r"<script>(.*?)</script>", html, flags=re.S)):
        f = tmp_path / f"h{i}.js"
        f.write_text(js)
        res = subprocess.run([node, "--check", str(f)], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr[:500]


def test_cells_without_any_score_draw_nothing() -> None:
    import folium
    import pandas as pd

    from geo.maps import add_cells

    m = folium.Map()
    cells = pd.DataFrame({"h3": ["891f1d48177ffff", "891f1d4817bffff"], "composite": [float("nan")] * 2})
    assert add_cells(m, cells, column="composite", name="score") == 0
    m.get_root().render()  # no tooltip on an empty layer (folium asserted on its fields before)


def test_map_html_names_its_page_for_screen_readers() -> None:
    """A map shown in a frame of its own has a title (escaped) and a language (WCAG 2.4.2, 3.1.1)."""
    from geo import maps

    m = maps.OfflineMap(location=(56.2, 15.3), tiles=None)
    page = maps.map_html(m, title="Map of <img src=x onerror=alert(1)>", lang="sv")
    assert '<html lang="sv">' in page
    assert "<title>Map of &lt;img src=x onerror=alert(1)&gt;</title>" in page
    assert "<img src=x" not in page
    assert '<html lang="' not in maps.map_html(m, lang='x" onload="y')  # only a language code


def test_the_scale_bar_is_metric_only() -> None:
    import geopandas as gpd
    from shapely.geometry import Point, box

    from geo import maps

    boundary = gpd.GeoDataFrame({"name": ["R"]}, geometry=[box(15.0, 56.0, 15.5, 56.3)], crs=4326)
    locs = gpd.GeoDataFrame({"code": ["A"], "name": ["A"], "population": [100]},
                            geometry=[Point(15.2, 56.1)], crs=4326)
    page = maps.map_html(maps.build_region_map(boundary, locs))
    assert "L.control.scale({imperial: false})" in page and "L.control.scale()" not in page
