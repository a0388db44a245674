"""Compare places side by side: "what would change if I moved from Malmö to Ronneby?".

Every place compared comes from one :class:`~geo.scoring.ScoreModel` (for places in different
counties: the national model, built on the ``sverige`` snapshot), so they are scored the same way.
A place is a locality (tätort) or a municipality, named as a person types it:

- a locality's code (``1280TC106``) or a municipality's 4-digit code (``1280``);
- a name (``Malmö``, case and accents folded when nothing matches exactly); a name shared by
  several localities (``Ekeby``: three in Sweden) resolves to the one in the municipality of the
  same name when there is one (``Lund`` is the town in Lund, not the village in Örnsköldsvik), else
  it is ambiguous and the error lists the candidates with their municipalities;
- ``Name (Municipality)`` (``Ekeby (Bjuv)``) to choose among localities sharing a name;
- ``Name kommun`` / ``Name municipality`` for the municipality itself; a name with no locality of
  its own (``Solna``) is the municipality too.

>>> from geo.compare import split_qualifier
>>> split_qualifier("Ekeby (Bjuv)"), split_qualifier("Malmö")
(('Ekeby', 'Bjuv'), ('Malmö', None))
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .catalog import fmt_number, t
from .context import ContextRow
from .errors import LimitError, RegionNotFoundError
from .messages import Message, fmt_distance, fmt_value, kind_name, place_type_name, render
from .placetypes import PLACE_TYPES, PlaceType
from .regions import COUNTRY_KEY
from .scoring import POPULATION_STAT, ExplanationRow, ScoreModel, Scores, explain, percentiles, score_band

__all__ = [
    "LOCALITY_TYPES",
    "MUNICIPALITY_TYPE",
    "ComparedPlace",
    "PlaceRef",
    "compare_places",
    "context_text",
    "find_place",
    "indicator_text",
    "parse_place_type",
    "place_refs",
    "split_qualifier",
]

log = logging.getLogger(__name__)

#: The ``place_type`` of a municipality compared as a whole (its percentile is among municipalities).
MUNICIPALITY_TYPE = "municipality"
_QUALIFIED = re.compile(r"^(?P<name>.+?)\s*\((?P<muni>[^()]+)\)\s*$")
_MUNI_SUFFIX = re.compile(r"\s+(kommun|municipality)$", re.IGNORECASE)
#: The place types a locality can have (``countryside`` is for grid cells outside every locality).
LOCALITY_TYPES: tuple[str, ...] = tuple(p for p in PLACE_TYPES if p != PlaceType.COUNTRYSIDE.value)
#: At most this many candidates are named in an "ambiguous" error (the rest are counted).
MAX_CANDIDATES = 8


@dataclass(frozen=True)
class PlaceRef:
    """One place of a model: a locality or a municipality.

    Attributes
    ----------
    kind
        ``locality`` or ``municipality``.
    code
        The locality's code (``1280TC106``) or the municipality's (``1280``).
    name
        Its name (``Malmö``).
    municipality, municipality_name
        The municipality's code and name (a municipality's own).
    """

    kind: str
    code: str
    name: str
    municipality: str
    municipality_name: str

    @property
    def label(self) -> str:
        """``Malmö (Malmö)`` for a locality; a municipality's name alone."""
        if self.kind == "municipality":
            return self.name
        return f"{self.name} ({self.municipality_name})" if self.municipality_name else self.name


def split_qualifier(text: str) -> tuple[str, str | None]:
    """``"Ekeby (Bjuv)"`` -> ``("Ekeby", "Bjuv")``; ``"Malmö"`` -> ``("Malmö", None)``."""
    m = _QUALIFIED.match(text.strip())
    if m:
        return m.group("name").strip(), m.group("muni").strip()
    return text.strip(), None


