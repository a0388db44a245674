"""My commute: a target (workplace or school), the mode, an "at most N min" filter, and the times.

The choice lives in ``st.session_state`` under the URL keys of :mod:`app.state` (``commute``
(lat, lon), ``commute_name``, ``commute_mode``, ``commute_max``), which the frame writes back to
the address, so a shared link reopens it. The times come from :mod:`geo.commute`, computed once
per (snapshot, target, mode) and shared by every session.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import streamlit as st

from geo.commute import CommuteEngine, CommuteTimes
from geo.errors import LivabilityError
from geo.messages import render

from .common import Ctx, bound, num, safe_text, store
from .data import SnapKey, get_model, get_snapshot
from .state import COMMUTE_MAX_RANGE, COMMUTE_MODES

__all__ = ["clear_target", "column_config", "commute_controls", "commute_header", "commute_limit",
           "commute_minutes", "commute_row", "commute_times", "set_target"]

log = logging.getLogger(__name__)

#: The filter's starting value when it is switched on (minutes).
DEFAULT_MAX = 30
#: Longest target name shown in a column header.
_HEADER_NAME = 24
#: The name's length in the short column label, and the column's width in pixels (fits
#: "Till Karlskrona (≈ min)" at the ranking's font size).
_LABEL_NAME, _LABEL_WIDTH = 12, 132


def set_target(lat: float, lon: float, name: str | None) -> None:
    """Make (``lat``, ``lon``) the commute target, called ``name`` (kept in the URL)."""
    st.session_state["commute"] = (round(float(lat), 5), round(float(lon), 5))
    st.session_state["commute_name"] = " ".join(str(name).split())[:80] if name else None
    st.session_state.setdefault("commute_mode", COMMUTE_MODES[0])


def clear_target() -> None:
    """Forget the commute target and its filter (the mode stays for the next target)."""
    st.session_state["commute"] = None
    st.session_state["commute_name"] = None
    st.session_state["commute_max"] = None


@st.cache_resource(show_spinner=False, max_entries=4)
def _engine(key: SnapKey) -> CommuteEngine:
    """The commute engine of one snapshot: localities and cells of its model (localities only
    when the model cannot be built)."""
    snap = get_snapshot(key)
    try:
        return CommuteEngine(get_model(key), snapshot=snap)
    except Exception:  # scoring failed: the page says so; localities still get their times
        log.exception("commute engine without the score model")
        return CommuteEngine(snap)


@st.cache_resource(show_spinner=False, max_entries=64)
def _times(key: SnapKey, lat: float, lon: float, mode: str) -> CommuteTimes:
    return _engine(key).times(lat, lon, mode)


def _target() -> tuple[float, float] | None:
    t = st.session_state.get("commute")
    if not isinstance(t, (tuple, list)) or len(t) != 2:
        return None
    return float(t[0]), float(t[1])


def _mode() -> str:
    mode = st.session_state.get("commute_mode")
    return mode if mode in COMMUTE_MODES else COMMUTE_MODES[0]


def commute_times(ctx: Ctx) -> CommuteTimes | None:
    """The travel times to the current target by the current mode, or None (no target, or a
    target the engine refuses: see :func:`commute_controls`, which says why)."""
    target = _target()
    if target is None:
        return None
    try:
        return _times(ctx.key, target[0], target[1], _mode())
    except LivabilityError:
        return None


def commute_minutes(ctx: Ctx) -> pd.DataFrame | None:
    """Locality code -> ``minutes`` (float, NaN: not reachable) and ``approximate`` (bool), or
    None when no target is set (or it cannot be used)."""
    res = commute_times(ctx)
    if res is None:
        return None
    out = pd.DataFrame({"minutes": res.localities.astype(float),
                        "approximate": res.approximate}, index=res.localities.index)
    out.index.name = "code"
    return out


def _name(ctx: Ctx) -> str:
    name = st.session_state.get("commute_name")
    return str(name) if name else ctx.t("commute_unnamed")


def _header_text(ctx: Ctx, longest: int, key: str) -> str | None:
    """The catalogue text ``key`` (``<key>_approx`` for approximate times) with the target's
    name cut to ``longest`` characters, plain text; None without a target."""
    res = commute_times(ctx)
    if res is None:
        return None
    name = _name(ctx)
    if len(name) > longest:
        name = name[:longest - 1].rstrip() + "…"
    return ctx.t(f"{key}_approx" if res.approximate else key, name=safe_text(name, "plain"),
                 mode=ctx.t(f"commute_word.{res.mode}"))


def commute_header(ctx: Ctx) -> str | None:
    """The travel-time column's header ("To BTH, bike (min)"), plain text; None without a target."""
    return _header_text(ctx, _HEADER_NAME, "commute_col")


def column_label(ctx: Ctx) -> str | None:
    """The travel-time column's short visible label ("To Ronneby (≈ min)"): the full header
    (:func:`commute_header`, with the mode) does not fit a ranking column, so it is the help."""
    return _header_text(ctx, _LABEL_NAME, "commute_label")


