"""The landing page: the county map beside the ranked table."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import branca
import folium
import pandas as pd
import streamlit as st
import streamlit_folium as stf
from folium.elements import ElementAddToElement
from streamlit_folium import generate_leaflet_string, st_folium

from geo import maps
from layers import LAYERS

from .common import Ctx, coverage_label, safe_text, theme_title
from .data import SnapKey, get_layer, get_scores

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


def _build_map(ctx: Ctx, tiles: bool, hexagons: bool) -> folium.Map:
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


#: st_folium's private helpers the fast path below relies on (streamlit-folium 0.22-0.27): without
#: them the map goes through st_folium itself, under a lock (see :func:`_show_map`).
_FAST_PATH = all(hasattr(stf, n) for n in ("_component_func", "_get_html", "_get_header",
                                           "_get_map_string", "_get_feature_group_string",
                                           "get_full_id"))
_RETURNED = ["last_object_clicked_tooltip"]
_HASH_STRIP = re.compile(r"(_[a-z0-9]+)")  # = streamlit_folium.generate_js_hash
_HASH_URL = re.compile(r"(maps\/[-a-z0-9]+\/)")


@dataclass
class _CachedMap:
    """The rendered county map, shared by every session, and what st_folium would send for it.

    ``args`` are the component arguments st_folium computes from the map on *every* call (a full
    render of the map, then its script of ~1 MB walked again): computed once here, so a rerun
    only adds the selected place's small layer. ``hash_prefix`` is the start of st_folium's
    component key hash (sha256 of the normalised script), finished per widget key.
    """

    fmap: folium.Map
    build_s: float
    args: dict[str, Any] = field(default_factory=dict)
    hash_prefix: Any = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def component_key(self, key: str, return_on_hover: bool = False) -> str:
        """``streamlit_folium.generate_js_hash(script, key, return_on_hover)``, from the prefix."""
        h = self.hash_prefix.copy()
        h.update(f"{key}{key}{return_on_hover}".encode())
        return str(h.hexdigest())


def _walk_assets(element: Any) -> Any:
    if isinstance(element, (branca.colormap.ColorMap, folium.elements.JSCSSMixin)):
        yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk_assets(child)


def component_args(fmap: folium.Map) -> tuple[dict[str, Any], Any]:
    """What ``st_folium(fmap, render=False)`` sends for a rendered map, and its key-hash prefix.

    Mirrors streamlit_folium.st_folium (0.27) for the arguments the map page uses: no zoom or
    centre override, no layer control or drawings, ``returned_objects=[last tooltip]``.
    """
    fmap.render()
    html, header = stf._get_html(fmap), stf._get_header(fmap)
    script = stf._get_map_string(fmap)
    css: list[str] = []
    js: list[str] = []
    for el in _walk_assets(fmap):
        if isinstance(el, branca.colormap.ColorMap):
            js[:0] = ["https://d3js.org/d3.v4.min.js",
                      "https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js"]
        css += [href for _, href in getattr(el, "default_css", [])]
        js += [src for _, src in getattr(el, "default_js", [])]
    args = {"script": script, "header": header, "html": html, "id": stf.get_full_id(fmap),
            "css_links": list(dict.fromkeys(css)),
            "js_links": list(dict.fromkeys(js))}
    prefix = hashlib.sha256(_HASH_URL.sub("", _HASH_STRIP.sub("", script)).encode())
    return args, prefix


def group_script(group: folium.FeatureGroup) -> str:
    """st_folium's script for ``feature_group_to_add=group``, without touching the shared map.

    st_folium attaches the group to the map it draws to name its parent, then replaces the map's
    name with ``map_div``; a throwaway map does the same, so sessions need no lock.
    """
    holder = folium.Map(location=(0, 0), tiles=None)
    folium.Figure().add_child(holder)
    return str(stf._get_feature_group_string(group, map=holder))


def _drop_add_statements(element: Any) -> None:
    for name, child in list(element._children.items()):
        if isinstance(child, ElementAddToElement):
            del element._children[name]
        else:
            _drop_add_statements(child)


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_map(key: SnapKey, lang: str, weights: tuple[tuple[str, float], ...], tiles: bool,
                hexagons: bool) -> _CachedMap:
    """The county map for one snapshot, language, weighting and toggles: built and rendered once.

    Shared by all sessions; the selected place is not part of it (see :func:`highlight_layer`), so
    opening profiles, the ranking and the other side panels reuse it as it is.
    """
    ctx = Ctx(key=key, lang=lang, persona="", weights=dict(weights))
    ctx.result = get_scores(key, dict(weights))
    t0 = time.perf_counter()
    fmap = _build_map(ctx, tiles, hexagons)
    # the map fills its iframe, so the page's CSS can make it shorter on phones
    fmap.get_root().header.add_child(  # type: ignore[attr-defined]
        folium.Element("<style>#map_div{height:100vh !important;}</style>"), name="fill_iframe")
    fmap.get_root().render()  # st_folium(render=False) then skips this full render on every rerun
    # st_folium renames the map's elements the first time it writes the map's script: do that
    # here, so the script (and the component key made from it) is the same on every rerun. The
    # ".addTo()" statements folium made under the old names would then point at nothing: drop
    # them; each later render adds them again under the new, stable names.
    generate_leaflet_string(fmap)
    _drop_add_statements(fmap)
    if not _FAST_PATH:
        return _CachedMap(fmap, time.perf_counter() - t0)
    args, prefix = component_args(fmap)
    return _CachedMap(fmap, time.perf_counter() - t0, args, prefix)


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


def _show_map(ctx: Ctx, tiles: bool, hexagons: bool) -> object:
    """Draw the cached base map with the selected place's layer added by st_folium."""
    weights = tuple(sorted((k, float(v)) for k, v in ctx.weights.items()))
    t0 = time.perf_counter()
    cached = _cached_map(ctx.key, ctx.lang, weights, tiles, hexagons)
    place = st.session_state.get("place")
    focus = bool(place) and st.session_state.get(FOCUS_KEY) == place
    group = highlight_layer(ctx, place, focus=focus)
    key = f"county_map_{_map_visit()}"
    if cached.args:
        ret = _send_map(cached, key, group)
    else:  # st_folium attaches the group to the shared map: detach it under a lock
        with cached.lock:
            try:
                ret = st_folium(cached.fmap, key=key, height=MAP_HEIGHT, use_container_width=True,
                                returned_objects=_RETURNED, feature_group_to_add=group,
                                render=False)
            finally:
                if group is not None:
                    cached.fmap._children.pop(group.get_name(), None)
    st.session_state["_map_build_s"] = time.perf_counter() - t0
    return ret


