"""The hexagon grid: H3 cells where people live in a region, with population weights.

Cells come from two places:

1. every locality's footprint (see :mod:`geo.footprints`): its tätort outline when the build
   matched one, else a disc of its area ``area_ha`` around its point. The cells whose centres fall
   inside it, plus the cell holding the locality's point; an outline part too small to hold any
   cell centre gives the cells it touches;
2. residential land and residential buildings from the ``housing`` layer, when it has them: the
   cells they fall in (polygons are filled, points and small polygons give their cell).

Each cell belongs to at most one locality: one whose footprint holds the cell's centre before one
that only holds its point or touches it, then the one whose point is nearest. Housing cells outside
every footprint but within :data:`ATTACH_M` of one join that locality; the rest are kept as rural
cells (``locality`` empty, weight 0 in locality roll-ups).

Municipality of a cell: its locality's (a locality is one place in one municipality: SCB's code,
or the one the build assigned it by the island-keeping polygons); a cell outside every locality (a
rural housing cell), or of a locality without a municipality, takes the municipality polygon holding
its centre (the snapshot's, which keep the coastal islands when the build had a pack's municipality
boundaries), else the nearest locality's. Generalised polygons are not trusted inside a locality:
the pack's put 8 cells of Pukavik (Sölvesborg) more than 1 km into Karlshamn.

Population weight: a locality's population is spread over its cells in proportion to the number of
housing features in each cell where the locality has any, otherwise evenly. Whole municipalities are
never covered: only cells near where people live are scored.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from layers import residential_layer

from .errors import LimitError
from .footprints import disc_footprints
from .network import project_lonlat
from .settings import H3_RESOLUTIONS, STORE_CRS, WORK_CRS

__all__ = ["ATTACH_M", "GRID_COLUMNS", "build_grid", "cell_polygons", "check_resolution",
           "footprint_cells", "home_kinds"]

log = logging.getLogger(__name__)

#: Housing cells this close to a locality's footprint join that locality.
ATTACH_M = 1000.0
#: Columns of :func:`build_grid`'s frame.
GRID_COLUMNS = ("h3", "locality", "municipality", "weight", "n_housing", "lon", "lat", "x", "y")
#: How a locality claims a cell, strongest first (see :func:`footprint_cells`).
_INSIDE, _POINT, _TOUCH = 0, 1, 2


def _fill(poly: Polygon, res: int) -> list[str]:
    """H3 cells whose centres fall in a lon/lat polygon."""
    exterior = [(lat, lon) for lon, lat in poly.exterior.coords]
    holes = [[(lat, lon) for lon, lat in ring.coords] for ring in poly.interiors]
    return list(h3.polygon_to_cells(h3.LatLngPoly(exterior, *holes), res))


def _touching(poly: Polygon, res: int) -> list[str]:
    """H3 cells a lon/lat polygon overlaps (for parts too small to hold a cell centre)."""
    try:
        return list(h3.h3shape_to_cells_experimental(h3.geo_to_h3shape(poly), res, "overlap"))
    except (AttributeError, TypeError, ValueError, h3.H3BaseException):  # experimental API moved
        return list({h3.latlng_to_cell(lat, lon, res) for lon, lat in poly.exterior.coords})


def _geom_cells(geom: object, res: int) -> list[str]:
    """Cells covering a lon/lat geometry (its representative point's cell at the least)."""
    cells: list[str] = []
    parts = getattr(geom, "geoms", [geom])
    for g in parts:
        if isinstance(g, Polygon):
            cells.extend(_fill(g, res))
    if not cells:
        p = geom.representative_point()  # type: ignore[attr-defined]
        cells.append(h3.latlng_to_cell(p.y, p.x, res))
    return cells


def footprint_cells(footprint: BaseGeometry, point: BaseGeometry, res: int, *,
                    touch: bool = True) -> dict[str, int]:
    """Cells of one locality: ``{h3: how}`` with how 0 (centre inside), 1 (its point), 2 (touched).

    Parameters
    ----------
    footprint
        The locality's (multi)polygon, EPSG:4326.
    point
        The locality's point, EPSG:4326: its cell always belongs to the locality.
    res
        H3 resolution.
    touch
        A polygon part holding no cell centre adds the cells it overlaps (a tiny outline part,
        an islet); False for the fallback discs, which keep just the point's cell.
    """
    out: dict[str, int] = {}
    for part in getattr(footprint, "geoms", [footprint]):
        if not isinstance(part, Polygon) or part.is_empty:
            continue
        inside = _fill(part, res)
        for c in inside:
            out[c] = _INSIDE
        if not inside and touch:
            for c in _touching(part, res):
                out.setdefault(c, _TOUCH)
    if point is not None and not point.is_empty:
        out.setdefault(h3.latlng_to_cell(point.y, point.x, res), _POINT)
    return out


def check_resolution(resolution: object) -> int:
    """Return ``resolution`` as an int when it is in :data:`~geo.settings.H3_RESOLUTIONS`.

    Raises
    ------
    LimitError
        For anything else (``-1``, ``0``, ``15``, ``9.5``, ``"nine"``), naming the allowed range.
    """
    lo, hi = H3_RESOLUTIONS[0], H3_RESOLUTIONS[-1]
    value = (int(resolution) if isinstance(resolution, (int, np.integer))
             and not isinstance(resolution, bool) else None)
    if value is None or value not in H3_RESOLUTIONS:
        raise LimitError(
            f"H3 resolution {resolution!r} is outside {lo}-{hi}; use {lo} (coarse) to {hi} (fine), "
            "9 is the default (about 0.1 km2 per cell)"
        )
    return value


def _footprints_for(loc: gpd.GeoDataFrame,
                    footprints: gpd.GeoDataFrame | None) -> tuple[list[BaseGeometry], np.ndarray]:
    """Each locality's footprint (EPSG:4326) and whether it is an outline (else a disc)."""
    discs = disc_footprints(loc)
    geoms = list(discs.values)
    outline = np.zeros(len(loc), dtype=bool)
    if footprints is not None and len(footprints) and "code" in footprints:
        fp = footprints.to_crs(STORE_CRS)
        fp = fp[fp.geometry.notna() & ~fp.geometry.is_empty]
        by_code = dict(zip(fp["code"].astype(str), range(len(fp))))
        srcs = fp["footprint_source"].astype(str).to_numpy() if "footprint_source" in fp else \
            np.array(["outline"] * len(fp))
        for i, code in enumerate(loc["code"].astype(str)):
            j = by_code.get(code)
            if j is not None:
                geoms[i] = fp.geometry.iloc[j]
                outline[i] = srcs[j] != "disc"
    return geoms, outline


def _cell_municipalities(lon: np.ndarray, lat: np.ndarray,
                         municipalities: gpd.GeoDataFrame | None) -> np.ndarray:
    """Code of the municipality polygon holding each point (None: none; overlaps: first listed)."""
    out = np.full(len(lon), None, dtype=object)
    if municipalities is None or municipalities.empty or "code" not in municipalities or not len(lon):
        return out
    m = municipalities.to_crs(STORE_CRS).reset_index(drop=True)
    m = m[m.geometry.notna()]
    tree = shapely.STRtree(m.geometry.values)
    pi, mi = tree.query(shapely.points(lon, lat), predicate="within")
    order = np.lexsort((mi, pi))  # per point, the first-listed polygon first
    pi, mi = pi[order], mi[order]
    first = np.r_[True, pi[1:] != pi[:-1]] if len(pi) else np.array([], dtype=bool)
    codes = m["code"].astype(str).to_numpy()
    out[pi[first]] = codes[mi[first]]
    return out


def home_kinds() -> tuple[str, ...]:
    """The feature kinds that mark where people live: the residential layer's declared
    ``home_kinds`` (:attr:`layers.spec.LayerSpec.home_kinds`); none without a residential layer."""
    spec = residential_layer()
    return spec.home_kinds if spec is not None else ()


def _housing_counts(housing: gpd.GeoDataFrame | None, resolution: int) -> pd.Series:
    """Housing features per cell (empty without housing data)."""
    if housing is None or housing.empty or "kind" not in housing.columns:
        return pd.Series(dtype=float)
    hs = housing[housing["kind"].isin(home_kinds())]
    if hs.empty:
        return pd.Series(dtype=float)
    hs = hs.to_crs(STORE_CRS)
    hcells: list[str] = []
    for g in hs.geometry:
        hcells.extend(_geom_cells(g, resolution))
    counts = pd.Series(hcells).value_counts().astype(float)
    log.info("%d housing features fall in %d cells", len(hs), len(counts))
    return counts


def build_grid(localities: gpd.GeoDataFrame, *, resolution: int = 9,
               housing: gpd.GeoDataFrame | None = None,
               footprints: gpd.GeoDataFrame | None = None,
               municipalities: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Build the scoring grid.

    Parameters
    ----------
    localities
        Locality points (EPSG:4326) with ``code``, ``municipality``, ``population``, ``area_ha``.
    resolution
        H3 resolution (9: about 0.1 km2 per cell), within :data:`~geo.settings.H3_RESOLUTIONS`.
    housing
        The residential layer, if any; features of :func:`home_kinds` add cells and weights.
    footprints
        The snapshot's ``footprints`` (``code``, ``footprint_source``, polygons; see
        :mod:`geo.footprints`); localities without one get a disc of their area.
    municipalities
        Municipality polygons (``code``) that decide the municipality of a cell outside every
        locality (or of a locality without one) by the cell's centre.

    Returns
    -------
    pandas.DataFrame
        One row per cell (:data:`GRID_COLUMNS`): ``h3``, ``locality`` (code or None),
        ``municipality``, ``weight`` (people), ``n_housing``, ``lon``, ``lat``, ``x``, ``y``
        (metric centre).

    Raises
    ------
    LimitError
        For a resolution outside :data:`~geo.settings.H3_RESOLUTIONS`.
    """
    resolution = check_resolution(resolution)
    if localities.empty:
        return pd.DataFrame(columns=list(GRID_COLUMNS))
    loc = localities.to_crs(STORE_CRS).reset_index(drop=True)
    metric = loc.to_crs(WORK_CRS)
    geoms, outline = _footprints_for(loc, footprints)
    rows: list[tuple[str, int, int]] = []
    for i, (fp, pt) in enumerate(zip(geoms, loc.geometry)):
        rows.extend((c, i, how) for c, how in
                    footprint_cells(fp, pt, resolution, touch=bool(outline[i])).items())
    claims = pd.DataFrame(rows, columns=["h3", "li", "how"])
    counts = _housing_counts(housing, resolution)

    all_cells = pd.Index(pd.unique(pd.concat([claims["h3"], pd.Series(counts.index, dtype=object)])))
    latlng = np.array([h3.cell_to_latlng(c) for c in all_cells], dtype=float).reshape(-1, 2)

    xy = project_lonlat(latlng[:, 1], latlng[:, 0])
    centre = metric.geometry
    cx, cy = centre.x.to_numpy(), centre.y.to_numpy()

    # a cell claimed by several localities: centre inside a footprint first, then the nearest point
    cpos = all_cells.get_indexer(claims["h3"])
    d = np.hypot(xy[cpos, 0] - cx[claims["li"]], xy[cpos, 1] - cy[claims["li"]])
    claims = claims.assign(d=d, pos=cpos).sort_values(["how", "d"], kind="stable").drop_duplicates("h3")
    li = np.full(len(all_cells), -1, dtype=np.int64)
    li[claims["pos"].to_numpy()] = claims["li"].to_numpy()

    # housing cells outside every footprint: attach to the nearest one within ATTACH_M
    free = np.flatnonzero(li < 0)
    mi = li.copy()  # whose municipality a cell takes: its locality's, else the nearest one's
    if len(free):
        _, near = cKDTree(np.column_stack([cx, cy])).query(xy[free])
        mi[free] = near
        fp_metric = gpd.GeoSeries(geoms, crs=STORE_CRS).to_crs(WORK_CRS).values
        fi, ti = shapely.STRtree(fp_metric).query_nearest(
            shapely.points(xy[free, 0], xy[free, 1]), max_distance=ATTACH_M, all_matches=False)
        li[free[fi]] = ti

    n_h = counts.reindex(all_cells).fillna(0.0).to_numpy()
    pop = pd.to_numeric(loc.get("population"), errors="coerce").fillna(0.0).to_numpy(dtype=float)
    weight = np.zeros(len(all_cells))
    has = li >= 0
    frame = pd.DataFrame({"li": li[has], "n": n_h[has]})
    tot_n = frame.groupby("li")["n"].transform("sum").to_numpy()
    n_cells = frame.groupby("li")["n"].transform("size").to_numpy()
    share = np.where(tot_n > 0, frame["n"].to_numpy() / np.where(tot_n > 0, tot_n, 1.0),
                     1.0 / n_cells)
    weight[has] = share * pop[li[has]]

    codes = loc["code"].astype(str).to_numpy()
    munis = loc["municipality"].astype(object).to_numpy() if "municipality" in loc else None
    cell_mun = _cell_municipalities(latlng[:, 1], latlng[:, 0], municipalities)
    if munis is not None:
        own = np.where(has, munis[np.maximum(li, 0)], None)  # a locality is in one municipality
        cell_mun = np.where(pd.isna(own), cell_mun, own)
        cell_mun = np.where(pd.isna(cell_mun), munis[np.maximum(mi, 0)], cell_mun)
    cell_mun = np.array([None if pd.isna(v) else str(v) for v in cell_mun], dtype=object)
    out = pd.DataFrame({
        "h3": np.asarray(all_cells, dtype=object),
        "locality": np.where(has, codes[np.maximum(li, 0)], None),
        "municipality": cell_mun,
        "weight": weight,
        "n_housing": n_h,
        "lon": latlng[:, 1],
        "lat": latlng[:, 0],
        "x": xy[:, 0],
        "y": xy[:, 1],
    })
    log.info("grid at H3 resolution %d: %d cells (%d in %d localities, %d of them on outlines; "
             "%d rural)", resolution, len(out), int(has.sum()), len(loc), int(outline.sum()),
             int((~has).sum()))
    return out


def cell_polygons(h3_ids: pd.Series | list[str]) -> gpd.GeoSeries:
    """Hexagon polygons (EPSG:4326) of H3 cell ids, for maps and exports."""
    polys = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in h3_ids]
    return gpd.GeoSeries(polys, crs=STORE_CRS)
