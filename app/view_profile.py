"""Place profile: what a family reads about one locality or municipality, on screen and on A4.

From the top: the headline (score, its band in words, percentile and rank band), a small map of
the place with its nearest amenities, the theme breakdown as one chart, per theme a short list
(indicator, score, the nearest named places with distance and mode), what we do not know here in
plain words (from the layer status and the pack's coverage notes), the municipality in numbers
against the national median, and the sources with their licence status. A print stylesheet
(``app/profile.css``) lays the page out for A4.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import altair as alt
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from geo.catalog import fmt_percent, has, indicator_title, t
from geo.messages import Message, band_name, fmt_distance, fmt_value, kind_name, place_type_name
from geo.messages import render as render_message
from layers import LAYERS, get_indicator

from .common import Ctx, bound, coverage_label, num, place_options, safe_text, store, theme_title
from .data import explanation, get_model, get_rank_bands

if TYPE_CHECKING:  # the engine's scoring loads lazily (app.data)
    from geo.context import ContextRow
    from geo.scoring import Explanation, ExplanationRow, NearestPlace

__all__ = ["Gaps", "breakdown_frame", "gap_lines", "gaps", "municipal_facts", "render", "source_lines"]

CSS_FILE = Path(__file__).with_name("profile.css")
#: the small map's height in pixels
MAP_HEIGHT = 330
#: amenities farther than this from the place do not widen the map's view (a hospital 40 km away)
MAP_FIT_M = 8000.0
#: nearest places named per indicator
NAMED = 3


@cache
def _css() -> str:
    return CSS_FILE.read_text(encoding="utf-8")


def _h(value: object) -> str:
    """A data or catalogue string for ``st.html``: one plain line, HTML-escaped."""
    return html.escape(safe_text(value, "plain"), quote=True)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _people(pop: object, lang: str) -> str:
    """A population with grouped digits, "–" when unknown."""
    if pop is None or not pd.notna(pop):
        return "–"
    return num(float(str(pop)), lang, 0, grouping=True)


def _pct(x: float, lang: str) -> str:
    return fmt_percent(float(x) / 100.0, lang)


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
    facts = []
    for r in _context_rows(snapshot, muni_code, muni_name):
        facts.append((r.title(lang), _shown(r, lang) + r.comparison(lang) + r.provenance(lang)))
    return facts


def _context_rows(snapshot: Any, muni_code: str, muni_name: str) -> list[ContextRow]:
    from geo.errors import LivabilityError
    from geo.scoring import municipal_context

    try:
        return municipal_context(snapshot, muni_code or muni_name)
    except LivabilityError:
        return []


def _shown(r: ContextRow, lang: str) -> str:
    if r.unit == "category":
        return (r.label_sv if lang == "sv" else r.label) or "–"
    return fmt_value(r.value, r.unit, lang) if np.isfinite(r.value) else "–"


# -- gaps in plain words -------------------------------------------------------------------------
class _Row(Protocol):
    """What :func:`gap_lines` reads of an explanation row or an indicator result."""

    @property
    def key(self) -> str: ...
    @property
    def partial(self) -> bool: ...
    @property
    def missing(self) -> bool: ...
    @property
    def reason(self) -> Message | None: ...


def _kinds_words(kinds: Sequence[str], lang: str) -> str:
    """Plural nouns of feature kinds joined in words: "grocery stores and pharmacies"."""
    words = [t(f"pf_kinds.{k}", lang) if has(f"pf_kinds.{k}") else kind_name(k, lang)
             for k in dict.fromkeys(kinds)]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {t('pf_and', lang)} {words[-1]}"


#: a coverage note's clause that says what a source lacks ("independent shops missing")
_MISSING_CLAUSE = re.compile(r"\bmissing\b", re.I)
_MISSING_TAIL = re.compile(r"\s+(?:are |is )?missing\s*$", re.I)


def _source_gaps(snap: Any, layer: str, kinds: Sequence[str]) -> list[str]:
    """What the partial sources of ``kinds`` in ``layer`` lack, from their coverage notes."""
    try:
        feats = snap.layer(layer)
    except Exception:  # a layer the snapshot lacks: no notes to read
        return []
    if feats is None or feats.empty or "kind" not in feats or "source" not in feats:
        return []
    names = set(feats.loc[feats["kind"].astype(str).isin(kinds), "source"].astype(str))
    out: list[str] = []
    for p in snap.layer_status(layer).sources:
        d = p.to_dict()
        if str(d.get("source", "")) not in names or str(d.get("coverage", "")) != "partial":
            continue
        for clause in str(d.get("note", "") or "").split(";"):
            clause = clause.strip()
            if clause and _MISSING_CLAUSE.search(clause):
                out.append(_MISSING_TAIL.sub("", clause))
    return list(dict.fromkeys(out))


def _reason_code(reason: Message | None) -> str:
    if reason is None:
        return ""
    parts = reason.parts
    return parts[0].code if parts else reason.code


@dataclass(frozen=True)
class Gaps:
    """What we do not know about a place: ``partial``, one short entry per incomplete list
    ("Grocery stores: independent grocery stores missing."), to read under the lead sentence
    ``pf_gap_partial_lead``; ``other``, whole sentences (a theme without data, approximate
    distances)."""

    partial: list[str]
    other: list[str]

    @property
    def lines(self) -> list[str]:
        """All of it, the incomplete lists first (no lead sentence)."""
        return [*self.partial, *self.other]


def gap_lines(rows: Iterable[_Row], snap: Any, lang: str, *, approximate: bool = False) -> list[str]:
    """What we do not know about a place, as :meth:`Gaps.lines` of :func:`gaps`."""
    return gaps(rows, snap, lang, approximate=approximate).lines


def gaps(rows: Iterable[_Row], snap: Any, lang: str, *, approximate: bool = False) -> Gaps:
    """What we do not know about a place, in plain words (never an engine log line).

    Parameters
    ----------
    rows
        :class:`geo.scoring.ExplanationRow` s of a place, or the model's
        :class:`geo.access.IndicatorResult` s (a municipality): ``key``, ``partial``, ``missing``,
        ``reason`` and ``gaps`` (the pack's ``not_available_offline`` items of the indicator's
        kinds).
    snap
        The snapshot: its layer status and the coverage notes of the partial sources name what
        they lack when the pack lists nothing ("independent shops missing").
    approximate
        Add the sentence on straight-line distances.

    Returns
    -------
    Gaps
        Unescaped entries and sentences in ``lang``, each gap once.
    """
    rows = list(rows)
    shown = [r for r in rows if not r.missing]
    absent: dict[tuple[str, ...], list[str]] = {}
    no_value: list[str] = []
    partial: dict[tuple[tuple[str, ...], str], None] = {}
    for r in rows:
        try:
            ind = get_indicator(r.key)
        except Exception:  # an indicator the registry lost: nothing to say about it
            continue
        kinds = tuple(ind.kinds)
        if r.missing:
            code = _reason_code(r.reason)
            if ind.measure != "stat" and code in ("kinds_absent", "kinds_absent_area",
                                                  "layer_not_loaded"):
                absent.setdefault(kinds, []).append(r.key)
            else:
                no_value.append(r.key)
            continue
        if not r.partial or not kinds:
            continue
        gap = getattr(r, "gap", None)  # a row's gap message; a result's gap_kinds
        named = getattr(r, "gap_kinds", None) or (gap.params.get("kinds") if isinstance(
            gap, Message) and gap.code == "partial_gap" else None)
        gap_kinds = tuple(str(k) for k in (named if isinstance(named, (list, tuple)) and named
                                           else kinds))
        what = list(getattr(r, "gaps", ()) or ()) or _source_gaps(snap, ind.layer, kinds)
        partial[(gap_kinds, "; ".join(what))] = None
    lists: dict[str, None] = {}
    for (named_kinds, missing) in partial:
        words = _kinds_words(named_kinds, lang)
        words = _cap(words)
        # the pack's notes are English: quoted as such in Swedish, never mixed into a sentence
        key = ("pf_gap_partial" if lang == "en" else "pf_gap_partial_quoted") if missing \
            else "pf_gap_partial_generic"
        lists[t(key, lang, kinds=words, what=missing)] = None
    out: dict[str, None] = {}
    for kinds, keys in absent.items():
        out[t("pf_gap_absent", lang, kinds=_kinds_words(kinds, lang),
              indicators=_titles(keys, lang))] = None
    if no_value:
        out[t("pf_gap_no_value", lang, indicators=_titles(no_value, lang))] = None
    from geo.scoring import position_doubts  # loaded by now: the rows come from it

    for r in shown:  # a named place whose position in the source is doubtful
        named = [p for p in getattr(r, "nearest", ())[:NAMED] if hasattr(p, "doubt")]
        for m in position_doubts(named):  # (a municipality's results: row numbers, no places)
            out[_cap(render_message(m, lang)) + "."] = None
    if approximate:
        out[t("pf_gap_approx", lang)] = None
    return Gaps(list(lists), list(out))


def _titles(keys: Sequence[str], lang: str) -> str:
    """Indicator titles in quotes, joined in words."""
    words = [t("pf_quoted", lang, text=indicator_title(k, lang)) for k in dict.fromkeys(keys)]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {t('pf_and', lang)} {words[-1]}"


# -- sources -------------------------------------------------------------------------------------
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


def source_groups(snap: Any) -> list[tuple[str, list[str]]]:
    """The snapshot's sources grouped by licence: ``(licence as the pack states it, [source
    (date)])`` in first-seen order, then the attributions that name no source (licence "")."""
    groups: dict[str, dict[str, None]] = {}
    entries = [p.to_dict() for key in LAYERS for p in snap.layer_status(key).sources]
    for group in ("base", "tables"):
        for e in (snap.manifest.get(group, {}) or {}).values():
            entries += list(e.get("sources", []))
    names: set[str] = set()
    for e in entries:
        src = str(e.get("source", "") or "").strip()
        if not src:
            continue
        names.add(src)
        date = f" ({e['date']})" if e.get("date") else ""
        groups.setdefault(str(e.get("license", "") or "").strip(), {})[src + date] = None
    extra = [a for a in snap.attributions() if a not in names]
    out = [(lic, list(srcs)) for lic, srcs in groups.items()]
    return out + ([("", extra)] if extra else [])


def _sources(snap: Any, ctx: Ctx) -> None:
    """Sources by licence, the pack's licence text beside them, "licence unclear" in bold."""
    unclear = ctx.t("licence_unclear")
    rows = []
    for lic, srcs in source_groups(snap):
        if lic.lower().startswith("unclear"):
            detail = lic.split(":", 1)[1].strip() if ":" in lic else ""
            shown = f"<strong>{_h(_cap(unclear))}</strong>" + (f": {_h(detail)}" if detail else "")
        else:
            shown = _h(lic or "–")
        rows.append(f"<tr><td>{_h('; '.join(srcs))}</td>"
                    f'<td data-label="{_h(ctx.t("licence"))}">{shown}</td></tr>')
    head = f"<tr><th scope=\"col\">{_h(ctx.t('sources'))}</th>" \
           f"<th scope=\"col\">{_h(ctx.t('licence'))}</th></tr>"
    with st.container(key="pf_sec_sources"):
        st.subheader(ctx.t("pf_sources"))
        st.html(f'<table class="pf-table pf-sources"><thead>{head}</thead>'
                f"<tbody>{''.join(rows)}</tbody></table>")


