"""The engine's one message type: a code with parameters, rendered only at the edges.

The engine never writes a reason or a note as text: it produces a :class:`Message`
(``Message("no_network", {"mode": "walk", "network": "walk", "factor": 1.3})``), the store keeps
it as a JSON-ready dict (:meth:`Message.to_dict`), and the edges (CLI, app, exports) turn it into
text in the reader's language with :func:`render`. Templates are the ``msg.<code>`` entries of
:mod:`geo.catalog`.

Composite messages: :func:`join` (parts joined with ``"; "``, code ``join``) and :func:`text` for
free text from data (code ``text``, the same in every language).

Template fields are formatted by language: numbers get Babel's (CLDR) separators, ``1 720`` (a
no-break space) and ``41,7`` in Swedish, and the format specs of :data:`SPECS` translate
parameters:

``kinds``
    a list of feature kinds (``bus_stop`` -> "bus stop" / "busshållplats");
``keys``
    the same, shown raw in English (``bus_stop``);
``layer``
    a layer key (English: the key, Swedish: the layer's title);
``net`` / ``netdef``
    a network name (English: the key; Swedish: "gångnät" / "gångnätet");
``mode``
    a travel mode (English: the key; Swedish: "med cykel");
``semi`` / ``list``
    a list joined with ``"; "`` / ``", "``;
``depclasses``
    ``[[min departures per hour, factor], ...]``;
``dist``
    metres as "640 m" / "1.4 km" (:func:`fmt_distance`);
``travel``
    a travel mode as "on foot" / "till fots";
``place``
    ``[name, kind]``: the name, or the kind's name when unnamed;
``input``
    ``[kind, name]`` of a build's source: "pack blekinge" / "datapaketet blekinge";
``band``
    a score band key of :data:`geo.scoring.BANDS` (:func:`band_name`);
``ptype`` / ``ptype1`` / ``ptypes``
    a place type (:func:`place_type_name`): label, singular noun, plural noun;
``ptype_keys``
    place type keys with their names: "town (stad), village (by)";
``close`` / ``close_nc`` / ``built``
    an error's optional hint from a list of names: "" when empty, else " Did you mean: a, b?" /
    " Did you mean a, b?" / " Built regions: a, b.";
``export_hint``
    an errno name (``ENOSPC``) as the advice of an export that could not write.

This module is pure: no streamlit, no I/O.

Examples
--------
>>> msg = Message("no_network", {"mode": "walk", "network": "walk", "factor": 1.3})
>>> render(msg, "en")
'no walk network loaded: straight-line distance x 1.3 (approximate)'
>>> render(msg, "sv")
'inget gångnät inläst: fågelvägen x 1,3 (ungefärligt)'
>>> Message.from_dict(msg.to_dict()) == msg
True
"""

from __future__ import annotations

import numbers
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from babel.numbers import get_decimal_symbol, get_group_symbol

from .catalog import CATALOGUE, LANGS, LOCALES, fmt_number, lang_of, layer_title, t

__all__ = [
    "NAMED_KINDS",
    "SPECS",
    "Message",
    "band_name",
    "fmt_distance",
    "fmt_number",
    "fmt_spec",
    "fmt_value",
    "join",
    "kind_name",
    "place_type_name",
    "render",
    "render_all",
    "text",
]

#: the message code of a composite (its ``parts`` joined with ``"; "``)
JOIN = "join"
#: the message code of free text from data (its ``text``, the same in every language)
TEXT = "text"


def _json_ready(value: object) -> object:
    """``value`` as plain JSON types (messages as dicts, tuples as lists, numpy scalars as numbers)."""
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return str(value)


