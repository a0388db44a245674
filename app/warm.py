"""Warm the map page's caches in the server process before the first browser session needs them.

:func:`start` (called by :mod:`app.launch` before Streamlit's CLI starts the server) runs a daemon
thread that waits until Streamlit's runtime is up (the server listens), then

1. imports the modules the map page needs (under :data:`app.import_lock.IMPORT_LOCK`), while the
   browser is still loading Streamlit's frontend;
2. fills the shared caches a first visit to the map reads: the snapshot, the score model (from
   its disk cache, :mod:`app.model_cache`), the default weighting's scores, the county map
   (from its disk cache, :mod:`app.map_cache`) and that weighting's colours;
3. :data:`LATER_DELAY_S` later, imports the other pages' modules (:data:`LATER_MODULES`), so the
   first change of page does not pay for them either.

The caches are Streamlit's own (``st.cache_resource``), keyed exactly as a script run keys them,
so a session that arrives meanwhile waits for the value being computed instead of computing it
again. Nothing here draws anything or touches a session. Any failure is logged and ignored: the
script run then computes what it needs as it would without a warm-up.

``LIVABILITY_WARM=0`` (or ``false``, ``no``, ``off``) turns the warm-up off.

``python -m app.warm`` (:func:`prepare`; ``make run`` runs it right after it (re)built the
snapshot) writes the disk caches (score model, county map in both languages) without a server,
so even the first server start after a build reads them instead of building them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time

from .import_lock import import_modules

__all__ = ["LATER_MODULES", "MODULES", "enabled", "main", "prepare", "start", "warm"]

log = logging.getLogger(__name__)

#: What the map page imports (its frame, the page and the engine it calls), in import order;
#: ``streamlit.emojis`` is what ``st.set_page_config(page_icon=<emoji>)`` imports on a process's
#: first script run (it compiles a regular expression of every emoji: ~0.15 s).
MODULES = ("streamlit.emojis", "app.common", "app.data", "app.state", "app.views",
           "app.view_first_run", "app.view_map", "geo.catalog", "geo.settings")
#: The other pages' modules (Altair for the charts, the profile's map): imported by the same thread
#: :data:`LATER_DELAY_S` after the map page is warm, so the first page change does not pay for them
#: and the first map does not wait for them.
LATER_MODULES = ("altair", "app.view_profile", "app.view_compare", "app.view_export",
                 "app.view_data")
LATER_DELAY_S = 3.0
#: How long the thread waits for Streamlit's runtime before it gives up (seconds).
RUNTIME_WAIT_S = 120.0


def enabled() -> bool:
    """False when ``LIVABILITY_WARM`` is ``0``, ``false``, ``no`` or ``off``."""
    return os.environ.get("LIVABILITY_WARM", "1").strip().lower() not in {"0", "false", "no", "off"}


def _runtime_ready(timeout: float) -> bool:
    """Wait until Streamlit's runtime exists and has started (the server accepts sessions)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if Runtime.exists() and Runtime.instance().state not in (RuntimeState.INITIAL,):
            return True
        time.sleep(0.02)
    return False


