"""The landing page: the county map beside the ranked table."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import maps
from layers import LAYERS

from . import folium_adapter
from .common import Ctx, coverage_label, num, safe_text, theme_title
from .data import SnapKey, get_layer, get_model, get_scores

__all__ = ["highlight_layer", "ranking_table", "render", "tiles_default"]

MAP_HEIGHT = 560
#: Session keys: the profile's "Show on map" sets FOCUS_KEY; the frame sets LEFT_KEY on other pages.
FOCUS_KEY = "_map_focus"
LEFT_KEY = "_map_left"

_CODE_IN_TOOLTIP = re.compile(r"\[([^\[\]]{1,40})\]\s*$")


def tiles_default() -> bool:
    """Base tiles on by default only when ``LIVABILITY_TILES=osm`` (the app is offline-first)."""
    return os.environ.get("LIVABILITY_TILES", "none").strip().lower() == "osm"


def ranking_table(ctx: Ctx) -> pd.DataFrame:
    """The ranked localities as a display table (translated headers)."""
    df = ctx.result.localities
    if df is None or not len(df) or ("composite" in df and df["composite"].notna().sum() == 0):
        return pd.DataFrame()  # nothing scored: the caller lists the localities and says why
    cols = [c for c in ("rank", "name", "municipality_name", "composite") if c in df]
    out = df.sort_values("rank")[cols].copy() if "rank" in df else df[cols].copy()
    if "composite" in out:
        out["composite"] = out["composite"].round(1)
    for col in ("name", "municipality_name"):
        if col in out:
            out[col] = out[col].map(lambda v: safe_text(v, "plain"))
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
        title = theme_title(key, ctx.lang)
        if st_.coverage == "partial":
            title = f"{title} ({coverage_label('partial', ctx.lang)})"
        out[key] = (title, spec.color, get_layer(ctx.key, key))
    return out


def _labels(ctx: Ctx) -> dict[str, str]:
    return {"score": ctx.t("score"), "localities": ctx.t("localities"),
            "hexagons": ctx.t("hexagons")}


def _build_map(ctx: Ctx, tiles: bool, hexagons: bool) -> maps.OfflineMap:
    """The county map of one run with this weighting's colours baked in (the fallback path)."""
    snap = ctx.snapshot
    scores = ctx.result.localities if ctx.result.ok else None
    cells = ctx.result.cells if (hexagons and ctx.result.ok) else None
    return maps.build_region_map(
        snap.boundary(), snap.localities(), municipalities=snap.municipalities(),
        scores=scores, cells=cells, layers=_layer_inputs(ctx), tiles=tiles, labels=_labels(ctx),
        region_label=snap.region_name,
    )


def _grid_cells(key: SnapKey) -> pd.DataFrame | None:
    """The score model's grid (``h3``, ``weight``): the same for every weighting."""
    try:
        cells = get_model(key).cells
    except Exception:  # scoring failed: the page says so; the map shows no hexagons
        return None
    return cells[[c for c in ("h3", "weight") if c in cells]] if "h3" in cells else None


def _build_base_map(ctx: Ctx, tiles: bool, hexagons: bool) -> maps.OfflineMap:
    """The county map without colours, for every weighting (:func:`geo.maps.recolour_data`)."""
    snap = ctx.snapshot
    return maps.build_region_map(
        snap.boundary(), snap.localities(), municipalities=snap.municipalities(),
        cells=_grid_cells(ctx.key) if hexagons else None, layers=_layer_inputs(ctx), tiles=tiles,
        labels=_labels(ctx), region_label=snap.region_name, recolour=True,
    )


_RETURNED = ("last_object_clicked_tooltip",)
#: The map fills its iframe, so the page's CSS can make it shorter on phones.
_FILL_IFRAME = ("fill_iframe", "<style>#map_div{height:100vh !important;}</style>")


@dataclass(frozen=True)
class _CachedMap:
    """The county map shared by every session and weighting: rendered strings only.

    ``payload`` is what st_folium would send for the map, computed once (see
    :mod:`app.folium_adapter`); a rerun only adds this weighting's colours (:func:`_colours`) and
    the selected place's small layer. ``None`` when streamlit-folium lacks the component
    function: each run then builds its own map. ``contents`` says what the map draws;
    ``recolour`` is what :func:`geo.maps.recolour_data` needs (frozen).
    """

    payload: folium_adapter.MapPayload | None
    build_s: float
    contents: maps.MapContents = field(default_factory=maps.MapContents)
    recolour: maps.RecolourIndex | None = None


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_map(key: SnapKey, lang: str, tiles: bool, hexagons: bool) -> _CachedMap:
    """The county map for one snapshot, language and toggles: built and rendered once.

    Shared by all sessions, and the same for every weighting (the colours come separately, see
    :func:`_colours`), so the browser keeps its Leaflet map on a weight change; the selected place
    is not part of it either (see :func:`highlight_layer`). The folium map is built here,
    rendered into immutable strings and dropped.
    """
    if not folium_adapter.FAST:
        return _CachedMap(None, 0.0)
    ctx = Ctx(key=key, lang=lang, persona="", weights={})
    t0 = time.perf_counter()
    fmap = _build_base_map(ctx, tiles, hexagons)
    contents, index = fmap.contents, fmap.recolour
    payload = folium_adapter.render_payload(fmap, extra_header=[_FILL_IFRAME])
    return _CachedMap(payload, time.perf_counter() - t0, contents, index)