# -- headline ------------------------------------------------------------------------------------
def _headline(ctx: Ctx, score: float, band: str | None, lines: Sequence[str],
              small: Sequence[str]) -> None:
    """The score out of 100, its band in words and the lines under it, as one block."""
    from geo.maps import score_color

    shown = num(score, ctx.lang, 0) if np.isfinite(score) else "–"
    words = _cap(band_name(band, ctx.lang)) if band else ""
    body = "".join(f"<p>{_h(x)}</p>" for x in lines if x)
    body += "".join(f'<p class="pf-small">{_h(x)}</p>' for x in small if x)
    st.html(f'<div class="pf-head" style="--pf-c:{score_color(score)}" role="group" '
            f'aria-label="{_h(ctx.t("pf_score_of", score=shown))}">'
            f'<div class="pf-score" aria-hidden="true">{_h(shown)}<span class="pf-of">/100</span>'
            f'</div><div class="pf-words"><p class="pf-band">{_h(words)}</p>{body}</div></div>')


def _rank_line(ctx: Ctx, code: str, rank: object, n: int) -> str:
    if rank is None or pd.isna(rank):
        return ""
    bands = get_rank_bands(ctx.key, ctx.weights)
    if bands is not None and len(bands) and "code" in bands \
            and {"rank_low", "rank_high"} <= set(bands.columns):
        b = bands[bands["code"].astype(str) == code]
        if len(b):
            return ctx.t("pf_rank_band", rank=int(float(str(rank))), n=n,
                         low=int(b["rank_low"].iloc[0]), high=int(b["rank_high"].iloc[0]))
    return ctx.t("pf_rank", rank=int(float(str(rank))), n=n)


