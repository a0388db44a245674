"""Cold start A/B: server start -> first map in a real browser, two checkouts interleaved.

``python -m benchmarks.cold_start [--runs 5] [--app-root A] [--app-root B ...]``

Builds the Blekinge store once (real pack, offline), gives every checkout its own copy, starts
each checkout's server once untimed (so its disk caches exist, as on any start after the first),
then starts them in turn (ABAB..., the order flipped every round), each time on a new port, so
neither the server nor the browser has anything in memory: seconds from ``Popen`` to 40 locality
markers in the map's frame, the port's answer, the server's CPU seconds by then and the 1-minute
load average. Prints every run and the medians (JSON). A checkout with ``app/launch.py`` is
started as ``make run`` starts it, an older one with ``streamlit run``
(:func:`benchmarks.app_load.streamlit_argv`). Skips with a note without Chromium, selenium or
the pack (:func:`benchmarks.app_load.skip_reason`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from .app_load import ROOT, build_store, chromium_driver, skip_reason, stop_process
from .app_load import streamlit_argv as server_argv

__all__ = ["cold_start", "main"]

#: The map's frame is ready when this many locality markers are drawn (Blekinge has 52).
MARKERS = 40
_COUNT = "return document.querySelectorAll('.leaflet-container path.locality-marker').length"


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _markers(drv: Any) -> int:
    from selenium.webdriver.common.by import By

    for frame in drv.find_elements(By.CSS_SELECTOR, "iframe"):
        try:
            drv.switch_to.frame(frame)
            return int(drv.execute_script(_COUNT) or 0)
        except Exception:  # the frame was replaced meanwhile
            continue
        finally:
            drv.switch_to.default_content()
    return 0


def cold_start(drv: Any, app_root: Path, data: Path, timeout: float = 120.0) -> dict[str, float]:
    """One cold start of ``app_root``'s server against ``data``; seconds and CPU seconds."""
    port = _free_port()
    env = os.environ | {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none",
                        "LIVABILITY_OFFLINE": "1", "PYTHONPATH": str(app_root)}
    env.pop("LIVABILITY_REGION", None)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(server_argv(app_root, port), cwd=app_root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the server of {app_root} did not start") from None
                time.sleep(0.05)
        port_s = time.perf_counter() - t0
        drv.get(f"http://127.0.0.1:{port}/?page=map")
        while _markers(drv) < MARKERS:
            if time.time() > deadline:
                raise TimeoutError(f"no map from {app_root} within {timeout:.0f} s")
            time.sleep(0.05)
        map_s = time.perf_counter() - t0
        cpu = _cpu_s(proc.pid)
    finally:
        stop_process(proc)
        drv.get("about:blank")
    return {"first_map_s": round(map_s, 3), "port_s": round(port_s, 3),
            "server_cpu_s": round(cpu, 2), "load_1min": round(load, 2)}




def run(roots: list[Path], runs: int) -> dict[str, Any]:
    """Interleaved cold starts of every checkout in ``roots``; every run and the medians."""
    work = Path(tempfile.mkdtemp(prefix="livability-cold-"))
    drv = None
    try:
        store = work / "store"
        build_store(store)
        datas = []
        for i, _root in enumerate(roots):
            shutil.copytree(store, work / f"data{i}")
            datas.append(work / f"data{i}")
        drv = chromium_driver(work / "profile")
        for root, data in zip(roots, datas, strict=True):
            cold_start(drv, root, data)  # untimed: writes the disk caches
        out: dict[str, list[dict[str, float]]] = {str(r): [] for r in roots}
        order = list(zip(roots, datas, strict=True))
        for i in range(runs):
            for root, data in order if i % 2 == 0 else order[::-1]:
                out[str(root)].append(cold_start(drv, root, data))
        medians = {r: {k: statistics.median(x[k] for x in rs) for k in rs[0]}
                   for r, rs in out.items()}
        return {"runs": out, "medians": medians, "cpus": os.cpu_count()}
    finally:
        if drv is not None:
            drv.quit()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.cold_start``: print every run and the medians as JSON."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5, help="cold starts per checkout (1-30)")
    ap.add_argument("--app-root", type=Path, action="append", default=None,
                    help="a checkout to start (repeat for an A/B; default: this one)")
    args = ap.parse_args(argv)
    if not 1 <= args.runs <= 30:
        ap.error("--runs must be 1-30")
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    roots = [p.resolve() for p in (args.app_root or [ROOT])]
    print(json.dumps(run(roots, args.runs), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
