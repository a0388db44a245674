"""The app's server: ``streamlit run serve.py`` (what ``make run`` does).

The page itself is ``streamlit_app.py``; this wraps it in Streamlit's public ``st.App`` so a
lifespan hook can warm the caches when the server starts (:mod:`app.warm`) instead of on the
first visit. ``streamlit run streamlit_app.py`` still works, only with a slower first page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import streamlit as st


@asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """Start warming at server start; nothing to tear down."""
    from app.warm import start

    start()
    yield None


app = st.App("streamlit_app.py", lifespan=lifespan)
