"""A county map that reads like a map (issue 10, item 1): engine-level and AppTest checks.

SYNTHETIC places and cells only. The rendered map HTML carries one place name per locality
(largest first, sized by population), a legend row per layer, tooltips in words without internal
codes, no region tooltip over land, and a notice for failed tiles; :func:`app.view_map.map_click`
maps streamlit-folium's click values to a locality or a point, and the map page acts on each click
once (AppTest with synthetic component values).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import h3
import pandas as pd
import pytest
from _app_fixtures import PLACES, run_app, write_synthetic_store
from shapely.geometry import Point, box

from geo import maps
from geo.scoring import score_band

HOSTILE = "<img src=x onerror=alert(1)>"
BOUNDARY = gpd.GeoDataFrame(geometry=[box(15.0, 56.0, 15.6, 56.4)], crs="EPSG:4326")


def _places() -> gpd.GeoDataFrame:
    """SYNTHETIC localities: a town, a small town, a village, a hostile name, one without people."""
    return gpd.GeoDataFrame(
        {"code": ["T1", "T2", "T3", "T4", "T5"],
         "name": ["Storstad", "Mellanby", HOSTILE, "Småby", "Ödemark"],
         "population": [25000, 6000, 1500, 300, None]},
        geometry=[Point(15.1, 56.1), Point(15.2, 56.2), Point(15.3, 56.25), Point(15.4, 56.3),
                  Point(15.5, 56.35)], crs="EPSG:4326")


def _scores() -> pd.DataFrame:
    return pd.DataFrame({"code": ["T1", "T2", "T3", "T4", "T5"],
                         "composite": [71.4, 55.0, 12.0, 80.0, None], "rank": [2, 3, 4, 1, None]})


def _label_rows(html: str) -> list[list[object]]:
    m = re.search(r"var data = (\[\[.*?\]\]);\s*var pane", html, re.DOTALL)
    assert m, "no place labels in the map"
    return list(json.loads(m.group(1)))


def _legend_rows(html: str) -> list[dict[str, object]]:
    m = re.search(r"var rows = (\[.*?\]), bands = (\[.*?\]), words", html, re.DOTALL)
    assert m, "no legend in the map"
    return list(json.loads(m.group(1)))


def _layers() -> dict[str, tuple[str, str, gpd.GeoDataFrame]]:
    pts = gpd.GeoDataFrame({"name": ["Skola A", "Skola B"], "kind": ["school", "bus_stop"]},
                           geometry=[Point(15.11, 56.1), Point(15.21, 56.2)], crs="EPSG:4326")
    return {"schools": ("Schools", "#d95f02", pts), "transit": ("Transit", "#7570b3", pts)}


# -- place names ------------------------------------------------------------------------------
def test_one_place_name_per_locality_largest_first_sized_by_population() -> None:
    m = maps.build_region_map(BOUNDARY, _places(), scores=_scores())
    html = maps.map_html(m)
    rows = _label_rows(html)
    assert [r[2] for r in rows] == ["Storstad", "Mellanby", "&lt;img src=x onerror=alert(1)&gt;",
                                    "Småby", "Ödemark"]
    assert [r[3] for r in rows] == [0, 1, 2, 3, 3]  # size class: 15, 13, 12, 11 px
    assert m.contents.labels == 5
    # at the markers (right of them, by the marker radius), in a pane that takes no clicks
    assert rows[0][:2] == [56.1, 15.1] and rows[0][4] == round(maps.marker_radius(25000), 1)
    assert "pane.style.pointerEvents = 'none'" in html and "interactive: false" in html
    assert ".place-name-0 span{font-size:15px" in html and "text-shadow:" in html
    assert HOSTILE not in html


def test_labels_are_laid_out_greedily_on_every_zoom() -> None:
    html = maps.map_html(maps.build_region_map(BOUNDARY, _places()))
    assert "map.on('zoomend moveend resize', layout)" in html
    assert "kept.some(function (k) { return overlaps(b, k); })" in html


# -- legend -----------------------------------------------------------------------------------
def test_legend_has_a_row_per_layer_and_follows_the_layer_control() -> None:
    cells = pd.DataFrame({"h3": [h3.latlng_to_cell(56.1, 15.1, 7)], "composite": [42.0]})
    m = maps.build_region_map(BOUNDARY, _places(), scores=_scores(), cells=cells, layers=_layers(),
                              labels={"hexagons": "Hexagons", "localities": "Localities"})
    html = maps.map_html(m)
    rows = _legend_rows(html)
    assert [(r["title"], r["kind"], r["scored"]) for r in rows] == [
        ("Hexagons", "hexagons", True), ("Localities", "localities", True),
        ("Schools", "points", False), ("Transit", "points", False)]
    assert [r["color"] for r in rows[2:]] == ["#d95f02", "#7570b3"]
    assert "map.on('overlayadd overlayremove layeradd layerremove'" in html
    assert "L.DomEvent.disableClickPropagation(div)" in html  # a click on it is no point click


@pytest.mark.parametrize(("lang", "top", "none"), [
    ("en", "most errands on foot", "no score"), ("sv", "de flesta ärenden till fots", "ingen poäng")])
def test_legend_scale_is_absolute_with_the_band_names(lang: str, top: str, none: str) -> None:
    bands = maps.band_legend(lang)
    assert [(lo, hi) for _c, lo, hi, _w in bands] == [(80, 100), (60, 80), (40, 60), (20, 40), (0, 20)]
    assert bands[0][3] == top
    for colour, lo, hi, _w in bands:  # the colour of each band is the colour of its scores
        assert maps.score_color(lo) == maps.score_color(hi - 0.01) == colour
        assert score_band([lo])[0] == maps.band_of(lo)
    html = maps.map_html(maps.build_region_map(BOUNDARY, _places(), lang=lang))
    assert top in html and none in html and maps.NO_SCORE_COLOR in html


# -- tooltips ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "<b>Storstad</b>: 71, many errands on foot or by bike, 2nd of 4"),
    ("sv", "<b>Storstad</b>: 71, många ärenden till fots eller med cykel, plats 2 av 4")])
def test_locality_tooltips_in_words_without_codes(lang: str, expected: str) -> None:
    html = maps.map_html(maps.build_region_map(BOUNDARY, _places(), scores=_scores(), lang=lang))
    assert expected in html
    assert ("1st of 4" if lang == "en" else "plats 1 av 4") in html  # Småby, 80: the top band
    for code in ("T1", "T2", "T3", "T4"):
        assert f"[{code}]" not in html
    assert re.search(r"Ödemark</b>: (no score|ingen poäng)", html)


def test_no_region_tooltip_over_land_and_outlines_are_not_interactive() -> None:
    munis = gpd.GeoDataFrame({"code": ["9901"], "name": ["Kommunen"]},
                             geometry=[box(15.0, 56.0, 15.3, 56.4)], crs="EPSG:4326")
    html = maps.map_html(maps.build_region_map(BOUNDARY, _places(), municipalities=munis,
                                               region_label="Blekinge län"))
    assert "Blekinge län" not in html and "Kommunen" not in html
    assert html.count('"interactive": false') >= 2  # land and the municipality borders
    assert maps.SEA_COLOR in html and maps.LAND_COLOR in html


def test_point_tooltips_say_the_kind_in_words() -> None:
    html = maps.map_html(maps.build_region_map(BOUNDARY, _places(), layers=_layers(), lang="sv"))
    # the kind's words travel once per layer (the callback's list) and the browser writes
    # "name (words)" when it makes the marker (geo.maps._POINT_CALLBACK)
    assert """(" + kind + ")""" in html
    assert '"skola"' in html and "bus_stop" not in html
    assert '"busshållplats"' in html or '"bussh\\u00e5llplats"' in html  # in JSON, maybe escaped


def test_recoloured_tooltips_follow_the_weighting() -> None:
    """The words (score, band, rank) travel with each weighting's colours."""
    m = maps.build_region_map(BOUNDARY, _places(), recolour=True, lang="en")
    assert m.recolour is not None
    one = maps.recolour_data(m.recolour, None, _scores())
    other = maps.recolour_data(m.recolour, None, _scores().assign(
        composite=[30.0, 90.0, 12.0, 50.0, None], rank=[3, 1, 4, 2, None]))
    assert one["localities"]["T1"][1] == (
        "<div><b>Storstad</b>: 71, many errands on foot or by bike, 2nd of 4</div>")
    assert other["localities"]["T1"][1] == (
        "<div><b>Storstad</b>: 30, a car is useful for most errands, 3rd of 4</div>")
    html = maps.map_html(m)
    assert "cells.bindTooltip(function (l)" not in html  # no hexagons, no hexagon tooltips