def _fold(text: str) -> str:
    """Case, accents, punctuation and spacing folded: ``"Bräkne-Hoby"`` -> ``"brakne hoby"``."""
    t = unicodedata.normalize("NFKD", text.casefold()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def place_refs(model: ScoreModel) -> list[PlaceRef]:
    """Every locality of ``model`` (by name), then every municipality (by name)."""
    L = model.localities
    locs = [PlaceRef("locality", str(c), str(n), str(m), str(mn) if mn == mn and mn else "")
            for c, n, m, mn in zip(L.index, L["name"], L["municipality"], L["municipality_name"],
                                   strict=True)]
    munis = [PlaceRef("municipality", str(c), str(n), str(c), str(n))
             for c, n in sorted(model.municipality_names.items())]
    return sorted(locs, key=lambda r: (_fold(r.name), r.municipality_name)) + \
        sorted(munis, key=lambda r: _fold(r.name))


def _match(refs: Sequence[PlaceRef], name: str) -> list[PlaceRef]:
    """Refs named ``name`` exactly (case-insensitive), else with accents folded."""
    key = name.casefold()
    hit = [r for r in refs if r.name.casefold() == key]
    if hit:
        return hit
    folded = _fold(name)
    return [r for r in refs if _fold(r.name) == folded]


def _by_muni(refs: Sequence[PlaceRef], muni: str) -> list[PlaceRef]:
    """Refs whose municipality is ``muni`` (name or code; accents folded)."""
    m = _MUNI_SUFFIX.sub("", muni.strip())
    return [r for r in refs if m == r.municipality or _fold(m) == _fold(r.municipality_name)]


def find_place(model: ScoreModel, text: str) -> PlaceRef:
    """The locality or municipality ``text`` names (see the module docstring for the forms).

    Raises
    ------
    RegionNotFoundError
        ``place_ambiguous`` (a one-line list of the candidates with their municipalities and
        codes) or ``place_unknown`` (with close names).
    """
    refs = place_refs(model)
    locs = [r for r in refs if r.kind == "locality"]
    munis = [r for r in refs if r.kind == "municipality"]
    raw = " ".join(text.split())
    for r in refs:  # a code: exact
        if raw and raw.casefold() == r.code.casefold():
            return r
    name, qual = split_qualifier(raw)
    if qual is not None:
        hit = _by_muni(_match(locs, name), qual)
        if len(hit) == 1:
            return hit[0]
        if len(hit) > 1:
            raise _ambiguous(raw, hit)
    else:
        as_muni = _MUNI_SUFFIX.search(name)
        if as_muni:
            hit = _match(munis, _MUNI_SUFFIX.sub("", name))
            if len(hit) == 1:
                return hit[0]
        hit = _match(locs, name)
        if len(hit) == 1:
            return hit[0]
        if len(hit) > 1:
            seat = [r for r in hit if _fold(r.municipality_name) == _fold(name)]
            if len(seat) == 1:
                return seat[0]
            raise _ambiguous(raw, hit)
        hit = _match(munis, name)
        if len(hit) == 1:
            return hit[0]
    names = list(dict.fromkeys(r.name for r in refs))
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    raise RegionNotFoundError(message=Message("place_unknown", {
        "place": raw, "region_name": model.region_name, "close": close, "region": model.region}))


def parse_place_type(text: str) -> str:
    """The place type key ``text`` names: a key (``small_town``) or its name in English or
    Swedish (``small town``, ``mindre tätort``, ``stad``), case-insensitive.

    >>> parse_place_type("Town"), parse_place_type("small town"), parse_place_type("by")
    ('town', 'small_town', 'village')

    Raises
    ------
    LimitError
        ``place_type_unknown``: one line listing the known types with their names.
    """
    key = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    for p in LOCALITY_TYPES:
        names = {p.replace("_", " ")} | {place_type_name(p, lang, form).casefold()
                                          for lang in ("en", "sv") for form in ("label", "many")}
        if key in names:
            return p
    raise LimitError(message=Message("place_type_unknown", {"given": text,
                                                            "known": list(LOCALITY_TYPES)}))


def _ambiguous(text: str, hits: Sequence[PlaceRef]) -> RegionNotFoundError:
    shown = [f"{r.name} ({r.municipality_name or r.municipality}, {r.code})"
             for r in hits[:MAX_CANDIDATES]]
    return RegionNotFoundError(message=Message("place_ambiguous", {
        "place": text, "n": len(hits), "candidates": shown,
        "example": f"{hits[0].name} ({hits[0].municipality_name})"}))


@dataclass
class ComparedPlace:
    """One place of a side-by-side comparison, scored with the comparison's model.

    Attributes
    ----------
    ref
        Which place.
    composite, band
        Score 0-100 and its band key (:data:`geo.scoring.BANDS`).
    themes
        Theme key -> score (NaN: no data).
    place_type
        :mod:`geo.placetypes` type of a locality, :data:`MUNICIPALITY_TYPE` for a municipality.
    pct_type, n_type
        Percent of the model's other places of that type with a lower composite (for a national
        model: all Swedish places of that type), and how many there are (NaN: the only one).
    rank, n_ranked
        Rank among the model's localities (or municipalities) and how many are ranked.
    population
        People living there (a municipality's own figure when the tables have it).
    indicators
        A locality's indicator rows (:class:`geo.scoring.ExplanationRow`: score, median
        resident's distance, nearest amenity, travel minutes); empty for a municipality.
    context
        The municipality's statistics against the national median (:class:`geo.context.ContextRow`).
    """

    ref: PlaceRef
    composite: float
    band: str | None
    themes: dict[str, float]
    place_type: str
    pct_type: float
    n_type: int
    rank: float
    n_ranked: int
    population: float
    indicators: list[ExplanationRow] = field(default_factory=list)
    context: list[ContextRow] = field(default_factory=list)

    def percentile_message(self, model: ScoreModel) -> Message | None:
        """"better than 78% of Sweden's 126 towns" for the national model, "... of the 52
        villages in Blekinge län" for a region's (None without peers or a score)."""
        if not np.isfinite(self.pct_type):
            return None
        params: dict[str, object] = {"pct": self.pct_type, "place_type": self.place_type,
                                     "n": self.n_type}
        if model.region == COUNTRY_KEY:
            return Message("pct_of_type_national", params)
        return Message("pct_of_type", params | {"region": model.region_name})


def _municipality(model: ScoreModel, scores: Scores, ref: PlaceRef) -> ComparedPlace:
    M = scores.municipalities
    comp = M["composite"].to_numpy(dtype=float)
    pct = percentiles(comp)
    i = int(M.index.get_loc(ref.code)) if ref.code in M.index else -1
    context = list(model.context.get(ref.code, []))
    if i < 0:  # a municipality without a locality of its own (Solna): no score, its statistics
        pop = next((r.value for r in context if r.key == POPULATION_STAT), float("nan"))
        return ComparedPlace(ref, float("nan"), None, dict.fromkeys(model.themes, float("nan")),
                             MUNICIPALITY_TYPE, float("nan"), len(M), float("nan"),
                             int(M["rank"].notna().sum()), float(pop), context=context)
    row = M.iloc[i]
    return ComparedPlace(
        ref, float(row["composite"]), score_band(row["composite"])[0],
        {t: float(row[f"theme:{t}"]) for t in model.themes}, MUNICIPALITY_TYPE, float(pct[i]),
        len(M), float(row["rank"]), int(M["rank"].notna().sum()), float(row["population"]),
        context=context)


def compare_places(model: ScoreModel, scores: Scores,
                   places: Sequence[str | PlaceRef]) -> list[ComparedPlace]:
    """The places (names, codes or refs: :func:`find_place`) scored by ``scores`` of ``model``.

    Raises
    ------
    RegionNotFoundError
        For a name that is unknown or ambiguous.
    """
    out = []
    for p in places:
        ref = p if isinstance(p, PlaceRef) else find_place(model, p)
        if ref.kind == "municipality":
            out.append(_municipality(model, scores, ref))
            continue
        e = explain(model, scores, ref.code)
        out.append(ComparedPlace(
            ref, e.composite, e.band, dict(e.themes), e.place_type, e.pct_type, e.n_type,
            e.rank, e.n_ranked, e.population, list(e.indicators), list(e.context)))
    log.info("compared %d places of %s: %s", len(out), model.region,
             ", ".join(c.ref.code for c in out))
    return out



def indicator_text(row: ExplanationRow, lang: str = "en") -> str:
    """One indicator of one place in words: ``"71; 444 m; Valdemarsro Förskola"``, with the
    travel minutes for a bike or car indicator (``"(~9 min by bike)"``); ``"–"`` when missing."""
    if row.missing:
        return "–"
    parts = [fmt_number(row.score, lang, 0)]
    if row.measure == "nearest" and math.isfinite(row.median_m):
        parts.append(fmt_distance(row.median_m, lang))
    elif row.measure not in ("nearest", "stat") and math.isfinite(row.raw):
        parts.append(fmt_number(row.raw, lang, 0))
    if row.nearest:
        first = row.nearest[0]
        name = first.name or kind_name(first.kind, lang)
        if row.mode in ("car", "bike") and math.isfinite(first.minutes):
            name += " (" + t("cli.compare.minutes", lang, n=fmt_number(first.minutes, lang, 0),
                             mode=t(f"travel.{row.mode}", lang)) + ")"
        parts.append(name)
    elif row.statement is not None:  # "no known sports ground within 4 km on foot"
        parts.append(render(row.statement, lang))
    return "; ".join(parts)


def context_text(row: ContextRow, lang: str = "en") -> str:
    """A municipal statistic in words with the national median: ``"32.42% (national median
    33.59%)"``; a category by its label."""
    if row.unit == "category":
        return (row.label_sv if lang == "sv" else row.label) or "–"
    return fmt_value(row.value, row.unit, lang) + row.comparison(lang)
