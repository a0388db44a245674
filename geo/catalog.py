"""The one catalogue of user-facing strings, in English and Swedish, and their number formatting.

Every string a person reads (engine messages, CLI lines, app labels, layer and indicator titles)
lives here under a key, as an ``(English, Swedish)`` pair of :meth:`str.format` templates with the
same placeholders. The engine produces keys and parameters (:class:`geo.messages.Message`); only
the edges (CLI, app, exports) turn them into text with :func:`t`.

Numbers, decimals and percentages are formatted by Babel (CLDR data) for ``en`` and ``sv``:
``1,720.5`` and ``1 720,5`` (a no-break space groups Swedish digits).

This module is pure: no streamlit, no I/O.

Examples
--------
>>> fmt_number(1720.5, "sv", 1), fmt_number(1720.5, "en", 1)
('1\\xa0720,5', '1,720.5')
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from babel.numbers import format_decimal

__all__ = ["CATALOGUE", "LANGS", "LOCALES", "fmt_number", "has", "lang_of", "t"]

#: the languages every key has, the first the default
LANGS: tuple[str, ...] = ("en", "sv")

#: language -> Babel locale used for numbers
LOCALES: Mapping[str, str] = {"en": "en_GB", "sv": "sv_SE"}

# --- engine: messages, reasons, notes, explanations (geo/) --------------------------------------
#: key -> (English, Swedish)
_ENGINE: dict[str, tuple[str, str]] = {
}


# --- edges: app pages, CLI lines, layer and indicator titles -----------------------------------
#: key -> (English, Swedish)
_UI: dict[str, tuple[str, str]] = {
}


#: every key -> (English, Swedish); a key is in one section only
CATALOGUE: dict[str, tuple[str, str]] = {**_ENGINE, **_UI}


def lang_of(lang: str | None) -> str:
    """``lang`` when the catalogue has it, else the default language (English)."""
    return lang if lang in LANGS else LANGS[0]


def has(key: str) -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in CATALOGUE


def t(key: str, lang: str = "en", **params: object) -> str:
    """The string ``key`` in ``lang``, its placeholders filled from ``params``.

    An unknown key gives the key itself (so a missing entry is visible, never a crash); the test
    of the catalogue makes sure no key the code uses is missing.
    """
    pair = CATALOGUE.get(key)
    if pair is None:
        return key
    template = pair[LANGS.index(lang_of(lang))]
    return template.format(**params) if params else template


def fmt_number(x: float, lang: str = "en", decimals: int = 0, *, grouping: bool = True) -> str:
    """``x`` with ``decimals`` digits for a reader of ``lang`` (Babel); NaN and infinities: ``"-"``."""
    xf = float(x)
    if not math.isfinite(xf):
        return "-"
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * int(decimals) if decimals > 0 else "")
    return format_decimal(round(xf, int(decimals)), pattern, locale=LOCALES[lang_of(lang)])