# -- the chart -----------------------------------------------------------------------------------
def _chart(bd: pd.DataFrame, ctx: Ctx) -> None:
    """One bar per theme on the 0-100 scale; its text alternative is the chart's description."""
    st.subheader(ctx.t("breakdown"))
    if not len(bd):
        st.caption("–")
        return
    items = ", ".join(f"{r.theme} {num(r.score, ctx.lang, 0)}" for r in bd.itertuples())
    alt_text = safe_text(ctx.t("pf_chart_alt", items=items), "plain")
    data = bd.assign(theme=bd["theme"].map(lambda s: safe_text(s, "plain")),
                     label=bd["score"].map(lambda v: num(v, ctx.lang, 0)))
    base = alt.Chart(data).encode(
        y=alt.Y("theme:N", sort=None, title=None, axis=alt.Axis(labelLimit=160, labelFontSize=12)),
        x=alt.X("score:Q", scale=alt.Scale(domain=[0, 100]), title=ctx.t("score")),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("score:Q", scale=alt.Scale(scheme="viridis", domain=[0, 100]), legend=None),
        tooltip=[alt.Tooltip("theme:N", title=ctx.t("theme")),
                 alt.Tooltip("label:N", title=ctx.t("score"))])
    text = base.mark_text(align="left", dx=4, fontSize=12, color="#1f2937").encode(text="label:N")
    chart = (bars + text).properties(height=30 * len(bd) + 24, description=alt_text)
    st.altair_chart(chart, width="stretch")


