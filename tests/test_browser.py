"""Real-browser test: headless Debian Chromium drives the app built from the Blekinge pack.

Skips when chromium/chromedriver or the pack are missing. Screenshots go to artifacts/screenshots/
(git-ignored). Timings are printed with ``-s`` and written to artifacts/screenshots/timings.json.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import CHROMEDRIVER, CHROMIUM, chromium, serve_app

ROOT = Path(__file__).resolve().parents[1]

SHOTS = ROOT / "artifacts" / "screenshots"
HOSTILE = "<img src=x onerror=alert(1)>"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.pack]

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("Debian chromium / chromedriver not installed", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _hostile_store(src: Path, dst: Path) -> Path:
    """Copy of the store in which the largest locality is renamed to a hostile string."""
    from geo.schema import Provenance
    from geo.store import open_snapshot, write_snapshot

    snap = open_snapshot("blekinge", src)
    with write_snapshot("blekinge", {k: v for k, v in snap.manifest["region"].items()
                                     if k != "key"}, dst) as w:
        entry = snap.manifest["base"]["localities"]
        theirs = {p["file"] for p in entry.get("parts", [])} | {entry.get("file")}
        for rel in snap.manifest["files"]:
            if rel in theirs:
                continue
            target = w.tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(snap.path / rel, target)
        for key in ("parameters", "inputs", "base", "layers", "tables", "networks"):
            w.manifest[key] = snap.manifest.get(key, {})
        locs = snap.localities()
        i = locs["population"].idxmax()
        locs.loc[i, "name"] = HOSTILE
        w.put_base("localities", locs, [Provenance.from_dict(dict(p)) for p in entry["sources"]],
                   coverage=entry.get("coverage"))
    return dst


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    """Start ``streamlit run`` on a free port against a hostile-name copy of the Blekinge store."""
    data = _hostile_store(blekinge_store, Path(tempfile.mkdtemp(prefix="livability-browser-")))
    env = os.environ | {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with serve_app(ROOT, env, SHOTS / "streamlit.log") as url:
            yield url
    finally:
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    """Headless Chromium with a fresh profile and no background networking."""
    with chromium() as drv:
        yield drv


def _map_frame(drv: object, timeout: float = 60) -> object:
    """Wait for the st_folium iframe and switch into it."""
    frame = WebDriverWait(drv, timeout).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, "iframe[title*='streamlit_folium']")))
    drv.switch_to.frame(frame)  # type: ignore[attr-defined]
    return frame


def _wait_markers(drv: object, n: int, timeout: float = 60) -> int:
    WebDriverWait(drv, timeout).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".leaflet-container path.locality-marker")) >= n)
    return len(drv.find_elements(By.CSS_SELECTOR, ".leaflet-container path.locality-marker"))  # type: ignore[attr-defined]


def _body_text(drv: object) -> str:
    return str(drv.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]


def test_map_language_profile_and_hostile_name(app_url: str, driver: object) -> None:
    drv = driver
    timings: dict[str, float] = {}
    # cold load first (builds the score model), then the warm measurement
    t0 = time.perf_counter()
    drv.get(app_url)  # type: ignore[attr-defined]
    _map_frame(drv, 180)
    _wait_markers(drv, 40, 180)
    timings["cold_first_map_s"] = round(time.perf_counter() - t0, 2)
    drv.switch_to.default_content()  # type: ignore[attr-defined]

    t0 = time.perf_counter()
    drv.get(app_url)  # type: ignore[attr-defined]
    _map_frame(drv)
    n = _wait_markers(drv, 40)
    timings["warm_first_map_s"] = round(time.perf_counter() - t0, 2)
    assert n >= 40
    assert drv.find_elements(By.CSS_SELECTOR, ".leaflet-container")  # type: ignore[attr-defined]
    # the page loaded nothing from the internet: every script is inline or a data: URL
    srcs = drv.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.scripts).map(s => s.src).filter(s => s.startsWith('http'))")
    assert not [s for s in srcs if "127.0.0.1" not in s], srcs
    drv.save_screenshot(str(SHOTS / "01_map_en.png"))  # type: ignore[attr-defined]
    # a theme layer toggled in the layer control shows clustered points (no app rerun)
    n_overlays = drv.execute_script("""
        const labels = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'));
        const hit = labels.find(l => l.textContent.includes('Schools'));
        if (hit) { hit.querySelector('input').click(); }
        return labels.length;""")  # type: ignore[attr-defined]
    assert n_overlays >= 3  # hexagons, localities and at least one theme layer
    WebDriverWait(drv, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".marker-cluster"))
    drv.save_screenshot(str(SHOTS / "01b_map_schools_layer.png"))  # type: ignore[attr-defined]
    # the hostile name is inert text inside a tooltip, never an <img>
    assert not drv.find_elements(By.CSS_SELECTOR, "img[src='x']")  # type: ignore[attr-defined]
    drv.switch_to.default_content()  # type: ignore[attr-defined]
    assert not drv.find_elements(By.CSS_SELECTOR, "img[src='x']")  # type: ignore[attr-defined]
    body = _body_text(drv)
    assert "Ranking" in body and "What matters to you" in body

    # weight change -> ranking re-rendered
    first_row = drv.find_element(By.CSS_SELECTOR, "[data-testid='stDataFrame']")  # type: ignore[attr-defined]
    assert first_row is not None
    slider = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stSlider'] input[type='range']")[2]  # type: ignore[attr-defined]
    drv.execute_script("arguments[0].focus()", slider)  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    ActionChains(drv).send_keys(Keys.END).perform()
    WebDriverWait(drv, 30).until(lambda d: "weights=" in d.current_url)
    WebDriverWait(drv, 30).until(lambda d: not d.find_elements(
        By.CSS_SELECTOR, "[data-testid='stStatusWidget']"))
    timings["weight_change_rerender_s"] = round(time.perf_counter() - t0, 2)
    drv.save_screenshot(str(SHOTS / "02_weights_changed.png"))  # type: ignore[attr-defined]

    # Swedish labels
    sv = [b for b in drv.find_elements(By.TAG_NAME, "button")  # type: ignore[attr-defined]
          if b.text.strip() == "Svenska"]
    assert sv, "no language switch"
    sv[0].click()
    WebDriverWait(drv, 60).until(lambda d: "Rangordning" in _body_text(d))
    # the URL is written at the end of the run (after the map): wait for it, and for the run to end
    WebDriverWait(drv, 60).until(lambda d: "lang=sv" in d.current_url and not d.find_elements(
        By.CSS_SELECTOR, "[data-testid='stStatusWidget']"))
    body = _body_text(drv)
    assert "Rangordning" in body and "Ranking" not in body
    _map_frame(drv)
    _wait_markers(drv, 40)
    drv.switch_to.default_content()  # type: ignore[attr-defined]
    drv.save_screenshot(str(SHOTS / "03_map_sv.png"))  # type: ignore[attr-defined]

    # clicking a locality marker on the map opens its profile
    _click_smallest_locality(drv, "Poäng per tema")
    drv.save_screenshot(str(SHOTS / "035_clicked_profile_sv.png"))  # type: ignore[attr-defined]

    # profile of a locality: breakdown shown; then the hostile-named one renders as text
    drv.get(app_url + "/?page=profile&place=1082TC102")  # type: ignore[attr-defined]
    WebDriverWait(drv, 60).until(lambda d: "Theme breakdown" in _body_text(d))
    WebDriverWait(drv, 60).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, "[data-testid='stVegaLiteChart'], .vega-embed"))
    assert "Karlshamn" in _body_text(drv)
    drv.save_screenshot(str(SHOTS / "04_profile.png"))  # type: ignore[attr-defined]

    drv.get(app_url + "/?page=profile&place=1080TC109")  # type: ignore[attr-defined]
    WebDriverWait(drv, 60).until(lambda d: "Theme breakdown" in _body_text(d))
    assert HOSTILE in _body_text(drv)
    assert not drv.find_elements(By.CSS_SELECTOR, "img[src='x']")  # type: ignore[attr-defined]
    drv.save_screenshot(str(SHOTS / "05_profile_hostile.png"))  # type: ignore[attr-defined]

    for page in ("compare", "export", "data"):
        drv.get(app_url + f"/?page={page}")  # type: ignore[attr-defined]
        WebDriverWait(drv, 60).until(lambda d: "Livability explorer" in _body_text(d))
        time.sleep(1.5)
        assert "Something went wrong" not in _body_text(drv)
        drv.save_screenshot(str(SHOTS / f"06_{page}.png"))  # type: ignore[attr-defined]
    (SHOTS / "timings.json").write_text(json.dumps(timings, indent=2))
    print(timings)


def test_standalone_map_layers_toggle_without_errors(driver: object, tmp_path: Path) -> None:
    """A saved county map (SYNTHETIC points) works offline from file://, layers toggle cleanly."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    from geo import maps

    b = gpd.GeoDataFrame(geometry=[box(15.0, 56.0, 15.5, 56.3)], crs="EPSG:4326")
    locs = gpd.GeoDataFrame({"code": ["A1"], "name": [HOSTILE], "population": [1000]},
                            geometry=[Point(15.1, 56.1)], crs="EPSG:4326")
    pts = gpd.GeoDataFrame({"name": [HOSTILE, "Y", "Z"], "kind": ["school"] * 3},
                           geometry=[Point(15.1, 56.1), Point(15.11, 56.1), Point(15.3, 56.2)],
                           crs="EPSG:4326")
    html = maps.map_html(maps.build_region_map(b, locs, layers={"s": ("Schools", "#d95f02", pts)}))
    trap = ("<script>window.__errors=[];window.onerror=function(m){window.__errors.push(String(m))};"
            "</script>")
    f = tmp_path / "map.html"
    f.write_text(html.replace("<head>", "<head>" + trap, 1), encoding="utf-8")
    drv = driver
    drv.get(f.as_uri())  # type: ignore[attr-defined]
    WebDriverWait(drv, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "path.locality-marker"))
    drv.execute_script("""document.querySelectorAll('.leaflet-control-layers-overlays input')
        .forEach(i => i.click());""")  # type: ignore[attr-defined]
    WebDriverWait(drv, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".marker-cluster"))
    assert drv.execute_script("return window.__errors") == []  # type: ignore[attr-defined]
    assert not drv.find_elements(By.CSS_SELECTOR, "img[src='x']")  # type: ignore[attr-defined]


