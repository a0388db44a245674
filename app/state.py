"""The view's state as URL query parameters: parsed strictly, anything bad or hostile is dropped.

Pure functions (no streamlit import) so they are easy to test:

>>> parse_params({"page": "profile", "lang": "sv", "weights": "schools:3,evil:9"}).weights
{'schools': 3.0}
>>> s = parse_params({"page": "compare", "se": "Malmö", "with": "1081TC109"})
>>> s.se, s.se_with, encode_params(s)["se"]
('Malmö', '1081TC109', 'Malmö')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from layers import LAYERS, PERSONAS

__all__ = ["COMMUTE_MODES", "FOCUS_KEY", "LEFT_KEY", "MAX_WEIGHT", "PAGES", "ViewState",
           "encode_params", "parse_params", "persona_weights"]

PAGES: tuple[str, ...] = ("map", "profile", "compare", "export", "data")
MAX_WEIGHT = 5.0
#: Session keys: the profile's "Show on map" sets FOCUS_KEY; the frame sets LEFT_KEY on other pages
#: (here, not in app.view_map, so the frame need not import the map page).
FOCUS_KEY = "_map_focus"
LEFT_KEY = "_map_left"
#: Travel modes a commute may use (the first is the default, left out of the URL).
COMMUTE_MODES: tuple[str, ...] = ("car", "bike", "walk")
#: The commute filter's bounds in minutes.
COMMUTE_MAX_RANGE = (5, 180)
_CODE_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,40}$")
_LATLON_RE = re.compile(r"^\s*(-?\d{1,3}(?:\.\d{1,12})?)\s*,\s*(-?\d{1,3}(?:\.\d{1,12})?)\s*$")
_NAME_BAD = re.compile(r"[\x00-\x1f\x7f<>]")


@dataclass
class ViewState:
    """What the URL can hold."""

    page: str = "map"
    lang: str = "en"
    persona: str = "balanced"
    weights: dict[str, float] = field(default_factory=dict)
    place: str | None = None
    compare: list[str] = field(default_factory=list)
    #: A scored point (lat, lon) that is not a locality: a search hit or a map click.
    point: tuple[float, float] | None = None
    #: The commute target (lat, lon), its display name, the mode and the filter (minutes or None).
    commute: tuple[float, float] | None = None
    commute_name: str | None = None
    commute_mode: str = COMMUTE_MODES[0]
    commute_max: int | None = None
    #: "Compare with where you live now": a Swedish place (code or name, resolved against the
    #: national model by the page) and the region's place it is compared with (a code).
    se: str | None = None
    se_with: str | None = None


def _first(v: object) -> str:
    if isinstance(v, (list, tuple)):
        v = v[0] if v else ""
    return str(v) if v is not None else ""


def _weight(text: str) -> float | None:
    try:
        w = float(text)
    except ValueError:
        return None
    if not math.isfinite(w) or w < 0 or w > MAX_WEIGHT:
        return None
    return round(w * 2) / 2


def _latlon(text: str) -> tuple[float, float] | None:
    """``"56.16,15.59"`` -> (lat, lon) rounded to 5 decimals (about 1 m), or None when invalid."""
    m = _LATLON_RE.match(text)
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return round(lat, 5), round(lon, 5)


def _name(text: str) -> str | None:
    """A display name from the URL: at most 80 characters, no control characters or angle brackets.

    It is still escaped wherever it is shown; this only keeps junk out of the session.
    """
    clean = " ".join(_NAME_BAD.sub(" ", text).split())[:80]
    return clean or None


def parse_params(params: Mapping[str, object], known_places: Iterable[str] | None = None,
                 aliases: Mapping[str, str] | None = None) -> ViewState:
    """Build a :class:`ViewState` from query parameters, ignoring every invalid value.

    Parameters
    ----------
    params
        ``st.query_params`` or a plain dict (values may be strings or lists of strings).
    known_places
        Valid place codes; when given, ``place`` and ``compare`` entries not in it are dropped.
    aliases
        Case-folded place names -> codes, so a shared link may say ``place=Bräkne-Hoby``.
    """
    s = ViewState()
    known = set(known_places) if known_places is not None else None
    page = _first(params.get("page"))[:20]
    if page in PAGES:
        s.page = page
    lang = _first(params.get("lang"))[:5]
    if lang in ("en", "sv"):
        s.lang = lang
    persona = _first(params.get("persona"))[:30]
    if persona in PERSONAS:
        s.persona = persona
    raw = _first(params.get("weights"))[:400]
    for item in raw.split(","):
        key, _, val = item.partition(":")
        if key in LAYERS and val:
            w = _weight(val)
            if w is not None:
                s.weights[key] = w

    def resolve(text: str) -> str | None:
        code = (aliases or {}).get(text.strip().casefold(), text)
        return code if _CODE_RE.match(code) and (known is None or code in known) else None

    place = resolve(_first(params.get("place"))[:40])
    if place:
        s.place = place
    cmp = [c for c in (resolve(x) for x in _first(params.get("compare"))[:200].split(",") if x) if c]
    s.compare = list(dict.fromkeys(cmp))[:4]
    s.point = _latlon(_first(params.get("point"))[:60])
    s.commute = _latlon(_first(params.get("commute"))[:60])
    if s.commute is not None:
        s.commute_name = _name(_first(params.get("commute_name"))[:200])
        mode = _first(params.get("commute_mode"))[:10]
        if mode in COMMUTE_MODES:
            s.commute_mode = mode
        raw_max = _first(params.get("commute_max"))[:6]
        if raw_max.isdigit() and COMMUTE_MAX_RANGE[0] <= int(raw_max) <= COMMUTE_MAX_RANGE[1]:
            s.commute_max = int(raw_max)
    se = _first(params.get("se"))[:200]
    # a code (1280TC106, 1280) or a name as a person types it (Malmö, "Ekeby (Bjuv)"); the page
    # resolves it against the national model, so it is not checked against this region's places
    s.se = se.strip() if _CODE_RE.match(se.strip()) else _name(se)
    s.se_with = resolve(_first(params.get("with"))[:40]) or None
    return s


def persona_weights(persona: str) -> dict[str, float]:
    """Theme weights of ``persona`` for every registered theme (missing ones 0)."""
    p = PERSONAS.get(persona, PERSONAS["balanced"])
    return {k: float(p.weights.get(k, 0.0)) for k in LAYERS}


def encode_params(s: ViewState) -> dict[str, str]:
    """Query parameters for ``s`` (defaults left out, weights only when they differ from the persona)."""
    out: dict[str, str] = {"page": s.page}
    if s.lang != "en":
        out["lang"] = s.lang
    if s.persona != "balanced":
        out["persona"] = s.persona
    base = persona_weights(s.persona)
    diff = {k: v for k, v in s.weights.items() if k in base and v != base[k]}
    if diff:
        out["weights"] = ",".join(f"{k}:{v:g}" for k, v in s.weights.items())
    if s.place:
        out["place"] = s.place
    if s.compare:
        out["compare"] = ",".join(s.compare)
    if s.point is not None:
        out["point"] = f"{s.point[0]:.5f},{s.point[1]:.5f}"
    if s.commute is not None:
        out["commute"] = f"{s.commute[0]:.5f},{s.commute[1]:.5f}"
        if s.commute_name:
            out["commute_name"] = s.commute_name
        if s.commute_mode != COMMUTE_MODES[0]:
            out["commute_mode"] = s.commute_mode
        if s.commute_max is not None:
            out["commute_max"] = str(s.commute_max)
    if s.se:
        out["se"] = s.se
        if s.se_with:
            out["with"] = s.se_with
    return out
