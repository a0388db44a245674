"""Real-browser test of the point score: headless Chromium opens ``?point=lat,lon`` on a store built
from the Blekinge pack (skipped without chromium or the pack).

The point, 56.30 N 15.00 E, lies in the forest north of Åryd (Karlshamn), outside every tätort.
Screenshots (English and Swedish, 1440x900 and 390x844) and the timings go to artifacts/point/
(git-ignored).
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import CHROMEDRIVER, CHROMIUM, chromium, serve_store

from geo.catalog import indicator_title
from geo.messages import fmt_distance
from geo.point import PointScore, score_point
from geo.scoring import build_model
from geo.store import open_snapshot

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "point"
LAT, LON = 56.30, 15.00
SEA = (56.05, 15.60)  # the Baltic south of Karlskrona
WINDOWS = {"desktop": "1440,900", "phone": "390,844"}

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.pack]

if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
    pytest.skip("Debian chromium / chromedriver not installed", allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

TIMINGS: dict[str, object] = {}


@pytest.fixture(scope="module")
def engine_point(blekinge_store: Path) -> PointScore:
    """The point scored by the engine (as the app does, default weights), with its timings."""
    snap = open_snapshot("blekinge", blekinge_store)
    model = build_model(snap)
    t0 = time.perf_counter()
    p = score_point(model, LAT, LON, snapshot=snap)
    cold = time.perf_counter() - t0
    warm = []
    cells = model.cells.iloc[::150]
    points = [(LAT, LON), (56.25, 14.80), (56.20, 15.30), (56.17, 15.59),
              *zip(cells["lat"], cells["lon"], strict=True)]
    for lat, lon in points:
        t0 = time.perf_counter()
        score_point(model, float(lat), float(lon))
        warm.append(time.perf_counter() - t0)
    TIMINGS.update(engine_cold_first_point_s=round(cold, 3),
                   engine_warm_point_median_s=round(statistics.median(warm), 3),
                   engine_warm_point_max_s=round(max(warm), 3), engine_warm_points=len(warm),
                   cells=len(model.cells))
    return p


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    with serve_store(blekinge_store, SHOTS) as url:
        yield url


def _body(drv: object) -> str:
    return str(drv.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]


def _wait_text(drv: object, text: str, timeout: float) -> float:
    t0 = time.perf_counter()
    WebDriverWait(drv, timeout, poll_frequency=0.1).until(lambda d: text in _body(d))
    return time.perf_counter() - t0


def _shot(drv: object, name: str) -> None:
    """Scroll the point panel into view and save a screenshot."""
    panels = drv.find_elements(By.CSS_SELECTOR, ".st-key-point_panel")  # type: ignore[attr-defined]
    if panels:
        drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", panels[0])  # type: ignore[attr-defined]
        time.sleep(0.5)
    drv.save_screenshot(str(SHOTS / f"{name}.png"))  # type: ignore[attr-defined]


def _expected(p: PointScore, key: str, lang: str) -> str:
    n = p.nearest_of(key)
    assert n is not None and n.place.name
    return f"{indicator_title(key, lang)}: {n.place.name}, {fmt_distance(n.place.distance_m, lang)}"


@pytest.mark.parametrize("size", list(WINDOWS))
def test_point_outside_every_locality_names_grocery_and_health(
        app_url: str, engine_point: PointScore, size: str) -> None:
    p = engine_point
    with chromium(WINDOWS[size]) as drv:
        for lang, head in (("en", "Nearest places"), ("sv", "Närmaste platser")):
            t0 = time.perf_counter()
            drv.get(f"{app_url}/?point={LAT:.5f},{LON:.5f}&lang={lang}")
            _wait_text(drv, head, 240)
            TIMINGS.setdefault(f"browser_{size}_{lang}_point_panel_s",
                               round(time.perf_counter() - t0, 2))
            body = _body(drv)
            for key in ("services.grocery", "services.health"):
                line = _expected(p, key, lang)
                assert line in body, (line, body[:3000])
            assert ("nearest known" if lang == "en" else "närmaste kända") in body
            title = "Point 56.3000, 15.0000" if lang == "en" else "Punkt 56,3000, 15,0000"
            assert title in body
            where = ("Countryside in Karlshamn municipality" if lang == "en"
                     else "Landsbygd i Karlshamn kommun")
            assert where in body
            overflow = drv.execute_script(
                "return document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, overflow  # no horizontal scrolling
            _shot(drv, f"point_{lang}_{size}")
        # a warm second point: the page reruns with the new query
        t0 = time.perf_counter()
        drv.get(f"{app_url}/?point=56.25000,14.80000&lang=en")
        _wait_text(drv, "Point 56.2500, 14.8000", 120)
        _wait_text(drv, "Nearest places", 120)
        TIMINGS[f"browser_{size}_warm_second_point_s"] = round(time.perf_counter() - t0, 2)
        # the sea: a message in the UI language, the page stays usable
        for lang, text in (("en", "is not on land in Blekinge län"),
                           ("sv", "ligger inte på land i Blekinge län")):
            drv.get(f"{app_url}/?point={SEA[0]:.5f},{SEA[1]:.5f}&lang={lang}")
            _wait_text(drv, text, 120)
            body = _body(drv)
            assert ("Ranking" if lang == "en" else "Rangordning") in body
            _shot(drv, f"point_sea_{lang}_{size}")
    (SHOTS / "timings.json").write_text(json.dumps(TIMINGS, indent=2) + "\n", encoding="utf-8")