def column_config(ctx: Ctx) -> dict[str, Any]:
    """The travel-time column's ``st.dataframe`` column config (empty without a target): the
    column keeps its full header as its name (tables, downloads); it shows the short label."""
    header, label = commute_header(ctx), column_label(ctx)
    if header is None or label is None:
        return {}
    return {header: st.column_config.NumberColumn(label, format="%d", width=_LABEL_WIDTH,
                                                  help=safe_text(header))}


def commute_row(ctx: Ctx, codes: list[str]) -> pd.Series | None:
    """Whole minutes to the target for the localities ``codes``, named by the column header;
    None without a target."""
    minutes = commute_minutes(ctx)
    header = commute_header(ctx)
    if minutes is None or header is None:
        return None
    return minutes["minutes"].reindex([str(c) for c in codes]).round().rename(header)


def commute_limit() -> int | None:
    """The "at most N min" filter (minutes), None when it is off."""
    v = st.session_state.get("commute_max")
    return int(v) if isinstance(v, int) and not isinstance(v, bool) else None


# -- the controls ---------------------------------------------------------------------------
def _pick_locality(ctx: Ctx) -> None:
    """A locality chosen from the list becomes the target (its marker's position)."""
    code = st.session_state.get("commute_pick")
    st.session_state["commute_pick"] = None
    if not code:
        return
    locs = ctx.snapshot.localities()
    hit = locs[locs["code"].astype(str) == str(code)]
    if not len(hit):
        return
    p = hit.geometry.iloc[0].representative_point()
    set_target(p.y, p.x, str(hit["name"].iloc[0]))


def _filter_changed() -> None:
    on = bool(st.session_state.get("commute_filter_on"))
    value = int(st.session_state.get("commute_max_slider") or DEFAULT_MAX)
    st.session_state["commute_max"] = value if on else None


def _filter(ctx: Ctx) -> None:
    limit = commute_limit()
    st.session_state["commute_filter_on"] = limit is not None
    if limit is not None or "commute_max_slider" not in st.session_state:
        st.session_state["commute_max_slider"] = limit or DEFAULT_MAX
    st.checkbox(ctx.t("commute_filter"), key="commute_filter_on", on_change=_filter_changed)
    st.slider(ctx.t("commute_max"), min_value=COMMUTE_MAX_RANGE[0],
              max_value=COMMUTE_MAX_RANGE[1], step=5, key="commute_max_slider",
              on_change=_filter_changed, disabled=limit is None)


def _summary(ctx: Ctx, res: CommuteTimes) -> None:
    travel = ctx.t(f"mode_{res.mode}")
    st.caption(ctx.t("commute_method", travel=travel,
                     method=safe_text(render(res.method, ctx.lang))))
    limit = commute_limit()
    if limit is None:
        return
    known = res.localities
    result = ctx.result.localities
    if result is not None and len(result) and "code" in result:
        known = known.reindex(result["code"].astype(str))
    shown = int(known.le(limit).sum())
    lang = ctx.lang
    st.caption(ctx.t("commute_hidden", shown=num(shown, lang, 0), total=num(len(known), lang, 0),
                     max=num(limit, lang, 0), travel=travel,
                     hidden=num(len(known) - shown, lang, 0)))


def commute_controls(ctx: Ctx) -> None:
    """The commute panel: the target (escaped), mode, "at most N min" filter, clear, and a
    target picker from the localities for users without the point panel."""
    target = _target()
    with st.expander(ctx.t("commute_title"), expanded=target is not None):
        if target is None:
            st.caption(ctx.t("commute_intro"))
        else:
            try:
                res: CommuteTimes | None = _times(ctx.key, target[0], target[1], _mode())
            except LivabilityError as exc:
                clear_target()  # a target from a link that is too far away: drop it, say why
                st.warning(ctx.t("commute_failed", msg=safe_text(exc.render(ctx.lang))))
                res = None
            if res is not None:
                st.markdown(ctx.t("commute_to", name=safe_text(_name(ctx))))
                store("commute_mode", st.radio(
                    ctx.t("commute_mode"), list(COMMUTE_MODES), horizontal=True,
                    format_func=lambda m: ctx.t(f"mode_{m}"), **bound("commute_mode", ctx.lang)))
                _filter(ctx)
                _summary(ctx, _times(ctx.key, target[0], target[1], _mode()))
                st.button(ctx.t("commute_clear"), key="commute_clear", on_click=clear_target)
        locs = ctx.snapshot.localities()
        opts = {str(c): str(n) for c, n in zip(locs["code"], locs["name"], strict=False)}
        if opts:
            st.selectbox(ctx.t("commute_pick"), sorted(opts, key=lambda c: opts[c].casefold()),
                         index=None, placeholder=ctx.t("commute_pick_placeholder"),
                         format_func=lambda c: safe_text(opts.get(c, c), "plain"),
                         key="commute_pick", on_change=_pick_locality, args=(ctx,))