@dataclass(frozen=True)
class _Colours:
    """One weighting's colours for the cached map: the script and the hexagons it shows."""

    script: str
    hexagons: int


@st.cache_resource(show_spinner=False, max_entries=64)
def _colours(key: SnapKey, lang: str, weights: tuple[tuple[str, float], ...], tiles: bool,
             hexagons: bool) -> _Colours:
    """The colours of ``weights`` for :func:`_cached_map`'s map (a few kB of JSON in a script)."""
    index = _cached_map(key, lang, tiles, hexagons).recolour
    if index is None:
        return _Colours("", 0)
    result = get_scores(key, dict(weights))
    data = maps.recolour_data(index, result.cells if result.ok else None,
                              result.localities if result.ok else None)
    return _Colours(maps.recolour_script(data), len(data["cells"]))


def _map_ctx(key: SnapKey, lang: str, weights: tuple[tuple[str, float], ...]) -> Ctx:
    ctx = Ctx(key=key, lang=lang, persona="", weights=dict(weights))
    ctx.result = get_scores(key, dict(weights))
    return ctx


def highlight_layer(ctx: Ctx, place: str | None, *, focus: bool = False) -> folium.FeatureGroup | None:
    """The ring and label of the selected locality (or outline of a municipality), or None."""
    if not place:
        return None
    snap = ctx.snapshot
    locs = snap.localities()
    hit = locs[locs["code"].astype(str) == place] if len(locs) else locs
    pop = None
    if len(hit):
        geom, name = hit.geometry.iloc[0], hit["name"].iloc[0]
        if "population" in hit and pd.notna(hit["population"].iloc[0]):
            pop = float(hit["population"].iloc[0])
    else:
        munis = snap.municipalities()
        if munis is None or not len(munis) or "code" not in munis:
            return None
        hit = munis[munis["code"].astype(str) == place]
        if not len(hit):
            return None
        geom, name = hit.geometry.iloc[0], hit["name"].iloc[0] if "name" in hit else place
        if geom is not None and not geom.is_empty and geom.geom_type != "Point":
            geom = geom.simplify(0.0005, preserve_topology=True)  # light payload on each rerun
    if geom is None or geom.is_empty:
        return None
    return maps.highlight_group(geom, name, population=pop, focus=focus)


def _map_visit() -> int:
    """A number that changes each time the map page is entered from another page.

    It is part of the st_folium key, so the click that opened a profile is not returned again
    when one comes back, while a new click (on the same locality, too) opens its profile again.
    """
    first = "_map_visit" not in st.session_state
    visit = int(st.session_state.get("_map_visit", 0))
    if st.session_state.pop(LEFT_KEY, False) or first:
        st.session_state.pop(f"county_map_{visit}", None)  # st_folium's copy of the old state
        visit += 1
        st.session_state["_map_visit"] = visit
    return visit


def _show_map(ctx: Ctx, tiles: bool, hexagons: bool) -> tuple[object, maps.MapContents, int]:
    """Draw the cached base map, this weighting's colours and the selected place's layer.

    Returns the component's value, what the map draws and how many hexagons this weighting shows.
    """
    weights = tuple(sorted((k, float(v)) for k, v in ctx.weights.items()))
    t0 = time.perf_counter()
    cached = _cached_map(ctx.key, ctx.lang, tiles, hexagons)
    place = st.session_state.get("place")
    focus = bool(place) and st.session_state.get(FOCUS_KEY) == place
    group = highlight_layer(ctx, place, focus=focus)
    key = f"county_map_{_map_visit()}"
    if cached.payload is not None:
        colours = _colours(ctx.key, ctx.lang, weights, tiles, hexagons)
        ret = folium_adapter.send(cached.payload, key=key, height=MAP_HEIGHT,
                                  returned_objects=_RETURNED, group=group,
                                  session_state=st.session_state, dynamic=colours.script)
        contents, shown = cached.contents, colours.hexagons
    else:  # public st_folium on a map of this run only (nothing shared is touched)
        fmap = _build_map(_map_ctx(ctx.key, ctx.lang, weights), tiles, hexagons)
        fig = fmap.get_root()
        fig.header.add_child(folium.Element(_FILL_IFRAME[1]), name=_FILL_IFRAME[0])  # type: ignore[attr-defined]
        contents, shown = fmap.contents, fmap.contents.hexagons
        ret = st_folium(fmap, key=key, height=MAP_HEIGHT, use_container_width=True,
                        returned_objects=list(_RETURNED), feature_group_to_add=group)
    st.session_state["_map_build_s"] = time.perf_counter() - t0
    return ret, contents, shown


