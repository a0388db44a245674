"""The search box at the top of the map page: places, stops, towns and (online) addresses.

A locality hit opens its profile (``session_state["_goto"]``); any other hit becomes the scored
point (``session_state["point"]``, ``["point_name"]``), which the point panel shows. Hits are
buttons (one tap on a phone, a keyboard path, and AppTest can click them); a choice clears the box.
Queries are cut to :data:`geo.search.MAX_QUERY_CHARS`; every echo of a query is escaped.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from geo.catalog import has, t
from geo.messages import kind_name, render
from geo.search import MAX_QUERY_CHARS, SearchHit, SearchIndex, SearchOutcome, search_places
from geo.sources.geocoder import Geocoder, online

from .common import Ctx, safe_text

__all__ = ["QUERY_KEY", "choose", "hit_label", "search_box"]

log = logging.getLogger(__name__)

#: The text input's session key.
QUERY_KEY = "search_q"
#: At most this many hits are offered.
LIMIT = 6
#: A query echoed in a message is cut to this many characters.
ECHO_CHARS = 40
#: Set once the "addresses need the internet" note was shown in this session.
_SAID_OFFLINE = "_search_offline_said"


@st.cache_resource(show_spinner=False, max_entries=4)
def _geocoder(bbox: tuple[float, float, float, float] | None) -> Geocoder:
    """One geocoder (and so one rate limiter) per region box for the whole server."""
    return Geocoder(bbox)


def _index(ctx: Ctx) -> SearchIndex | None:
    try:
        return SearchIndex.from_snapshot(ctx.snapshot)  # kept on the (cached) snapshot
    except Exception:  # a broken layer must not take the page down: no search box
        log.exception("search index failed")
        return None


def hit_label(hit: SearchHit, lang: str) -> str:
    """``Name · kind · municipality`` of ``hit`` in ``lang`` (plain text, not yet escaped)."""
    if hit.feature_kind and hit.kind not in ("locality", "town", "address"):
        what = kind_name(hit.feature_kind, lang)
    elif has(f"search_kind.{hit.kind}"):
        what = t(f"search_kind.{hit.kind}", lang)
    else:
        what = t("search_kind.place", lang)
    parts = [hit.name, what]
    if hit.detail and hit.detail != hit.name:
        parts.append(hit.detail)
    return " · ".join(parts)


def choose(hit: SearchHit) -> None:
    """Act on a chosen hit (a button's callback): a locality opens its profile, any other place
    becomes the scored point; the box is cleared."""
    if hit.kind == "locality" and hit.code:
        st.session_state["_goto"] = ("profile", hit.code)
    else:
        st.session_state["point"] = (round(hit.lat, 6), round(hit.lon, 6))
        st.session_state["point_name"] = hit.name
    st.session_state[QUERY_KEY] = ""


def _search(ctx: Ctx, index: SearchIndex, query: str) -> SearchOutcome:
    is_online = online()
    geocoder = _geocoder(index.bbox) if is_online else None
    return search_places(index, query, geocoder=geocoder, online=is_online, limit=LIMIT)


def _notes(ctx: Ctx, out: SearchOutcome) -> None:
    if out.cut:
        st.caption(ctx.t("search_cut", n=MAX_QUERY_CHARS))
    if out.notice is not None:
        offline = getattr(out.notice, "code", "") == "geocoder_offline"
        if not offline or not out.hits or not st.session_state.get(_SAID_OFFLINE):
            st.caption(safe_text(render(out.notice, ctx.lang)))
        if offline:
            st.session_state[_SAID_OFFLINE] = True


def search_box(ctx: Ctx) -> None:
    """Draw the search box and its hits (nothing for an empty query).

    The index is built on the first query, not on the first page view (it costs about 0.5 s,
    which the first map would otherwise wait for).
    """
    query = st.text_input(ctx.t("search_label"), key=QUERY_KEY,
                          placeholder=ctx.t("search_placeholder"))
    if not (query or "").strip():
        return
    index = _index(ctx)
    if index is None:
        st.caption(ctx.t("search_unavailable"))
        return
    out = _search(ctx, index, query or "")
    if not out.query:
        return
    _notes(ctx, out)
    if not out.hits:
        echo = out.query if len(out.query) <= ECHO_CHARS else out.query[:ECHO_CHARS].rstrip() + "…"
        st.info(ctx.t("search_no_hits", query=safe_text(echo),
                      region=safe_text(ctx.snapshot.region_name)))
        return
    st.caption(ctx.t("search_hits", n=len(out.hits)))
    for row in range(0, len(out.hits), 2):  # two a row on a wide screen, in order on a phone
        cols = st.columns(2, gap="small")
        for j, hit in enumerate(out.hits[row: row + 2]):
            with cols[j]:
                _hit_button(ctx, row + j, hit)


def _hit_button(ctx: Ctx, i: int, hit: SearchHit) -> Any:
    icon = {"locality": ":material/location_city:", "address": ":material/home_pin:",
            "station": ":material/train:", "stop": ":material/directions_bus:"}.get(
                hit.kind, ":material/place:")
    return st.button(safe_text(hit_label(hit, ctx.lang)), key=f"search_hit_{i}", icon=icon,
                     on_click=choose, args=(hit,), width="stretch",
                     help=ctx.t("search_source", source=safe_text(hit.source),
                                licence=safe_text(hit.licence or "-")))
