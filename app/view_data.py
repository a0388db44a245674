"""About the data: how the scores work; what is loaded, coverage, sources, licences, dates; how to
refresh and extend. No local path is shown (the CLI's ``livability info`` has them)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.messages import band_name
from geo.messages import render as render_message
from geo.scoring import BANDS
from geo.sources.registry import check_inputs
from layers import LAYERS

from .common import Ctx, coverage_label, layer_reason, safe_text, theme_title

__all__ = ["band_ranges", "layer_table", "licence_counts", "render"]


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


def band_ranges(lang: str) -> str:
    """The score bands as "80-100 most errands on foot; 60-79 ..." in ``lang``."""
    parts, top = [], 100
    for low, key in BANDS:
        parts.append(f"{low:g}-{top:g} {band_name(key, lang)}")
        top = int(low) - 1
    return "; ".join(parts)


def _sources(man: dict[str, object]) -> list[tuple[str, str]]:
    """(source, licence) of every layer, base dataset and table in a manifest, once each."""
    seen: dict[tuple[str, str], None] = {}
    for section in ("layers", "base", "tables"):
        entries = man.get(section) or {}
        for entry in entries.values() if isinstance(entries, dict) else []:
            for p in entry.get("sources", []) if isinstance(entry, dict) else []:
                seen[(str(p.get("source", "")), str(p.get("license", "")))] = None
    return list(seen)


def licence_counts(man: dict[str, object]) -> tuple[int, int]:
    """(sources whose licence is unclear, all sources) in a snapshot manifest."""
    pairs = _sources(man)
    unclear = sum(1 for _, lic in pairs if not lic or lic.strip().lower().startswith("unclear"))
    return unclear, len(pairs)


def _methodology(ctx: Ctx) -> None:
    """The "how the scores work" section in the UI language (see README, section Scores)."""
    st.header(ctx.t("about_method"))
    region = safe_text(ctx.snapshot.region_name)
    themes = safe_text(", ".join(theme_title(k, ctx.lang) for k in LAYERS))
    bands = safe_text(band_ranges(ctx.lang))
    unclear, total = licence_counts(ctx.snapshot.manifest)
    st.markdown(ctx.t("about_score", region=region))
    st.markdown(ctx.t("about_themes", themes=themes))
    st.markdown(ctx.t("about_decay"))
    st.markdown(ctx.t("about_bands", bands=bands))
    st.markdown(ctx.t("about_missing"))
    st.markdown(ctx.t("about_sources", unclear=int(unclear), total=int(total)))


def render(ctx: Ctx) -> None:
    """Draw the data page: the region and build date, how scoring works, then the data."""
    snap = ctx.snapshot
    man = snap.manifest
    c1, c2, c3 = st.columns(3)
    c1.metric(ctx.t("region"), safe_text(snap.region_name))  # the value renders markdown too
    c2.metric(ctx.t("localities"), len(snap.localities()))
    c3.metric(ctx.t("built_at"), safe_text(snap.built_at[:10]))
    _methodology(ctx)
    st.header(ctx.t("data_loaded"))
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
        rows = [{ctx.t("dataset"): name, ctx.t("count"): e.get("count"),
                 ctx.t("sources"): "; ".join(p.get("source", "") for p in e.get("sources", [])),
                 ctx.t("licence"): "; ".join(p.get("license", "") for p in e.get("sources", []))}
                for name, e in base.items()]
        st.dataframe(_plain(pd.DataFrame(rows)), hide_index=True, width="stretch")
    tables = man.get("tables", {})
    if tables:
        st.subheader(ctx.t("tables"))
        rows = [{ctx.t("dataset"): name, ctx.t("rows"): e.get("rows"),
                 ctx.t("sources"): "; ".join(p.get("source", "") for p in e.get("sources", [])),
                 ctx.t("licence"): "; ".join(p.get("license", "") for p in e.get("sources", [])),
                 ctx.t("date"): "; ".join(p.get("date", "") for p in e.get("sources", []))}
                for name, e in tables.items()]
        st.dataframe(_plain(pd.DataFrame(rows)), hide_index=True, width="stretch")
    nets = man.get("networks", {})
    st.subheader(ctx.t("networks"))
    if nets:
        st.dataframe(_plain(pd.DataFrame([{ctx.t("net_mode"): m, ctx.t("net_nodes"): e.get("nodes"),
                                           ctx.t("net_edges"): e.get("edges")}
                                          for m, e in nets.items()])), hide_index=True)
    else:
        st.caption(ctx.t("approx_note"))
    st.subheader(ctx.t("attributions"))
    for line in snap.attributions():
        st.markdown(f"- {safe_text(line)}")
    st.subheader(ctx.t("refresh"))
    st.markdown(ctx.t("refresh_text"))
    region = safe_text(ctx.key.region, "plain")  # st.code shows text literally
    st.code(f"livability build --region {region} --pack ../shared/data/blekinge --offline\n"
            f"# or: make build", language="bash", wrap_lines=True)
    st.subheader(ctx.t("own_pack"))
    st.markdown(ctx.t("own_pack_text"))
    st.code(f"livability build --region {region} --file schools=my_schools.geojson\n"
            f"livability build --region {region} --pack path/to/my_pack", language="bash",
            wrap_lines=True)
