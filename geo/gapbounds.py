"""Known gaps placed by the locality they are in: an upper bound on the distance to them.

A data pack's ``not_available_offline`` may name an amenity its partial list lacks together with
the place it is in: "Blekingesjukhuset Karlskrona (hospital)". Without it, the nearest *known*
hospital of every place in and around Karlskrona is far away (Karlshamn), and the lower-bound
score (see *Partial data* in :mod:`geo.access`) is close to 0 although the pack itself says that a
hospital exists in Karlskrona. The position is unknown, but the locality is not: the amenity lies
inside the locality's outline (widened by :data:`BOUND_MARGIN_M` for one at its edge). The
farthest point of a polygon from any point is a vertex of its convex hull, so

    d(p, amenity) <= max over hull vertices v of |p - v|

and with the straight-line x detour distances used without a street network, the travel
distance to the missing amenity is at most that maximum x the mode's detour factor. The nearest
distance then becomes ``min(known nearest, bound)``: still an upper bound of the true distance, so
the score stays a lower bound of the true score (the rule of :mod:`geo.access`), and it is never
stated as an exact distance ("at most 14 km by car: Blekingesjukhuset Karlskrona is not in the
list with a position; it lies in Karlskrona").

A bound is made only when the item names exactly one locality (a whole word sequence equal to a
locality's name; the longest such name wins) and that name is one locality's alone; an item
naming none or an ambiguous name gives no bound. Along a street network the straight-line bound
is not a bound (a detour may be longer), so :func:`geo.access.compute_indicator` applies bounds
only to modes measured without a network.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from .settings import WORK_CRS

__all__ = ["BOUND_MARGIN_M", "MISPLACED_M", "GapBound", "bound_distances", "gap_bounds", "misplaced"]

#: Widening of the locality's outline for an amenity at its edge (hospital grounds, a station).
BOUND_MARGIN_M = 1000.0
#: A feature farther than this from the outline of the locality its name gives is flagged
#: (:func:`misplaced`): beyond the outline's margin for amenities at its edge, twice over.
MISPLACED_M = 2 * BOUND_MARGIN_M
#: ... and at most this far: beyond it the name gives another place of the same name.
MISPLACED_MAX_M = 15_000.0
#: Points per chunk when the bound is computed for many points (memory: chunk x hull vertices).
_CHUNK = 4096


@dataclass(frozen=True)
class GapBound:
    """A gap item placed only by its locality.

    ``item``: the gap item as the pack says it ("Blekingesjukhuset Karlskrona (hospital)");
    ``name``: the amenity's name ("Blekingesjukhuset Karlskrona"); ``kind``: the kind it names;
    ``place`` / ``code``: the locality; ``hull``: ``(k, 2)`` metric vertices of the convex hull of
    the widened outline.
    """

    item: str
    name: str
    kind: str
    place: str
    code: str
    hull: np.ndarray


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFC", text).casefold()
    return re.findall(r"\w+", folded)


class _Names:
    """The locality names of outlines, matched in a text as whole word sequences.

    Indexed by each name's first word, so a text is matched in the number of its words (a
    national layer's 50,000 names against 2,000 localities), not of the localities.
    """

    def __init__(self, polys: gpd.GeoDataFrame) -> None:
        self.polys = polys
        self.rows: dict[str, list[int]] = {}
        self.first: dict[str, list[tuple[str, list[str]]]] = {}
        for i, nm in enumerate(polys["name"].astype(str)):
            words = _words(nm)
            if not words:
                continue
            if nm not in self.rows:
                self.first.setdefault(words[0], []).append((nm, words))
            self.rows.setdefault(nm, []).append(i)

    def named(self, text: str) -> tuple[str, str, list[int]] | None:
        """``(name, code, rows)`` of the one locality ``text`` names (the longest name it holds
        as whole words), None when it names none or the name is ambiguous."""
        words = _words(text)
        hits = {nm: len(seq) for i, w in enumerate(words) for nm, seq in self.first.get(w, ())
                if words[i:i + len(seq)] == seq}  # name -> its number of words
        if not hits:
            return None
        longest = max(hits.values())
        best = {h for h, k in hits.items() if k == longest}
        if len(best) != 1:
            return None
        place = next(iter(best))
        rows = self.rows[place]
        codes = ({str(self.polys["code"].iloc[r]) for r in rows} if "code" in self.polys
                 else set())
        if len(codes) != 1:
            return None  # ambiguous: nothing rather than a wrong place
        return place, next(iter(codes)), rows


def _outlines(places: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """The polygon outlines of ``places`` in the work CRS, None when there are none."""
    if places is None or places.empty or "name" not in places:
        return None
    polys = places[places.geometry.notna()
                   & places.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    return None if polys.empty else polys.to_crs(WORK_CRS)


def gap_bounds(items: Sequence[tuple[str, str]], places: gpd.GeoDataFrame | None) -> list[GapBound]:
    """Bounds for the gap items that name one locality of ``places``.

    Parameters
    ----------
    items
        ``(item, kind)`` pairs: a gap item and the indicator kind it names.
    places
        Locality outlines with ``name`` and ``code`` columns (any CRS; points are ignored).

    Returns
    -------
    list of GapBound
        One per item that names exactly one locality with an outline.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> towns = gpd.GeoDataFrame({"name": ["Karlskrona", "Ronneby"], "code": ["a", "b"]},
    ...                          geometry=[box(0, 0, 1000, 1000), box(5000, 0, 6000, 1000)],
    ...                          crs=WORK_CRS)
    >>> [b.place for b in gap_bounds([("Blekingesjukhuset Karlskrona (hospital)", "hospital")],
    ...                              towns)]
    ['Karlskrona']
    """
    polys = _outlines(places) if len(items) else None
    if polys is None:
        return []
    names = _Names(polys)
    out: list[GapBound] = []
    for item, kind in items:
        label = item.split("(")[0].strip()
        hit = names.named(label)
        if hit is None:
            continue
        place, code, rows = hit
        shape = polys.geometry.iloc[rows].union_all().buffer(BOUND_MARGIN_M).convex_hull
        hull = np.asarray(shape.exterior.coords, dtype=float)[:-1]
        out.append(GapBound(item, label, kind, place, code, hull))
    return out


def misplaced(names: Sequence[object], xy: np.ndarray, places: gpd.GeoDataFrame | None,
              limit_m: float = MISPLACED_M, max_m: float = MISPLACED_MAX_M,
              skip: Collection[str] = ()) -> list[tuple[str, float] | None]:
    """For each named feature, ``(locality, metres)`` when its name gives a locality (as a gap
    item does: :class:`_Names`) but it lies more than ``limit_m`` (and at most ``max_m``) outside
    that locality's outline, inside another locality; else None.

    Such a position is doubtful: "Nättraby vårdcentral" listed 4 km away, inside Karlskrona. It is
    flagged, never moved (the true position is not known). Not flagged:

    - farther than ``max_m``: the name most likely gives another place of the same name;
    - outside every locality: a place named after a town near it, as ski resorts ("Sälen",
      "Idre Fjäll"), airports ("Landvetter") and parishes are; nothing says it is misplaced;
    - features at two or more positions inside the same other locality, all named after the
      same one: the name is also a district of that locality ("Gårdsten Vårdcentral, Angered",
      "Närhälsan Hjällbo vårdcentral, Angered" in Göteborg; Angered is also a village), not a
      wrong position. Features at one position (a source that put them all on one point) stay
      flagged.

    Parameters
    ----------
    names
        Feature names (None or NaN: not named).
    xy
        ``(n, 2)`` positions in the work CRS.
    places
        Locality outlines with ``name`` and ``code`` (any CRS).
    limit_m, max_m
        Distances from the outline between which a position is doubtful.
    skip
        Names that never count as the locality a name gives (municipality names: "Broholmskolan
        Vara" may give the municipality of Vara, not its main locality), compared casefolded.

    Examples
    --------
    >>> from shapely.geometry import box
    >>> towns = gpd.GeoDataFrame({"name": ["Nättraby", "Karlskrona"], "code": ["a", "b"]},
    ...                          geometry=[box(0, 0, 1000, 1000), box(4000, 0, 9000, 5000)],
    ...                          crs=WORK_CRS)
    >>> misplaced(["Nättraby vårdcentral", "Nättraby skola", "Nättraby apotek", "Apotek"],
    ...           np.array([[5000.0, 500], [1500, 500], [3500, 9000], [9000, 0]]), towns)
    [('Nättraby', 4000.0), None, None, None]
    """
    out: list[tuple[str, float] | None] = [None] * len(names)
    polys = _outlines(places) if len(names) else None
    if polys is None:
        return out
    matcher = _Names(polys)
    skipped = {str(n).casefold() for n in skip}
    shapes: dict[str, Any] = {}
    pts = np.asarray(xy, dtype=float).reshape(-1, 2)
    found: list[tuple[int, str, float]] = []
    for i, name in enumerate(names):
        if not isinstance(name, str) or not np.isfinite(pts[i]).all():
            continue
        hit = matcher.named(name)
        if hit is None:
            continue
        place, _, rows = hit
        if place.casefold() in skipped:
            continue
        if place not in shapes:
            shapes[place] = polys.geometry.iloc[rows].union_all()
        d = float(shapely.distance(shapes[place], shapely.Point(pts[i])))
        if limit_m < d <= max_m:
            found.append((i, place, d))
    if not found:
        return out
    # the locality each candidate lies in (the first outline containing it), None: in none
    tree = shapely.STRtree(polys.geometry.to_numpy())
    at, poly = tree.query(shapely.points(pts[[i for i, _, _ in found]]), predicate="within")
    within: dict[int, str] = {}
    for a, b in zip(at.tolist(), poly.tolist(), strict=True):
        within.setdefault(a, str(polys["name"].iloc[b]))
    spots: dict[tuple[str, str], set[tuple[float, float]]] = {}
    for k, (i, place, _) in enumerate(found):
        if k in within:
            spots.setdefault((place, within[k]), set()).add(
                (round(float(pts[i, 0]), -1), round(float(pts[i, 1]), -1)))
    for k, (i, place, d) in enumerate(found):
        if k in within and len(spots[(place, within[k])]) < 2:
            out[i] = (place, d)
    return out


def bound_distances(points: np.ndarray, bound: GapBound, factor: float) -> np.ndarray:
    """Upper bound of the travel distance (m) from each point to the amenity of ``bound``.

    The farthest hull vertex from each point, times ``factor`` (the mode's detour).

    >>> b = GapBound("x", "x", "hospital", "T", "t", np.array([[0.0, 0], [3, 0], [3, 4], [0, 4]]))
    >>> bound_distances(np.array([[0.0, 0.0]]), b, 1.0).tolist()
    [5.0]
    """
    pts = np.asarray(points, dtype=float).reshape(-1, 2)
    out = np.empty(len(pts))
    for s in range(0, len(pts), _CHUNK):
        diff = pts[s:s + _CHUNK, None, :] - bound.hull[None, :, :]
        out[s:s + _CHUNK] = np.sqrt((diff ** 2).sum(axis=2)).max(axis=1)
    return out * float(factor)
