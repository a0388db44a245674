"""How fast the explorer is in a real browser, against a store built from the Blekinge pack.

Measured (seconds, medians of a few runs, every run kept) and written to
artifacts/timings/browser_timings.json with the load average:

- ``first_start_first_map_s`` (recorded, not asserted): the very first server start on a freshly
  built store, before anything is cached on disk (``make run`` runs ``python -m app.warm`` after
  a build, so a user does not meet this one);
- ``cold_first_map_s``: server start (``python -m app.launch run``, as ``make run``; a new port,
  so the browser has nothing cached either) -> the map's Leaflet markers visible; with it
  ``cold_server_cpu_s``, the server's CPU seconds by then (a figure the machine's load hardly
  changes, for before/after comparisons);
- ``warm_first_map_s``: page load on the started server -> markers visible;
- ``page_change_s``: map -> profile (the sidebar's page radio; done when the URL says
  ``page=profile`` and no run is going) and ``page_back_s``: profile -> map (markers coloured);
- ``slider_s``: a weight slider's key press -> the map re-coloured (the recolour hook's signal,
  see tests/test_map_recolour.py) *and* the run ended (the URL holds the new weights, written
  after the ranking is drawn), so ranking and map agree.

Targets (issue 10): cold < 5 s, warm < 1.5 s, slider < 1 s, on an idle 2-core machine (a page
change: < 2 s, our own guard). The
asserted limit is the target times ``MARGIN`` (1.1: a median of three on a shared machine moves by
about 10 % between identical runs), and grows with the highest 1-minute load average seen beyond 2
(``target * MARGIN * load / 2``), since other processes share the cores. The file keeps the real
medians and every run, so the figures quoted are those, not the limits.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from _browser import chromium, have_chromium, serve_app
from _pages import PROFILE_PLACE, ROOT, map_frame, running, settled, wait_map

OUT = ROOT / "artifacts" / "timings"
RUNS = 3
#: Issue 10's targets (cold, warm, slider); it sets none for a change of page, which it reported
#: at 2.3-7.2 s: 2.0 s guards against going back there (measured 1.7-2.0 s on this 2-core machine
#: at load 1.7-2.7, the old code and this one alike).
TARGETS = {"cold_first_map_s": 5.0, "warm_first_map_s": 1.5, "page_change_s": 2.0,
           "page_back_s": 2.0, "slider_s": 1.0}
#: How far above its target a median may be before the test fails (see the module docstring).
MARGIN = 1.1


def _limit(target: float, load: float) -> float:
    """The asserted limit: the target and its margin, scaled up by how much more than 2 cores
    are asked for."""
    return target * MARGIN * max(1.0, load / 2.0)


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process ``pid`` has used so far (Linux ``/proc``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _until(cond: Any, timeout: float, what: str, poll: float = 0.02) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(poll)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def _coloured(drv: Any) -> int:
    frame = map_frame(drv)
    if frame is None:
        return 0
    try:
        drv.switch_to.frame(frame)
        return int(drv.execute_script("return window.__livabilityColoured || 0") or 0)
    except Exception:  # the frame was being replaced
        return 0
    finally:
        drv.switch_to.default_content()


def _page_radio(drv: Any, label: str) -> Any:
    from selenium.webdriver.common.by import By

    for el in drv.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebar'] label"):
        if el.text.strip() == label:
            return el
    raise AssertionError(f"no sidebar page entry {label!r}")


def _page_change(drv: Any, url: str) -> tuple[float, float]:
    """Map -> profile -> map through the sidebar; seconds for each change."""
    drv.get(f"{url}/?page=map&place={PROFILE_PLACE}")
    settled(drv, 120)
    wait_map(drv, 120)
    t0 = time.perf_counter()
    _page_radio(drv, "Place profile").click()
    _until(lambda: "page=profile" in drv.current_url and not running(drv), 60, "the profile")
    forward = time.perf_counter() - t0
    t0 = time.perf_counter()
    _page_radio(drv, "Map").click()
    _until(lambda: "page=map" in drv.current_url and _coloured(drv) >= 1, 60, "the map again")
    return forward, time.perf_counter() - t0


def _slider(drv: Any, url: str, key: str) -> float:
    """One weight change by keyboard: seconds until the map is re-coloured and the run ended."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    frame = map_frame(drv)
    drv.switch_to.frame(frame)
    drv.execute_script("""
        window.__colouredAt = null;
        var f = window.__livabilityRecolour;
        window.__livabilityRecolour = function (d) {
            f(d); window.__colouredAt = Date.now(); window.__livabilityRecolour = f; };""")
    drv.switch_to.default_content()
    before = drv.current_url
    slider = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stSlider'] input[type='range']")[2]
    drv.execute_script("arguments[0].focus()", slider)
    key_at = drv.execute_script("return Date.now()")
    ActionChains(drv).send_keys(key).perform()
    done: dict[str, float] = {}

    def agreed() -> bool:
        if "url" not in done and drv.current_url != before and not running(drv):
            done["url"] = drv.execute_script("return Date.now()")
        if "map" not in done:
            drv.switch_to.frame(frame)
            at = drv.execute_script("return window.__colouredAt")
            drv.switch_to.default_content()
            if at is not None:
                done["map"] = at
        return len(done) == 2

    _until(agreed, 60, "the re-coloured map and ranking", poll=0.03)
    return (max(done.values()) - key_at) / 1000


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.pack
def test_browser_timings(blekinge_store: Path) -> None:
    if not have_chromium():
        pytest.skip("Debian chromium / chromedriver not installed (.ci/setup-browser.sh)")
    pytest.importorskip("selenium")
    from selenium.webdriver.common.keys import Keys

    OUT.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="livability-timings-"))
    shutil.copytree(blekinge_store, data, dirs_exist_ok=True)  # a fresh server: no shared cache
    env = os.environ | {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none",
                        "PYTHONPATH": str(ROOT)}
    env.pop("LIVABILITY_REGION", None)
    runs: dict[str, list[float]] = {k: [] for k in TARGETS}
    extra: dict[str, list[float]] = {"first_start_first_map_s": [], "cold_server_cpu_s": []}
    loads: list[float] = []
    try:
        with chromium("1440,900") as drv:
            t0 = time.perf_counter()  # the first start of all: nothing on disk yet
            with serve_app(ROOT, env, OUT / "streamlit.log") as url:
                drv.get(f"{url}/?page=map")
                wait_map(drv, 180)
                extra["first_start_first_map_s"].append(time.perf_counter() - t0)
            drv.get("about:blank")
            for _ in range(RUNS):  # each a new server: the cold path
                loads.append(os.getloadavg()[0])
                t0 = time.perf_counter()
                pids: list[int] = []
                with serve_app(ROOT, env, OUT / "streamlit.log", pids) as url:
                    drv.get(f"{url}/?page=map")
                    wait_map(drv, 180)
                    runs["cold_first_map_s"].append(time.perf_counter() - t0)
                    extra["cold_server_cpu_s"].append(_cpu_s(pids[0]))
                    for _ in range(RUNS):
                        t0 = time.perf_counter()
                        drv.get(f"{url}/?page=map")
                        wait_map(drv, 60)
                        runs["warm_first_map_s"].append(time.perf_counter() - t0)
                    forward, back = _page_change(drv, url)
                    runs["page_change_s"].append(forward)
                    runs["page_back_s"].append(back)
                    _until(lambda: _coloured(drv) >= 1, 60, "the coloured map")
                    for key in (Keys.END, Keys.HOME):
                        runs["slider_s"].append(_slider(drv, url, key))
                drv.get("about:blank")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    load = max([*loads, os.getloadavg()[0]])
    medians = {k: round(statistics.median(v), 3) for k, v in runs.items()}
    result = {"medians_s": medians, "targets_s": TARGETS, "margin": MARGIN,
              "limits_s": {k: round(_limit(v, load), 2) for k, v in TARGETS.items()},
              "runs_s": {k: [round(x, 3) for x in v] for k, v in (runs | extra).items()},
              "recorded_medians_s": {k: round(statistics.median(v), 3) for k, v in extra.items()},
              "loadavg_1min_max": round(load, 2), "loadavg_1min_runs": [round(x, 2) for x in loads],
              "cpus": os.cpu_count()}
    (OUT / "browser_timings.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(json.dumps(result, indent=2))
    assert all(len(v) >= RUNS for v in runs.values()), runs
    slow = {k: (medians[k], round(_limit(TARGETS[k], load), 2)) for k in TARGETS
            if medians[k] >= _limit(TARGETS[k], load)}
    assert slow == {}, f"slower than the target (median, limit at load {load:.1f}): {slow}"
