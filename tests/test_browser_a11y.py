"""WCAG 2.1 AA in a real browser: axe-core on every page, in English and Swedish, desktop and phone.

The app serves a store built from the Blekinge pack (skip without it); axe-core is the npm package
pinned in tests/a11y/package.json, which ``make test`` installs into the git-ignored
tests/a11y/node_modules (skip, with how to install it, when it is not there). axe runs in the page
and inside the map's iframe; every serious or critical violation fails the test with its rule id,
targets and help. The full results (all impacts) go to artifacts/a11y/. Also: the map frame has an
accessible name in the UI language, and a keyboard alone reaches every place (the place picker
under the ranking lists every locality and opens its profile).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from _app_fixtures import PLACES, run_app, write_synthetic_store
from _browser import chromium, have_chromium, serve_store
from _pages import AXE_JS, LANGS, PAGES, ROOT, WINDOWS, map_frame, page_url, settled, wait_map

OUT = ROOT / "artifacts" / "a11y"
#: impacts that fail the test (WCAG AA blockers); moderate and minor ones are only recorded
BLOCKING = ("serious", "critical")
#: axe's WCAG 2.0/2.1 A and AA rules plus its best practices
_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(function (r) {
  done(r.violations.map(function (v) { return {
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(function (n) { return {target: n.target.join(' '),
                                             summary: (n.failureSummary || '').slice(0, 400)}; })};
  }));
}).catch(function (e) { done('axe failed: ' + e); });
"""

def _need_browser() -> None:
    if not have_chromium():
        pytest.skip("Debian chromium / chromedriver not installed (.ci/setup-browser.sh)")
    pytest.importorskip("selenium")
    if not AXE_JS.is_file():
        pytest.skip(f"axe-core not installed at {AXE_JS.relative_to(ROOT)}: run `make axe` "
                    "(npm install of tests/a11y/package.json)")


@pytest.fixture(scope="module")
def app_url(blekinge_store: Path) -> Iterator[str]:
    """The app on a free port against the store built from the pack (no base tiles)."""
    _need_browser()
    with serve_store(blekinge_store, OUT) as url:
        yield url


class _Drivers(dict):  # type: ignore[type-arg]
    """window name -> a Chromium of that size, started on first use, quit by the fixture."""

    def __init__(self, stack: ExitStack) -> None:
        super().__init__()
        self._stack = stack

    def __missing__(self, window: str) -> Any:
        drv = self._stack.enter_context(chromium(WINDOWS[window]))
        drv.set_script_timeout(120)
        self[window] = drv
        return drv


@pytest.fixture(scope="module")
def drivers() -> Iterator[dict[str, Any]]:
    """One Chromium per window size (desktop, phone)."""
    _need_browser()
    with ExitStack() as stack:
        yield _Drivers(stack)


def _axe(drv: Any) -> list[dict[str, Any]]:
    """axe-core's violations in the driver's current document (axe injected first)."""
    drv.execute_script(AXE_JS.read_text(encoding="utf-8"))
    res = drv.execute_async_script(_RUN)
    assert isinstance(res, list), res
    return res


def _blocking(violations: list[dict[str, Any]], where: str) -> list[str]:
    """One line per serious/critical violation: rule, impact, help, the first targets."""
    out = []
    for v in violations:
        if v["impact"] in BLOCKING:
            targets = "; ".join(n["target"][:120] for n in v["nodes"][:4])
            out.append(f"{where}: {v['id']} ({v['impact']}, {len(v['nodes'])} nodes) {v['help']} "
                       f"-> {targets} | {v['nodes'][0]['summary'][:200]}")
    return out