def test_hexagon_tooltips_in_words() -> None:
    cells = pd.DataFrame({"h3": [h3.latlng_to_cell(56.1, 15.1, 7)], "composite": [42.0]})
    html = maps.map_html(maps.build_region_map(BOUNDARY, _places(), cells=cells, lang="sv"))
    assert "cells.bindTooltip(function (l)" in html
    assert "Det här området: @score@, @band@" in html and "vissa ärenden till fots" in html


def test_ordinals() -> None:
    assert [maps.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "22nd", "101st", "111th"]
    assert maps.ordinal(3, "sv") == "3"


# -- tiles ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "words"), [("en", "The background map could not be loaded"),
                                             ("sv", "Bakgrundskartan kunde inte laddas")])
def test_tile_failure_notice_only_with_tiles(lang: str, words: str) -> None:
    off = maps.map_html(maps.build_region_map(BOUNDARY, _places(), lang=lang))
    assert "tileerror" not in off and words not in off
    on = maps.map_html(maps.build_region_map(BOUNDARY, _places(), tiles=True, lang=lang))
    assert "on('tileerror'" in on and words in on and "if (shown) { return; }" in on
    assert "tile.openstreetmap.org" in on


# -- clicks -----------------------------------------------------------------------------------
def _locs() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": [p[0] for p in PLACES]},
                            geometry=[Point(p[4], p[5]) for p in PLACES], crs="EPSG:4326")