# -- the small map -------------------------------------------------------------------------------
def _mercator_fit(points: Sequence[tuple[float, float]], pad: float = 0.15) -> list[list[float]]:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    dy = max(max(lats) - min(lats), 0.004) * pad
    dx = max(max(lons) - min(lons), 0.007) * pad
    return [[min(lats) - dy, min(lons) - dx], [max(lats) + dy, max(lons) + dx]]


def _base_map(snap: Any, bounds: list[list[float]]) -> Any:
    from geo import maps

    (s, w), (n, e) = bounds
    m = maps.OfflineMap(location=((s + n) / 2, (w + e) / 2),
                        zoom_start=maps.fit_zoom((w, s, e, n), 640, MAP_HEIGHT), tiles=None,
                        zoom_snap=0.25, zoom_delta=0.5)
    m.add_child(maps.MetricScale())
    m.get_root().header.add_child(folium.Element(  # type: ignore[attr-defined]
        "<style>.leaflet-container{background:#dbe7ee;font-size:12px}"
        ".leaflet-tooltip.place-label{font-weight:600;border:2px solid #d81b60;}</style>"))
    maps.add_boundaries(m, snap.boundary(), snap.municipalities())
    return m


def _amenity_points(exp: Explanation) -> list[tuple[NearestPlace, ExplanationRow]]:
    seen: set[tuple[str, str]] = set()
    out = []
    for r in exp.indicators:
        for a in r.nearest[:1]:
            if not (np.isfinite(a.lat) and np.isfinite(a.lon)) or (a.kind, a.uid) in seen:
                continue
            seen.add((a.kind, a.uid))
            out.append((a, r))
    return out


