"""What every view shares: the context object, the weights sidebar, panels and small helpers."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import streamlit as st

from geo.texts import fmt_spec, render_or
from layers import LAYERS, PERSONAS

from .data import ScoreResult, SnapKey, get_scores, get_snapshot
from .i18n import t
from .state import MAX_WEIGHT, persona_weights

__all__ = [
    "Ctx",
    "bound",
    "coverage_label",
    "engine_text",
    "error_panel",
    "layer_reason",
    "md_text",
    "num",
    "place_options",
    "store",
    "theme_title",
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


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def md_text(value: object) -> str:
    """Escape a data string for ``st.markdown``: no links, images, HTML or emphasis from data."""
    return _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))


def theme_title(key: str, lang: str) -> str:
    """Title of theme ``key`` (the key itself when unknown)."""
    spec = LAYERS.get(key)
    return spec.title(lang) if spec else key


def engine_text(msg: object, fallback: str, lang: str) -> str:
    """An engine message (``reason_msg`` ...) in ``lang``; the engine's English text otherwise."""
    return render_or(msg if isinstance(msg, dict) else None, lang, fallback)


def layer_reason(status: Any, lang: str) -> str:
    """Why a layer is partial or missing (a :class:`geo.store.LayerStatus`), in ``lang``."""
    return engine_text(getattr(status, "reason_msg", None), str(getattr(status, "reason", "")), lang)


def num(x: float, spec: str, lang: str) -> str:
    """``format(x, spec)`` with Swedish separators (``1 720``, ``41,7``) when ``lang`` is sv."""
    return fmt_spec(x, spec, lang)


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


def _apply_persona(lang: str) -> None:
    persona = st.session_state.get(f"persona__{lang}", st.session_state.get("persona", "balanced"))
    st.session_state["persona"] = persona
    for k, v in persona_weights(persona).items():
        st.session_state[f"w_{k}"] = v


def weights_sidebar(lang: str) -> tuple[str, dict[str, float]]:
    """Persona preset and one slider per theme in the sidebar; returns (persona, weights)."""
    st.sidebar.subheader(t("what_matters", lang))
    persona = store("persona", st.sidebar.selectbox(
        t("persona", lang), list(PERSONAS),
        format_func=lambda k: PERSONAS[k].title(lang),
        **(bound("persona", lang) | {"on_change": _apply_persona, "args": (lang,)}),
    ))
    weights: dict[str, float] = {}
    for k, spec in LAYERS.items():
        weights[k] = float(st.sidebar.slider(
            f"{spec.icon} {spec.title(lang)}", 0.0, MAX_WEIGHT, step=0.5, key=f"w_{k}", format="%.1f",
            help=t("weights_help", lang),
        ))
    if weights != persona_weights(persona):
        st.sidebar.caption(f"{t('custom', lang)} ✎")
        st.sidebar.button(t("reset_weights", lang), on_click=_apply_persona, args=(lang,))
    return persona, weights


def error_panel(message: str, todo: str, lang: str) -> None:
    """Show an error as a panel that says what to do (never a stack trace)."""
    st.error(f"**{t('error_title', lang)}**\n\n{message}\n\n{t('error_todo', lang, todo=todo)}",
             icon="⚠️")


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


def compute_result(ctx: Ctx) -> None:
    """Fill ``ctx.result`` with the scores of the current weights (spinner while computing)."""
    with st.spinner(t("computing", ctx.lang)):
        ctx.result = get_scores(ctx.key, ctx.weights)