def _in_frame(drv: object, css: str) -> list[object]:
    return list(drv.find_elements(By.CSS_SELECTOR, css))  # type: ignore[attr-defined]


def _place_in_url(drv: object) -> str:
    from urllib.parse import parse_qs, urlparse

    return parse_qs(urlparse(str(drv.current_url)).query).get("place", [""])[0]  # type: ignore[attr-defined]


def _click_smallest_locality(drv: object, breakdown: str = "Theme breakdown") -> None:
    """Click the last-drawn (smallest, topmost) locality marker and wait for its profile."""
    _map_frame(drv)
    _wait_markers(drv, 40)
    time.sleep(1.0)  # the fit (250 ms) and the zoom to a selected place (400 ms) move the markers
    marker = WebDriverWait(drv, 20).until(lambda d: [
        m for m in d.find_elements(By.CSS_SELECTOR, "path.locality-marker")[-1:] if m.size["width"]])[0]
    ActionChains(drv).move_to_element(marker).click().perform()
    drv.switch_to.default_content()  # type: ignore[attr-defined]
    WebDriverWait(drv, 60).until(lambda d: "page=profile" in d.current_url
                                 and breakdown in _body_text(d))


def _stays_on_map(drv: object, seconds: float = 3.0) -> bool:
    """No stale click reopens a profile by itself after coming back to the map."""
    time.sleep(seconds)
    return "page=map" in str(drv.current_url)  # type: ignore[attr-defined]


