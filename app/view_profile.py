"""Place profile: score, rank and band, theme breakdown, nearest amenities, facts, coverage, sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from geo.catalog import fmt_percent, indicator_title, t
from geo.messages import Message, kind_name, place_type_name
from geo.messages import render as render_message
from layers import LAYERS

from .common import (
    Ctx,
    bound,
    coverage_label,
    engine_text,
    layer_reason,
    num,
    place_options,
    safe_text,
    store,
    theme_title,
)
from .data import explanation, get_rank_bands

if TYPE_CHECKING:  # the engine's scoring loads lazily (app.data)
    from geo.scoring import Explanation

__all__ = ["breakdown_frame", "municipal_facts", "render", "source_lines"]


def _indicator_title(key: str, lang: str) -> str:
    return indicator_title(key, lang)


def breakdown_frame(row: pd.Series, lang: str) -> pd.DataFrame:
    """``theme:<key>`` columns of a score row as (theme, score) rows, in registry order."""
    rows = []
    for key in LAYERS:
        col = f"theme:{key}"
        if col in row.index and pd.notna(row[col]):
            rows.append({"theme": theme_title(key, lang), "score": round(float(row[col]), 1)})
    return pd.DataFrame(rows, columns=["theme", "score"])


def municipal_facts(snapshot: Any, muni_code: str, muni_name: str, lang: str) -> list[tuple[str, str]]:
    """The municipality's statistics against the national median, as (label, value) rows.

    From :func:`geo.scoring.municipal_context`: tax rate, house price, rent, school results,
    unemployment, income, then crime, population, population change 2015-2025 and the forecast;
    each value with the national median (or why there is none), the year, the source and
    "licence unclear" where the pack says so. Empty when the municipality is unknown.
    """
    from geo.errors import LivabilityError
    from geo.messages import fmt_value
    from geo.scoring import municipal_context

    try:
        rows = municipal_context(snapshot, muni_code or muni_name)
    except LivabilityError:
        return []
    facts = []
    for r in rows:
        label = r.title(lang)
        shown = ((r.label_sv if lang == "sv" else r.label) or "–") if r.unit == "category" \
            else fmt_value(r.value, r.unit, lang)
        facts.append((label, shown + r.comparison(lang) + r.provenance(lang)))
    return facts


def _indicator_rows(exp: Explanation, ctx: Ctx) -> pd.DataFrame:
    """One row per indicator: title, score, nearest named amenity with distance and mode, notes."""
    rows = []
    for it in exp.indicators:
        names = []
        nearest = it.nearest
        if it.statement is not None:
            # the engine's own sentence: "nearest known: X, nearest for 62% of residents; ..."
            names.append(safe_text(render_message(it.statement, ctx.lang), "plain"))
            nearest = ()
        if it.gap is not None:
            names.append(safe_text(render_message(it.gap, ctx.lang), "plain"))
        for a in nearest[:3]:
            dist = a.distance_m
            mode = a.mode or it.mode
            txt = safe_text(a.name or kind_name(a.kind or "—", ctx.lang), "plain")
            if np.isfinite(dist):
                txt += f", {num(dist / 1000, ctx.lang)} km" if dist >= 1000 \
                    else f", {num(dist, ctx.lang, 0)} m"
            if mode:
                txt += f" {ctx.t('mode_' + mode)}"
            if mode == "car" and np.isfinite(a.minutes):
                txt += f" (~{num(a.minutes, ctx.lang, 0)} min)"
            names.append(txt)
        title = indicator_title(it.key, ctx.lang)
        notes = []
        if it.missing:
            reason = engine_text(it.reason, ctx.lang)
            notes.append(f"{ctx.t('missing')}: {safe_text(reason, 'plain')}")
        if it.partial:
            notes.append(ctx.t("partial"))
        if it.approximate:
            notes.append("≈")
        rows.append({
            ctx.t("theme"): theme_title(it.theme, ctx.lang),
            ctx.t("indicator"): safe_text(title or it.key, "plain"),
            ctx.t("score"): round(float(it.score), 1) if np.isfinite(it.score) else None,
            ctx.t("nearest"): "; ".join(names),
            ctx.t("reason"): "; ".join(notes),
        })
    return pd.DataFrame(rows)


def _meaning(exp: Explanation | None, ctx: Ctx) -> None:
    """What the score means: band in words, place type, percentiles, how much rests on complete
    data and on municipal statistics (all from :func:`geo.scoring.explain`)."""
    if exp is None:
        return
    lines = []
    if exp.meaning is not None:
        head = f"{place_type_name(exp.place_type, ctx.lang)}: " if exp.place_type else ""
        line = head + render_message(exp.meaning, ctx.lang)
        lines.append(line[:1].upper() + line[1:])
    if np.isfinite(exp.complete_share):
        lines.append(render_message(Message("complete_share",
                                            {"pct": round(100 * exp.complete_share)}), ctx.lang))
    if np.isfinite(exp.stat_share):
        from geo.scoring import STAT_CAP

        lines.append(render_message(Message("stat_share", {"share": exp.stat_share,
                                                           "cap": STAT_CAP}), ctx.lang))
    for line in lines:
        st.markdown(safe_text(line))


def render(ctx: Ctx) -> None:
    """Draw the profile of the selected place."""
    opts = place_options(ctx, include_municipalities=True)
    if not opts:
        st.info(ctx.t("no_place"))
        return
    if st.session_state.get("place") not in opts:
        st.session_state["place"] = next(iter(opts))
    code = store("place", st.selectbox(ctx.t("choose_place"), list(opts),
                                       format_func=lambda c: safe_text(opts.get(c, c), "plain"),
                                       **bound("place", ctx.lang)))
    snap = ctx.snapshot
    locs = snap.localities()
    locs["code"] = locs["code"].astype(str)
    loc = locs[locs["code"] == code]
    row: pd.Series | None = None
    table = ctx.result.localities
    if loc.empty and ctx.result.municipalities is not None:
        table = ctx.result.municipalities
    if ctx.result.ok and table is not None and "code" in table:
        hit = table[table["code"].astype(str) == code]
        row = hit.iloc[0] if len(hit) else None
    name = str(loc["name"].iloc[0]) if len(loc) else opts[code]
    st.header(safe_text(name))
    if st.button(ctx.t("show_on_map"), key="show_on_map",
                 icon=":material/map:"):  # the map page rings the place and zooms to it
        st.session_state.update(_goto=("map", code), _map_focus=code)
        st.rerun()
    muni_code = str(loc["municipality"].iloc[0]) if len(loc) and "municipality" in loc else code
    muni_name = str(loc["municipality_name"].iloc[0]) if len(loc) and "municipality_name" in loc \
        else ""
    if muni_name:
        st.caption(f"{ctx.t('municipality')}: {safe_text(muni_name)}")
    if row is None:
        st.info(ctx.t("no_scores") if not ctx.result.error
                else ctx.t("scores_failed", msg=safe_text(ctx.result.error_in(ctx.lang))))
    else:
        c1, c2, c3 = st.columns(3)
        c1.metric(ctx.t("score"), num(float(row["composite"]), ctx.lang)
                  if pd.notna(row.get("composite")) else "–")
        n = len(table) if table is not None else 0
        c2.metric(ctx.t("rank"), f"{int(row['rank'])} / {n}" if pd.notna(row.get("rank")) else "–")
        bands = get_rank_bands(ctx.key, ctx.weights)
        band_txt = "–"
        b = pd.DataFrame()
        if bands is not None and len(bands):
            b = bands[bands["code"].astype(str) == code] if "code" in bands else bands.iloc[0:0]
            if len(b) and {"rank_low", "rank_high"} <= set(b.columns):
                band_txt = f"{int(b['rank_low'].iloc[0])}–{int(b['rank_high'].iloc[0])}"
        c3.metric(ctx.t("rank_band"), band_txt, help=ctx.t("rank_band_help"))
        if bands is not None and len(b) and "top5_share" in b:
            c3.caption(f"{ctx.t('top5_share')}: "
                       f"{fmt_percent(float(b['top5_share'].iloc[0]), ctx.lang)}")
        exp = explanation(ctx.key, ctx.result, code)
        _meaning(exp, ctx)
        st.subheader(ctx.t("breakdown"))
        bd = breakdown_frame(row, ctx.lang)
        if len(bd):
            chart = alt.Chart(bd).mark_bar().encode(
                x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title=ctx.t("score")),
                y=alt.Y("theme:N", sort=None, title=None),
                color=alt.Color("score:Q", scale=alt.Scale(scheme="viridis", domain=[0, 100]),
                                legend=None),
                tooltip=["theme", "score"],
            ).properties(height=32 * len(bd) + 20)
            st.altair_chart(chart, width="stretch")
            st.dataframe(bd.rename(columns={"theme": ctx.t("theme"), "score": ctx.t("score")}),
                         hide_index=True, key="breakdown_table")
        missing = row.get("missing")
        if (isinstance(missing, (list, tuple)) and missing) or (isinstance(missing, str) and missing):
            keys = [k.strip() for k in missing.split(",")] if isinstance(missing, str) \
                else [str(k) for k in missing]
            items = ", ".join(_indicator_title(k, ctx.lang) for k in keys if k)
            st.warning(ctx.t("missing_indicators", items=safe_text(items)))
        if exp:
            ind = _indicator_rows(exp, ctx)
            if len(ind):
                st.subheader(ctx.t("indicators"))
                st.dataframe(ind, hide_index=True, width="stretch", column_config={
                    ctx.t("nearest"): st.column_config.TextColumn(width="large"),
                    ctx.t("indicator"): st.column_config.TextColumn(width="medium")})
                st.caption(ctx.t("approx_note"))
    st.subheader(ctx.t("key_facts"))
    facts: list[tuple[str, str]] = []
    if len(loc) and "population" in loc and pd.notna(loc["population"].iloc[0]):
        facts.append((ctx.t("population"), num(int(loc["population"].iloc[0]), ctx.lang, 0,
                                                   grouping=True)))
    if muni_name:
        facts.append((ctx.t("municipality"), muni_name))
    facts += municipal_facts(snap, muni_code, muni_name, ctx.lang)
    # st.table renders markdown in every cell, the index and the headers
    st.table(pd.DataFrame([(safe_text(k), safe_text(v)) for k, v in facts],
                          columns=[safe_text(ctx.t("key_facts")), safe_text(ctx.t("value"))])
             .set_index(safe_text(ctx.t("key_facts"))))
    st.subheader(ctx.t("coverage_layers"))
    warned = False
    for key in LAYERS:
        s = snap.layer_status(key)
        if s.coverage != "complete":
            warned = True
            reason = f" – {safe_text(layer_reason(s, ctx.lang))}" if s.reason else ""
            st.markdown(f"- **{safe_text(theme_title(key, ctx.lang))}**: "
                        f"{safe_text(coverage_label(s.coverage, ctx.lang))}{reason}")
    if not warned:
        st.caption("–")
    with st.expander(ctx.t("sources")):
        for line in source_lines(snap, ctx.lang):
            st.markdown(f"- {safe_text(line)}")


def source_lines(snap: Any, lang: str) -> list[str]:
    """One line per distinct source of the snapshot: source, licence (its status when the pack
    calls it unclear), date and coverage, then the attributions."""
    seen: dict[str, None] = {}
    entries = [p.to_dict() for key in LAYERS for p in snap.layer_status(key).sources]
    for group in ("base", "tables"):
        for e in (snap.manifest.get(group, {}) or {}).values():
            entries += list(e.get("sources", []))
    unclear = t("licence_unclear", lang)
    for e in entries:
        lic = str(e.get("license", "") or "")
        status = f" ({unclear})" if lic.strip().lower().startswith("unclear") else ""
        date = f", {e['date']}" if e.get("date") else ""
        cov = f", {coverage_label(str(e['coverage']), lang)}" if e.get("coverage") else ""
        seen[f"{e.get('source', '')}: {lic}{status}{date}{cov}"] = None
    for line in snap.attributions():
        seen.setdefault(line, None)
    return list(seen)
