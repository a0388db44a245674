"""Warm the server at start: the imports and data the first map needs, before anyone connects.

:mod:`serve` (``streamlit run serve.py``) calls :func:`start` from Streamlit's public ``st.App``
lifespan hook; a background thread then imports the views (about 2 s of pandas, folium, altair
and the engine) and loads the current region's snapshot, score model and default scores into
the process-wide caches (``st.cache_resource``), so the first visitor does not wait for them.
Nothing is written, and a failure is only logged: the first page then does the work as before.
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["start", "warm"]

log = logging.getLogger("livability.warm")


def warm() -> None:
    """Import the views and fill the caches of the default region (errors are logged)."""
    t0 = time.perf_counter()
    try:
        from app import views  # noqa: F401  # the imports every page needs
        from app.data import current_key, get_model, get_snapshot

        key = current_key()
        if key is not None:
            get_snapshot(key)
            get_model(key)
            from app.view_map import warm_map

            warm_map(key)
        log.info("server warmed in %.2f s (region %s)", time.perf_counter() - t0,
                 key.region if key is not None else "none")
    except Exception:  # the first page does the work instead, and shows any error itself
        log.exception("warming the server failed after %.2f s", time.perf_counter() - t0)


def start() -> threading.Thread:
    """Run :func:`warm` in a daemon thread; returns it."""
    thread = threading.Thread(target=warm, name="livability-warm", daemon=True)
    thread.start()
    return thread
