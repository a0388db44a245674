"""Real-browser test of the search box: headless Chromium, English and Swedish, desktop and phone.

Types a query into the box at the top of the map page, picks a hit and checks that the page (URL)
changes: a tätort opens its profile, a stop area becomes the scored point (``point=`` in the URL).
The store is built from the Blekinge pack (``blekinge_store``); the app runs offline
(``LIVABILITY_OFFLINE=1``), so no geocoder is asked. Screenshots go to artifacts/search/.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from _browser import chromium, have_chromium, serve_store

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "search"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.pack]

if not have_chromium():
    pytest.skip("Debian chromium / chromedriver not installed", allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WINDOWS = {"desktop": "1440,900", "phone": "390,844"}
PLACEHOLDER = {"en": "e.g. Lyckeby", "sv": "t.ex. Lyckeby"}


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    with serve_store(blekinge_store, SHOTS) as url:
        yield url


def _stop_name(pack_dir: Path) -> str:
    """A stop area of the pack whose name is no tätort's and starts no other stop's name."""
    stops = json.loads((pack_dir / "transit/stop_areas_gtfs_sverige_2022.geojson").read_text("utf-8"))
    names = sorted({f["properties"]["stop_name"] for f in stops["features"]})
    return next(n for n in names if "campus" in n.lower()
                and not any(o != n and o.lower().startswith(n.lower()) for o in names))


def _browser(window: str) -> Any:
    """Chromium at ``window``; a phone is emulated (headless Chromium's windows are at least 500
    px wide)."""
    ctx = chromium(WINDOWS[window])
    drv = ctx.__enter__()
    if window == "phone":
        drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    return ctx, drv


def _box(drv: object, lang: str, timeout: float = 90) -> object:
    def found(d: object) -> object:
        for el in d.find_elements(By.CSS_SELECTOR, "input[type='text']"):  # type: ignore[attr-defined]
            if (el.get_attribute("placeholder") or "").startswith(PLACEHOLDER[lang]):
                return el
        return False

    return WebDriverWait(drv, timeout).until(found)


def _params(drv: object) -> dict[str, list[str]]:
    return parse_qs(urlparse(drv.current_url).query)  # type: ignore[attr-defined]


def _no_horizontal_scroll(drv: object) -> bool:
    return bool(drv.execute_script(  # type: ignore[attr-defined]
        "return document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _pick(drv: object, starts: str, timeout: float = 60) -> None:
    def button(d: object) -> object:
        for b in d.find_elements(By.CSS_SELECTOR, "button"):  # type: ignore[attr-defined]
            # the label after the icon (a ligature, whose name is text too)
            if any(line.startswith(starts) for line in b.text.splitlines()) and b.is_displayed():
                return b
        return False

    for _ in range(5):  # the list may be redrawn between finding and clicking a button
        try:
            b = WebDriverWait(drv, timeout, ignored_exceptions=(StaleElementReferenceException,)
                              ).until(button)
            drv.execute_script("arguments[0].scrollIntoView({block: 'center'});", b)  # type: ignore[attr-defined]
            b.click()  # type: ignore[attr-defined]
            return
        except StaleElementReferenceException:
            time.sleep(0.5)
    raise AssertionError(f"no search hit {starts!r} to click")


_DISTANCE = r"\d+(?:[.,]\d+)?\s(?:m|km)"


def _assert_point_panel(drv: object, lang: str, timeout: float = 120) -> str:
    """The point panel is open and names the nearest grocery store and health centre with their
    distances ("Grocery store on foot: ICA Nära …, 1.2 km …"); returns the page text."""
    import re

    from geo.catalog import indicator_title

    head = "Nearest places" if lang == "en" else "Närmaste platser"
    WebDriverWait(drv, timeout, poll_frequency=0.2).until(
        lambda d: head in d.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]
    body = str(drv.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]
    for key in ("services.grocery", "services.health"):
        title = re.escape(indicator_title(key, lang))
        lines = [ln for ln in body.splitlines() if ln.startswith(indicator_title(key, lang))]
        assert lines and re.search(rf"^{title}: [^\n]+?, {_DISTANCE}", lines[0]), (key, lines)
    return body


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_search_a_stop_and_a_tatort(app_url: str, pack_dir: Path, lang: str, window: str) -> None:
    stop = _stop_name(pack_dir)
    timings = {}
    ctx, drv = _browser(window)
    try:
        drv.get(f"{app_url}/?lang={lang}")
        box = _box(drv, lang)
        # visible without opening the sidebar, inside the screen on a phone
        rect = drv.execute_script("return arguments[0].getBoundingClientRect().toJSON()", box)
        width = drv.execute_script("return window.innerWidth")
        assert width == int(WINDOWS[window].split(",")[0])
        assert rect["width"] > 200 and rect["x"] >= 0 and rect["x"] + rect["width"] <= width
        assert rect["y"] < int(WINDOWS[window].split(",")[1])  # in the first screen
        box.send_keys(stop[:-2], Keys.ENTER)  # a prefix: the stop is the first hit
        t0 = time.perf_counter()
        _pick(drv, stop)
        WebDriverWait(drv, 60).until(lambda d: "point" in _params(d))
        timings["stop_to_url"] = time.perf_counter() - t0
        lat, lon = (float(v) for v in _params(drv)["point"][0].split(","))
        assert 55.9 < lat < 56.6 and 14.3 < lon < 16.2
        assert stop in _assert_point_panel(drv, lang)  # the panel is named after the hit
        timings["stop_to_panel"] = time.perf_counter() - t0
        time.sleep(1.5)
        assert _no_horizontal_scroll(drv)
        drv.save_screenshot(str(SHOTS / f"stop-{lang}-{window}.png"))
        box = _box(drv, lang)
        assert box.get_attribute("value") == ""  # the choice cleared the box
        box.send_keys("Lyckeby", Keys.ENTER)
        before = _params(drv)["point"]
        _pick(drv, "Lyckeby")  # not a tätort: its first hit is a Lyckeby stop, scored as a point
        WebDriverWait(drv, 60).until(lambda d: _params(d).get("point") not in (None, before))
        assert "Lyckeby" in _assert_point_panel(drv, lang)
        drv.save_screenshot(str(SHOTS / f"lyckeby-{lang}-{window}.png"))
        _box(drv, lang).send_keys(Keys.CONTROL, "a")
        _box(drv, lang).send_keys("Kallinge", Keys.ENTER)
        _pick(drv, "Kallinge")
        WebDriverWait(drv, 60).until(lambda d: _params(d).get("page") == ["profile"])
        assert _params(drv)["place"][0].endswith(tuple("0123456789"))
        time.sleep(1.5)
        drv.save_screenshot(str(SHOTS / f"profile-{lang}-{window}.png"))
    finally:
        ctx.__exit__(None, None, None)
    with (SHOTS / "timings.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"lang": lang, "window": window, **timings}) + "\n")


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_hostile_and_empty_queries_in_the_browser(app_url: str, lang: str) -> None:
    ctx, drv = _browser("phone")
    try:
        drv.get(f"{app_url}/?lang={lang}")
        box = _box(drv, lang)
        box.send_keys(Keys.ENTER)  # empty: nothing
        time.sleep(1)
        box = _box(drv, lang)
        box.send_keys("<img src=x onerror=alert(1)>" + "x" * 300, Keys.ENTER)
        want = "No place called" if lang == "en" else "Ingen plats som heter"
        WebDriverWait(drv, 60).until(lambda d: want in d.find_element(By.TAG_NAME, "body").text)
        body = drv.find_element(By.TAG_NAME, "body").text
        assert "<img src=x onerror=alert(1)>" in body  # shown as text
        assert not drv.find_elements(By.CSS_SELECTOR, "img[src='x']")  # never rendered
        assert _no_horizontal_scroll(drv)
        drv.save_screenshot(str(SHOTS / f"hostile-{lang}-phone.png"))
    finally:
        ctx.__exit__(None, None, None)