def _place_map(snap: Any, ctx: Ctx, exp: Explanation, geom: Any, name: str,
               population: float | None) -> None:
    """The locality, a ring, and the amenity nearest for most residents of each indicator."""
    from geo import maps

    lat, lon = float(geom.y), float(geom.x)
    pts = _amenity_points(exp)
    near = [(a.lat, a.lon) for a, r in pts if a.distance_m <= MAP_FIT_M]
    m = _base_map(snap, _mercator_fit([(lat, lon), *near]))
    themes: dict[str, None] = {}
    for a, r in pts:
        color = LAYERS[r.theme].color if r.theme in LAYERS else "#555555"
        themes[r.theme] = None
        tip = (f"{a.name or kind_name(a.kind, ctx.lang)} · {indicator_title(r.key, ctx.lang)}: "
               f"{fmt_distance(a.distance_m, ctx.lang)} {ctx.t('mode_' + (a.mode or r.mode))}")
        mk = folium.CircleMarker((a.lat, a.lon), radius=6, color="#ffffff", weight=1.5,
                                      fill=True, fill_color=color, fill_opacity=0.95)
        mk.add_child(folium.Tooltip(maps.safe_text(tip)))
        mk.add_to(m)
    maps.highlight_group(geom, name, population=population).add_to(m)
    m.add_child(maps.FitBoundsWhenSized(_mercator_fit([(lat, lon), *near])))
    st.iframe(maps.map_html(m, title=ctx.t("pf_map_title", name=name), lang=ctx.lang),
              height=MAP_HEIGHT, alt=safe_text(ctx.t("pf_map_title", name=name), "plain"))
    legend = " ".join(
        f'<span class="pf-key"><span class="pf-dot" style="background:{LAYERS[k].color}"></span>'
        f"{_h(theme_title(k, ctx.lang))}</span>" for k in themes if k in LAYERS)
    st.html(f'<p class="pf-note">{_h(ctx.t("pf_map_legend", name=name))} '
            f"{legend}</p>")


def _muni_map(snap: Any, ctx: Ctx, code: str, name: str, scores: pd.DataFrame | None) -> None:
    """The municipality's outline and its localities coloured by score."""
    from geo import maps

    munis = snap.municipalities()
    hit = munis[munis["code"].astype(str) == code] if "code" in munis else munis.iloc[0:0]
    if hit.empty:
        return
    geom = hit.geometry.iloc[0]
    minx, miny, maxx, maxy = geom.bounds
    m = _base_map(snap, [[miny, minx], [maxy, maxx]])
    locs = snap.localities()
    locs = locs[locs["municipality"].astype(str) == code] if "municipality" in locs else locs.iloc[0:0]
    by_code = {} if scores is None else dict(zip(scores["code"].astype(str), scores["composite"],
                                                 strict=False))
    for _, r in locs.iterrows():
        p = r.geometry if r.geometry.geom_type == "Point" else r.geometry.representative_point()
        sc = by_code.get(str(r["code"]))
        mk = folium.CircleMarker((p.y, p.x), radius=maps.marker_radius(r.get("population")),
                                      color="#ffffff", weight=1.5, fill=True,
                                      fill_color=maps.score_color(sc), fill_opacity=0.95)
        shown = num(float(sc), ctx.lang, 0) if sc is not None and pd.notna(sc) else "–"
        mk.add_child(folium.Tooltip(maps.safe_text(f"{r['name']}: {shown}")))
        mk.add_to(m)
    folium.GeoJson(  # the outline only: a ring at an inner point would read as a place
        gpd.GeoSeries([geom], crs="EPSG:4326").to_json(), interactive=False,
        style_function=lambda _f: {"color": maps.HIGHLIGHT_COLOR, "weight": 4, "fill": False},
    ).add_to(m)
    m.add_child(maps.FitBoundsWhenSized([[miny, minx], [maxy, maxx]]))
    st.iframe(maps.map_html(m, title=ctx.t("pf_map_title", name=name), lang=ctx.lang),
              height=MAP_HEIGHT, alt=safe_text(ctx.t("pf_map_title", name=name), "plain"))
    st.html(f'<p class="pf-note">{_h(ctx.t("pf_map_legend_muni", name=name))}</p>')


# -- per theme: what is near ---------------------------------------------------------------------
def _place_text(a: NearestPlace, ctx: Ctx) -> str:
    """``ICA Nära Lunden (1.1 km)``: the distance in brackets, so a name ending in a house number
    ("Arklimästaregatan 46") never runs into it; by car also the minutes."""
    label = a.name or kind_name(a.kind, ctx.lang)
    if a.within is not None:  # placed only by its locality: an upper bound
        return f"{label} ({ctx.t('point_bound', dist=fmt_distance(a.distance_m, ctx.lang), within=a.within)})"
    inner = fmt_distance(a.distance_m, ctx.lang)
    if a.mode == "car" and np.isfinite(a.minutes):
        inner += f", ~{num(a.minutes, ctx.lang, 0)} min"
    if a.doubt is not None:  # its name gives a locality it lies far outside (see the gaps)
        inner += f"; {ctx.t('pf_doubt_short')}"
    return f"{label} ({inner})"