@pytest.mark.parametrize("window", list(WINDOWS))
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.pack
def test_axe_finds_no_serious_or_critical_violation(app_url: str, drivers: dict[str, Any],
                                                     page: str, lang: str, window: str) -> None:
    drv = drivers[window]
    drv.get(page_url(app_url, page, lang))
    settled(drv, 180)
    if page == "map":
        wait_map(drv, 180)
    time.sleep(0.5)  # let the last paint (and its fade-in) finish
    found = {"page": _axe(drv)}
    frame = map_frame(drv)
    if frame is not None:
        drv.switch_to.frame(frame)
        try:
            found["map iframe"] = _axe(drv)
        finally:
            drv.switch_to.default_content()
    (OUT / f"axe_{page}_{lang}_{window}.json").write_text(
        json.dumps(found, indent=1, ensure_ascii=False), encoding="utf-8")
    if page == "map":
        assert "map iframe" in found, "no map iframe on the map page"
    problems = [line for where, vs in found.items() for line in _blocking(vs, where)]
    assert problems == [], "axe-core found serious/critical violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("lang,label", [("en", "Interactive map of Blekinge län"),
                                        ("sv", "Interaktiv karta över Blekinge län")])
@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.pack
def test_map_frame_has_a_name_in_the_ui_language(app_url: str, drivers: dict[str, Any],
                                                 lang: str, label: str) -> None:
    drv = drivers["desktop"]
    drv.get(page_url(app_url, "map", lang))
    settled(drv, 180)
    wait_map(drv, 180)
    deadline = time.time() + 10
    names: list[Any] = []
    while time.time() < deadline:
        names = drv.execute_script(
            "return Array.from(document.querySelectorAll('iframe'))"
            ".map(f => f.getAttribute('aria-label'))")
        if names and all(n == label for n in names):
            break
        time.sleep(0.1)
    assert names == [label]


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.pack
def test_a_keyboard_reaches_the_place_picker_and_opens_a_profile(
        app_url: str, drivers: dict[str, Any]) -> None:
    """Tab (only) from the top of the map page to the place picker, type a name, Enter, Tab to
    "Open profile", Enter: the profile of that place opens."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    drv = drivers["desktop"]
    drv.get(page_url(app_url, "map", "en"))
    settled(drv, 180)
    wait_map(drv, 180)
    in_picker = ("const a = document.activeElement;"
                 "return !!a && a.tagName === 'INPUT' && a.getAttribute('aria-label') === 'Place'"
                 " && !!a.closest(\"[data-testid='stSelectbox']\");")
    drv.execute_script("document.activeElement && document.activeElement.blur(); window.focus();")
    tabs = 0
    while tabs < 250 and not drv.execute_script(in_picker):
        ActionChains(drv).send_keys(Keys.TAB).perform()
        drv.switch_to.default_content()
        tabs += 1
    assert drv.execute_script(in_picker), f"the place picker was not reached in {tabs} Tabs"
    ActionChains(drv).send_keys("Karlshamn").perform()
    time.sleep(0.5)
    ActionChains(drv).send_keys(Keys.ENTER).perform()
    settled(drv, 60)
    seen = []  # the picker's own clear button may come first
    for _ in range(4):
        ActionChains(drv).send_keys(Keys.TAB).perform()
        seen.append(drv.execute_script(
            "const a = document.activeElement; return a.tagName + ':' + (a.innerText || "
            "a.getAttribute('aria-label') || '').trim()"))
        if seen[-1] == "BUTTON:Open profile":
            break
    assert seen[-1] == "BUTTON:Open profile", seen
    ActionChains(drv).send_keys(Keys.ENTER).perform()
    deadline = time.time() + 60
    while time.time() < deadline and "page=profile" not in drv.current_url:
        time.sleep(0.2)
    settled(drv, 60)
    assert "place=1082TC102" in drv.current_url  # Karlshamn
    assert "Karlshamn" in drv.execute_script(
        "return document.querySelector(\"[data-testid='stMainBlockContainer']\").innerText")


def test_the_place_picker_lists_every_locality(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    """The keyboard path to every place: the map page's picker holds each locality (SYNTHETIC)."""
    at = run_app(monkeypatch, write_synthetic_store(tmp_path))
    assert not at.exception
    pick = at.selectbox(key="map_pick")
    assert sorted(pick.options) == sorted(p[1] for p in PLACES)
    assert at.button(key="open_profile").disabled
