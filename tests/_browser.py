"""One headless Chromium for the browser tests (Debian's chromium + chromium-driver)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def have_chromium() -> bool:
    """True when Debian's chromium and chromedriver are installed."""
    return CHROMIUM.exists() and CHROMEDRIVER.exists()


@contextmanager
def chromium(window: str = "1400,1000") -> Iterator[Any]:
    """A headless Chromium with a fresh profile and no background networking; quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    opts = Options()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", f"--window-size={window}"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # drv.get_log("browser")
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_store(store: Path, out: Path) -> Iterator[str]:
    """The app on a free port against the store in ``store``: no base tiles, no online service
    (``LIVABILITY_OFFLINE=1``), the default region; its log in ``out/streamlit.log``."""
    import os

    root = Path(__file__).resolve().parents[1]
    env = os.environ | {"LIVABILITY_DATA_DIR": str(store), "LIVABILITY_TILES": "none",
                        "LIVABILITY_OFFLINE": "1", "PYTHONPATH": str(root)}
    for name in ("LIVABILITY_REGION", "LIVABILITY_ONLINE"):
        env.pop(name, None)
    out.mkdir(parents=True, exist_ok=True)
    with serve_app(root, env, out / "streamlit.log") as url:
        yield url


@contextmanager
def serve_app(root: Path, env: dict[str, str], log: Path | None = None,
              pids: list[int] | None = None) -> Iterator[str]:
    """The app's server (``python -m app.launch run root/streamlit_app.py``, as ``make run`` starts
    it; see :func:`benchmarks.app_load.streamlit_argv`) on a free 127.0.0.1 port with ``env``; yields
    its URL once the port answers (at most 60 s) and stops the server on exit. The server's
    process id is appended to ``pids`` when given."""
    import subprocess
    import time

    from benchmarks.app_load import stop_process, streamlit_argv

    port = free_port()
    out = log.open("w") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(
            streamlit_argv(root, port), cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]
    if pids is not None:
        pids.append(proc.pid)
    try:
        import socket

        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(proc, 10.0)
