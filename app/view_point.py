"""The score of any point (a map click or a search hit that is not a locality), beside the map.

:func:`render_point_panel` draws ``st.session_state["point"]`` (lat, lon, from a click, a search
hit or the URL's ``point=lat,lon``) scored by :func:`geo.point.score_point` with the page's
weighting: its name, headline score with band and percentiles, the themes, the nearest named
amenities (grocery store and health centre first) with distances and minutes by every mode,
coverage caveats, a close button and "Use as my commute target". A point the engine refuses (in the
sea, outside the region) gives its message in the UI language; the page stays usable.
"""

from __future__ import annotations

import logging

import numpy as np
import streamlit as st

from geo.catalog import indicator_title, t
from geo.errors import LivabilityError
from geo.messages import band_name, fmt_distance, kind_name, place_type_name, render
from geo.point import PointNearest, PointScore, score_point

from .common import Ctx, num, safe_text, theme_title
from .data import SnapKey, get_model, get_scores, get_snapshot

__all__ = ["FIRST", "current_point", "point_label", "render_point_panel"]

log = logging.getLogger(__name__)

#: Indicators listed first (a family's first questions), then the others in registry order.
FIRST = ("services.grocery", "services.health", "schools.preschool", "schools.primary",
         "transit.bus", "services.pharmacy")
#: How many nearest places are shown before "all nearest places".
SHOWN = 4


@st.cache_resource(show_spinner=False, max_entries=128)
def _scored(key: SnapKey, lat: float, lon: float,
            weights: tuple[tuple[str, float], ...]) -> PointScore:
    """The point's score with this weighting (shared by every session; errors are not cached)."""
    model = get_model(key)
    result = get_scores(key, dict(weights))
    return score_point(model, lat, lon, result.scores if result.scores is not None
                       else dict(weights), snapshot=get_snapshot(key))


def point_label(lat: float, lon: float, lang: str) -> str:
    """``Point 56.1612, 15.5869`` in ``lang`` (decimal commas in Swedish)."""
    return t("point_title", lang, lat=num(lat, lang, 4), lon=num(lon, lang, 4))