def _row_text(r: ExplanationRow, ctx: Ctx) -> str:
    """What the row says besides its title and score: nearest places, or the statistic."""
    if r.measure == "stat":
        c = r.context
        if c is None or not np.isfinite(c.value):
            return ""
        out = fmt_value(c.value, c.unit, ctx.lang)
        if np.isfinite(c.national_median):
            out += " · " + ctx.t("pf_vs_sweden", median=fmt_value(c.national_median, c.unit, ctx.lang))
        return out
    if r.missing:
        return ""
    travel = ctx.t("mode_" + r.mode) if r.mode in ("walk", "bike", "car") else ""
    if r.nearest:
        return ", ".join(_place_text(a, ctx) for a in r.nearest[:NAMED]) + f" {travel}"
    if r.measure == "nearest":
        if r.partial and np.isfinite(r.support_m):
            return ctx.t("pf_none_known", dist=fmt_distance(r.support_m, ctx.lang), travel=travel)
        return ctx.t("pf_none_in_reach")
    if np.isfinite(r.raw):  # a count: how many are reachable
        return num(r.raw, ctx.lang, 0)
    return ""


def _theme_lists(exp: Explanation, ctx: Ctx) -> None:
    """Per theme its score and a list: indicator, score, nearest named places or the statistic."""
    blocks = []
    for key in LAYERS:
        rows = [r for r in exp.indicators if r.theme == key]
        if not rows:
            continue
        score = exp.themes.get(key, float("nan"))
        head = f"{theme_title(key, ctx.lang)} · {num(score, ctx.lang, 0)}" if np.isfinite(score) \
            else f"{theme_title(key, ctx.lang)} · {ctx.t('pf_no_data')}"
        items = []
        for r in rows:
            val = f"{num(r.score, ctx.lang, 0)}/100" if np.isfinite(r.score) \
                else ctx.t("pf_no_data")
            extra = _row_text(r, ctx)
            approx = " ≈" if r.approximate and r.nearest else ""
            items.append(f"<li><strong>{_h(indicator_title(r.key, ctx.lang))}</strong>: {_h(val)}"
                         + (f" — {_h(extra)}{approx}" if extra else "") + "</li>")
        blocks.append(f'<section class="pf-section"><h4 class="pf-theme"><span class="pf-dot" '
                      f'style="background:{LAYERS[key].color}"></span>{_h(head)}</h4>'
                      f'<ul class="pf-list">{"".join(items)}</ul></section>')
    with st.container(key="pf_sec_themes"):
        st.subheader(ctx.t("pf_themes"))
        st.html(f'<div class="pf-grid">{"".join(blocks)}</div>')
        note = ctx.t("pf_approx_mark", note=ctx.t("approx_note")) if exp.approximate else ""
        st.caption(f"{ctx.t('pf_typical')} {note}".strip())


def _gaps(rows: Iterable[_Row], snap: Any, ctx: Ctx, *, approximate: bool) -> None:
    found = gaps(rows, snap, ctx.lang, approximate=approximate)
    parts = []
    if found.partial:  # the rule once, then one short entry per incomplete list
        parts.append(f'<p class="pf-gap-lead">{_h(ctx.t("pf_gap_partial_lead"))}</p>'
                     '<ul class="pf-list pf-cols">'
                     + "".join(f"<li>{_h(x)}</li>" for x in found.partial) + "</ul>")
    if found.other or not found.partial:
        parts.append('<ul class="pf-list">' + "".join(
            f"<li>{_h(x)}</li>" for x in (found.other or [ctx.t("pf_gap_none")])) + "</ul>")
    with st.container(key="pf_sec_gaps"):
        st.subheader(ctx.t("pf_gaps"))
        st.html("".join(parts))