def test_selected_place_ring_and_repeat_clicks(app_url: str, driver: object) -> None:
    drv = driver
    drv.set_window_size(1400, 1000)  # type: ignore[attr-defined]
    drv.get(app_url + "/?page=map")  # type: ignore[attr-defined]
    _map_frame(drv, 180)
    _wait_markers(drv, 40, 180)
    assert not _in_frame(drv, "path.place-highlight")  # nothing selected yet
    county_zoom = float(drv.execute_script("return window.map.getZoom()"))  # type: ignore[attr-defined]
    drv.switch_to.default_content()  # type: ignore[attr-defined]

    # first click on a locality opens its profile
    _click_smallest_locality(drv)
    place = _place_in_url(drv)
    assert place
    # "Show on map": back on the map, the place is ringed, labelled and zoomed to
    show = [b for b in drv.find_elements(By.TAG_NAME, "button")  # type: ignore[attr-defined]
            if b.text.strip().endswith("Show on map")]
    assert show, "no 'Show on map' button on the profile"
    show[0].click()
    WebDriverWait(drv, 60).until(lambda d: "page=map" in d.current_url)
    _map_frame(drv)
    _wait_markers(drv, 40)
    WebDriverWait(drv, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "path.place-highlight"))
    label = WebDriverWait(drv, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip.place-label"))[0]
    assert label.text.strip()
    WebDriverWait(drv, 20).until(
        lambda d: float(d.execute_script("return window.map.getZoom()")) >= county_zoom + 2)
    drv.switch_to.default_content()  # type: ignore[attr-defined]
    drv.save_screenshot(str(SHOTS / "07_show_on_map.png"))  # type: ignore[attr-defined]
    assert _stays_on_map(drv)

    # second click on the same locality opens its profile again
    _click_smallest_locality(drv)
    assert _place_in_url(drv) == place

    # back to the map through the sidebar: ringed (county view), no stale click, third click works
    radio = [lab for lab in drv.find_elements(  # type: ignore[attr-defined]
        By.CSS_SELECTOR, "[data-testid='stSidebar'] label") if lab.text.strip() == "Map"]
    assert radio
    radio[0].click()
    WebDriverWait(drv, 60).until(lambda d: "page=map" in d.current_url)
    _map_frame(drv)
    _wait_markers(drv, 40)
    WebDriverWait(drv, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "path.place-highlight"))
    assert float(drv.execute_script("return window.map.getZoom()")) < county_zoom + 1  # type: ignore[attr-defined]
    drv.switch_to.default_content()  # type: ignore[attr-defined]
    drv.save_screenshot(str(SHOTS / "08_back_to_map_ringed.png"))  # type: ignore[attr-defined]
    assert _stays_on_map(drv)
    _click_smallest_locality(drv)
    assert _place_in_url(drv) == place


