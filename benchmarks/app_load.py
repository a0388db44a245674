"""App under load: N concurrent headless-Chromium sessions against the app's server (127.0.0.1).

``python -m benchmarks.app_load [--sessions 1 5 20] [--timeout 420]`` or, in ``make bench``, the
``app_load`` suite (N = 1, 5, 20; ``--quick``: 1 and 2). Skips with a note when Debian's
``/usr/bin/chromium`` / ``chromedriver``, selenium or the Blekinge pack are missing.

For each N:

1. a store is built once from the real pack (``livability --data-dir DIR build --region blekinge
   --pack PACK --offline``) into a temporary folder;
2. a fresh server (``python -m app.launch run streamlit_app.py``, as ``make run``) is started on
   a free 127.0.0.1 port with ``LIVABILITY_DATA_DIR=DIR`` and ``LIVABILITY_RUN_LOG=FILE`` (the app
   then appends one JSON line per script run: its wall time and how it ended);
3. one untimed warm-up session does what the measured ones do, so the shared caches (snapshot,
   score model, the scores and the county map of both weightings) are built, as on a server that
   has been up for a while;
4. N Chromiums (scheduled SCHED_IDLE) are started, then released together, ``RAMP_S`` apart (20 within
   5 s); each session loads the map page, moves one weight slider to 5 (a rerun with new scores
   and a new map) and opens the place-profile page.

Reported per N: the server's script-run wall times (from the run log: p50, p95, max, count), the
browser-side time of each step (from the action until the run is over: the URL carries the new
state, Streamlit's status widget is gone and the step's content is on the page), errors, and the
server's peak RSS (``VmRSS`` sampled every 0.2 s from ``/proc/<pid>/status``; ``VmHWM`` at the end).
Everything is bounded: each step waits at most 120 s, a whole round at most ``--timeout`` seconds.
On 2 cores the Chromiums compete with the server for CPU, so the browser-side times include
their rendering; the server-side run times are the figure to compare before/after a change.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .fixtures import pack_path
from .harness import Row, format_table

__all__ = ["LoadResult", "percentile", "run", "run_round", "skip_reason"]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", "--window-size=1400,1000")
STEP_TIMEOUT_S = 240.0
#: Browser-side polling interval (20 sessions polling faster would load chromedriver themselves).
POLL_S = 0.3
#: Sessions start this far apart (20 sessions within 5 s): users arrive within seconds, not in the
#: same millisecond; a thundering herd of 20 page loads mostly measures Chromium start-up.
RAMP_S = 0.25
#: The browsers run under SCHED_IDLE (else at this niceness): on 2 cores they would otherwise take
#: the CPU the server needs, and the server-side figures would measure the browsers.
BROWSER_NICE = 19
_STATUS = "[data-testid='stStatusWidget']"
_MAP = "iframe[title*='streamlit_folium']"


def skip_reason() -> str | None:
    """Why the benchmark cannot run here (None when it can)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        return "Debian chromium / chromedriver not installed (/usr/bin/chromium, /usr/bin/chromedriver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    if pack_path() is None:
        return "the Blekinge pack (../shared/data/blekinge) is not here"
    return None


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100, linear interpolation) of ``values``; None when empty."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(data: Path) -> None:
    """Build the Blekinge snapshot from the real pack into ``data`` with the CLI (offline)."""
    pack = pack_path()
    if pack is None:
        raise FileNotFoundError("the Blekinge pack (../shared/data/blekinge) is not here")
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-m", "geo.cli", "--data-dir", str(data), "build",
                    "--region", "blekinge", "--pack", str(pack), "--offline"],
                   cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)


def _proc_kib(pid: int, field_name: str) -> int:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


