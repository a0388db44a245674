"""The hexagon grid: H3 cells over the inhabited parts of a region, with population weights.

Cells come from two places:

1. every locality (tätort) point with its area ``area_ha`` is turned into a disc of that area
   around the point and filled with H3 cells (at least the cell holding the point);
2. residential land and residential buildings from the ``housing`` layer, when it has them: the
   cells they fall in (polygons are filled, points and small polygons give their cell).

Each cell belongs to at most one locality: the one whose disc holds it and whose centre is nearest.
Housing cells outside every disc but within :data:`ATTACH_M` of a disc's edge join that locality;
the rest are kept as rural cells (``locality`` empty, weight 0 in locality roll-ups) and take the
municipality of the nearest locality.

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
from shapely.geometry import Point, Polygon

from .errors import LimitError
from .settings import H3_RESOLUTIONS, STORE_CRS, WORK_CRS

__all__ = ["ATTACH_M", "HOUSING_KINDS", "build_grid", "cell_polygons", "check_resolution"]

log = logging.getLogger(__name__)

#: Housing feature kinds that mark where people live.
HOUSING_KINDS: tuple[str, ...] = ("residential_area", "apartments", "residential_building", "house")
#: Housing cells this close to a locality's disc join that locality.
ATTACH_M = 1000.0
_DEFAULT_AREA_HA = 20.0


def _fill(poly: Polygon, res: int) -> list[str]:
    """H3 cells whose centres fall in a lon/lat polygon."""
    exterior = [(lat, lon) for lon, lat in poly.exterior.coords]
    holes = [[(lat, lon) for lon, lat in ring.coords] for ring in poly.interiors]
    return list(h3.polygon_to_cells(h3.LatLngPoly(exterior, *holes), res))


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


def check_resolution(resolution: object) -> int:
    """Return ``resolution`` as an int when it is in :data:`~geo.settings.H3_RESOLUTIONS`.

    Raises
    ------
    LimitError
        For anything else (``-1``, ``0``, ``15``, ``9.5``, ``"nine"``), naming the allowed range.
    """
    lo, hi = H3_RESOLUTIONS[0], H3_RESOLUTIONS[-1]
    ok = isinstance(resolution, (int, np.integer)) and not isinstance(resolution, bool)
    if not ok or int(resolution) not in H3_RESOLUTIONS:  # type: ignore[call-overload]
        raise LimitError(
            f"H3 resolution {resolution!r} is outside {lo}-{hi}; use {lo} (coarse) to {hi} (fine), "
            "9 is the default (about 0.1 km2 per cell)"
        )
    return int(resolution)  # type: ignore[call-overload]


def build_grid(localities: gpd.GeoDataFrame, *, resolution: int = 9,
               housing: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Build the scoring grid.

    Parameters
    ----------
    localities
        Locality points (EPSG:4326) with ``code``, ``municipality``, ``population``, ``area_ha``.
    resolution
        H3 resolution (9: about 0.1 km2 per cell), within :data:`~geo.settings.H3_RESOLUTIONS`.
    housing
        The housing layer, if any; features of :data:`HOUSING_KINDS` add cells and weights.

    Returns
    -------
    pandas.DataFrame
        One row per cell: ``h3``, ``locality`` (code or None), ``municipality``, ``weight``
        (people), ``n_housing``, ``lon``, ``lat``, ``x``, ``y`` (metric centre).

    Raises
    ------
    LimitError
        For a resolution outside :data:`~geo.settings.H3_RESOLUTIONS`.
    """
    resolution = check_resolution(resolution)
    if localities.empty:
        return pd.DataFrame(columns=["h3", "locality", "municipality", "weight", "n_housing",
                                     "lon", "lat", "x", "y"])
    loc = localities.to_crs(STORE_CRS).reset_index(drop=True)
    metric = loc.to_crs(WORK_CRS)
    area = pd.to_numeric(loc.get("area_ha"), errors="coerce").fillna(_DEFAULT_AREA_HA)
    radius = np.sqrt(area.to_numpy(dtype=float) * 1e4 / np.pi)
    discs = gpd.GeoSeries([Point(p.x, p.y).buffer(r, 32) for p, r in zip(metric.geometry, radius)],
                          crs=WORK_CRS).to_crs(STORE_CRS)
    rows: list[tuple[str, int]] = []
    for i, (disc, pt) in enumerate(zip(discs, loc.geometry)):
        cells = set(_fill(disc, resolution))
        cells.add(h3.latlng_to_cell(pt.y, pt.x, resolution))
        rows.extend((c, i) for c in cells)
    claims = pd.DataFrame(rows, columns=["h3", "li"])

    # housing features: cells + counts
    counts = pd.Series(dtype=float)
    if housing is not None and not housing.empty and "kind" in housing.columns:
        hs = housing[housing["kind"].isin(HOUSING_KINDS)]
        if not hs.empty:
            hs = hs.to_crs(STORE_CRS)
            hcells: list[str] = []
            for g in hs.geometry:
                hcells.extend(_geom_cells(g, resolution))
            counts = pd.Series(hcells).value_counts().astype(float)
            log.info("%d housing features fall in %d cells", len(hs), len(counts))

    all_cells = pd.Index(pd.unique(pd.concat([claims["h3"], pd.Series(counts.index, dtype=object)])))
    latlng = np.array([h3.cell_to_latlng(c) for c in all_cells], dtype=float).reshape(-1, 2)
    from .network import project_lonlat

    xy = project_lonlat(latlng[:, 1], latlng[:, 0])
    centre = metric.geometry
    cx, cy = centre.x.to_numpy(), centre.y.to_numpy()

    # the nearest claiming locality wins a cell claimed by several discs
    cpos = all_cells.get_indexer(claims["h3"])
    d = np.hypot(xy[cpos, 0] - cx[claims["li"]], xy[cpos, 1] - cy[claims["li"]])
    claims = claims.assign(d=d, pos=cpos).sort_values("d").drop_duplicates("h3")
    li = np.full(len(all_cells), -1, dtype=np.int64)
    li[claims["pos"].to_numpy()] = claims["li"].to_numpy()

    # housing cells outside every disc: attach to the nearest locality within ATTACH_M of its disc
    free = np.flatnonzero(li < 0)
    mi = li.copy()  # whose municipality a cell takes: its locality's, else the nearest one's
    if len(free):
        from scipy.spatial import cKDTree

        dist, near = cKDTree(np.column_stack([cx, cy])).query(xy[free])
        edge = dist - radius[near]
        ok = edge <= ATTACH_M
        li[free[ok]] = near[ok]
        mi[free] = near

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
    munis = loc["municipality"].astype(str).to_numpy() if "municipality" in loc else None
    out = pd.DataFrame({
        "h3": np.asarray(all_cells, dtype=object),
        "locality": np.where(has, codes[np.maximum(li, 0)], None),
        "municipality": munis[mi] if munis is not None else None,
        "weight": weight,
        "n_housing": n_h,
        "lon": latlng[:, 1],
        "lat": latlng[:, 0],
        "x": xy[:, 0],
        "y": xy[:, 1],
    })
    log.info("grid at H3 resolution %d: %d cells (%d in %d localities, %d rural)", resolution,
             len(out), int(has.sum()), len(loc), int((~has).sum()))
    return out


def cell_polygons(h3_ids: pd.Series | list[str]) -> gpd.GeoSeries:
    """Hexagon polygons (EPSG:4326) of H3 cell ids, for maps and exports."""
    polys = [Polygon([(lon, lat) for lat, lon in h3.cell_to_boundary(c)]) for c in h3_ids]
    return gpd.GeoSeries(polys, crs=STORE_CRS)
