"""The server warms its caches at start (serve.py's lifespan hook -> app.warm)."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from _app_fixtures import write_synthetic_store


def test_serve_is_a_streamlit_app_whose_lifespan_starts_warming(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st

    import serve

    assert isinstance(serve.app, st.App)
    started: list[int] = []
    monkeypatch.setattr("app.warm.start", lambda: started.append(1))

    async def run() -> None:
        async with serve.lifespan(serve.app):
            assert started == [1]

    asyncio.run(run())


def test_warm_fills_the_caches_the_first_map_reads(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    from app import warm
    from app.data import current_key, get_model

    data = write_synthetic_store(tmp_path / "data")
    monkeypatch.setenv("LIVABILITY_DATA_DIR", str(data))
    monkeypatch.delenv("LIVABILITY_REGION", raising=False)
    warm.start().join(timeout=120)
    key = current_key()
    assert key is not None
    t0 = time.perf_counter()
    get_model(key)  # already built: a cache hit
    assert time.perf_counter() - t0 < 0.05


def test_a_failing_warm_up_is_logged_not_raised(monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    from app import warm

    def broken() -> None:
        raise OSError("disk gone")

    monkeypatch.setattr("app.data.current_key", broken)
    with caplog.at_level(logging.ERROR, logger="livability.warm"):
        warm.warm()
    assert any("warming the server failed" in r.getMessage() for r in caplog.records)