def warm(lang: str = "en") -> dict[str, float]:
    """Import the map page's modules and fill its caches for ``lang``; seconds per step.

    Returns
    -------
    dict
        Step name -> seconds (``imports``, ``snapshot``, ``model``, ``scores``, ``map``,
        ``colours``); the steps after ``imports`` are missing when no snapshot is built.
    """
    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    import_modules(MODULES)
    from geo.catalog import fmt_number

    fmt_number(1.5, lang, 1)  # Babel loads the locale's data on first use (the sliders' labels)
    steps["imports"] = time.perf_counter() - t0
    from . import view_map
    from .common import default_weights
    from .data import current_key, get_model, get_scores, get_snapshot

    key = current_key()
    if key is None:
        return steps
    for name, step in (("snapshot", lambda: get_snapshot(key)), ("model", lambda: get_model(key))):
        t0 = time.perf_counter()
        step()
        steps[name] = time.perf_counter() - t0
    weights = default_weights(key)
    t0 = time.perf_counter()
    get_scores(key, weights)
    steps["scores"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    view_map.warm_map(key, lang, weights)
    steps["map"] = time.perf_counter() - t0
    return steps


#: When the runtime was up and the warm-up began (epoch seconds; for the run log).
_STARTED = [0.0]


class _QuietThread(logging.Filter):
    """Drops Streamlit's "missing ScriptRunContext" note for the warm-up thread (it has no script
    run on purpose: it only fills shared caches)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.threadName != _THREAD_NAME


_THREAD_NAME = "livability-warm"
#: The logger of that note (``streamlit.runtime.scriptrunner_utils.script_run_context``).
_CTX_LOGGER = "streamlit.runtime.scriptrunner_utils.script_run_context"


def _run() -> None:
    logging.getLogger(_CTX_LOGGER).addFilter(_QuietThread())
    try:
        if not _runtime_ready(RUNTIME_WAIT_S):
            log.info("warm-up skipped: the Streamlit runtime did not start")
            return
        _STARTED[0] = time.time()
        t0 = time.perf_counter()
        steps = warm()
        total = time.perf_counter() - t0
        log.info("warm-up done in %.2f s (%s)", total,
                 ", ".join(f"{k} {v:.2f} s" for k, v in steps.items()))
        _record(steps, total)
        time.sleep(LATER_DELAY_S)
        t0 = time.perf_counter()
        import_modules(LATER_MODULES)
        log.info("other pages' modules imported in %.2f s", time.perf_counter() - t0)
    except Exception:  # never take the server down: the first script run does the work instead
        log.exception("warm-up failed; the first visit computes what it needs")


def _record(steps: dict[str, float], total: float) -> None:
    """With ``LIVABILITY_RUN_LOG=FILE`` (see ``streamlit_app._timed_main``) append one JSON line
    ``{"warm": {step: seconds}, "warm_total": s, "warm_end": epoch}`` (no ``start``: a run-log
    reader that counts script runs skips it)."""
    path = os.environ.get("LIVABILITY_RUN_LOG")
    if not path:
        return
    line = json.dumps({"warm": {k: round(v, 4) for k, v in steps.items()}, "warm_start": _STARTED[0],
                       "warm_total": round(total, 4), "warm_end": time.time()})
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def prepare(langs: tuple[str, ...] = ("en", "sv")) -> dict[str, float]:
    """Fill the disk caches a server start reads (score model, county map per language) outside
    Streamlit; seconds per step (see :func:`warm`). Does nothing but import when nothing is built."""
    steps: dict[str, float] = {}
    for lang in langs:
        for k, v in warm(lang).items():
            steps[f"{k}_{lang}"] = v
    return steps


def main(argv: list[str] | None = None) -> int:
    """``python -m app.warm``: :func:`prepare`, one summary line on stdout (the CLI's edge)."""
    logging.basicConfig(level=logging.WARNING)
    import_modules(MODULES)
    # Streamlit's "no runtime" / "no script run" notes: expected here, there is no server
    for name in list(logging.root.manager.loggerDict):
        if name == "streamlit" or name.startswith("streamlit."):
            logging.getLogger(name).setLevel(logging.ERROR)
    t0 = time.perf_counter()
    steps = prepare()
    done = "map_en" in steps
    print(f"app caches {'ready' if done else 'skipped (no snapshot built)'} in "
          f"{time.perf_counter() - t0:.1f} s")
    return 0


def start() -> threading.Thread | None:
    """Start the warm-up thread (daemon) unless :func:`enabled` says no; returns it."""
    if not enabled():
        return None
    th = threading.Thread(target=_run, name=_THREAD_NAME, daemon=True)
    th.start()
    return th


if __name__ == "__main__":
    raise SystemExit(main())
