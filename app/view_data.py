"""About the data: what is loaded, coverage, sources, licences, dates; how to refresh and extend."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.messages import render as render_message
from geo.sources.registry import check_inputs
from layers import LAYERS

from .common import Ctx, coverage_label, layer_reason, safe_text, theme_title

__all__ = ["layer_table", "render"]


def layer_table(ctx: Ctx) -> pd.DataFrame:
    """One row per layer (registered or in the snapshot): count, coverage, reason, sources."""
    snap = ctx.snapshot
    keys = list(LAYERS) + [k for k in snap.layer_keys() if k not in LAYERS]
    rows = []
    for k in keys:
        s = snap.layer_status(k)
        rows.append({
            ctx.t("layer"): theme_title(k, ctx.lang),
            ctx.t("count"): s.count,
            ctx.t("coverage"): coverage_label(s.coverage, ctx.lang),
            ctx.t("sources"): "; ".join(p.source for p in s.sources),
            ctx.t("licence"): "; ".join(sorted({p.license for p in s.sources if p.license})),
            ctx.t("date"): "; ".join(sorted({p.date for p in s.sources if p.date})),
            ctx.t("reason"): layer_reason(s, ctx.lang)
            or "; ".join(p.note for p in s.sources if p.note),
        })
    return _plain(pd.DataFrame(rows))


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with every text cell through ``safe_text(..., "plain")`` (st.dataframe shows text)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(lambda v: safe_text(v, "plain") if isinstance(v, str) else v)
    return out


def render(ctx: Ctx) -> None:
    """Draw the data page."""
    snap = ctx.snapshot
    man = snap.manifest
    st.subheader(ctx.t("data_loaded"))
    c1, c2, c3 = st.columns(3)
    c1.metric(ctx.t("region"), safe_text(snap.region_name))  # the value renders markdown too
    c2.metric(ctx.t("localities"), len(snap.localities()))
    c3.metric(ctx.t("built_at"), safe_text(snap.built_at[:16].replace("T", " ")))
    st.caption(f"{safe_text(snap.path)} · software {safe_text(man.get('software_version', '?'))}")
    for msg in check_inputs(snap).stale:  # an input changed since the build: say how to rebuild
        st.warning(safe_text(ctx.t("stale", msg=render_message(msg, ctx.lang))))
    table = layer_table(ctx)
    st.dataframe(table.drop(columns=[ctx.t("reason")]), hide_index=True, width="stretch",
                 key="layers_table")
    gaps = [(k, snap.layer_status(k)) for k in LAYERS]
    gaps = [(k, s) for k, s in gaps if s.coverage != "complete"]
    if gaps:
        st.markdown(f"**{ctx.t('coverage_warnings')}**")
        for k, s in gaps:
            note = layer_reason(s, ctx.lang) or "; ".join(p.note for p in s.sources if p.note)
            st.markdown(f"- **{safe_text(theme_title(k, ctx.lang))}** "
                        f"({safe_text(coverage_label(s.coverage, ctx.lang))}, {int(s.count)}): "
                        f"{safe_text(note)}")
    base = man.get("base", {})
    if base:
        rows = [{"": name, ctx.t("count"): e.get("count"),
                 ctx.t("sources"): "; ".join(p.get("source", "") for p in e.get("sources", [])),
                 ctx.t("licence"): "; ".join(p.get("license", "") for p in e.get("sources", []))}
                for name, e in base.items()]
        st.dataframe(_plain(pd.DataFrame(rows)), hide_index=True, width="stretch")
    tables = man.get("tables", {})
    if tables:
        st.subheader(ctx.t("tables"))
        rows = [{"": name, ctx.t("rows"): e.get("rows"),
                 ctx.t("sources"): "; ".join(p.get("source", "") for p in e.get("sources", [])),
                 ctx.t("licence"): "; ".join(p.get("license", "") for p in e.get("sources", [])),
                 ctx.t("date"): "; ".join(p.get("date", "") for p in e.get("sources", []))}
                for name, e in tables.items()]
        st.dataframe(_plain(pd.DataFrame(rows)), hide_index=True, width="stretch")
    nets = man.get("networks", {})
    st.subheader(ctx.t("networks"))
    if nets:
        st.dataframe(_plain(pd.DataFrame([{"mode": m, "nodes": e.get("nodes"),
                                           "edges": e.get("edges")} for m, e in nets.items()])),
                     hide_index=True)
    else:
        st.caption(ctx.t("approx_note"))
    st.subheader(ctx.t("attributions"))
    for line in snap.attributions():
        st.markdown(f"- {safe_text(line)}")
    st.subheader(ctx.t("refresh"))
    st.markdown(ctx.t("refresh_text"))
    region = safe_text(ctx.key.region, "plain")  # st.code shows text literally
    st.code(f"livability build --region {region} --pack ../shared/data/blekinge --offline\n"
            f"# or: make build", language="bash")
    st.subheader(ctx.t("own_pack"))
    st.markdown(ctx.t("own_pack_text"))
    st.code(f"livability build --region {region} --file schools=my_schools.geojson\n"
            f"livability build --region {region} --pack path/to/my_pack", language="bash")
