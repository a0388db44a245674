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
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from .settings import WORK_CRS

__all__ = ["BOUND_MARGIN_M", "GapBound", "bound_distances", "gap_bounds"]

#: Widening of the locality's outline for an amenity at its edge (hospital grounds, a station).
BOUND_MARGIN_M = 1000.0
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


def _contains(words: list[str], seq: list[str]) -> bool:
    k = len(seq)
    return k > 0 and any(words[i:i + k] == seq for i in range(len(words) - k + 1))


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
    if places is None or places.empty or not len(items) or "name" not in places:
        return []
    polys = places[places.geometry.notna()
                   & places.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polys.empty:
        return []
    polys = polys.to_crs(WORK_CRS)
    names = polys["name"].astype(str)
    by_name: dict[str, list[int]] = {}
    for i, nm in enumerate(names):
        by_name.setdefault(nm, []).append(i)
    out: list[GapBound] = []
    for item, kind in items:
        label = item.split("(")[0].strip()
        words = _words(label)
        hits = [nm for nm in by_name if _contains(words, _words(nm))]
        if not hits:
            continue
        longest = max(len(_words(h)) for h in hits)
        best = {h for h in hits if len(_words(h)) == longest}
        rows = [r for h in best for r in by_name[h]]
        codes = {str(polys["code"].iloc[r]) for r in rows} if "code" in polys else set()
        if len(best) != 1 or len(codes) != 1:
            continue  # ambiguous: no bound rather than a wrong one
        place = next(iter(best))
        shape = polys.geometry.iloc[rows].union_all().buffer(BOUND_MARGIN_M).convex_hull
        hull = np.asarray(shape.exterior.coords, dtype=float)[:-1]
        out.append(GapBound(item, label, kind, place, next(iter(codes)), hull))
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
