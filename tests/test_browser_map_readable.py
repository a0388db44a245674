"""Real Chromium: the county map reads like a map (issue 10, item 1), on the Blekinge store.

Both languages, desktop (1440x900) and phone (390x844), no tiles: place names are drawn, the
in-map legend lists exactly the visible layers (and follows the layer control), a marker's tooltip
is in words with no internal code, a click on a marker opens that profile and a click on empty
land sets a point (``point=`` in the URL). Screenshots go to artifacts/mapread/ (git-ignored).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import chromium, have_chromium, serve_store

from geo.catalog import indicator_title

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "mapread"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.pack]

if not have_chromium():
    pytest.skip("Debian chromium / chromedriver not installed", allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WORDS = {"en": (r"^.+: \d+, .+, \d+(st|nd|rd|th) of \d+$", "Theme breakdown", "Schools"),
         "sv": (r"^.+: \d+, .+, plats \d+ av \d+$", "Poäng per tema", "Skolor")}
CODE = re.compile(r"\d{4}T[A-Z]\d{3}")


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    with serve_store(blekinge_store, SHOTS) as url:
        yield url


def _enter_map(drv: object, timeout: float = 180) -> object:
    frame = WebDriverWait(drv, timeout).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, "iframe[title*='streamlit_folium'], iframe[title*='map' i]")))
    # fully in view: Selenium aims at the visible part's centre
    drv.execute_script("arguments[0].scrollIntoView({block: 'center'})", frame)  # type: ignore[attr-defined]
    time.sleep(0.4)
    drv.switch_to.frame(frame)  # type: ignore[attr-defined]
    WebDriverWait(drv, timeout).until(lambda d: len(d.find_elements(
        By.CSS_SELECTOR, "path.locality-marker")) >= 40)
    time.sleep(1.2)  # the fit to the region (250 ms) and the first label layout
    return frame


def _viewport_xy(drv: object, lat: float, lng: float) -> tuple[int, int]:
    """Where (lat, lng) is in the page's viewport (pixels): the frame's offset added, as
    chromedriver takes pointer positions in the top-level viewport."""
    x, y = drv.execute_script("""
        var p = window.map.latLngToContainerPoint([arguments[0], arguments[1]]);
        var r = window.map.getContainer().getBoundingClientRect();
        var f = window.frameElement ? window.frameElement.getBoundingClientRect() : {left: 0, top: 0};
        return [f.left + r.left + p.x, f.top + r.top + p.y];""", lat, lng)  # type: ignore[attr-defined]
    return round(x), round(y)


def _pointer(drv: object, lat: float, lng: float, click: bool) -> None:
    """Move the real pointer to (lat, lng) on the map, and click there when ``click``.

    The pointer is calibrated once: moved, then corrected by where the map saw it (the frame's
    position in chromedriver's pointer coordinates is off by the page's scrolling container).
    """
    drv.execute_script("""window.__seen = null; window.map.off('mousemove', window.__seenFn);
        window.__seenFn = function (e) { window.__seen = [e.containerPoint.x, e.containerPoint.y]; };
        window.map.on('mousemove', window.__seenFn);""")  # type: ignore[attr-defined]
    x, y = _viewport_xy(drv, lat, lng)
    want = drv.execute_script("""var p = window.map.latLngToContainerPoint([arguments[0], arguments[1]]);
        return [p.x, p.y];""", lat, lng)  # type: ignore[attr-defined]
    for _ in range(3):
        actions = ActionBuilder(drv)
        actions.pointer_action.move_to_location(x, y)
        actions.perform()
        time.sleep(0.2)
        seen = drv.execute_script("return window.__seen")  # type: ignore[attr-defined]
        if seen is None:
            break
        dx, dy = want[0] - seen[0], want[1] - seen[1]
        if abs(dx) < 1 and abs(dy) < 1:
            break
        x, y = round(x + dx), round(y + dy)
    if click:
        actions = ActionBuilder(drv)
        actions.pointer_action.click()
        actions.perform()


def _click_at(drv: object, lat: float, lng: float) -> None:
    """Click the map at (lat, lng) with the real pointer (press and release where a user would).

    A press used to scroll the app's page (Leaflet focusing the map inside the iframe), so the
    release landed about 20 px lower and a marker click became a map click; geo.maps.ClickSnap
    now focuses without scrolling, and this drives the pointer to prove it."""
    _pointer(drv, lat, lng, click=True)


def _marker(drv: object, rank_from_top: int = 1) -> tuple[str, float, float]:
    """(code, lat, lng) of a locality marker in view (the n-th largest)."""
    return tuple(drv.execute_script("""
        var out = [], b = window.map.getBounds().pad(-0.1);
        window.map.eachLayer(function (l) {
            if (l.options && l.options.code && b.contains(l.getLatLng())) {
                out.push([l.options.code, l.getLatLng().lat, l.getLatLng().lng, l.getRadius()]);
            }
        });
        out.sort(function (a, b) { return b[3] - a[3]; });
        return out[Math.min(arguments[0], out.length) - 1].slice(0, 3);""", rank_from_top))


def _visible_legend(drv: object) -> list[str]:
    return list(drv.execute_script("""
        return Array.from(document.querySelectorAll('.map-legend-entry'))
            .filter(e => e.dataset.visible === '1').map(e => e.dataset.layer.trim());"""))


def _checked_overlays(drv: object) -> list[str]:
    return list(drv.execute_script("""
        return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
            .filter(l => l.querySelector('input').checked).map(l => l.textContent.trim());"""))


_TOGGLE = """const l = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))
    .find(l => l.textContent.includes(arguments[0])); l.querySelector('input').click();"""


@pytest.mark.parametrize("lang", ["en", "sv"])
@pytest.mark.parametrize(("label", "size"), [("desktop", (1440, 900)), ("phone", (390, 844))])
def test_map_reads_like_a_map(app_url: str, lang: str, label: str, size: tuple[int, int]) -> None:
    tip_re, breakdown, schools = WORDS[lang]
    with chromium(f"{size[0]},{size[1]}") as drv:
        drv.get(f"{app_url}/?page=map&lang={lang}")
        _enter_map(drv)
        # place names without tiles, collision-free
        shown = drv.execute_script("return window.__livabilityLabels()")
        assert len(shown) >= (15 if label == "desktop" else 5), shown
        assert not drv.find_elements(By.CSS_SELECTOR, ".leaflet-tile")
        boxes = drv.execute_script("""return Array.from(document.querySelectorAll('.place-name'))
            .filter(e => e.style.visibility !== 'hidden')
            .map(e => { const r = e.firstChild.getBoundingClientRect();
                        return [r.left, r.top, r.right, r.bottom]; });""")
        edge = drv.execute_script("const r = document.querySelector('.leaflet-container')"
                                  ".getBoundingClientRect(); return [r.left, r.right];")
        for a in boxes:  # no shown name cut by the map's edge (one at the right edge flips left)
            assert edge[0] - 1 <= a[0] and a[2] <= edge[1] + 1, (a, edge)
        for i, a in enumerate(boxes):
            for b in boxes[:i]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
        # the legend lists exactly the visible layers, and follows the layer control
        assert sorted(_visible_legend(drv)) == sorted(_checked_overlays(drv)) != []
        drv.execute_script(_TOGGLE, schools)
        WebDriverWait(drv, 10).until(lambda d: any(schools in t for t in _visible_legend(d)))
        assert sorted(_visible_legend(drv)) == sorted(_checked_overlays(drv))
        drv.switch_to.default_content()
        drv.save_screenshot(str(SHOTS / f"map_{lang}_{label}.png"))
        drv.switch_to.frame(drv.find_element(By.CSS_SELECTOR, "iframe[title*='streamlit_folium'], "
                                                               "iframe[title*='map' i]"))
        drv.execute_script(_TOGGLE, schools)  # off again: the clusters would cover the markers
        WebDriverWait(drv, 10).until(lambda d: not any(schools in t for t in _visible_legend(d)))
        assert sorted(_visible_legend(drv)) == sorted(_checked_overlays(drv))
        # a marker's tooltip in words, no internal code
        code, lat, lng = _marker(drv, 2)
        _pointer(drv, lat, lng, click=False)
        tip = WebDriverWait(drv, 10).until(lambda d: [t.get_attribute("textContent").strip() for t in
                                                      d.find_elements(By.CSS_SELECTOR, ".leaflet-tooltip")
                                                      if t.get_attribute("textContent").strip()])[0]
        assert re.match(tip_re, tip), tip
        assert not CODE.search(tip) and "[" not in tip and "#" not in tip
        drv.switch_to.default_content()
        drv.save_screenshot(str(SHOTS / f"tooltip_{lang}_{label}.png"))
        # a click on the marker opens that profile (and sets no point)
        drv.switch_to.frame(drv.find_element(By.CSS_SELECTOR, "iframe[title*='streamlit_folium'], "
                                                               "iframe[title*='map' i]"))
        _click_at(drv, lat, lng)
        drv.switch_to.default_content()
        WebDriverWait(drv, 60).until(lambda d: "page=profile" in d.current_url
                                     and f"place={code}" in d.current_url)
        assert "point=" not in drv.current_url
        WebDriverWait(drv, 60).until(lambda d: breakdown in d.find_element(By.TAG_NAME, "body").text)
        # a click on empty land (inland, far from every locality) sets a point
        drv.get(f"{app_url}/?page=map&lang={lang}")
        _enter_map(drv)
        _click_at(drv, 56.45, 15.05)
        drv.switch_to.default_content()
        WebDriverWait(drv, 60).until(lambda d: "point=" in d.current_url)
        assert "page=map" in drv.current_url and "page=profile" not in drv.current_url
        lat_s, lng_s = re.search(r"point=([\d.]+)%2C([\d.]+)", drv.current_url).groups()
        assert abs(float(lat_s) - 56.45) < 0.01 and abs(float(lng_s) - 15.05) < 0.01
        # ... and the point is scored: the panel names the nearest grocery store and health centre
        head = "Nearest places" if lang == "en" else "Närmaste platser"
        WebDriverWait(drv, 120).until(lambda d: head in d.find_element(By.TAG_NAME, "body").text)
        body = drv.find_element(By.TAG_NAME, "body").text
        for key in ("services.grocery", "services.health"):
            lines = [ln for ln in body.splitlines() if ln.startswith(indicator_title(key, lang))]
            assert lines and re.search(rf"^{re.escape(indicator_title(key, lang))}: [^\n]+?, "
                                       r"\d+(?:[.,]\d+)?\s(?:m|km)", lines[0]), (key, lines)
        time.sleep(1.0)
        drv.save_screenshot(str(SHOTS / f"point_{lang}_{label}.png"))