def _send_map(cached: _CachedMap, key: str, group: folium.FeatureGroup | None) -> object:
    """The st_folium component with the precomputed base map and this run's place layer."""
    hash_key = cached.component_key(key)

    def on_change() -> None:  # as st_folium: the component's value under the caller's key
        st.session_state[key] = st.session_state.get(hash_key, {})

    return stf._component_func(
        **cached.args, key=hash_key, default=dict.fromkeys(_RETURNED), height=MAP_HEIGHT,
        width=None, returned_objects=list(_RETURNED),
        zoom=None, center=None, feature_group=group_script(group) if group is not None else None,
        return_on_hover=False, layer_control=None, pixelated=False, on_change=on_change,
        wrap_longitude=False)


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
            st.warning(ctx.t("scores_failed", msg=safe_text(ctx.result.error)))
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
            locs = snap.localities()
            cols = [c for c in ("name", "municipality_name", "population") if c in locs]
            heads = {"name": ctx.t("locality"), "municipality_name": ctx.t("municipality"),
                     "population": ctx.t("population")}
            listed = pd.DataFrame(locs[cols]).sort_values(cols[-1], ascending=False)
            for col in ("name", "municipality_name"):
                if col in listed:
                    listed[col] = listed[col].map(lambda v: safe_text(v, "plain"))
            st.dataframe(listed.rename(columns=heads), hide_index=True, width="stretch", height=460)
        st.caption(ctx.t("map_click_hint"))
        opts = {str(c): str(n) for c, n in zip(snap.localities()["code"],
                                                snap.localities()["name"], strict=False)}
        if opts:
            pick = st.selectbox(ctx.t("choose_place"), list(opts),
                                format_func=lambda c: safe_text(opts.get(c, c), "plain"), key="map_pick",
                                index=None)
            if st.button(ctx.t("open_profile"), key="open_profile", disabled=pick is None):
                st.session_state["_goto"] = ("profile", pick)
                st.rerun()
    with left:
        ret = _show_map(ctx, tiles, hexagons)
        _legend(ctx)
        if notes:
            with st.expander(f"{ctx.t('coverage_warnings')} ({len(notes)})"):
                for n in notes:  # safe-markdown: each note is ctx.t(...) of escaped values (above)
                    st.markdown(f"- {n}")
        codes = set(snap.localities()["code"].astype(str))
        code = _clicked_code(ret, codes)
        if code:  # a click of this visit (see _map_visit): open the profile
            st.session_state["_goto"] = ("profile", code)
            st.rerun()
