"""What every view shares: the context object, the weights sidebar, panels and small helpers."""

from __future__ import annotations

import html
import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
import streamlit as st

from geo.catalog import fmt_number, indicator_title, layer_title, persona_title, t
from geo.errors import LivabilityError
from geo.messages import Message, render
from layers import LAYERS, PERSONAS
from layers.vocab import Measure

from .data import ScoreResult, SnapKey, get_model, get_scores, get_snapshot
from .state import MAX_WEIGHT, persona_weights

__all__ = [
    "TABLE_CSS",
    "Ctx",
    "bound",
    "compare_html",
    "coverage_label",
    "default_weights",
    "engine_text",
    "error_panel",
    "error_text",
    "layer_reason",
    "num",
    "num_texts",
    "persona_picker",
    "place_options",
    "safe_text",
    "store",
    "theme_title",
    "themes_with_data",
    "weights_sidebar",
]

log = logging.getLogger(__name__)


@dataclass
class Ctx:
    """Everything a view needs for one rerun."""

    key: SnapKey
    lang: str
    persona: str
    weights: dict[str, float]
    result: ScoreResult = field(default_factory=ScoreResult)
    #: The themes that have data (a slider each); the others are weighted 0 (see
    #: :func:`themes_with_data`).
    themes: tuple[str, ...] = tuple(LAYERS)

    @property
    def snapshot(self) -> Any:
        """The opened snapshot."""
        return get_snapshot(self.key)

    def t(self, key: str, **fmt: object) -> str:
        """Translate ``key`` into the current language."""
        return t(key, self.lang, **fmt)

    def layer_reason(self, status: Any) -> str:
        """Why a layer is partial or missing, in the current language (see :func:`layer_reason`)."""
        return layer_reason(status, self.lang)


#: HTML metacharacters become entities: they stay text in markdown and in HTML alike.
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
#: Markdown punctuation is backslash-escaped (CommonMark lets any ASCII punctuation be escaped):
#: no link or image (``[``, ``]``: a ``(`` is harmless without them), emphasis, code span, heading,
#: table cell break (``|``), LaTeX (``$``) or directive (``:red[...]``) comes from data.
_MD_PUNCT = frozenset("\\`*_{}[]#!|~$:^@")
#: What only starts a block at the start of a line (list item, setext underline, ordered list):
#: escaped there, since a value may be placed at a line's start (``st.header(safe_text(name))``).
_LINE_START = re.compile(r"^(?:[-+=]|\d+[.)])")
#: After ``:`` and ``@`` (and between ``www`` and ``.``) a zero-width WORD JOINER: emoji shortcodes
#: (``:tada:``), material icons (``:material/map:``) and GFM autolinks (``http://``, ``www.``,
#: ``a@b.se``) are matched in the text *after* escapes are resolved, so an escape alone does not
#: stop them (checked in Chromium: tests/test_app_safety.py).
_BREAK_AFTER = frozenset(":@")
_WWW = re.compile(r"(?i)\b(www)(?=\.)")
WORD_JOINER = "\u2060"
#: Control characters, line/paragraph separators and bidi overrides: a data string is one line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def _md_char(ch: str) -> str:
    out = _HTML_ENTITIES.get(ch) or ("\\" + ch if ch in _MD_PUNCT else ch)
    return out + WORD_JOINER if ch in _BREAK_AFTER else out


