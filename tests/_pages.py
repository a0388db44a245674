"""Every page of the explorer for the browser tests: URLs, waits and what a finished page is.

Used by tests/test_browser_a11y.py, tests/test_browser_pages.py and tests/test_browser_timings.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: axe-core as ``make test`` installs it (tests/a11y/package.json pins the version).
AXE_JS = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"

#: Karlskrona (the largest tätort) and Karlshamn: real codes of the Blekinge pack.
PROFILE_PLACE = "1080TC109"
COMPARE_PLACES = "1080TC109,1082TC102,1081TC104"
#: page -> query string (without ``lang``): every page of the app with something to show.
PAGES: dict[str, str] = {
    "map": "page=map",
    "profile": f"page=profile&place={PROFILE_PLACE}",
    "compare": f"page=compare&compare={COMPARE_PLACES}",
    "export": "page=export",
    "data": "page=data",
}
LANGS = ("en", "sv")
#: The map's component iframe (streamlit-folium); its title is set by the app (see app.view_map).
MAP_IFRAME = "iframe[title*='streamlit_folium'], [data-testid='stCustomComponentV1']"
WINDOWS = {"desktop": "1440,900", "phone": "390,844"}


def page_url(base: str, page: str, lang: str) -> str:
    """The URL of ``page`` in ``lang`` on the server at ``base``."""
    return f"{base}/?{PAGES[page]}&lang={lang}"


def running(drv: Any) -> bool:
    """True while Streamlit shows its "running" status widget."""
    return bool(drv.execute_script(
        "return document.querySelector(\"[data-testid='stStatusWidget']\") !== null"))


def settled(drv: Any, timeout: float = 90.0, quiet: float = 0.8) -> None:
    """Wait until the app is rendered and idle: the title is there and no run for ``quiet`` s."""
    deadline = time.time() + timeout
    calm_since: float | None = None
    while time.time() < deadline:
        ready = drv.execute_script(
            "return !!document.querySelector(\"[data-testid='stMainBlockContainer'] h1\")")
        if ready and not running(drv):
            calm_since = calm_since or time.time()
            if time.time() - calm_since >= quiet:
                return
        else:
            calm_since = None
        time.sleep(0.1)
    raise TimeoutError(f"the page did not settle within {timeout:.0f} s")


def map_frame(drv: Any) -> Any:
    """The map iframe element, or None when the page shows no map."""
    from selenium.webdriver.common.by import By

    frames = drv.find_elements(By.CSS_SELECTOR, "iframe")
    for f in frames:
        if f.get_attribute("srcdoc") or "streamlit_folium" in (f.get_attribute("src") or ""):
            return f
    return frames[0] if frames else None


def wait_map(drv: Any, timeout: float = 120.0, markers: int = 40) -> float:
    """Wait until the map iframe shows ``markers`` locality markers; returns the wait in seconds.

    Leaves the driver in the top document.
    """
    t0 = time.perf_counter()
    deadline = time.time() + timeout
    while time.time() < deadline:
        frame = map_frame(drv)
        if frame is not None:
            try:
                drv.switch_to.frame(frame)
                n = drv.execute_script(
                    "return document.querySelectorAll('.leaflet-container path.locality-marker')"
                    ".length")
            except Exception:  # the frame was replaced while switching: look again
                n = 0
            finally:
                drv.switch_to.default_content()
            if n >= markers:
                return time.perf_counter() - t0
        time.sleep(0.05)
    raise TimeoutError(f"the map did not show {markers} locality markers within {timeout:.0f} s")


def exception_boxes(drv: Any) -> list[str]:
    """Texts of Streamlit exception boxes and the app's error panels on the page."""
    return list(drv.execute_script("""
        return Array.from(document.querySelectorAll(
            "[data-testid='stException'], [data-testid='stAlertContentError']"))
            .map(e => e.innerText.slice(0, 300));"""))


def horizontal_overflow(drv: Any) -> int:
    """How many CSS pixels the page scrolls sideways (0: none)."""
    return int(drv.execute_script(
        "const d = document.documentElement, b = document.body;"
        "return Math.max(d.scrollWidth, b.scrollWidth) - d.clientWidth;"))


def severe_console(drv: Any) -> list[str]:
    """The browser console's SEVERE entries since the last call (Chromium's log)."""
    try:
        logs = drv.get_log("browser")
    except Exception:
        return []
    return [e["message"] for e in logs if e.get("level") == "SEVERE"]
