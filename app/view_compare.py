"""Compare two to four localities or municipalities side by side, best value per row highlighted."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from layers import LAYERS

from . import commute_ui
from .common import Ctx, bound, num, place_options, safe_text, store, theme_title

__all__ = ["compare_frame", "render"]


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
        ctx.t("compare_kind"), ["localities", "municipalities"], horizontal=True,
        **bound("compare_kind", ctx.lang), format_func=ctx.t))
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
        format_func=lambda c: safe_text(opts.get(c, c), "plain"), max_selections=4))
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

    def highlight(row: pd.Series) -> list[str]:
        if row.name not in score_rows and row.name not in lower_better:
            return [""] * len(row)
        vals = frame.loc[row.name]
        best = vals.min() if row.name in lower_better else vals.max()
        return ["background-color: #fde72566; font-weight: 600" if v == best else "" for v in vals]

    # Streamlit shows NaN as "None"; a missing theme reads better as a dash ("no data")
    shown = pd.DataFrame({c: [("–" if pd.isna(v) else num(v, ctx.lang, 0 if r in whole else 1,
                                                      grouping=r in whole))
                              for r, v in frame[c].items()] for c in frame.columns}, index=frame.index)
    styler = shown.style.apply(highlight, axis=1)
    st.dataframe(styler, width="stretch", key="compare_table")
    st.caption(ctx.t("compare_best"))
    long = (frame.loc[score_rows].reset_index(names="theme")
            .melt(id_vars="theme", var_name="place", value_name="score").dropna())
    if len(long):
        chart = alt.Chart(long).mark_bar().encode(
            y=alt.Y("theme:N", sort=None, title=None),
            x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title=ctx.t("score")),
            yOffset="place:N",
            color=alt.Color("place:N", scale=alt.Scale(scheme="viridis"), title=None),
            tooltip=["place", "theme", "score"],
        )
        st.altair_chart(chart, width="stretch")
