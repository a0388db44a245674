"""Compare with where you live now: any Swedish tätort or municipality beside a place of this region.

Both places are taken from the national score model (the ``sverige`` snapshot built from the
national data pack), so they are scored the same way; the page says so. The national model is
loaded only when this comparison is opened (the map's first start never waits for it), cached like
the region's (:func:`app.data.get_model`, on disk by :mod:`app.model_cache`). Without a national
snapshot the page says once how to build it. The choice is kept in the URL:
``?page=compare&se=<code or name>&with=<code>``.
"""

from __future__ import annotations

import html
import math

import pandas as pd
import streamlit as st

from geo.catalog import indicator_title, layer_title
from geo.compare import (
    ComparedPlace,
    PlaceRef,
    compare_places,
    context_text,
    find_place,
    indicator_text,
    place_refs,
)
from geo.errors import LivabilityError
from geo.messages import band_name, place_type_name
from geo.messages import render as render_message
from geo.scoring import ScoreModel
from layers import LAYERS

from .common import (
    TABLE_CSS,
    Ctx,
    bound,
    compare_html,
    error_text,
    num,
    safe_text,
    store,
    themes_with_data,
)
from .data import SnapKey, get_model, get_scores, get_snapshot, national_key
from .state import persona_weights
from .view_data import licence_counts

__all__ = ["BUILD_COMMAND", "national_weights", "render", "text_table_html"]

#: How to build the national snapshot (said once when it is missing).
BUILD_COMMAND = "livability build --region sverige --pack ../shared/data/sweden"


def national_weights(weights: dict[str, float], themes: tuple[str, ...], persona: str,
                     national_themes: tuple[str, ...]) -> dict[str, float]:
    """The sidebar's weights for the national model.

    A theme with data nationally keeps the sidebar's weight when this region has data for it
    (a slider), else the persona's; a theme without national data weighs 0.
    """
    preset = persona_weights(persona)
    return {k: (float(weights.get(k, 0.0)) if k in themes else preset[k])
            if k in national_themes else 0.0 for k in LAYERS}


def text_table_html(heads: list[str], rows: list[tuple[str, list[str]]], *,
                    caption: str = "") -> str:
    """A compare table of texts (places as columns, long texts wrap; fits a phone): the same
    look as :func:`app.view_compare.compare_html`, every text escaped."""
    esc = html.escape
    head = "".join(f'<th scope="col">{esc(safe_text(h, "plain"))}</th>' for h in heads)
    body = "".join(
        f'<tr><th scope="row">{esc(safe_text(label, "plain"))}</th>'
        + "".join(f"<td>{esc(safe_text(c, 'plain'))}</td>" for c in cells) + "</tr>"
        for label, cells in rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'{TABLE_CSS}<div class="lv-compare lv-text"><table>{cap}<thead><tr><td></td>{head}'
            f'</tr></thead><tbody>{body}</tbody></table></div>'
            '<style>.lv-text td { text-align: left; }</style>')


def _label(ref: PlaceRef, lang: str) -> str:
    if ref.kind == "municipality":
        return f"{ref.name} ({place_type_name('municipality', lang)})"
    return ref.label


def _resolve_home(model: ScoreModel, opts: dict[str, PlaceRef], lang: str) -> str | None:
    """The session's ``se`` (a code or a name from a shared link) as a code of ``opts``."""
    se = st.session_state.get("se")
    if not se or se in opts:
        return se or None
    try:
        code = find_place(model, str(se)).code
    except LivabilityError as exc:  # an ambiguous or unknown name: say so, pick nothing
        st.warning(safe_text(error_text(exc, lang)))
        st.session_state["se"] = None
        return None
    st.session_state["se"] = code
    return code


def _summary_table(places: list[ComparedPlace], heads: list[str], model: ScoreModel,
                   ctx: Ctx) -> None:
    rows: dict[str, list[float]] = {
        ctx.t("score"): [p.composite for p in places],
        ctx.t("se_pct_row"): [p.pct_type for p in places],
    }
    for th in model.themes:
        rows[layer_title(th, ctx.lang)] = [p.themes.get(th, math.nan) for p in places]
    rows[ctx.t("population")] = [p.population for p in places]
    frame = pd.DataFrame(rows, index=heads).T.astype(float)
    best = {r: "max" for r in rows if r != ctx.t("population")}
    st.html(compare_html(frame, best, {ctx.t("population"): 0, ctx.t("se_pct_row"): 0}, ctx.lang,
                         caption=ctx.t("compare_best")))


def _meaning(p: ComparedPlace, model: ScoreModel, lang: str) -> tuple[str, str, str]:
    """(label, place type, "62, many errands on foot or by bike; better than 78% of Sweden's 126
    towns") of one place, as plain texts (escaped where shown)."""
    kind = place_type_name(p.place_type, lang)
    if not math.isfinite(p.composite):
        return p.ref.label, kind, "–"
    text = ", ".join([num(p.composite, lang, 0), band_name(p.band, lang)])
    msg = p.percentile_message(model)
    return p.ref.label, kind, text + (f"; {render_message(msg, lang)}" if msg is not None else "")


