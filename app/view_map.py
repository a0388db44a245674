"""The landing page: the county map beside the ranked table."""

from __future__ import annotations

import os
import re
import time

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import maps
from layers import LAYERS

from .common import Ctx, coverage_label, md_text, theme_title
from .data import get_layer

__all__ = ["ranking_table", "render", "tiles_default"]

_CODE_IN_TOOLTIP = re.compile(r"\[([^\[\]]{1,40})\]\s*$")


def tiles_default() -> bool:
    """Base tiles on by default only when ``LIVABILITY_TILES=osm`` (the app is offline-first)."""
    return os.environ.get("LIVABILITY_TILES", "none").strip().lower() == "osm"


def ranking_table(ctx: Ctx) -> pd.DataFrame:
    """The ranked localities as a display table (translated headers)."""
    df = ctx.result.localities
    if df is None or not len(df):
        return pd.DataFrame()
    cols = [c for c in ("rank", "name", "municipality_name", "composite") if c in df]
    out = df.sort_values("rank")[cols].copy() if "rank" in df else df[cols].copy()
    if "composite" in out:
        out["composite"] = out["composite"].round(1)
    names = {"rank": ctx.t("rank"), "name": ctx.t("locality"),
             "municipality_name": ctx.t("municipality"), "composite": ctx.t("score"),
             "population": ctx.t("population")}
    return out.rename(columns=names).reset_index(drop=True)


def _layer_inputs(ctx: Ctx) -> dict[str, tuple[str, str, object]]:
    snap = ctx.snapshot
    out: dict[str, tuple[str, str, object]] = {}
    for key, spec in LAYERS.items():
        st_ = snap.layer_status(key)
        if not st_.available:
            continue
        title = spec.title(ctx.lang)
        if st_.coverage == "partial":
            title = f"{title} ({coverage_label('partial', ctx.lang)})"
        out[key] = (title, spec.color, get_layer(ctx.key, key))
    return out


def _build_map(ctx: Ctx, tiles: bool, hexagons: bool) -> object:
    snap = ctx.snapshot
    scores = ctx.result.localities if ctx.result.ok else None
    cells = ctx.result.cells if (hexagons and ctx.result.ok) else None
    labels = {"score": ctx.t("score"), "localities": ctx.t("localities"),
              "hexagons": ctx.t("hexagons")}
    return maps.build_region_map(
        snap.boundary(), snap.localities(), municipalities=snap.municipalities(),
        scores=scores, cells=cells, layers=_layer_inputs(ctx), tiles=tiles, labels=labels,
        region_label=snap.region_name,
    )


def _legend(ctx: Ctx) -> None:
    swatches = "".join(
        f"<span title='{lo:g}-{hi:g}' style='display:inline-block;width:28px;height:12px;"
        f"background:{c}'></span>" for c, lo, hi in maps.legend_bins())
    st.markdown(
        f"<div aria-hidden='true' style='margin-top:4px'>0 {swatches} 100 "
        f"<span style='display:inline-block;width:12px;height:12px;background:{maps.NO_SCORE_COLOR};"
        f"margin-left:10px'></span></div>", unsafe_allow_html=True)
    st.caption(ctx.t("legend_text"))


def _clicked_code(ret: object, known: set[str]) -> str | None:
    if not isinstance(ret, dict):
        return None
    tip = ret.get("last_object_clicked_tooltip")
    if not isinstance(tip, str):
        return None
    m = _CODE_IN_TOOLTIP.search(tip.strip())
    code = m.group(1) if m else None
    return code if code in known else None


def render(ctx: Ctx) -> None:
    """Draw the map page."""
    snap = ctx.snapshot
    st.sidebar.divider()
    tiles = st.sidebar.toggle(ctx.t("base_tiles"), value=tiles_default(), key="tiles")
    hexagons = st.sidebar.toggle(ctx.t("show_hexagons"), value=True, key="hexagons")
    if not ctx.result.ok:
        if ctx.result.error:
            st.warning(ctx.t("scores_failed", msg=ctx.result.error))
        else:
            st.info(ctx.t("no_scores"))
    notes = []
    for key in LAYERS:
        s = snap.layer_status(key)
        if s.coverage == "partial":
            notes.append(ctx.t("layer_partial_note", layer=theme_title(key, ctx.lang), count=s.count))
        elif not s.available:
            notes.append(ctx.t("layer_missing_note", layer=theme_title(key, ctx.lang),
                               reason=md_text(ctx.layer_reason(s)) if s.reason
                               else ctx.t("missing")))
    left, right = st.columns([3, 2], gap="medium")
    # the ranking is drawn first so it updates before the (heavier) map is rebuilt
    with right:
        st.subheader(ctx.t("ranking"))
        table = ranking_table(ctx)
        if len(table):
            st.caption(ctx.t("ranking_caption"))
            score_col = ctx.t("score")
            st.dataframe(
                table, hide_index=True, width="stretch", height=460, key="ranking",
                column_config={score_col: st.column_config.ProgressColumn(
                    score_col, min_value=0, max_value=100, format="%.1f")},
            )
        else:
            locs = snap.localities()
            cols = [c for c in ("name", "municipality_name", "population") if c in locs]
            st.dataframe(pd.DataFrame(locs[cols]).sort_values(cols[-1], ascending=False),
                         hide_index=True, width="stretch", height=460)
        st.caption(ctx.t("map_click_hint"))
        opts = {str(c): str(n) for c, n in zip(snap.localities()["code"],
                                                snap.localities()["name"], strict=False)}
        if opts:
            pick = st.selectbox(ctx.t("choose_place"), list(opts),
                                format_func=lambda c: opts.get(c, str(c)), key="map_pick",
                                index=None)
            if st.button(ctx.t("open_profile"), key="open_profile", disabled=pick is None):
                st.session_state["_goto"] = ("profile", pick)
                st.rerun()
    with left:
        t0 = time.perf_counter()
        fmap = _build_map(ctx, tiles, hexagons)
        st.session_state["_map_build_s"] = time.perf_counter() - t0
        ret = st_folium(fmap, key="county_map", height=560, use_container_width=True,
                        returned_objects=["last_object_clicked_tooltip"])
        _legend(ctx)
        if notes:
            with st.expander(f"{ctx.t('coverage_warnings')} ({len(notes)})"):
                for n in notes:
                    st.markdown(f"- {n}")
        codes = set(snap.localities()["code"].astype(str))
        code = _clicked_code(ret, codes)
        if code and code != st.session_state.get("_last_click"):
            st.session_state["_last_click"] = code
            st.session_state["_goto"] = ("profile", code)
            st.rerun()