# -- municipal context ---------------------------------------------------------------------------
def _context(snap: Any, ctx: Ctx, muni_code: str, muni_name: str) -> None:
    rows = _context_rows(snap, muni_code, muni_name)
    if not rows:
        return
    body = []
    for r in rows:
        here = _shown(r, ctx.lang)
        if r.unit == "category":
            sweden = "–"
        elif np.isfinite(r.national_median):
            sweden = fmt_value(r.national_median, r.unit, ctx.lang)
        else:
            sweden = ctx.t("pf_county_only")
        body.append(f'<tr><td class="pf-stat">{_h(r.title(ctx.lang))}</td>'
                    f'<td class="pf-num" data-label="{_h(ctx.t("pf_col_here"))}">{_h(here)}</td>'
                    f'<td class="pf-num" data-label="{_h(ctx.t("pf_col_sweden"))}">{_h(sweden)}</td>'
                    f'<td data-label="{_h(ctx.t("pf_col_year"))}">{_h(r.year or "–")}</td></tr>')
    head = "".join(f"<th scope=\"col\">{_h(ctx.t(k))}</th>"
                   for k in ("pf_col_stat", "pf_col_here", "pf_col_sweden", "pf_col_year"))
    with st.container(key="pf_sec_context"):
        st.subheader(ctx.t("pf_context"))
        st.caption(safe_text(ctx.t("pf_context_caption", municipality=muni_name or muni_code)))
        st.html(f'<table class="pf-table"><thead><tr>{head}</tr></thead>'
                f"<tbody>{''.join(body)}</tbody></table>")


# -- pages ---------------------------------------------------------------------------------------
def _locality(ctx: Ctx, code: str, loc: pd.DataFrame, row: pd.Series | None, n: int) -> None:
    snap = ctx.snapshot
    name = str(loc["name"].iloc[0])
    muni_code = str(loc["municipality"].iloc[0]) if "municipality" in loc else ""
    muni_name = str(loc["municipality_name"].iloc[0]) if "municipality_name" in loc else ""
    pop = loc["population"].iloc[0] if "population" in loc else None
    exp = explanation(ctx.key, ctx.result, code) if row is not None else None
    ptype = _cap(place_type_name(exp.place_type, ctx.lang)) if exp is not None and exp.place_type \
        else ctx.t("locality")
    line = ctx.t("pf_place_line", ptype=ptype, municipality=muni_name or "–",
                 population=_people(pop, ctx.lang))
    st.html(f'<p class="pf-line">{_h(line)}</p>')
    if row is None or exp is None:
        _no_scores(ctx)
    else:
        lines = []
        if np.isfinite(exp.pct_region):
            region = snap.region_name
            if np.isfinite(exp.pct_type):
                lines.append(ctx.t("pf_pct_both", pct=_pct(exp.pct_region, ctx.lang), region=region,
                                   pct_type=_pct(exp.pct_type, ctx.lang),
                                   ptypes=place_type_name(exp.place_type, ctx.lang, "many")))
            else:
                lines.append(ctx.t("pf_pct_region", pct=_pct(exp.pct_region, ctx.lang),
                                   region=region))
        small = [_rank_line(ctx, code, row.get("rank"), n)]
        if np.isfinite(exp.complete_share):
            small.append(ctx.t("pf_complete", pct=fmt_percent(exp.complete_share, ctx.lang)))
        _headline(ctx, float(exp.composite), exp.band, lines, small)
    left, right = st.columns([1, 1], gap="medium")
    with left, st.container(key="pf_sec_map"):
        st.subheader(ctx.t("pf_map"))
        if exp is not None and len(loc):
            _place_map(snap, ctx, exp, loc.geometry.iloc[0], name,
                       float(pop) if pop is not None and pd.notna(pop) else None)
    with right, st.container(key="pf_sec_chart"):
        _chart(breakdown_frame(row, ctx.lang) if row is not None else pd.DataFrame(
            columns=["theme", "score"]), ctx)
    if exp is not None:
        _theme_lists(exp, ctx)
        _gaps(exp.indicators, snap, ctx, approximate=exp.approximate)
    _context(snap, ctx, muni_code, muni_name)
    _sources(snap, ctx)


