"""Every page, in English and Swedish, on a desktop (1440x900) and a phone (390x844) window.

Against a store built from the Blekinge pack (skip without it or without Chromium): each page is
opened from its URL, saved as artifacts/pages/<page>_<lang>_<desktop|phone>.png (what the window
shows first) and ..._full.png (the whole page, the window grown to its height), and must not
scroll sideways, log a severe console error or show a Streamlit exception / error panel.
The About page's content (no local path, the methodology in both languages) is checked with
AppTest on the SYNTHETIC store.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from _app_fixtures import run_app, write_synthetic_store
from _browser import chromium, have_chromium, serve_store
from _pages import (
    LANGS,
    PAGES,
    ROOT,
    WINDOWS,
    exception_boxes,
    horizontal_overflow,
    page_url,
    settled,
    severe_console,
    wait_map,
)

OUT = ROOT / "artifacts" / "pages"


def _need_browser() -> None:
    if not have_chromium():
        pytest.skip("Debian chromium / chromedriver not installed (.ci/setup-browser.sh)")
    pytest.importorskip("selenium")


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    """The app on a free port against the store built from the pack (no base tiles)."""
    _need_browser()
    with serve_store(blekinge_store, OUT) as url:
        yield url


@pytest.fixture(scope="module")
def drivers() -> Iterator[dict[str, Any]]:
    """window name -> Chromium of that size (both started once for the module)."""
    _need_browser()
    with ExitStack() as stack:
        yield {w: stack.enter_context(chromium(size)) for w, size in WINDOWS.items()}


def _full_page_shot(drv: Any, path: Path, window: str) -> None:
    """Grow the window to the page's height, save ``path``, restore the window."""
    width, height = (int(v) for v in WINDOWS[window].split(","))
    full = int(drv.execute_script(
        "const m = document.querySelector(\"[data-testid='stMain']\") || document.body;"
        "return Math.max(m.scrollHeight, document.documentElement.scrollHeight);"))
    drv.set_window_size(width, min(max(full + 120, height), 7000))
    time.sleep(0.6)
    drv.save_screenshot(str(path))
    drv.set_window_size(width, height)
    time.sleep(0.3)


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.pack
def test_every_page_renders_cleanly(app_url: str, drivers: dict[str, Any], page: str, lang: str,
                                    window: str) -> None:
    drv = drivers[window]
    severe_console(drv)  # drop what earlier pages logged
    drv.get(page_url(app_url, page, lang))
    settled(drv, 180)
    if page == "map":
        wait_map(drv, 180)
    time.sleep(0.5)
    name = f"{page}_{lang}_{window}"
    drv.save_screenshot(str(OUT / f"{name}.png"))
    overflow = horizontal_overflow(drv)
    boxes = exception_boxes(drv)
    console = severe_console(drv)
    _full_page_shot(drv, OUT / f"{name}_full.png", window)
    assert (OUT / f"{name}.png").stat().st_size > 10_000
    assert overflow == 0, f"{name}: the page scrolls {overflow} px sideways"
    assert boxes == [], f"{name}: {boxes}"
    assert console == [], f"{name}: severe console messages {console}"


@pytest.mark.parametrize("lang,heading,phrase", [
    ("en", "How the scores work", "nearest known"),
    ("sv", "Så fungerar poängen", "närmaste kända"),
])
def test_about_page_explains_the_method_without_a_local_path(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, lang: str, heading: str,
        phrase: str) -> None:
    """SYNTHETIC store: region and build date only (no path), the methodology in ``lang``."""
    data = write_synthetic_store(tmp_path / "data")
    at = run_app(monkeypatch, data, page="data", lang=lang)
    assert not at.exception
    texts = [str(e.value) for e in (*at.markdown, *at.caption, *at.metric, *at.header,
                                    *at.subheader, *at.warning)]
    assert not [x for x in texts if str(tmp_path) in x or "/blekinge" in x.replace("\\", "")]
    assert at.metric[0].label == "Region"
    assert heading in [h.value for h in at.header]
    body = "\n".join(texts).replace("\\", "")
    assert phrase in body
    assert ("80-100 most errands on foot" if lang == "en" else "80-100 de flesta ärenden till fots") \
        in body
    # the table headers are named (no empty column header for axe's empty-table-header)
    assert all(all(str(c).strip() for c in df.value.columns) for df in at.dataframe)
