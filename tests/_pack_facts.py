"""Expected figures read from the Blekinge pack's own files, so pack tests survive the pack growing.

Every figure here is counted from ``pack.json`` and the files it names: how many features each
file has inside the county, per feature kind. The tests compare the built snapshot with these
counts instead of with literals.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import geopandas as gpd

from layers import get_layer


@dataclass(frozen=True)
class PackFile:
    """One layer file of the pack with its kinds counted inside the pack's region."""

    entry: dict[str, Any]
    kinds: Counter[str]
    #: True when every kind count is exact (the file names its municipalities, so nothing is
    #: clipped by geometry); False when features are assigned to a municipality by location.
    exact: bool

    @property
    def theme(self) -> str:
        return str(self.entry.get("theme", ""))

    @property
    def coverage(self) -> str:
        return str(self.entry.get("coverage", "complete"))


@cache
def manifest(pack: Path) -> dict[str, Any]:
    """The pack's ``pack.json``."""
    return dict(json.loads((pack / "pack.json").read_text(encoding="utf-8")))


@cache
def layer_files(pack: Path) -> tuple[PackFile, ...]:
    """Every non-locality layer file with its kinds counted inside the region's municipalities."""
    m = manifest(pack)
    codes = set(m["region"]["municipalities"])
    names = {n.casefold() for n in m["region"]["municipalities"].values()}
    out = []
    for e in m["layers"]:
        if e["theme"] == "localities":
            continue
        gdf = gpd.read_file(pack / e["file"])
        fields = e.get("fields", {})
        exact = False
        if fields.get("municipality") in gdf.columns:
            mun = gdf[fields["municipality"]].astype(str).str.split(".").str[0].str.zfill(4)
            gdf, exact = gdf[mun.isin(codes)], True
        elif fields.get("municipality_name") in gdf.columns:
            gdf = gdf[gdf[fields["municipality_name"]].astype(str).str.casefold().isin(names)]
            exact = True
        if fields.get("kind") in gdf.columns:
            kinds = Counter(gdf[fields["kind"]].astype(str).str.strip().str.lower())
        elif e.get("kind"):
            kinds = Counter({e["kind"]: len(gdf)})
        else:  # the hinted kind, then the spec's name rules (school units: "... gymnasiet")
            spec = get_layer(e["theme"])
            kind = spec.kind_for_pack_file(e["file"])
            name = fields.get("name") or next(
                (c for c in ("name", "namn", "NAMN", "Name") if c in gdf.columns), None)
            kinds = Counter(spec.kind_for_name(kind, n) for n in gdf[name]) if name else Counter(
                {kind: len(gdf)})
        out.append(PackFile(e, kinds, exact))
    return tuple(out)


def themes(pack: Path) -> set[str]:
    """Layer keys the pack has files for."""
    return {f.theme for f in layer_files(pack)}


def kind_bounds(pack: Path, theme: str) -> dict[str, tuple[int, int]]:
    """Per kind of ``theme``: (at least, at most) features the snapshot can hold.

    A kind from one file with municipality codes is exact (low == high). A kind from several
    files may lose features to cross-source de-duplication (never below the largest file); files
    without municipality codes are clipped by location (never above their feature count).
    """
    files = [f for f in layer_files(pack) if f.theme == theme]
    out: dict[str, tuple[int, int]] = {}
    for kind in sorted({k for f in files for k in f.kinds}):
        per = [(f.kinds[kind], f.exact) for f in files if f.kinds.get(kind)]
        high = sum(n for n, _ in per)
        low = max(n for n, ex in per if ex) if any(ex for _, ex in per) else 1
        if len(per) == 1 and per[0][1]:
            low = high
        out[kind] = (low, high)
    return out


def exact_kinds(pack: Path, theme: str) -> dict[str, int]:
    """The kinds of ``theme`` whose count in the snapshot is exactly known from the files."""
    return {k: lo for k, (lo, hi) in kind_bounds(pack, theme).items() if lo == hi}


def any_partial(pack: Path, theme: str) -> bool:
    """True when one of the theme's files is marked partial in ``pack.json``."""
    return any(f.coverage == "partial" for f in layer_files(pack) if f.theme == theme)