def _indicator_rows(places: list[ComparedPlace], model: ScoreModel,
                    lang: str) -> list[tuple[str, list[str]]]:
    out = []
    for ind in model.indicators:
        if ind.measure == "stat":
            continue
        cells = []
        for p in places:
            row = next((r for r in p.indicators if r.key == ind.key), None)
            cells.append(indicator_text(row, lang) if row is not None else "–")
        if any(c != "–" for c in cells):
            out.append((indicator_title(ind.key, lang), cells))
    return out


def _context_rows(places: list[ComparedPlace], lang: str) -> list[tuple[str, list[str]]]:
    out = []
    for key in dict.fromkeys(r.key for p in places for r in p.context):
        title, cells = key, []
        for p in places:
            c = next((r for r in p.context if r.key == key), None)
            if c is not None:
                title = c.title(lang)
            cells.append(context_text(c, lang) if c is not None else "–")
        out.append((title, cells))
    return out


def _notes(nat: SnapKey, ctx: Ctx) -> None:
    """Where the numbers come from: the national pack, its partial layers and unclear licences."""
    snap = get_snapshot(nat)
    partial = [layer_title(k, ctx.lang) for k in snap.layer_keys()
               if snap.layer_status(k).coverage == "partial"]
    unclear, total = licence_counts(dict(snap.manifest))
    st.caption(ctx.t("se_scored_same", built=safe_text(snap.built_at[:10]),
                     region=safe_text(ctx.snapshot.region_name)))
    st.caption(ctx.t("se_coverage", partial=safe_text(", ".join(partial) or "–"),
                     unclear=int(unclear), total=int(total),
                     cmd="`livability info --region sverige`"))


def render(ctx: Ctx) -> None:
    """Draw "compare with where you live now" (the compare page's third kind)."""
    nat = national_key()
    if nat is None:
        st.info(ctx.t("se_missing", cmd=f"`{BUILD_COMMAND}`"))
        return
    with st.spinner(ctx.t("se_loading")):
        model = get_model(nat)
        weights = national_weights(ctx.weights, ctx.themes, ctx.persona, themes_with_data(nat))
        result = get_scores(nat, weights)
    if result.scores is None:
        st.info(ctx.t("scores_failed", msg=safe_text(result.error_in(ctx.lang))))
        return
    refs = place_refs(model)
    opts = {r.code: r for r in refs}
    home = _resolve_home(model, opts, ctx.lang)
    st.session_state["se"] = home
    home = store("se", st.selectbox(
        ctx.t("se_pick"), list(opts), **bound("se", ctx.lang), index=None,
        format_func=lambda c: safe_text(_label(opts[c], ctx.lang), "plain"),
        placeholder=ctx.t("se_placeholder")))
    region_munis = set(ctx.snapshot.municipalities()["code"].astype(str))
    here = {r.code: r for r in refs if r.kind == "locality" and r.municipality in region_munis}
    if not here:
        st.info(ctx.t("se_no_region_places", region=safe_text(ctx.snapshot.region_name)))
        return
    with_ = st.session_state.get("se_with")
    if with_ not in here:
        with_ = st.session_state.get("place") if st.session_state.get("place") in here else None
    if with_ is None and ctx.result.localities is not None and len(ctx.result.localities):
        ranked = ctx.result.localities.sort_values("rank")["code"].astype(str)
        with_ = next((c for c in ranked if c in here), None)
    st.session_state["se_with"] = with_ or next(iter(here))
    with_ = store("se_with", st.selectbox(
        ctx.t("se_with", region=safe_text(ctx.snapshot.region_name, "plain")), list(here),
        **bound("se_with", ctx.lang),
        format_func=lambda c: safe_text(here[c].label, "plain")))
    if not home:
        st.info(ctx.t("se_choose"))
        _notes(nat, ctx)
        return
    places = compare_places(model, result.scores, [opts[home], here[with_]])
    heads = [p.ref.label for p in places]
    for p in places:
        label, kind, meaning = _meaning(p, model, ctx.lang)
        st.markdown(f"**{safe_text(label)}** ({safe_text(kind)}): {safe_text(meaning)}")
    _summary_table(places, heads, model, ctx)
    ind = _indicator_rows(places, model, ctx.lang)
    if ind:
        st.subheader(ctx.t("se_indicators"))
        st.html(text_table_html(heads, ind, caption=ctx.t("se_indicators_caption")))
    if any(p.ref.kind == "municipality" for p in places):
        st.caption(ctx.t("cli.compare.no_indicators"))
    ctx_rows = _context_rows(places, ctx.lang)
    if ctx_rows:
        st.subheader(ctx.t("se_context"))
        st.html(text_table_html(heads, ctx_rows))
    _notes(nat, ctx)
