"""Real-browser test of the place profile: a family's reading of it on a desktop, on a phone, on A4.

Headless Debian Chromium against a store built from the Blekinge pack (skips without chromium or
the pack). For a town, a village and a municipality, in English and Swedish, at 1440x900 and
390x844: no horizontal scrolling, the small map is drawn with the place and its amenities, and
the print view (Chromium's print to PDF, A4) has at most :data:`MAX_PAGES` pages and, in print
media, shows the headline, the lists and the sources and hides the sidebar and the widgets.
Full-page screenshots go to artifacts/profile/ (git-ignored).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _browser import chromium, have_chromium, serve_store

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "profile"
#: the print view of a profile fits on this many A4 pages
MAX_PAGES = 3
#: A4 in PDF points (1/72 inch), as Chromium writes the MediaBox
A4_PT = (595, 842)
#: (place code, what, words the English page shows, words the Swedish page shows)
PLACES = [
    ("1080TC109", "town", "Karlskrona", "Better than", "Bättre än"),
    ("1082TC102", "town2", "Karlshamn", "Better than", "Bättre än"),
    ("1080", "municipality", "Karlskrona", "Localities in the municipality", "Tätorter i kommunen"),
]
WINDOWS = {"desktop": (1440, 900), "phone": (390, 844)}

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.pack]

if not have_chromium():
    pytest.skip("Debian chromium / chromedriver not installed", allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.print_page_options import PrintOptions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    with serve_store(blekinge_store, SHOTS) as url:
        yield url


def _body(drv: object) -> str:
    return str(drv.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]


def _idle(drv: object) -> bool:
    return not drv.find_elements(By.CSS_SELECTOR, "[data-testid='stStatusWidget']")  # type: ignore[attr-defined]


def _open(drv: object, url: str, words: str) -> None:
    drv.get(url)  # type: ignore[attr-defined]
    WebDriverWait(drv, 180).until(lambda d: words in _body(d) and d.find_elements(
        By.CSS_SELECTOR, "iframe[srcdoc]") and d.find_elements(
        By.CSS_SELECTOR, "[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas"))
    WebDriverWait(drv, 60).until(_idle)
    time.sleep(1.0)  # the map fits its bounds 250 ms after it is sized


def _map_paths(drv: object) -> int:
    """Leaflet paths (boundary, ring, amenity dots) drawn in the small map's frame."""
    frame = drv.find_element(By.CSS_SELECTOR, "iframe[srcdoc]")  # type: ignore[attr-defined]
    assert frame.get_attribute("title").strip() not in ("", "st.iframe")
    drv.switch_to.frame(frame)  # type: ignore[attr-defined]
    try:
        WebDriverWait(drv, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR,
                                                              ".leaflet-container path"))
        return len(drv.find_elements(By.CSS_SELECTOR, ".leaflet-container path.leaflet-interactive,"  # type: ignore[attr-defined]
                                                      " .leaflet-container path"))
    finally:
        drv.switch_to.default_content()  # type: ignore[attr-defined]


def _viewport(drv: object, width: int, height: int) -> None:
    """Emulate a ``width`` x ``height`` screen (headless Chromium's windows are >= 500 px wide)."""
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {  # type: ignore[attr-defined]
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})


def _full_shot(drv: object, path: Path, width: int, height: int) -> None:
    """A screenshot of the whole page at the screen's width (the screen grows, then shrinks)."""
    full = int(drv.execute_script(  # type: ignore[attr-defined]
        "const m = document.querySelector('[data-testid=\"stMain\"]') || document.body;"
        "return Math.max(m.scrollHeight, document.documentElement.scrollHeight);"))
    _viewport(drv, width, min(full + 40, 9000))
    time.sleep(0.8)
    drv.save_screenshot(str(path))  # type: ignore[attr-defined]
    _viewport(drv, width, height)


def _pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of each page of a PDF Chromium wrote (uncompressed page dicts)."""
    boxes = []
    for m in re.finditer(rb"/Type\s*/Page\b(?!s)", pdf):
        start = pdf.rfind(b"obj", 0, m.start())
        end = pdf.find(b"endobj", m.end())
        box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]",
                        pdf[start:end])
        if box:
            x0, y0, x1, y1 = (float(v) for v in box.groups())
            boxes.append((x1 - x0, y1 - y0))
        else:
            boxes.append((float("nan"), float("nan")))
    return boxes


def _a4() -> PrintOptions:
    opts = PrintOptions()
    opts.page_width, opts.page_height = 21.0, 29.7  # cm
    opts.background = True
    return opts


def _print_media_check(drv: object) -> dict[str, object]:
    """In print media: what is shown and hidden (the PDF's text is compressed glyph ids)."""
    drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})  # type: ignore[attr-defined]
    try:
        return dict(drv.execute_script("""  // type: ignore
            const vis = el => !!el && getComputedStyle(el).display !== 'none'
                && el.getBoundingClientRect().height > 0;
            const q = s => document.querySelector(s);
            return {
              sidebar: vis(q('[data-testid="stSidebar"]')),
              selectbox: vis(q('[data-testid="stSelectbox"]')),
              button: vis(q('[data-testid="stButton"]')),
              headline: vis(q('.pf-head')),
              sources: vis(q('.st-key-pf_sec_sources')),
              gaps: vis(q('.st-key-pf_sec_gaps')),
              text: document.querySelector('[data-testid="stMainBlockContainer"]').innerText,
            };"""))  # type: ignore[attr-defined]
    finally:
        drv.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})  # type: ignore[attr-defined]


@pytest.mark.parametrize("device", list(WINDOWS))
def test_profile_reads_on_screen_and_prints_on_a4(app_url: str, device: str) -> None:
    width, height = WINDOWS[device]
    with chromium(f"{max(width, 500)},{height}") as drv:
        _viewport(drv, width, height)
        for code, what, name, en_words, sv_words in PLACES:
            for lang, words in (("en", en_words), ("sv", sv_words)):
                _open(drv, f"{app_url}/?page=profile&place={code}&lang={lang}", words)
                body = _body(drv)
                assert name in body
                assert "None" not in body and "nan" not in body.split()
                # no horizontal scrolling
                sw, iw = drv.execute_script(  # type: ignore[attr-defined]
                    "return [document.documentElement.scrollWidth, window.innerWidth]")
                assert sw <= iw, (code, lang, device, sw, iw)
                # the small map: boundary, the place's ring and (a locality) its amenities
                paths = _map_paths(drv)
                assert paths >= (3 if what == "municipality" else 8), (code, paths)
                _full_shot(drv, SHOTS / f"profile_{what}_{lang}_{device}.png", width, height)
                # print view: A4, few pages, the reading parts shown, the controls hidden
                seen = _print_media_check(drv)
                assert seen["headline"] and seen["sources"] and seen["gaps"], seen
                assert not (seen["sidebar"] or seen["selectbox"] or seen["button"]), seen
                assert name in str(seen["text"])
                pdf = base64.b64decode(drv.print_page(_a4()))  # type: ignore[attr-defined]
                if device == "desktop":
                    (SHOTS / f"profile_{what}_{lang}.pdf").write_bytes(pdf)
                pages = _pdf_pages(pdf)
                assert pdf[:5] == b"%PDF-" and 1 <= len(pages) <= MAX_PAGES, (code, lang, pages)
                assert all(abs(w - A4_PT[0]) < 2 and abs(h - A4_PT[1]) < 2 for w, h in pages), pages