def safe_text(value: object, context: Literal["markdown", "plain", "code"] = "markdown") -> str:
    r"""The one way a data string (a name, a message, a path) reaches a Streamlit element.

    Parameters
    ----------
    value
        Anything; None and NaN give ``""``.
    context
        ``"markdown"`` (default) for every element that renders markdown: ``st.markdown``,
        ``st.header``, ``st.subheader``, ``st.title``, ``st.caption``, ``st.write``,
        ``st.error``/``warning``/``info``/``success``, ``st.metric`` (label *and* value),
        ``st.table`` cells, index and headers, ``st.radio`` options, button and expander labels,
        widget labels and ``help``. HTML metacharacters become entities and markdown punctuation is
        backslash-escaped, so the element shows the literal text (the escapes are invisible) and
        never a link, image, emphasis, HTML, LaTeX, emoji shortcode or colour directive.
        ``"code"`` for a value inside a markdown code span (`` `...{path}...` ``): nothing is
        interpreted there but a backtick would end the span, so backticks become ``'``.
        ``"plain"`` for elements that show text literally (``st.dataframe`` cells and headers,
        ``st.selectbox``/``st.multiselect`` options, Altair data, ``st.code``).

    Returns
    -------
    str
        One line in every context: control characters, line separators and bidi overrides are
        replaced by a space and the ends stripped.

    Examples
    --------
    >>> safe_text("**Ö** [x](http://h/) <b>")
    '\\*\\*Ö\\*\\* \\[x\\](http\\:\u2060//h/) &lt;b&gt;'
    >>> safe_text("1. Öst-kommun (AB)")
    '1\\. Öst-kommun (AB)'
    >>> safe_text("a\nb <i>", "plain")
    'a b <i>'
    >>> safe_text("/data/`x`_1", "code")
    "/data/'x'_1"
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = _CONTROL.sub(" ", str(value)).strip()
    if context == "plain":
        return text
    if context == "code":
        return text.replace("`", "'")
    out = "".join(_md_char(c) for c in _WWW.sub(r"\1" + WORD_JOINER, text))
    start = _LINE_START.match(out)
    if start:  # "- x", "+ x", "= x", "1. x", "2) x": escape the marker's punctuation
        cut = start.end() - 1
        out = f"{out[:cut]}\\{out[cut:]}"
    return out


def theme_title(key: str, lang: str) -> str:
    """Title of theme ``key`` (the key itself when unknown)."""
    return layer_title(key, lang)


def engine_text(msg: object, lang: str) -> str:
    """An engine message (:class:`geo.messages.Message`: a reason, a note ...) in ``lang``; "" for
    anything else (None)."""
    return render(msg, lang) if isinstance(msg, Message) else ""


def layer_reason(status: Any, lang: str) -> str:
    """Why a layer is partial or missing (a :class:`geo.store.LayerStatus`), in ``lang``."""
    return engine_text(getattr(status, "reason", None), lang)


def num(x: float, lang: str, decimals: int = 1, *, grouping: bool = False) -> str:
    """``x`` with ``decimals`` digits for a reader of ``lang`` (Babel: ``1,720.5``,
    ``1\xa0720,5``; :func:`geo.catalog.fmt_number`); NaN gives ``-``."""
    return fmt_number(x, lang, decimals, grouping=grouping)


def num_texts(values: Any, lang: str, decimals: int = 1, *, grouping: bool = False) -> list[str]:
    """Numbers as texts for a table column (:func:`num`), padded to sort like the numbers.

    Streamlit formats a number column in the browser's locale, not the page's, so a Swedish page
    would mix ``37,1`` and ``23.1``; a text column in the page's language does not. Non-negative
    values are left-padded with spaces to one width, so a text sort orders them as numbers; NaN
    is ``-`` (sorted first).
    """
    shown = [num(float(v), lang, decimals, grouping=grouping) if pd.notna(v) else "-"
             for v in values]
    width = max((len(x) for x in shown), default=0)
    return [x.rjust(width) for x in shown]


def coverage_label(coverage: str, lang: str) -> str:
    """Translated coverage word."""
    return t(coverage, lang) if coverage in ("partial", "missing", "complete") else coverage


def _sync(name: str, wkey: str) -> None:
    st.session_state[name] = st.session_state.get(wkey)


def bound(name: str, lang: str) -> dict[str, Any]:
    """Widget kwargs (key, on_change, args) binding the canonical state ``name`` in ``lang``.

    Widgets whose option labels are translated get one key per language (Streamlit keeps a
    widget's rendered labels otherwise). The canonical value lives in ``session_state[name]``:
    it is copied into the widget before it is drawn, and the widget's ``on_change`` copies a
    user's choice back (callbacks run before the script, so the canonical value is current).
    """
    wkey = f"{name}__{lang}"
    if name in st.session_state:
        st.session_state[wkey] = st.session_state[name]
    return {"key": wkey, "on_change": _sync, "args": (name, wkey)}


def store(name: str, value: Any) -> Any:
    """Save a widget's value as the canonical state ``name`` and return it."""
    st.session_state[name] = value
    return value


def _apply_persona(lang: str, wkey: str | None = None) -> None:
    """A persona was chosen (in widget ``wkey``): make it canonical and set its weights."""
    wkey = wkey or f"persona__{lang}"
    persona = st.session_state.get(wkey, st.session_state.get("persona", "balanced"))
    st.session_state["persona"] = persona
    for k, v in persona_weights(persona).items():
        st.session_state[f"w_{k}"] = v


def _persona_box(container: Any, label: str, name: str, lang: str) -> str:
    """The persona selectbox in ``container`` (widget ``name__lang``, canonical ``persona``)."""
    wkey = f"{name}__{lang}"
    if "persona" in st.session_state:
        st.session_state[wkey] = st.session_state["persona"]
    return str(container.selectbox(
        label, list(PERSONAS), format_func=lambda k: persona_title(k, lang), key=wkey,
        on_change=_apply_persona, args=(lang, wkey), placeholder=t("choose_option", lang)))


#: The main-area persona control shows where Streamlit collapses the sidebar (768 px and less).
_PERSONA_MAIN = "persona_main"
_PERSONA_CSS = (f"<style>@media (min-width: 769px) {{ .st-key-{_PERSONA_MAIN} "
                "{ display: none !important; } }</style>")


def persona_picker(lang: str) -> None:
    """The persona preset in the main area, for phones and narrow windows.

    The sidebar (collapsed there) has the same control: both are bound to the session key
    ``persona`` and apply the persona's weights on change, so they always agree. On wider screens
    this one is hidden (CSS on its container), the sidebar's shows.
    """
    with st.container(key=_PERSONA_MAIN):
        _persona_box(st, t("what_matters", lang), "persona_main", lang)
    st.html(_PERSONA_CSS)


def _indicators_with_data(key: SnapKey) -> set[str] | None:
    """The indicator keys with a value for some locality in ``key``'s score model; None
    without a model (scoring failed)."""
    try:
        scores = get_model(key).loc_scores
    except Exception:  # the page says scoring failed
        return None
    return set(scores.columns[scores.notna().any().to_numpy()])


def themes_with_data(key: SnapKey) -> tuple[str, ...]:
    """The themes that have data, in registry order.

    A theme has data when at least one of its indicators has a value for some locality in the
    score model (a theme whose own layer is missing may still be scored from municipal statistics:
    housing from house prices, tax and rent). Without a model (scoring failed) a theme has data when
    its layer is available.
    """
    have = _indicators_with_data(key)
    if have is None:  # fall back on the layers
        snap = get_snapshot(key)
        return tuple(k for k in LAYERS if snap.layer_status(k).available)
    return tuple(k for k, spec in LAYERS.items() if any(i.key in have for i in spec.indicators))


def theme_help(have: set[str] | None, theme: str, lang: str) -> str:
    """A theme slider's help: what the weight does, the indicators the theme is scored from here
    (``have``: :func:`_indicators_with_data`), and, for a theme made only of municipal
    statistics (housing without local data), that every place of a municipality gets its value."""
    text = t("weights_help", lang)
    inds = [i for i in LAYERS[theme].indicators if i.key in (have or ())]
    if not inds:
        return text
    text += ". " + t("theme_from", lang, what=", ".join(indicator_title(i.key, lang)
                                                           for i in inds))
    if all(i.measure == Measure.STAT for i in inds):
        text += " " + t("theme_stats_only", lang)
    return safe_text(text)


#: The weights a slider offers: 0 to :data:`app.state.MAX_WEIGHT` in steps of 0.5.
WEIGHT_STEPS: tuple[float, ...] = tuple(i / 2 for i in range(int(MAX_WEIGHT * 2) + 1))


def _snap_weight(wkey: str) -> None:
    """Keep the weight in ``wkey`` one of :data:`WEIGHT_STEPS` (a select slider needs an option)."""
    value = st.session_state.get(wkey)
    if value is not None and value not in WEIGHT_STEPS:
        try:
            st.session_state[wkey] = min(WEIGHT_STEPS, key=lambda w: abs(w - float(value)))
        except (TypeError, ValueError):
            del st.session_state[wkey]


def default_weights(key: SnapKey, persona: str = "balanced") -> dict[str, float]:
    """The weights a new session starts with for ``persona`` (no weights in its URL), as
    :func:`weights_sidebar` returns them: each theme with data at the persona's weight snapped to
    a slider step, the others 0. What :mod:`app.warm` scores before the first browser arrives."""
    themes = themes_with_data(key)
    preset = persona_weights(persona)
    return {k: (_nearest_step(preset[k]) if k in themes else 0.0) for k in LAYERS}


def _nearest_step(value: float) -> float:
    """The slider step (:data:`WEIGHT_STEPS`) nearest ``value``."""
    return min(WEIGHT_STEPS, key=lambda w: abs(w - value))


def weights_sidebar(lang: str, key: SnapKey | None = None) -> tuple[str, dict[str, float]]:
    """Persona preset and one slider per theme with data in the sidebar; returns (persona, weights).

    A theme without data (:func:`themes_with_data` of ``key``) gets no slider and weight 0, and
    the themes without data are listed once, with how to add one. Slider labels are the theme
    names alone (a screen reader reads "Housing", not a symbol first).
    """
    side = st.sidebar
    side.subheader(t("what_matters", lang))
    persona = store("persona", _persona_box(side, t("persona", lang), "persona", lang))
    themes = themes_with_data(key) if key is not None else tuple(LAYERS)
    have = _indicators_with_data(key) if key is not None else None  # once for every slider's help
    weights: dict[str, float] = {}
    for k in LAYERS:
        if k not in themes:
            weights[k] = 0.0
            continue
        _snap_weight(f"w_{k}")
        weights[k] = float(side.select_slider(  # a select slider: its labels in ``lang`` (1,5)
            layer_title(k, lang), WEIGHT_STEPS, key=f"w_{k}", help=theme_help(have, k, lang),
            format_func=lambda v: num(v, lang, 1),
        ))
    preset = persona_weights(persona)
    if any(weights[k] != preset[k] for k in themes):  # (labels above: registry texts, not data)
        side.caption(f"{t('custom', lang)} ✎")
        side.button(t("reset_weights", lang), on_click=_apply_persona, args=(lang,))
    missing = [k for k in LAYERS if k not in themes]
    if missing:
        side.caption(t("themes_no_data", lang,
                       how=f"`livability build --file {safe_text(missing[0], 'code')}=FILE`",
                       themes=safe_text(", ".join(layer_title(k, lang) for k in missing))))
    return persona, weights


def error_text(error: BaseException | str, lang: str) -> str:
    """The text of ``error`` for a reader of ``lang``: a :class:`LivabilityError` with a message
    rendered in ``lang`` (its English text otherwise), any other exception's text, or ``error``."""
    if isinstance(error, LivabilityError):
        return error.render(lang)
    return str(error)


def error_panel(error: BaseException | str, region: str, lang: str, *,
                generic: bool = False) -> None:
    """Show an error as a panel that says what to do (never a stack trace).

    ``error`` (an exception, shown in ``lang`` when it carries a message, or a text) may quote
    names and paths from data: it is shown escaped. The advice is to rebuild ``region``, or
    (``generic``) the longer advice for unexpected errors.
    """
    message = error_text(error, lang)
    todo = t("error_generic_todo", lang, region=safe_text(region, "code")) if generic \
        else f"`livability build --region {safe_text(region, 'code')}`"
    st.error(f"**{t('error_title', lang)}**\n\n{safe_text(message)}\n\n"
             f"{t('error_todo', lang, todo=todo)}", icon="⚠️")


def place_options(ctx: Ctx, *, include_municipalities: bool = False) -> dict[str, str]:
    """``{code: label}`` of the places one can pick (localities by rank when scored)."""
    snap = ctx.snapshot
    locs = snap.localities()
    opts: dict[str, str] = {}
    order = None
    if ctx.result.ok and ctx.result.localities is not None:
        df = ctx.result.localities
        order = df.sort_values("rank")["code"].astype(str).tolist() if "rank" in df else None
    names = dict(zip(locs["code"].astype(str), locs["name"].astype(str), strict=False)) \
        if len(locs) else {}
    muni_names = {}
    if "municipality_name" in locs:
        muni_names = dict(zip(locs["code"].astype(str), locs["municipality_name"].astype(str),
                              strict=False))
    for code in (order or sorted(names, key=lambda c: names[c])):
        if code in names:
            m = muni_names.get(code)
            opts[code] = f"{names[code]} ({m})" if m and m != "None" else names[code]
    if include_municipalities:
        munis = snap.municipalities()
        for code, name in zip(munis.get("code", pd.Series(dtype=str)).astype(str),
                              munis.get("name", pd.Series(dtype=str)).astype(str), strict=False):
            opts.setdefault(code, f"{name} ({t('municipality', ctx.lang).lower()})")
    return opts


@dataclass(frozen=True)
class _UiText:
    """A catalogue text as an error's message (:class:`layers.errors.Renderable`)."""

    key: str

    def render(self, lang: str = "en") -> str:
        return t(self.key, lang)


def compute_result(ctx: Ctx) -> None:
    """Fill ``ctx.result`` with the scores of the current weights (spinner while computing).

    When no theme has data every weight is 0 (:func:`themes_with_data`): the result then says
    that no indicator has data, not that the weights are 0.
    """
    if not ctx.themes:
        ctx.result = ScoreResult(error=t("nothing_scored", "en"), message=_UiText("nothing_scored"))
        return
    with st.spinner(t("computing", ctx.lang)):
        ctx.result = get_scores(ctx.key, ctx.weights)


#: The compare table's style: never wider than its column (a phone is 390 px wide): fixed layout,
#: long names wrap, numbers right-aligned; the best value per row on a yellow ground (bold too, so
#: it does not rest on colour alone).
TABLE_CSS = """<style>
.lv-compare { width: 100%; overflow-x: auto; }
.lv-compare table { width: 100%; table-layout: fixed; border-collapse: collapse;
  font-size: 0.95rem; line-height: 1.35; }
.lv-compare th, .lv-compare td { padding: 0.3rem 0.4rem; border-bottom: 1px solid #d6d6d9;
  overflow-wrap: anywhere; hyphens: auto; vertical-align: top; }
.lv-compare thead th { text-align: right; font-weight: 600; }
.lv-compare thead th:first-child, .lv-compare tbody th { text-align: left; font-weight: 400; }
.lv-compare tbody th { width: 34%; }
.lv-compare td { text-align: right; font-variant-numeric: tabular-nums; }
.lv-compare td.best { background: #fde72580; font-weight: 700; }
.lv-compare caption { caption-side: bottom; text-align: left; font-size: 0.875rem;
  padding-top: 0.3rem; color: inherit; }
@media (max-width: 640px) { .lv-compare table { font-size: 0.85rem; }
  .lv-compare th, .lv-compare td { padding: 0.25rem 0.2rem; } }
</style>"""


def compare_html(frame: pd.DataFrame, best: dict[str, str], decimals: dict[str, int], lang: str,
                 *, caption: str = "") -> str:
    """The compare table as an HTML table that fits a phone (places as columns, long names wrap).

    Parameters
    ----------
    frame
        Rows (translated row names) by places (display names), numeric (NaN: no data).
    best
        Row name -> ``"max"`` or ``"min"``: that row's best value is highlighted (each tie too).
    decimals
        Row name -> decimals (default 1); rows with 0 decimals are grouped (``66 021``).
    lang
        Numbers as a reader of ``lang`` writes them (:func:`app.common.num`); no data is ``–``.
    caption
        A caption under the table (catalogue text).

    Returns
    -------
    str
        ``<style>`` and ``<div class="lv-compare"><table>...``: every name escaped.
    """
    esc = html.escape
    heads = "".join(f'<th scope="col">{esc(safe_text(c, "plain"))}</th>' for c in frame.columns)
    rows = []
    for name, vals in frame.iterrows():
        key = str(name)
        pick = best.get(key)
        top = (vals.max() if pick == "max" else vals.min()) if pick and vals.notna().any() else None
        dec = decimals.get(key, 1)
        cells = "".join(
            ('<td class="best">' if top is not None and v == top else "<td>")
            + ("–" if pd.isna(v) else esc(num(v, lang, dec, grouping=dec == 0))) + "</td>"
            for v in vals)
        rows.append(f'<tr><th scope="row">{esc(safe_text(key, "plain"))}</th>{cells}</tr>')
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (f'{TABLE_CSS}<div class="lv-compare"><table>{cap}<thead><tr><td></td>{heads}</tr>'
            f'</thead><tbody>{"".join(rows)}</tbody></table></div>')
