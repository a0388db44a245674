"""The first-run screen: no snapshot is built yet; say exactly how to build one."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from geo.catalog import t

from .common import safe_text

__all__ = ["render"]


def render(lang: str, data: Path) -> None:
    """Explain that nothing is built and give the commands."""
    st.title(t("app_title", lang))
    st.header(t("first_run_title", lang))
    st.markdown(t("first_run_text", lang))
    st.code("make build\n\n# or, explicitly:\n"
            "livability build --region blekinge --pack ../shared/data/blekinge --offline",
            language="bash")
    st.markdown(t("first_run_then", lang, path=safe_text(data, "code")))