def current_point() -> tuple[float, float] | None:
    """The point of the session as floats, or None (absent or malformed)."""
    p = st.session_state.get("point")
    try:
        lat, lon = float(p[0]), float(p[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return None
    return (lat, lon) if np.isfinite(lat) and np.isfinite(lon) else None


def _close() -> None:
    st.session_state["point"] = None
    st.session_state["point_name"] = None


def _where(ctx: Ctx, p: PointScore) -> str:
    """'In Lyckeby (village), Karlskrona municipality' / 'Countryside in ..., 2.1 km from ...'
    (plain text: the caller escapes it)."""
    muni = p.municipality_name or p.municipality
    if p.locality:
        return ctx.t("point_where_locality", locality=p.locality_name,
                     ptype=place_type_name(p.place_type, ctx.lang), municipality=muni)
    if p.near_locality_name and np.isfinite(p.near_locality_m):
        return ctx.t("point_where_country", municipality=muni,
                     dist=fmt_distance(p.near_locality_m, ctx.lang),
                     locality=p.near_locality_name)
    return ctx.t("point_where_country_alone", municipality=muni)


def _ordered(p: PointScore) -> list[PointNearest]:
    """The nearest places, :data:`FIRST` ones first."""
    first = [n for k in FIRST for n in p.nearest if n.indicator == k]
    return first + [n for n in p.nearest if n not in first]


def _nearest_line(ctx: Ctx, n: PointNearest) -> tuple[str, str]:
    """``("Grocery store on foot", "ICA Nära, 1.2 km (nearest known) · 15 min on foot, ...")``
    (plain text: the caller escapes it)."""
    lang = ctx.lang
    name = n.place.name or kind_name(n.place.kind, lang)
    trips = {t.mode: t for t in n.trips}
    times = ", ".join(ctx.t(f"point_min_{m}", minutes=num(trips[m].minutes, lang, 0))
                      for m in ("walk", "bike", "car") if m in trips)
    if n.place.within is not None:  # placed only by its locality: an upper bound
        where = ctx.t("point_bound", dist=fmt_distance(n.place.distance_m, lang), within=n.place.within)
        return (indicator_title(n.indicator, lang), f"{name}, {where}")
    flags = [ctx.t("point_known")] if n.place.known else []
    if n.place.doubt is not None:  # its name gives a locality it lies far outside
        flags.append(ctx.t("pf_doubt_short"))
    known = f" ({'; '.join(flags)})" if flags else ""
    return (indicator_title(n.indicator, lang),
            f"{name}, {fmt_distance(n.place.distance_m, lang)}{known} · {times}")


def _headline(ctx: Ctx, p: PointScore) -> None:
    """Score, band and percentiles; the themes as one small line."""
    if not np.isfinite(p.composite):
        st.info(ctx.t("point_no_score"))
        return
    band = band_name(p.band, ctx.lang)
    st.markdown(f"#### {num(p.composite, ctx.lang, 0)} / 100\n\n**{safe_text(band)}**")
    if np.isfinite(p.pct_places):
        st.caption(ctx.t("point_pct", places=num(p.pct_places, ctx.lang, 0),
                         cells=num(p.pct_cells, ctx.lang, 0),
                         region=safe_text(ctx.snapshot.region_name)))
    themes = [f"{theme_title(k, ctx.lang)} {num(v, ctx.lang, 0)}"
              for k, v in p.themes.items() if np.isfinite(v) and p.weights.get(k, 0) > 0]
    if themes:
        st.caption(f"{ctx.t('point_themes')}: {safe_text(' · '.join(themes))}")


def _caveats(ctx: Ctx, p: PointScore, shown: list[PointNearest]) -> None:
    """'nearest known' lists and their gaps, straight-line distances."""
    gaps = []
    for n in shown:
        if n.place.known:
            gap = p.row(n.indicator).gap
            if gap is not None:
                text = render(gap, ctx.lang)
                if text not in gaps:
                    gaps.append(text)
    if any(n.place.known for n in shown):
        st.caption(ctx.t("point_known_note") + (" " + safe_text("; ".join(gaps)) if gaps else ""))
    if p.approximate:
        st.caption(ctx.t("approx_note"))


def _buttons(ctx: Ctx, lat: float, lon: float, name: str) -> None:
    """Close, and "Use as my commute target" when the commute helper is there."""
    cols = st.columns(2)
    cols[0].button(ctx.t("point_close"), key="point_close", on_click=_close)
    try:
        from app.commute_ui import set_target
    except ImportError:  # the commute feature is not installed: no button
        return
    if cols[1].button(ctx.t("point_commute"), key="point_commute"):
        set_target(lat, lon, name)
        st.rerun()


def _body(ctx: Ctx, p: PointScore) -> None:
    """Everything below the title of a scored point (its caveats first)."""
    for c in p.caveats:
        st.warning(safe_text(c.render(ctx.lang)))
    st.caption(safe_text(_where(ctx, p)))
    _headline(ctx, p)
    ordered = _ordered(p)
    if ordered:
        st.markdown(f"**{ctx.t('point_nearest')}**")
        for n in ordered[:SHOWN]:
            what, line = _nearest_line(ctx, n)
            st.markdown(f"- **{safe_text(what)}**: {safe_text(line)}")
        if len(ordered) > SHOWN:
            with st.expander(ctx.t("point_more", n=len(ordered) - SHOWN)):
                for n in ordered[SHOWN:]:
                    what, line = _nearest_line(ctx, n)
                    st.markdown(f"- **{safe_text(what)}**: {safe_text(line)}")
    _caveats(ctx, p, ordered)


def render_point_panel(ctx: Ctx) -> None:
    """Draw the score of ``st.session_state["point"]`` (nothing when no point is set)."""
    pt = current_point()
    if pt is None:
        return
    lat, lon = pt
    lang = ctx.lang
    given = st.session_state.get("point_name")
    name = str(given) if given else point_label(lat, lon, lang)
    weights = tuple(sorted((k, float(v)) for k, v in ctx.weights.items()))
    with st.container(border=True, key="point_panel"):
        st.markdown(f"**{safe_text(name)}**")
        try:
            p = _scored(ctx.key, lat, lon, weights)
        except LivabilityError as exc:
            st.warning(safe_text(exc.render(lang)))
            st.button(ctx.t("point_close"), key="point_close", on_click=_close)
            return
        except Exception as exc:  # any other failure: say so, keep the page
            log.exception("point score failed")
            st.warning(ctx.t("point_failed", error=safe_text(type(exc).__name__)))
            st.button(ctx.t("point_close"), key="point_close", on_click=_close)
            return
        _body(ctx, p)
        _buttons(ctx, lat, lon, name)
