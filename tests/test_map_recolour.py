"""The map page re-colours its cached map on a weight change instead of rebuilding it.

Unit tests on SYNTHETIC cells and places (geo.maps: HexIndex, recolour_data, MapContents), AppTest
on the SYNTHETIC store (the component keeps its script and key, only the dynamic layer changes; the
captions state the aggregation and caps), and one real-browser test against the Blekinge store
(marked slow): the Leaflet map survives a weight change, its colours change, and the time from the
key press to the new colours is recorded in artifacts/screenshots/recolour_timings.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
from _app_fixtures import HOSTILE, run_app, write_synthetic_store
from shapely.geometry import Point, box

from geo import maps

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "screenshots"


def _cells(n_per: int = 40, seed: int = 3) -> pd.DataFrame:
    """SYNTHETIC res-9 cells around three centres, with weights (some zero) and some NaN scores."""
    rng = np.random.default_rng(seed)
    ids: list[str] = []
    for lat, lng in ((56.20, 15.28), (56.16, 14.86), (56.27, 15.60)):
        ids += sorted(h3.grid_disk(h3.latlng_to_cell(lat, lng, 9), 4))[:n_per]
    df = pd.DataFrame({"h3": ids, "weight": rng.integers(0, 50, len(ids)).astype(float)})
    df["composite"] = rng.uniform(0, 100, len(ids))
    df.loc[df.index % 7 == 0, "composite"] = np.nan
    return df.set_index(pd.Index(df["h3"].to_numpy()))


def _places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["A1", "B2", "C3"], "name": [HOSTILE, "Björkby", "Cestad"],
                             "population": [5000, 800, 40]},
                            geometry=[Point(15.28, 56.20), Point(14.86, 56.16), Point(15.60, 56.27)],
                            crs="EPSG:4326")


BOUNDARY = gpd.GeoDataFrame(geometry=[box(14.5, 56.0, 16.0, 56.5)], crs="EPSG:4326")


# -- geo.maps: the weight-free index and one weighting's colours ------------------------------
def test_hex_index_aggregates_like_the_static_map() -> None:
    """The hexagons and their values equal :func:`geo.maps.hexagon_cells` (what a static map
    draws), for several weightings of the same grid."""
    cells = _cells()
    index = maps.HexIndex.of(cells[["h3", "weight"]])
    assert index is not None and index.resolution == 7 and index.cell_resolution == 9
    assert len(index.hexagons) == len({h3.cell_to_parent(c, 7) for c in cells["h3"]})
    rng = np.random.default_rng(0)
    for _ in range(3):
        scored = cells.assign(composite=np.where(cells["composite"].isna(), np.nan,
                                                 rng.uniform(0, 100, len(cells))))
        ref = maps.hexagon_cells(scored).set_index("h3")["composite"]
        agg = pd.Series(index.aggregate(index.values(scored)), index=list(index.hexagons)).dropna()
        assert sorted(agg.index) == sorted(ref.index)
        assert np.allclose(agg[ref.index].to_numpy(), ref.to_numpy(), rtol=0, atol=1e-9)
        assert maps.score_colors(agg[ref.index]) == [maps.score_color(v) for v in ref]
    # cells in another order (or fewer of them) are aligned by their H3 id
    shuffled = cells.sample(frac=1.0, random_state=1).iloc[:-5]
    vals = index.values(shuffled)
    assert np.isnan(vals).sum() == int(shuffled["composite"].isna().sum()) + 5
    pos = index.cells.get_indexer(shuffled.index)
    assert np.array_equal(vals[pos], shuffled["composite"].to_numpy(), equal_nan=True)


def test_recolour_data_colours_escapes_and_hides_unscored_hexagons() -> None:
    cells = _cells()
    m = maps.build_region_map(BOUNDARY, _places(), cells=cells[["h3", "weight"]], recolour=True,
                              labels={"score": "Score"})
    assert m.recolour is not None and m.recolour.codes == ("A1", "B2", "C3")  # largest first
    scores = pd.DataFrame({"code": ["A1", "B2"], "composite": [91.0, 10.0], "rank": [1, 2]})
    all_nan = cells.assign(composite=np.nan)
    data = maps.recolour_data(m.recolour, all_nan, scores)
    assert data["cells"] == {}  # nothing scored: every hexagon is hidden
    assert data["localities"]["A1"][0] == maps.score_color(91.0) == "#fde725"
    assert data["localities"]["C3"][0] == maps.NO_SCORE_COLOR  # no score: grey
    tip = str(data["localities"]["A1"][1])
    assert "&lt;img src=x onerror=alert(1)&gt;" in tip and HOSTILE not in tip
    assert tip.endswith("</b>: 91, most errands on foot, 1st of 2</div>") and "[A1]" not in tip
    data = maps.recolour_data(m.recolour, cells, scores)
    ref = maps.hexagon_cells(cells).set_index("h3")["composite"]
    assert data["cells"] == {h: [maps.score_color(v), round(float(v))] for h, v in ref.items()}
    script = maps.recolour_script(data)
    assert script.startswith("if (window.__livabilityRecolour) { window.__livabilityRecolour({")
    assert "<" not in script and ">" not in script and "\\u0026lt;img src=x" in script


def test_recolourable_map_is_the_same_for_every_weighting() -> None:
    """The base map takes no scores: its HTML has the hook, grey hexagons and coded markers."""
    cells = _cells()
    a = maps.map_html(maps.build_region_map(BOUNDARY, _places(), cells=cells, recolour=True))
    b = maps.map_html(maps.build_region_map(BOUNDARY, _places(),
                                            cells=cells.assign(composite=1.0), recolour=True))

    def strip(html: str) -> str:
        return re.sub(r"_[0-9a-f]{32}", "", html)

    assert strip(a) == strip(b)
    assert "window.__livabilityRecolour = function" in a
    assert '"code": "A1"' in a and maps.NO_SCORE_COLOR in a


def test_map_contents_state_aggregation_and_caps() -> None:
    cells = _cells()
    rng = np.random.default_rng(2)
    many = gpd.GeoDataFrame({"name": [f"stop {i}" for i in range(maps.MAX_POINTS + 123)]},
                            geometry=gpd.points_from_xy(rng.uniform(14.6, 15.9, maps.MAX_POINTS + 123),
                                                        rng.uniform(56.0, 56.4, maps.MAX_POINTS + 123)),
                            crs="EPSG:4326")
    few = many.iloc[:7]
    m = maps.build_region_map(BOUNDARY, _places(), cells=cells, scores=None,
                              layers={"transit": ("Bus stops", "#000", many),
                                      "schools": ("Schools", "#111", few)})
    c = m.contents
    scored = int(cells["composite"].notna().sum())
    assert (c.cells, c.cell_resolution, c.hex_resolution) == (scored, 9, 7)
    assert c.hexagons == len(maps.hexagon_cells(cells)) and c.aggregated and c.localities == 3
    assert [(d.key, d.drawn, d.total, d.capped) for d in c.layers] == [
        ("transit", maps.MAX_POINTS, maps.MAX_POINTS + 123, True), ("schools", 7, 7, False)]
    text = c.describe()
    assert f"{c.hexagons} hexagons at H3 resolution 7 (means of {scored} res-9 cells)" in text
    assert "Bus stops: 5,000 of 5,123 (capped at 5,000)" in text and "Schools: 7" in text
    r = maps.build_region_map(BOUNDARY, _places(), cells=cells[["h3", "weight"]], recolour=True)
    assert r.contents.cells == len(cells) and r.recolour is not None and r.recolour.hexagons is not None
    assert r.contents.hexagons == len(r.recolour.hexagons.hexagons)


# -- the app (AppTest, SYNTHETIC store) -------------------------------------------------------
@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("synth"))


def _map_args(at: object) -> dict[str, object]:
    def walk(node: object) -> Iterator[object]:
        for child in (getattr(node, "children", None) or {}).values():
            yield child
            yield from walk(child)

    for el in walk(at._tree):  # type: ignore[attr-defined]
        if hasattr(getattr(el, "proto", None), "json_args") and "map_div" in el.proto.json_args:
            return dict(json.loads(el.proto.json_args))
    raise AssertionError("no st_folium map on the page")


def _colours(args: dict[str, object]) -> dict[str, dict[str, list[object]]]:
    fg = str(args["feature_group"])
    m = re.match(r"if \(window\.__livabilityRecolour\) \{ window\.__livabilityRecolour\((.*)\); \}",
                 fg.splitlines()[0])
    assert m, fg[:200]
    return dict(json.loads(m.group(1)))


def test_weight_change_sends_only_new_colours(monkeypatch: pytest.MonkeyPatch,
                                              synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store)
    assert not at.exception
    before = _map_args(at)
    at.sidebar.select_slider(key="w_transit").set_value(5.0)
    for k in ("schools", "services", "nature"):
        at.sidebar.select_slider(key=f"w_{k}").set_value(0.0)
    at.run()
    assert not at.exception
    after = _map_args(at)
    # the same component (key) and base map (script): the browser keeps its Leaflet map
    assert after["key"] == before["key"] and after["script"] == before["script"]
    assert after["feature_group"] != before["feature_group"]
    old, new = _colours(before), _colours(after)
    assert set(new["localities"]) == set(old["localities"]) and new["localities"] != old["localities"]
    assert "__livabilityRecolour = function" in str(after["script"])
    # the colours are this weighting's scores (the ranking's top place, Epsilonstad with a station)
    ranking = at.dataframe[0].value
    top = ranking.sort_values("Rank").iloc[0]
    assert top["Locality"] == "Epsilonstad"
    (colour, tip), = [v for v in new["localities"].values() if "<b>Epsilonstad</b>" in str(v[1])]
    assert colour == maps.score_color(float(top["Score"])) and " 1st of " in str(tip)


def test_map_captions_say_the_aggregation_in_both_languages(monkeypatch: pytest.MonkeyPatch,
                                                            synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store)
    caps = [c.value for c in at.caption]
    hexes = [c for c in caps if c.startswith("Hexagons shown")]
    assert len(hexes) == 1, caps
    assert re.search(r"resolution \d+ \(\d+ areas\) at this zoom", hexes[0]) or \
        re.match(r"Hexagons shown: \d+ grid cells at H3 resolution \d+\.", hexes[0])
    at = run_app(monkeypatch, synth_store, lang="sv")
    caps = [c.value for c in at.caption]
    assert any(c.startswith(("Hexagonerna visas på H3-upplösning", "Hexagoner som visas:"))
               for c in caps), caps


# -- the real browser (Blekinge store) --------------------------------------------------------
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.pack
def test_browser_weight_change_recolours_without_reloading(blekinge_store: Path) -> None:
    from _browser import chromium, have_chromium, serve_app

    if not have_chromium():
        pytest.skip("Debian chromium / chromedriver not installed")
    pytest.importorskip("selenium")
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    data = Path(tempfile.mkdtemp(prefix="livability-recolour-"))
    shutil.copytree(blekinge_store, data, dirs_exist_ok=True)
    run_log = data / "runs.jsonl"
    env = os.environ | {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none",
                        "LIVABILITY_RUN_LOG": str(run_log)}
    SHOTS.mkdir(parents=True, exist_ok=True)
    steps: list[dict[str, float]] = []
    fills = ("return Array.from(document.querySelectorAll('path.locality-marker'))"
             ".map(p => p.getAttribute('fill'))")
    timings: list[float] = []
    try:
        with serve_app(ROOT, env, SHOTS / "streamlit_recolour.log") as url, chromium() as drv:
            drv.get(url + "/?page=map")
            frame = WebDriverWait(drv, 180).until(ec.presence_of_element_located(
                (By.CSS_SELECTOR, "iframe[title*='streamlit_folium']")))
            drv.switch_to.frame(frame)
            WebDriverWait(drv, 180).until(lambda d: len(d.find_elements(
                By.CSS_SELECTOR, "path.locality-marker")) >= 40 and d.execute_script(
                "return window.__livabilityColoured || 0") >= 1)
            drv.execute_script("window.map.__sameMap = 1;")
            drv.switch_to.default_content()
            for step, key in enumerate((Keys.END, Keys.HOME, Keys.END)):
                drv.switch_to.frame(frame)
                before = drv.execute_script(fills)
                count = drv.execute_script("return window.__livabilityColoured")
                drv.execute_script("""
                    window.__colouredAt = null; window.__argsAt = null;
                    window.addEventListener('message', function (e) {
                        if (window.__argsAt === null && e.data && e.data.type === 'streamlit:render') {
                            window.__argsAt = Date.now(); } });
                    var f = window.__livabilityRecolour;
                    window.__livabilityRecolour = function (d) {
                        f(d); window.__colouredAt = Date.now(); window.__livabilityRecolour = f; };""")
                drv.switch_to.default_content()
                slider = drv.find_elements(By.CSS_SELECTOR,
                                           "[data-testid='stSlider'] input[type='range']")[2]
                drv.execute_script("arguments[0].focus()", slider)
                drv.execute_script("window.__keyAt = Date.now();")
                ActionChains(drv).send_keys(key).perform()
                drv.switch_to.frame(frame)
                WebDriverWait(drv, 60, poll_frequency=0.05).until(
                    lambda d: d.execute_script("return window.__colouredAt") is not None)
                colored_at = drv.execute_script("return window.__colouredAt")
                args_at = drv.execute_script("return window.__argsAt") or colored_at
                after = drv.execute_script(fills)
                same = drv.execute_script("return window.map.__sameMap")
                now = drv.execute_script("return window.__livabilityColoured")
                drv.switch_to.default_content()
                key_at = drv.execute_script("return window.__keyAt")
                timings.append((colored_at - key_at) / 1000)
                # where the time goes: the server's run of this step (its start and wall time)
                runs = [json.loads(ln) for ln in run_log.read_text().splitlines()]
                run = next(r for r in runs if "start" in r and r["start"] * 1000 >= key_at - 50)
                steps.append({"key_to_run_start_s": round(run["start"] - key_at / 1000, 3),
                              "script_s": run["seconds"],
                              "run_end_to_colours_s": round(
                                  colored_at / 1000 - run["start"] - run["seconds"], 3),
                              "iframe_args_to_colours_s": round((colored_at - args_at) / 1000, 3)})
                assert same == 1, f"step {step}: the map iframe was reloaded"
                assert now == count + 1 and after != before and len(after) == len(before)
                drv.save_screenshot(str(SHOTS / f"10_recoloured_{step}.png"))
    finally:
        shutil.rmtree(data, ignore_errors=True)
    load = os.getloadavg()[0]
    result = {"key_to_new_colours_s": timings, "steps": steps, "loadavg_1min": load}
    (SHOTS / "recolour_timings.json").write_text(json.dumps(result, indent=2))
    print(result)
    assert min(timings) < 1.5  # the old page took 3.3 s until the map was redrawn


def test_hostile_code_stays_inert_in_the_map_and_the_colours() -> None:
    """A code is the marker's Leaflet option and a key of the colours: JSON-escaped in both."""
    code = "</script><img src=x onerror=alert(1)>"
    places = _places().assign(code=[code, "B2", "C3"])
    m = maps.build_region_map(BOUNDARY, places, cells=_cells()[["h3", "weight"]], recolour=True)
    html = maps.map_html(m)
    assert "</script><img" not in html and "<img src=x" not in html
    assert m.recolour is not None
    script = maps.recolour_script(maps.recolour_data(
        m.recolour, None, pd.DataFrame({"code": [code], "composite": [50.0], "rank": [1]})))
    assert "<" not in script and json.dumps(code).replace("<", "\\u003c").replace(
        ">", "\\u003e") in script