def _map_notes(ctx: Ctx, contents: maps.MapContents, hexagons: int) -> None:
    """Say under the legend how the map aggregates the hexagons and which layers it cuts.

    Parameters
    ----------
    ctx
        The page's context (language).
    contents
        What the map draws (:attr:`geo.maps.OfflineMap.contents`).
    hexagons
        The hexagons this weighting shows.
    """
    if contents.hexagons and hexagons:
        if contents.aggregated:
            st.caption(ctx.t("map_hexagons_aggregated", count=num(hexagons, ctx.lang, 0, grouping=True),
                             res=int(contents.hex_resolution or 0),
                             cells=num(contents.cells, ctx.lang, 0, grouping=True),
                             cell_res=int(contents.cell_resolution or 0)))
        else:
            st.caption(ctx.t("map_hexagons_cells", count=num(hexagons, ctx.lang, 0, grouping=True),
                             res=int(contents.hex_resolution or 0)))
    for lay in contents.layers:
        if lay.capped:
            st.caption(ctx.t("map_layer_capped", layer=safe_text(lay.title),
                             drawn=num(lay.drawn, ctx.lang, 0, grouping=True),
                             total=num(lay.total, ctx.lang, 0, grouping=True),
                             cap=num(contents.point_cap, ctx.lang, 0, grouping=True)))


def _legend(ctx: Ctx) -> None:
    swatches = "".join(
        f"<span title='{lo:g}-{hi:g}' style='display:inline-block;width:28px;height:12px;"
        f"background:{c}'></span>" for c, lo, hi in maps.legend_bins())
    st.markdown(  # safe-markdown: palette colours and bins from geo.maps, no data
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
            st.warning(ctx.t("scores_failed", msg=safe_text(ctx.result.error_in(ctx.lang))))
        else:
            st.info(ctx.t("no_scores"))
    notes = []
    for key in LAYERS:
        s = snap.layer_status(key)
        if s.coverage == "partial":
            notes.append(ctx.t("layer_partial_note", layer=safe_text(theme_title(key, ctx.lang)),
                               count=int(s.count)))
        elif not s.available:
            notes.append(ctx.t("layer_missing_note", layer=safe_text(theme_title(key, ctx.lang)),
                               reason=safe_text(ctx.layer_reason(s)) if s.reason
                               else ctx.t("missing")))
    locs = snap.localities()  # a copy per call: once per run
    left, right = st.columns([3, 2], gap="medium")
    # the map first: a weight change sends it only new colours (a few kB), so the browser
    # re-colours it while the ranking is still being drawn
    with left:
        ret, contents, shown = _show_map(ctx, tiles, hexagons)
        _legend(ctx)
        _map_notes(ctx, contents, shown)
        if notes:
            with st.expander(f"{ctx.t('coverage_warnings')} ({len(notes)})"):
                for n in notes:  # safe-markdown: each note is ctx.t(...) of escaped values (above)
                    st.markdown(f"- {n}")
    with right:
        st.subheader(ctx.t("ranking"))
        table = ranking_table(ctx)
        if len(table):
            st.caption(ctx.t("ranking_caption"))
            score_col = ctx.t("score")
            st.dataframe(
                table, hide_index=True, width="stretch", height=460, key="ranking",
                # widths that fit the ~360 px column of a laptop without cutting the score off
                column_config={
                    ctx.t("rank"): st.column_config.NumberColumn(width=48),
                    ctx.t("locality"): st.column_config.TextColumn(width=112),
                    ctx.t("municipality"): st.column_config.TextColumn(width=88),
                    score_col: st.column_config.ProgressColumn(
                        score_col, min_value=0, max_value=100, format="%.1f", width=100)},
            )
        else:
            if ctx.result.localities is not None and len(ctx.result.localities):
                st.warning(ctx.t("nothing_scored"))
            cols = [c for c in ("name", "municipality_name", "population") if c in locs]
            heads = {"name": ctx.t("locality"), "municipality_name": ctx.t("municipality"),
                     "population": ctx.t("population")}
            listed = pd.DataFrame(locs[cols]).sort_values(cols[-1], ascending=False)
            for col in ("name", "municipality_name"):
                if col in listed:
                    listed[col] = listed[col].map(lambda v: safe_text(v, "plain"))
            st.dataframe(listed.rename(columns=heads), hide_index=True, width="stretch", height=460)
        st.caption(ctx.t("map_click_hint"))
        opts = {str(c): str(n) for c, n in zip(locs["code"], locs["name"], strict=False)}
        if opts:
            pick = st.selectbox(ctx.t("choose_place"), list(opts),
                                format_func=lambda c: safe_text(opts.get(c, c), "plain"), key="map_pick",
                                index=None)
            if st.button(ctx.t("open_profile"), key="open_profile", disabled=pick is None):
                st.session_state["_goto"] = ("profile", pick)
                st.rerun()
    codes = set(locs["code"].astype(str))
    code = _clicked_code(ret, codes)
    if code:  # a click of this visit (see _map_visit): open the profile
        st.session_state["_goto"] = ("profile", code)
        st.rerun()
