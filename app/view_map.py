"""The landing page: the county map beside the ranked table."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import folium
import pandas as pd
import streamlit as st
from shapely.geometry import Point
from streamlit_folium import st_folium

from geo import maps
from geo.catalog import LANGS
from layers import LAYERS

from . import commute_ui, folium_adapter, model_cache
from .common import Ctx, coverage_label, num, num_texts, persona_picker, safe_text, theme_title
from .data import SnapKey, get_layer, get_model, get_scores
from .search_ui import search_box
from .state import FOCUS_KEY, LEFT_KEY
from .view_point import current_point, point_label, render_point_panel

__all__ = ["highlight_layer", "map_click", "ranking_table", "render", "tiles_default", "warm_map"]

MAP_HEIGHT = 560



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
    if "rank" in out:
        out["rank"] = out["rank"].astype("Int64")
    if "composite" in out:  # text in the page's language (Streamlit would use the browser's)
        out["composite"] = num_texts(out["composite"], ctx.lang, 1)
    for col in ("name", "municipality_name"):
        if col in out:
            out[col] = out[col].map(lambda v: safe_text(v, "plain"))
    names = {"rank": ctx.t("rank"), "name": ctx.t("locality"),
             "municipality_name": ctx.t("municipality"), "composite": ctx.t("score"),
             "population": ctx.t("population")}
    out = _with_commute(ctx, out, df)
    return out.rename(columns=names).reset_index(drop=True)


def _with_commute(ctx: Ctx, out: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
    """The travel-time column (whole minutes) when a commute target is set; localities beyond
    the "at most N min" filter are left out (app.commute_ui says how many)."""
    minutes = commute_ui.commute_minutes(ctx)
    header = commute_ui.commute_header(ctx)
    if minutes is None or header is None or "code" not in df:
        return out
    codes = df.loc[out.index, "code"].astype(str)
    mins = minutes["minutes"].reindex(codes).to_numpy()
    out[header] = pd.Series(mins, index=out.index).round().astype("Int64")
    # the time beside the name, so it shows on a phone and a laptop; the municipality moves last
    first = [c for c in ("rank", "name") if c in out.columns]
    out = out[first + [header] + [c for c in out.columns
                                  if c not in (*first, header, "municipality_name")]
              + [c for c in ("municipality_name",) if c in out.columns]]
    limit = commute_ui.commute_limit()
    if limit is not None:
        out = out[pd.Series(mins <= limit, index=out.index)]
    return out


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
        lang=ctx.lang,
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
        labels=_labels(ctx), recolour=True, lang=ctx.lang,
    )


#: A click anywhere (``last_clicked``) and on a layer (``last_object_clicked``): see :func:`map_click`.
_RETURNED = ("last_clicked", "last_object_clicked")
#: How far (degrees) a reported locality click may lie from its marker: the map reports the
#: marker's own position (:class:`geo.maps.ClickSnap`), so only float noise is allowed.
_SNAP_DEG = 1e-6
#: The map fills its iframe, so the page's CSS can make it shorter on phones.
_FILL_IFRAME = ("fill_iframe", "<style>#map_div{height:100vh !important;}"
                "html,body{overflow:hidden;}</style>")  # the component's trailing span: no scroll


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

    def build() -> _CachedMap:
        ctx = Ctx(key=key, lang=lang, persona="", weights={})
        t0 = time.perf_counter()
        fmap = _build_base_map(ctx, tiles, hexagons)
        contents, index = fmap.contents, fmap.recolour
        payload = folium_adapter.render_payload(fmap, extra_header=[_FILL_IFRAME])
        return _CachedMap(payload, time.perf_counter() - t0, contents, index)

    # on disk too (next to the score model): a server start reads it instead of building and
    # rendering the folium map (0.7 s here), keyed by the snapshot's build time, the language and
    # toggles and the code that renders it (app.model_cache.map_fingerprint)
    data, code = Path(key.data), model_cache.map_fingerprint()
    keep = [model_cache.cache_path(data, key.region, key.built_at, folder=_MAP_FOLDER,
                                   variant=_map_variant(lg, tl, hx), fingerprint=code)
            for lg in LANGS for tl in (False, True) for hx in (False, True)]
    return model_cache.load_or_build(data, key.region, key.built_at, build, _CachedMap,
                                     folder=_MAP_FOLDER, variant=_map_variant(lang, tiles, hexagons),
                                     fingerprint=code, keep=keep)


#: The disk cache's folder for the rendered county maps (``<data>/cache/maps``).
_MAP_FOLDER = "maps"


def _map_variant(lang: str, tiles: bool, hexagons: bool) -> str:
    return f"county-map|{lang}|tiles={int(tiles)}|hexagons={int(hexagons)}"


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


def warm_map(key: SnapKey, lang: str, weights: dict[str, float]) -> None:
    """Fill the caches a first visit of the map reads (:mod:`app.warm`): the county map with the
    sidebar's default toggles (tiles as :func:`tiles_default`, hexagons on) and the colours of
    ``weights``."""
    tiles, hexagons = tiles_default(), True
    _cached_map(key, lang, tiles, hexagons)
    _colours(key, lang, tuple(sorted((k, float(v)) for k, v in weights.items())), tiles, hexagons)


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


def point_layer(ctx: Ctx) -> folium.FeatureGroup | None:
    """A ring and name at the scored point (a map click or a search hit), or None."""
    p = current_point()
    if p is None:
        return None
    given = st.session_state.get("point_name")
    name = str(given) if given else point_label(p[0], p[1], ctx.lang)
    return maps.highlight_group(Point(p[1], p[0]), name, group_name="point")


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
    marked = point_layer(ctx)
    if group is not None and marked is not None:
        group.add_child(marked)
    elif marked is not None:
        group = marked
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
        folium_adapter.ensure_registered()
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
    """The score colours under the map: one swatch per band with its range and words, grey = none."""
    rows = "".join(
        f"<span style='display:inline-flex;align-items:center;gap:4px;margin-right:12px'>"
        f"<span style='display:inline-block;width:14px;height:12px;background:{c};"
        f"border:1px solid #263238'></span>{lo}–{hi} {safe_text(words)}</span>"
        for c, lo, hi, words in maps.band_legend(ctx.lang))
    rows += (f"<span style='display:inline-flex;align-items:center;gap:4px'>"
             f"<span style='display:inline-block;width:14px;height:12px;background:"
             f"{maps.NO_SCORE_COLOR};border:1px solid #263238'></span>"
             f"{safe_text(ctx.t('map_legend_no_score'))}</span>")
    st.markdown(  # safe-markdown: palette colours from geo.maps, band words escaped (catalogue)
        f"<div class='score-legend' style='margin-top:4px;font-size:0.85rem;line-height:1.6'>"
        f"{rows}</div>", unsafe_allow_html=True)
    st.caption(ctx.t("legend_text"))


def _latlng(value: object) -> tuple[float, float] | None:
    """``(lat, lng)`` of a streamlit-folium click value (``{"lat": .., "lng": ..}``), or None."""
    if not isinstance(value, dict):
        return None
    try:
        lat, lng = float(value["lat"]), float(value["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    return (lat, lng) if -90 <= lat <= 90 and -180 <= lng <= 180 else None


def map_click(ret: object, locs: pd.DataFrame) -> tuple[str | None, tuple[float, float] | None]:
    """What a click on the county map hit: ``(locality code, None)``, ``(None, (lat, lon))`` or
    ``(None, None)``.

    A click on a locality marker is reported by the map at the marker's own position, as both
    ``last_object_clicked`` and ``last_clicked`` (:class:`geo.maps.ClickSnap`): it gives the
    locality whose marker is there, never a point. Any other click (land, sea, a hexagon) gives
    the clicked point.

    Parameters
    ----------
    ret
        The component's value (``last_clicked``, ``last_object_clicked``), or anything else.
    locs
        The localities (``code`` and a point or area ``geometry`` in EPSG:4326).
    """
    if not isinstance(ret, dict):
        return None, None
    clicked = _latlng(ret.get("last_clicked"))
    obj = ret.get("last_object_clicked")
    if clicked is None:
        return None, None
    if obj == ret.get("last_clicked") and locs is not None and len(locs) and "code" in locs:
        pts = maps.marker_points(locs)
        lat, lng = clicked
        d = (pts.y.to_numpy() - lat) ** 2 + (pts.x.to_numpy() - lng) ** 2
        i = int(d.argmin())
        if d[i] <= _SNAP_DEG ** 2:
            return str(locs["code"].iloc[i]), None
    return None, clicked


def _new_click(visit: int, ret: object) -> bool:
    """True once per click of this visit: the component keeps its value across reruns."""
    stamp = (visit, repr(ret.get("last_clicked")) if isinstance(ret, dict) else None)
    if stamp[1] in (None, "None") or st.session_state.get("_map_click_seen") == stamp:
        return False
    st.session_state["_map_click_seen"] = stamp
    return True


def render(ctx: Ctx) -> None:
    """Draw the map page."""
    search_box(ctx)
    snap = ctx.snapshot
    persona_picker(ctx.lang)  # phones: the preset without opening the sidebar (below the search)
    st.sidebar.divider()
    tiles = st.sidebar.toggle(ctx.t("base_tiles"), value=tiles_default(), key="tiles")
    hexagons = st.sidebar.toggle(ctx.t("show_hexagons"), value=True, key="hexagons")
    if not ctx.themes:  # no theme has data: say that, not "all weights are 0" (they are, for it)
        st.warning(ctx.t("nothing_scored"))
    elif not ctx.result.ok:
        if ctx.result.error:
            st.warning(ctx.t("scores_failed", msg=safe_text(ctx.result.error_in(ctx.lang))))
        else:
            st.info(ctx.t("no_scores"))
    notes = []
    for key in ctx.themes:  # a theme without data is listed once, under the sliders
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
        render_point_panel(ctx)
        st.subheader(ctx.t("ranking"))
        commute_ui.commute_controls(ctx)
        table = ranking_table(ctx)
        if len(table.columns):  # (no rows: every locality is beyond the commute filter)
            st.caption(ctx.t("ranking_caption"))
            score_col = ctx.t("score")
            st.dataframe(
                table, hide_index=True, width="stretch", height=460, key="ranking",
                # widths that fit the ~360 px column of a laptop without cutting the score off
                column_config={
                    ctx.t("rank"): st.column_config.NumberColumn(width=84),  # "Placering"
                    ctx.t("locality"): st.column_config.TextColumn(width=104),
                    ctx.t("municipality"): st.column_config.TextColumn(width=88),
                    score_col: st.column_config.TextColumn(score_col, width=64)}
                | commute_ui.column_config(ctx),
            )
        else:
            if ctx.themes and ctx.result.localities is not None and len(ctx.result.localities):
                st.warning(ctx.t("nothing_scored"))
            cols = [c for c in ("name", "municipality_name", "population") if c in locs]
            heads = {"name": ctx.t("locality"), "municipality_name": ctx.t("municipality"),
                     "population": ctx.t("population")}
            listed = pd.DataFrame(locs[cols]).sort_values(cols[-1], ascending=False)
            if "population" in listed:
                listed["population"] = num_texts(listed["population"], ctx.lang, 0, grouping=True)
            for col in ("name", "municipality_name"):
                if col in listed:
                    listed[col] = listed[col].map(lambda v: safe_text(v, "plain"))
            st.dataframe(listed.rename(columns=heads), hide_index=True, width="stretch", height=460)
        st.caption(ctx.t("map_click_hint"))
        opts = {str(c): str(n) for c, n in zip(locs["code"], locs["name"], strict=False)}
        if opts:
            pick = st.selectbox(ctx.t("choose_place"), list(opts),
                                format_func=lambda c: safe_text(opts.get(c, c), "plain"), key="map_pick",
                                index=None, placeholder=ctx.t("choose_option"))
            if st.button(ctx.t("open_profile"), key="open_profile", disabled=pick is None):
                st.session_state["_goto"] = ("profile", pick)
                st.rerun()
    if not _new_click(int(st.session_state.get("_map_visit", 0)), ret):
        return
    code, point = map_click(ret, locs)
    if code:  # a click of this visit (see _map_visit): open the profile
        st.session_state["_goto"] = ("profile", code)
        st.rerun()
    elif point is not None:  # anywhere else: score that point (the point panel draws it)
        st.session_state["point"] = point
        st.session_state["point_name"] = None
        st.rerun()