def test_map_click_marker_point_and_nothing() -> None:
    from app.view_map import map_click

    locs = _locs()
    marker = {"lat": 56.22, "lng": 15.08, "n": 3}  # Betaköping's marker (the map snaps to it)
    assert map_click({"last_clicked": marker, "last_object_clicked": dict(marker)}, locs) == (
        "S002", None)
    land = {"lat": 56.15, "lng": 15.25, "n": 4}
    assert map_click({"last_clicked": land, "last_object_clicked": dict(marker)}, locs) == (
        None, (56.15, 15.25))  # the old object click is not this click
    assert map_click({"last_clicked": land, "last_object_clicked": dict(land)}, locs) == (
        None, (56.15, 15.25))  # a hexagon: an object, but no marker there
    near = {"lat": 56.2201, "lng": 15.08, "n": 5}  # beside the marker, not on it
    assert map_click({"last_clicked": near, "last_object_clicked": near}, locs) == (
        None, (56.2201, 15.08))
    for ret in (None, "x", {}, {"last_clicked": None, "last_object_clicked": None},
                {"last_clicked": {"lat": "a", "lng": 1}}, {"last_clicked": {"lat": 99, "lng": 1}}):
        assert map_click(ret, locs) == (None, None)


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("readable"))


def _fake_component(monkeypatch: pytest.MonkeyPatch, ret: dict[str, object]) -> list[dict[str, object]]:
    """Make the map component return ``ret`` (what the browser would send); records the calls."""
    from app import folium_adapter

    calls: list[dict[str, object]] = []

    def send(payload: object, **kw: object) -> dict[str, object]:
        calls.append(kw)
        return ret

    monkeypatch.setattr(folium_adapter, "send", send)
    return calls


def test_app_marker_click_opens_the_profile(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    pos = {"lat": 56.25, "lng": 15.30, "n": 1}  # Deltavik
    calls = _fake_component(monkeypatch, {"last_clicked": pos, "last_object_clicked": dict(pos)})
    at = run_app(monkeypatch, synth_store)
    assert not at.exception
    assert calls and list(calls[0]["returned_objects"]) == ["last_clicked", "last_object_clicked"]
    assert at.query_params.get("page") == ["profile"] or at.query_params.get("page") == "profile"
    assert at.session_state["place"] == "S004"
    assert "point" not in at.session_state or at.session_state["point"] is None


def test_app_land_click_sets_a_point_once(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    land = {"lat": 56.15, "lng": 15.25, "n": 1}
    calls = _fake_component(monkeypatch, {"last_clicked": land, "last_object_clicked": None})
    at = run_app(monkeypatch, synth_store)
    assert not at.exception
    assert at.session_state["point"] == (56.15, 15.25)
    assert at.session_state["point_name"] is None
    assert str(at.query_params.get("point")).strip("[]'") in ("56.15000,15.25000", "56.15,15.25")
    # the component keeps its value: the same click is not acted on again (no rerun loop) ...
    at.session_state["point"] = None
    at.run()
    assert not at.exception and at.session_state["point"] is None
    # ... while a new click on the same spot is (the map stamps each click)
    calls.clear()
    _fake_component(monkeypatch, {"last_clicked": {**land, "n": 2}, "last_object_clicked": None})
    at.run()
    assert at.session_state["point"] == (56.15, 15.25)


def test_app_legend_under_the_map_names_the_bands(monkeypatch: pytest.MonkeyPatch,
                                                  synth_store: Path) -> None:
    for lang, words, none in (("en", "80–100 most errands on foot", "no score"),
                              ("sv", "80–100 de flesta ärenden till fots", "ingen poäng")):
        at = run_app(monkeypatch, synth_store, lang=lang)
        legend = [md.value for md in at.markdown if "score-legend" in md.value]
        assert len(legend) == 1 and words in legend[0] and none in legend[0]
        assert maps.NO_SCORE_COLOR in legend[0]