def _municipality(ctx: Ctx, code: str, row: pd.Series | None, n: int) -> None:
    from geo.scoring import percentiles, score_band

    snap = ctx.snapshot
    munis = snap.municipalities()
    hit = munis[munis["code"].astype(str) == code] if "code" in munis else munis.iloc[0:0]
    name = str(hit["name"].iloc[0]) if len(hit) else code
    pop = row.get("population") if row is not None else None
    line = ctx.t("pf_muni_line", region=snap.region_name, population=_people(pop, ctx.lang))
    st.html(f'<p class="pf-line">{_h(line)}</p>')
    table = ctx.result.municipalities
    if row is None or table is None or not pd.notna(row.get("composite")):
        _no_scores(ctx)
    else:
        comp = pd.to_numeric(table["composite"], errors="coerce").to_numpy(dtype=float)
        pcts = percentiles(comp)
        i = int(np.flatnonzero(table["code"].astype(str).to_numpy() == code)[0])
        lines = [ctx.t("pf_pct_munis", pct=_pct(pcts[i], ctx.lang), region=snap.region_name)] \
            if np.isfinite(pcts[i]) else []
        small = [_rank_line(ctx, code, row.get("rank"), n)]
        if pd.notna(row.get("complete_share")):
            small.append(ctx.t("pf_complete", pct=fmt_percent(float(row["complete_share"]),
                                                              ctx.lang)))
        _headline(ctx, float(row["composite"]), score_band(float(row["composite"]))[0], lines,
                  small)
    left, right = st.columns([1, 1], gap="medium")
    with left, st.container(key="pf_sec_map"):
        st.subheader(ctx.t("pf_map_muni"))
        _muni_map(snap, ctx, code, name, ctx.result.localities)
    with right, st.container(key="pf_sec_chart"):
        _chart(breakdown_frame(row, ctx.lang) if row is not None else pd.DataFrame(
            columns=["theme", "score"]), ctx)
    _muni_localities(ctx, code)
    try:
        model = get_model(ctx.key)
        results = [model.results[k] for k in model.ind_keys]
        approximate = bool(model.approximate)
    except Exception:  # no model (scoring failed): the gaps come with the scores
        results, approximate = [], False
    _gaps(results, snap, ctx, approximate=approximate)
    _context(snap, ctx, code, name)
    _sources(snap, ctx)


def _muni_localities(ctx: Ctx, code: str) -> None:
    L = ctx.result.localities
    if L is None or "municipality" not in L:
        return
    mine = L[L["municipality"].astype(str) == code].sort_values("rank")
    if mine.empty:
        return
    items = []
    for r in mine.itertuples():
        comp = float(getattr(r, "composite", float("nan")))
        band = band_name(getattr(r, "band", None), ctx.lang) if np.isfinite(comp) else ""
        shown = num(comp, ctx.lang, 0) if np.isfinite(comp) else "–"
        items.append(f"<li><strong>{_h(r.name)}</strong>: {_h(shown)}"
                     + (f" — {_h(band)}" if band else "") + "</li>")
    with st.container(key="pf_sec_localities"):
        st.subheader(ctx.t("pf_localities"))
        st.html(f'<ul class="pf-list pf-cols">{"".join(items)}</ul>')


def _no_scores(ctx: Ctx) -> None:
    st.info(ctx.t("no_scores") if not ctx.result.error
            else ctx.t("scores_failed", msg=safe_text(ctx.result.error_in(ctx.lang))))


def render(ctx: Ctx) -> None:
    """Draw the profile of the selected place (a locality or a municipality)."""
    st.html(f"<style>{_css()}</style>")
    opts = place_options(ctx, include_municipalities=True)
    if not opts:
        st.info(ctx.t("no_place"))
        return
    if st.session_state.get("place") not in opts:
        st.session_state["place"] = next(iter(opts))
    code = store("place", st.selectbox(ctx.t("choose_place"), list(opts),
                                       format_func=lambda c: safe_text(opts.get(c, c), "plain"),
                                       placeholder=ctx.t("choose_option"), **bound("place", ctx.lang)))
    snap = ctx.snapshot
    locs = snap.localities()
    locs["code"] = locs["code"].astype(str)
    loc = locs[locs["code"] == code]
    table = ctx.result.localities if len(loc) else ctx.result.municipalities
    row: pd.Series | None = None
    if ctx.result.ok and table is not None and "code" in table:
        hit = table[table["code"].astype(str) == code]
        row = hit.iloc[0] if len(hit) else None
    n = int(table["rank"].notna().sum()) if table is not None and "rank" in table else 0
    name = str(loc["name"].iloc[0]) if len(loc) else opts[code]
    st.header(safe_text(name))
    if st.button(ctx.t("show_on_map"), key="show_on_map",
                 icon=":material/map:"):  # the map page rings the place and zooms to it
        st.session_state.update(_goto=("map", code), _map_focus=code)
        st.rerun()
    if len(loc):
        _locality(ctx, code, loc, row, n)
    else:
        _municipality(ctx, code, row, n)
    with st.container(key="pf_print_hint"):
        st.caption(ctx.t("pf_print_hint"))
