"""Compare two to four localities or municipalities side by side, best value per row highlighted."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from layers import LAYERS

from . import commute_ui
from .common import (
    Ctx,
    bound,
    compare_html,
    num,
    persona_picker,
    place_options,
    safe_text,
    store,
    theme_title,
)

__all__ = ["KINDS", "compare_frame", "compare_html", "render"]

#: What the page compares (radio option -> its catalogue label): places of this region, or a
#: place anywhere in Sweden with one of this region (:mod:`app.view_national`).
KINDS: dict[str, str] = {"localities": "localities", "municipalities": "municipalities",
                         "sweden": "compare_sweden"}

def compare_frame(table: pd.DataFrame, codes: list[str], labels: dict[str, str],
                  lang: str) -> pd.DataFrame:
    """Rows: composite, rank, each theme, population; columns: the places in ``codes``."""
    df = table.copy()
    df["code"] = df["code"].astype(str)
    df = df.set_index("code").reindex(codes)
    rows: dict[str, pd.Series] = {}
    if "composite" in df:
        rows["composite"] = df["composite"]
    for key in LAYERS:
        col = f"theme:{key}"
        if col in df:
            rows[theme_title(key, lang)] = df[col]
    if "rank" in df:
        rows["rank"] = df["rank"]
    if "population" in df:
        rows["population"] = df["population"]
    out = pd.DataFrame(rows).T
    out.columns = [safe_text(labels.get(c, c), "plain") for c in codes]
    return out


def render(ctx: Ctx) -> None:
    """Draw the compare page."""
    persona_picker(ctx.lang)  # phones: the preset without opening the sidebar
    munis = ctx.result.municipalities
    shared = [str(c) for c in (st.session_state.get("compare") or [])]
    if "compare_kind" not in st.session_state and shared and munis is not None and len(munis):
        # a shared link naming municipality codes (compare=1060,1080) reopens as a municipality
        # comparison: the codes are municipalities' and no locality's
        mcodes = set(munis["code"].astype(str))
        lcodes = set(ctx.result.localities["code"].astype(str)) if ctx.result.localities is not None \
            else set()
        if all(c in mcodes and c not in lcodes for c in shared):
            st.session_state["compare_kind"] = "municipalities"
    kind = store("compare_kind", st.radio(
        ctx.t("compare_kind"), list(KINDS), horizontal=True,
        **bound("compare_kind", ctx.lang), format_func=lambda k: ctx.t(KINDS[k])))
    if kind == "sweden":  # the national model is loaded only here
        from . import view_national

        view_national.render(ctx)
        return
    if not ctx.result.ok:
        st.info(ctx.t("no_scores") if not ctx.result.error
                else ctx.t("scores_failed", msg=safe_text(ctx.result.error_in(ctx.lang))))
        return
    if kind == "localities":
        opts = place_options(ctx)
        table = ctx.result.localities
    else:
        table = ctx.result.municipalities
        if table is None or not len(table):
            st.info(ctx.t("no_scores"))
            return
        name_col = "name" if "name" in table else "code"
        opts = dict(zip(table["code"].astype(str), table[name_col].astype(str), strict=False))
    current = [c for c in (st.session_state.get("compare") or []) if c in opts]
    if len(current) < 2:
        current = list(opts)[:2]
    st.session_state["compare"] = current
    codes = store("compare", st.multiselect(
        ctx.t("compare_pick"), list(opts), **bound("compare", ctx.lang),
        format_func=lambda c: safe_text(opts.get(c, c), "plain"), max_selections=4,
        placeholder=ctx.t("choose_options")))
    if len(codes) < 2 or table is None:
        st.info(ctx.t("compare_need_two"))
        return
    frame = compare_frame(table, codes, opts, ctx.lang)
    names = {"composite": ctx.t("score"), "rank": ctx.t("rank"), "population": ctx.t("population")}
    frame = frame.rename(index=names)
    commute = commute_ui.commute_row(ctx, codes) if kind == "localities" else None
    if commute is not None:  # travel time to the commute target, below the score: fewer is better
        row = pd.DataFrame([commute.to_numpy()], index=[commute.name], columns=frame.columns)
        frame = pd.concat([frame.iloc[:1], row, frame.iloc[1:]])
    lower_better = [ctx.t("rank")] + ([str(commute.name)] if commute is not None else [])
    score_rows = [r for r in frame.index
                  if r not in (ctx.t("population"), *lower_better)]

    frame = frame.apply(pd.to_numeric, errors="coerce").astype(float)
    whole = [r for r in (ctx.t("population"), *lower_better) if r in frame.index]
    best: dict[str, str] = {r: "max" for r in score_rows}
    best |= {r: "min" for r in lower_better if r in frame.index}
    st.html(compare_html(frame, best, {r: 0 for r in whole}, ctx.lang,
                         caption=ctx.t("compare_best")))
    long = (frame.loc[score_rows].reset_index(names="theme")
            .melt(id_vars="theme", var_name="place", value_name="score").dropna())
    if len(long):  # the tooltip's number in the page's language (Vega would use a point)
        long["value"] = [num(v, ctx.lang, 1) for v in long["score"]]
        chart = alt.Chart(long).mark_bar().encode(
            y=alt.Y("theme:N", sort=None, title=None),
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title=ctx.t("score")),
            yOffset=alt.YOffset("place:N", sort=list(frame.columns)),
            # the legend under the chart, in the table's order: a phone keeps the chart's width
            color=alt.Color("place:N", scale=alt.Scale(scheme="viridis"), title=None,
                            sort=list(frame.columns),
                            legend=alt.Legend(orient="bottom", direction="vertical",
                                              labelLimit=0)),
            tooltip=[alt.Tooltip("place:N", title=ctx.t(
                         "municipality" if kind == "municipalities" else "locality")),
                     alt.Tooltip("theme:N", title=ctx.t("theme")),
                     alt.Tooltip("value:N", title=ctx.t("score"))],
        )
        st.altair_chart(chart, width="stretch")