@pytest.mark.parametrize(("label", "size"), [("phone", (390, 844)), ("tablet", (820, 1180))])
def test_phone_and_tablet_layout(app_url: str, driver: object, label: str,
                                 size: tuple[int, int]) -> None:
    """Nothing overflows sideways; the map and the ranking are stacked, each at full width."""
    drv = driver
    drv.set_window_size(*size)  # type: ignore[attr-defined]
    try:
        drv.get(app_url + "/?page=map&place=1082TC102")  # type: ignore[attr-defined]
        _map_frame(drv, 180)
        _wait_markers(drv, 40, 180)
        WebDriverWait(drv, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".place-label"))
        drv.switch_to.default_content()  # type: ignore[attr-defined]
        time.sleep(1.0)
        inner, scroll = drv.execute_script(  # type: ignore[attr-defined]
            "return [window.innerWidth, document.documentElement.scrollWidth]")
        assert scroll <= inner
        frame = drv.find_element(By.CSS_SELECTOR, "iframe[title*='streamlit_folium']")  # type: ignore[attr-defined]
        table = drv.find_element(By.CSS_SELECTOR, "[data-testid='stDataFrame']")  # type: ignore[attr-defined]
        main = drv.find_element(By.CSS_SELECTOR, "[data-testid='stMainBlockContainer']")  # type: ignore[attr-defined]
        width = main.size["width"]
        for el in (frame, table):
            assert el.location["x"] + el.size["width"] <= inner
            assert el.size["width"] >= 0.8 * width  # stacked, not two thin columns
        assert table.location["y"] >= frame.location["y"] + frame.size["height"]
        if label == "phone":
            assert frame.size["height"] < 560  # shorter than on a desktop, fits the screen
            # the map inside follows the iframe's height
            drv.switch_to.frame(frame)  # type: ignore[attr-defined]
            inner_h = drv.execute_script(  # type: ignore[attr-defined]
                "return document.getElementById('map_div').getBoundingClientRect().height")
            drv.switch_to.default_content()  # type: ignore[attr-defined]
            assert abs(inner_h - frame.size["height"]) <= 2
        drv.save_screenshot(str(SHOTS / f"09_{label}_map.png"))  # type: ignore[attr-defined]
        drv.execute_script("arguments[0].scrollIntoView()", table)  # type: ignore[attr-defined]
        time.sleep(0.5)
        drv.save_screenshot(str(SHOTS / f"09_{label}_ranking.png"))  # type: ignore[attr-defined]
    finally:
        drv.set_window_size(1400, 1000)  # type: ignore[attr-defined]