@dataclass
class Server:
    """A running ``streamlit run`` and its run log."""

    url: str
    proc: subprocess.Popen[bytes]
    run_log: Path
    rss_peak_kib: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample_rss(self) -> None:
        """Sample the server's VmRSS every 0.2 s until stopped (run in a thread)."""
        while not self._stop.wait(0.2):
            self.rss_peak_kib = max(self.rss_peak_kib, _proc_kib(self.proc.pid, "VmRSS"))

    def runs(self, since: float = 0.0) -> list[dict[str, Any]]:
        """Script runs that started at or after ``since`` (epoch seconds)."""
        if not self.run_log.exists():
            return []
        out = []
        for line in self.run_log.read_text(encoding="utf-8").splitlines():
            with suppress(ValueError):
                rec = json.loads(line)
                if rec.get("start", 0) >= since:
                    out.append(rec)
        return out


def streamlit_argv(app_root: Path, port: int) -> list[str]:
    """``streamlit run`` of ``app_root/streamlit_app.py`` on 127.0.0.1:``port``, headless, no file
    watcher, no usage statistics (the benchmarks' and the browser tests' server).

    Started as ``make run`` starts it: through the app's launcher (``python -m app.launch run``:
    Streamlit's CLI plus the map page's warm-up) when ``app_root`` has one, else (an older
    checkout given to ``--app-root``) with ``python -m streamlit run``.
    """
    runner = ["app.launch"] if (app_root / "app" / "launch.py").is_file() else ["streamlit"]
    return [sys.executable, "-m", *runner, "run", str(app_root / "streamlit_app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]


@contextmanager
def streamlit_server(data: Path, work: Path, app_root: Path = ROOT,
                     start_timeout: float = 90.0) -> Iterator[Server]:
    """Start ``app_root``'s app on a free 127.0.0.1 port against ``data``; stop it afterwards."""
    port = _free_port()
    run_log = work / f"runs-{port}.jsonl"
    env = os.environ | {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none",
                        "LIVABILITY_RUN_LOG": str(run_log), "PYTHONPATH": str(app_root)}
    env.pop("LIVABILITY_REGION", None)
    with (work / f"streamlit-{port}.log").open("wb") as log:
        proc = subprocess.Popen(
            streamlit_argv(app_root, port), cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc, run_log)
    sampler = threading.Thread(target=server.sample_rss, daemon=True)
    try:
        deadline = time.time() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"streamlit did not start on {server.url}") from None
                time.sleep(0.3)
        sampler.start()
        yield server
    finally:
        server._stop.set()
        stop_process(proc)


def stop_process(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """Terminate ``proc``; kill it if it has not ended within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _lower_priority() -> None:
    """Run chromedriver and its Chromiums under SCHED_IDLE (Chromium raises its own nice value)."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(BROWSER_NICE)


def chromium_driver(profile: Path) -> Any:
    """Headless Debian Chromium with its own profile folder, pages loaded in full (120 s limit)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for arg in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    drv.set_page_load_timeout(120)
    return drv


def _driver(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = str(CHROMIUM)
    opts.page_load_strategy = "none"  # get() returns at once; the steps wait for the content
    for arg in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        opts.add_argument(arg)
    service = Service(str(CHROMEDRIVER), popen_kw={"preexec_fn": _lower_priority})
    drv = webdriver.Chrome(service=service, options=opts)
    drv.command_executor.client_config.timeout = STEP_TIMEOUT_S  # 20 Chromiums answer slowly
    drv.set_page_load_timeout(STEP_TIMEOUT_S)
    drv.set_script_timeout(30)
    return drv


def _idle(drv: Any) -> bool:
    from selenium.webdriver.common.by import By

    return not drv.find_elements(By.CSS_SELECTOR, _STATUS)


def _step(drv: Any, action: Callable[[], None], done: Callable[[Any], bool],
          deadline: float) -> float:
    """Seconds from ``action`` until ``done`` holds and the script run is over."""
    from selenium.webdriver.support.ui import WebDriverWait

    t0 = time.perf_counter()
    action()
    timeout = max(1.0, min(STEP_TIMEOUT_S, deadline - time.time()))
    WebDriverWait(drv, timeout, poll_frequency=POLL_S).until(lambda d: done(d) and _idle(d))
    return time.perf_counter() - t0


def session(drv: Any, url: str, deadline: float) -> dict[str, float]:
    """One user: load the map page, move a weight slider to 5, open the place profile."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    def has(css: str) -> Callable[[Any], bool]:
        return lambda d: bool(d.find_elements(By.CSS_SELECTOR, css))

    out: dict[str, float] = {}
    out["load"] = _step(drv, lambda: drv.get(url + "/?page=map"),
                        lambda d: has(_MAP)(d) and has("[data-testid='stDataFrame']")(d), deadline)

    def slide() -> None:
        slider = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stSlider'] input[type='range']")[2]
        drv.execute_script("arguments[0].focus()", slider)
        ActionChains(drv).send_keys(Keys.END).perform()

    out["weights"] = _step(drv, slide, lambda d: "weights=" in d.current_url and has(_MAP)(d),
                           deadline)

    def to_profile() -> None:
        labels = [lab for lab in drv.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebar'] label")
                  if lab.text.strip() == "Place profile"]
        labels[0].click()

    out["profile"] = _step(drv, to_profile, lambda d: "page=profile" in d.current_url
                           and "Theme breakdown" in d.find_element(By.TAG_NAME, "body").text,
                           deadline)
    return out


@dataclass
class LoadResult:
    """What one round with ``n`` sessions measured."""

    n: int
    server_s: list[float]
    browser_s: dict[str, list[float]]
    errors: list[str]
    rss_peak_mib: float
    hwm_mib: float
    wall_s: float
    outcomes: dict[str, int]

    def summary(self) -> dict[str, Any]:
        """p50/p95/max of the server-side runs and of every browser-side step, RSS, errors."""
        def stats(xs: list[float]) -> dict[str, float | int | None]:
            return {"p50": percentile(xs, 50), "p95": percentile(xs, 95),
                    "max": max(xs) if xs else None, "count": len(xs)}

        every = [x for xs in self.browser_s.values() for x in xs]
        return {"sessions": self.n, "server_run_s": stats(self.server_s),
                "browser_step_s": stats(every),
                "browser_by_step": {k: stats(v) for k, v in self.browser_s.items()},
                "errors": self.errors, "rss_peak_mib": self.rss_peak_mib,
                "vmhwm_mib": self.hwm_mib, "wall_s": self.wall_s, "outcomes": self.outcomes}


def _start_drivers(n: int, work: Path) -> list[Any]:
    """Start ``n`` Chromiums (two at a time: starting them is CPU-heavy)."""
    from concurrent.futures import ThreadPoolExecutor

    profiles = [Path(tempfile.mkdtemp(prefix="chromium-", dir=work)) for _ in range(n)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(_driver, profiles))


def run_round(data: Path, n: int, work: Path, timeout_s: float = 600.0,
              app_root: Path = ROOT) -> LoadResult:
    """Fresh server, one untimed warm-up session, then ``n`` concurrent measured sessions."""
    with streamlit_server(data, work, app_root) as server:
        drivers: list[Any] = []
        try:
            drivers = _start_drivers(n, work)
            session(drivers[0], server.url, time.time() + 300)  # warm-up: builds the caches
            drivers[0].get("about:blank")
            time.sleep(1.0)
            server.rss_peak_kib = 0
            results: list[dict[str, float] | None] = [None] * n
            errors: list[str] = []
            gate = threading.Barrier(n)
            deadline = time.time() + timeout_s

            def user(i: int) -> None:
                try:
                    gate.wait(timeout=60)
                    time.sleep(i * RAMP_S)
                    results[i] = session(drivers[i], server.url, deadline)
                except Exception as exc:  # a timeout or a missing element: count it, keep going
                    errors.append(f"session {i}: {type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:160] if str(exc) else ''}")

            since = time.time()
            t0 = time.perf_counter()
            threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(n)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(timeout=max(1.0, deadline - time.time() + 5))
            wall = time.perf_counter() - t0
            if any(th.is_alive() for th in threads):
                errors.append("round timed out")
            time.sleep(1.0)  # the last run's log line
            runs = server.runs(since)
        finally:
            for drv in drivers:
                with suppress(Exception):
                    drv.quit()
        outcomes: dict[str, int] = {}
        for r in runs:
            outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
        browser: dict[str, list[float]] = {}
        for res in results:
            for k, v in (res or {}).items():
                browser.setdefault(k, []).append(v)
        return LoadResult(
            n=n, server_s=[float(r["seconds"]) for r in runs if r["outcome"] == "ok"],
            browser_s=browser, errors=errors, rss_peak_mib=server.rss_peak_kib / 1024,
            hwm_mib=_proc_kib(server.proc.pid, "VmHWM") / 1024, wall_s=wall, outcomes=outcomes)


def measure(sessions: tuple[int, ...], timeout_s: float = 600.0,
            app_root: Path = ROOT) -> list[LoadResult]:
    """Build the store once, then one round per N in ``sessions`` (``app_root``: the app's checkout)."""
    work = Path(tempfile.mkdtemp(prefix="livability-load-"))
    try:
        data = work / "data"
        build_store(data)
        return [run_round(data, n, work, timeout_s, app_root) for n in sessions]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def to_row(res: LoadResult) -> Row:
    """One benchmark-table row: the server-side run times, peak RSS, browser times in the note."""
    s = res.summary()
    srv, brw = s["server_run_s"], s["browser_step_s"]
    steps = ", ".join(f"{k} p50 {_fmt(v['p50'])} p95 {_fmt(v['p95'])}"
                      for k, v in s["browser_by_step"].items())
    met = None
    if res.n >= 20 and srv["p95"] is not None:
        met = srv["p95"] < 3.0 and not res.errors
    note = (f"{res.n} sessions: server script run p50 {_fmt(srv['p50'])} s, p95 "
            f"{_fmt(srv['p95'])} s, max {_fmt(srv['max'])} s over {srv['count']} runs "
            f"{res.outcomes}; browser step p50 {_fmt(brw['p50'])} s, p95 {_fmt(brw['p95'])} s "
            f"({steps}); server peak RSS {res.rss_peak_mib:.0f} MiB (VmHWM {res.hwm_mib:.0f}); "
            f"errors {len(res.errors)}{': ' + '; '.join(res.errors[:3]) if res.errors else ''}; "
            f"round {res.wall_s:.1f} s")
    return Row(f"app load: {res.n} concurrent sessions", "Blekinge pack (real), headless Chromium",
               res.server_s, peak_mb=None, target="server p95 < 3 s at 20" if res.n >= 20 else "",
               met=met, note=note, extra=s)


def run(quick: bool = False) -> list[Row]:
    """The ``app_load`` suite of ``make bench`` (``quick``: 1 and 2 sessions)."""
    reason = skip_reason()
    if reason:
        return [Row("app load: concurrent sessions", "-", note=f"skipped: {reason}")]
    return [to_row(r) for r in measure((1, 2) if quick else (1, 5, 20), timeout_s=300.0)]


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.app_load``: print the table and the JSON summary."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.app_load", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 20],
                    help="concurrent sessions per round (1-30; default 1 5 20)")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per round (max 900)")
    ap.add_argument("--app-root", type=Path, default=ROOT,
                    help="checkout whose streamlit_app.py is served (default: this one), e.g. an "
                         "export of an older commit for a before/after comparison")
    args = ap.parse_args(argv)
    if any(not 1 <= n <= 30 for n in args.sessions) or not 10 <= args.timeout <= 900:
        ap.error("sessions must be 1-30 and --timeout 10-900 s")
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    results = measure(tuple(args.sessions), args.timeout, args.app_root.resolve())
    print(format_table([to_row(r) for r in results]))
    print(json.dumps([r.summary() for r in results], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