@dataclass(frozen=True)
class Message:
    """A message of the engine: a catalogue ``code`` (``msg.<code>``) and its ``params``.

    ``params`` values are JSON-ready (numbers, strings, lists) or, for :func:`join`, the parts
    (a tuple of messages under ``parts``). ``str(msg)`` is the English rendering (for logs).
    """

    code: str
    params: Mapping[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """``{"code": ..., **params}`` in plain JSON types (as the store's manifest keeps it)."""
        out = _json_ready(self.params)
        assert isinstance(out, dict)
        return {"code": self.code, **out}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Message:
        """The message of :meth:`to_dict`'s ``data``.

        Raises
        ------
        ValueError
            When ``data`` has no string ``code``.
        """
        code = data.get("code")
        if not isinstance(code, str) or not code:
            raise ValueError(f"not a message (no code): {str(dict(data))[:80]}")
        params = {k: v for k, v in data.items() if k != "code"}
        if code == JOIN:
            parts = params.get("parts")
            seq = parts if isinstance(parts, list) else []
            params["parts"] = tuple(cls.from_dict(p) for p in seq if isinstance(p, Mapping))
        return cls(code, params)

    @property
    def parts(self) -> tuple[Message, ...]:
        """The parts of a :func:`join`, or ``(self,)`` for any other message."""
        if self.code != JOIN:
            return (self,)
        parts = self.params.get("parts", ())
        return tuple(p for p in parts if isinstance(p, Message)) if isinstance(parts, tuple) else ()

    def render(self, lang: str = "en") -> str:
        """Text of this message in ``lang`` (:func:`render`); what an error's edge shows."""
        return render(self, lang)

    def __str__(self) -> str:
        return render(self, "en")


def join(*parts: Message | None) -> Message | None:
    """A message joining the given ``parts`` with ``"; "`` (None left out; one part: that part).

    >>> join(None, text("a")) == text("a"), str(join(text("a"), text("b")))
    (True, 'a; b')
    """
    kept = tuple(p for m in parts if m is not None for p in m.parts)
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else Message(JOIN, {"parts": kept})


def text(value: str) -> Message | None:
    """A free-text message (shown as is in every language); None for empty text."""
    return Message(TEXT, {"text": str(value)}) if value else None


# -- words -----------------------------------------------------------------------------------------
def _word(key: str, lang: str, default: str) -> str:
    """Catalogue entry ``key`` in ``lang``, or ``default`` when the catalogue has none."""
    return t(key, lang) if key in CATALOGUE else default


#: feature kinds with a name in the catalogue (``kind.<kind>``)
NAMED_KINDS: tuple[str, ...] = tuple(k[5:] for k in CATALOGUE if k.startswith("kind."))


def kind_name(kind: str, lang: str = "en") -> str:
    """Readable name of a feature kind (``bus_stop`` -> "bus stop" / "busshållplats").

    >>> kind_name("bus_stop"), kind_name("bus_stop", "sv"), kind_name("ferry_pier", "sv")
    ('bus stop', 'busshållplats', 'ferry pier')
    """
    return _word(f"kind.{kind}", lang, str(kind).replace("_", " "))


def band_name(key: str | None, lang: str = "en") -> str:
    """Words of a score band (``car_useful`` -> "a car is useful for most errands"); "" for None."""
    return t(f"band.{key}", lang) if key else ""


_PT_FORMS = {"label": "", "one": ".one", "many": ".many"}


def place_type_name(key: str | None, lang: str = "en", form: str = "label") -> str:
    """Name of a place type: ``form`` ``label`` (small town), ``one`` or ``many`` (small towns).

    Unknown types show with spaces.

    >>> place_type_name("small_town", "sv", "many"), place_type_name("odd_type")
    ('mindre tätorter', 'odd type')
    """
    return _word(f"ptype.{key}{_PT_FORMS[form]}", lang, str(key or "").replace("_", " "))


# -- numbers ---------------------------------------------------------------------------------------
def _localise(s: str, lang: str) -> str:
    """Python's ``1,720.5`` with the separators of ``lang`` (Babel, CLDR): ``1 720,5`` in Swedish."""
    locale = LOCALES[lang_of(lang)]
    group, decimal = get_group_symbol(locale), get_decimal_symbol(locale)
    if (group, decimal) == (",", "."):
        return s
    return s.replace(",", "\x00").replace(".", decimal).replace("\x00", group)


def fmt_spec(x: float, spec: str, lang: str = "en") -> str:
    """``format(x, spec)`` with the separators of ``lang`` (``nan`` stays ``nan``).

    >>> fmt_spec(1167.5, ",.1f", "sv"), fmt_spec(1167.5, ",.1f", "en")
    ('1\\xa0167,5', '1,167.5')
    """
    return _localise(format(x, spec), lang)


def fmt_distance(m: float, lang: str = "en") -> str:
    """Metres for a reader: ``640 m``, ``1.4 km`` (``1,4 km`` in Swedish), ``40 km``.

    >>> fmt_distance(640), fmt_distance(1440, "sv"), fmt_distance(40000)
    ('640 m', '1,4 km', '40 km')
    """
    if float(m) < 1000:
        return f"{float(m):.0f} m"
    km = fmt_number(float(m) / 1000, lang, 1, grouping=False)
    return (km[:-2] if km.endswith((".0", ",0")) else km) + " km"


def fmt_value(x: float, unit: str, lang: str = "en") -> str:
    """A municipal statistic with its unit (``unit.<unit>`` of the catalogue) for ``lang``.

    ``percent``: up to two decimals; ``pct_change``: signed, one decimal; ``ksek``: thousand SEK,
    shown in MSEK from 1,000; ``per_1000``: one decimal; ``sek_m2_year``, ``per_100k``,
    ``persons``: whole numbers. NaN: "-".

    >>> fmt_value(33.69, "percent"), fmt_value(3018.0, "ksek", "sv"), fmt_value(-2.68, "pct_change")
    ('33.69%', '3,0 mnkr', '-2.7%')
    """
    xf = float(x)
    if xf != xf:
        return "-"
    if unit == "ksek" and abs(xf) >= 1000:
        xf, unit = xf / 1000, "msek"
    if unit == "percent":
        body = f"{xf:.2f}".rstrip("0").rstrip(".")
    elif unit == "pct_change":
        body = f"{xf:+.1f}"
    elif unit in ("msek", "per_1000"):
        body = f"{xf:.1f}"
    elif unit in ("ksek", "sek_m2_year", "per_100k", "persons"):
        body = f"{xf:,.0f}"
    else:
        body = f"{xf:,.4g}"
    return _localise(body, lang) + _word(f"unit.{unit}", lang, "")


# -- format specs ----------------------------------------------------------------------------------
def _layer_title(key: object, lang: str) -> str:
    if lang_of(lang) == "en":
        return str(key)
    return layer_title(str(key), lang)


def _dep_classes(value: object, lang: str) -> str:
    parts = []
    for m, f in _seq(value):
        p = f">={m:g}/h x{f:g}"
        parts.append(_localise(p, lang).replace(">=", "≥") if lang_of(lang) != "en" else p)
    return ", ".join(parts)


def _seq(value: object) -> Sequence[Any]:
    return value if isinstance(value, (list, tuple)) else [value]


def _place(value: object, lang: str) -> str:
    """``[name, kind]``: the name, or the kind's name for an unnamed amenity."""
    name, kind = _seq(value)
    return str(name) if name else kind_name(str(kind), lang)


def _names(value: object, lang: str, raw_en: bool = False) -> str:
    if raw_en and lang_of(lang) == "en":
        return ", ".join(str(k) for k in _seq(value))
    return ", ".join(kind_name(str(k), lang) for k in _seq(value))


def _input(value: object, lang: str) -> str:
    """``[kind, name]`` of a build's source: "pack blekinge", "OpenStreetMap (Overpass)"."""
    kind, name = _seq(value)
    word = _word(f"source.{kind}", lang, str(kind))
    return f"{word} {name}" if name else word


def _net(value: object, lang: str, definite: bool = False) -> str:
    return _word(f"{'net_def' if definite else 'net'}.{value}", lang, str(value))


def _hint(key: str) -> Callable[[Any, str], str]:
    """A spec for an optional sentence of an error: "" for no names, else a space and the
    catalogue's ``key`` with the names (``" Did you mean: a, b?"``)."""
    def fmt(value: object, lang: str) -> str:
        names = [str(x) for x in _seq(value) if x is not None and str(x)]
        return " " + t(key, lang, names=", ".join(names)) if names else ""
    return fmt


#: format spec -> ``(value, lang) -> text`` (see the module docstring)
SPECS: dict[str, Callable[[Any, str], str]] = {
    "dist": lambda v, lang: fmt_distance(v, lang),
    "travel": lambda v, lang: _word(f"travel.{v}", lang, str(v)),
    "place": _place,
    "kinds": lambda v, lang: _names(v, lang),
    "keys": lambda v, lang: _names(v, lang, raw_en=True),
    "layer": _layer_title,
    "net": lambda v, lang: _net(v, lang),
    "netdef": lambda v, lang: _net(v, lang, definite=True),
    "mode": lambda v, lang: _word(f"mode.{v}", lang, str(v)),
    "semi": lambda v, lang: "; ".join(str(x) for x in _seq(v)),
    "list": lambda v, lang: ", ".join(str(x) for x in _seq(v)),
    "depclasses": _dep_classes,
    "input": lambda v, lang: _input(v, lang),
    "band": lambda v, lang: band_name(v, lang),
    "ptype": lambda v, lang: place_type_name(v, lang),
    "ptype1": lambda v, lang: place_type_name(v, lang, "one"),
    "ptypes": lambda v, lang: place_type_name(v, lang, "many"),
    "ptype_keys": lambda v, lang: ", ".join(f"{k} ({place_type_name(k, lang)})" for k in _seq(v)),
    "close": _hint("err.did_you_mean"),
    "close_nc": _hint("err.did_you_mean_nc"),
    "built": _hint("err.built_regions"),
    "export_hint": lambda v, lang: _word(f"export_hint.{v}", lang, t("export_hint.other", lang)),
}


class _Formatter(string.Formatter):
    """``str.format`` with the separators of a language and the specs of :data:`SPECS`."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang_of(lang)

    def format_field(self, value: Any, format_spec: str) -> str:
        if format_spec in SPECS:
            return SPECS[format_spec](value, self.lang)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            s = format(value, format_spec)
            if self.lang == LANGS[0]:
                return s
            s = _localise(s, self.lang)  # Swedish writes a space before the percent sign: "20 %"
            return s[:-1] + "\u00a0%" if format_spec.endswith("%") else s
        return str(format(value, format_spec))


def render(msg: Message | None, lang: str = "en") -> str:
    """Text of ``msg`` in ``lang`` (``en`` or ``sv``; others fall back to English); "" for None.

    A code the catalogue lacks renders as the code itself (visible, never a crash; a test makes
    sure every code the engine produces is in the catalogue).

    Raises
    ------
    KeyError
        For a parameter the template needs and the message lacks.
    """
    if msg is None:
        return ""
    if msg.code == TEXT:
        return str(msg.params.get("text", ""))
    if msg.code == JOIN:
        return "; ".join(s for s in (render(p, lang) for p in msg.parts) if s)
    key = f"msg.{msg.code}"
    if key not in CATALOGUE:
        return msg.code
    en, sv = CATALOGUE[key]
    template = sv if lang_of(lang) == "sv" else en
    return _Formatter(lang).vformat(template, (), dict(msg.params))


def render_all(msgs: Iterable[Message], lang: str = "en") -> list[str]:
    """:func:`render` of each message."""
    return [render(m, lang) for m in msgs]
