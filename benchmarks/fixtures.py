"""Benchmark inputs built through the public API, into temporary folders (never into ``./data``).

- :func:`pack_path`: the real Blekinge pack beside the checkout (or None).
- :func:`synthetic_pack`: a data pack of SYNTHETIC amenities for the kinds the real pack lacks,
  every feature named "synthetic ..." and its provenance saying SYNTHETIC.
- :func:`blekinge_snapshot`: ``geo.build.build_region`` from the real pack (+ the synthetic pack),
  then, when a network is given, the snapshot rewritten with :func:`geo.store.write_snapshot` so it
  also holds the SYNTHETIC network as its walk, bike and drive networks.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from .synthetic import SYNTHETIC_NOTE, SyntheticNetwork, synthetic_amenities

__all__ = [
    "SYNTHETIC_KINDS",
    "blekinge_snapshot",
    "pack_path",
    "synthetic_pack",
    "temp_data_dir",
]

#: Layer -> kind -> count of SYNTHETIC amenities: the kinds the indicators use that the real pack
#: does not hold (its not_available_offline list), in numbers of roughly a county's size.
SYNTHETIC_KINDS: dict[str, dict[str, int]] = {
    "schools": {"kindergarten": 110, "college": 10},
    "transit": {"bus_stop": 1200},
    "nature": {"park": 150},
    "services": {"grocery": 70},
    "culture": {"library": 20, "sports": 120, "venue": 25},
    "workplaces": {"office": 150, "industrial": 80, "commercial": 80, "retail": 150},
}

_ROOT = Path(__file__).resolve().parents[1]


def pack_path() -> Path | None:
    """The Blekinge pack at ``../shared/data/blekinge`` (or ``$LIVABILITY_BENCH_PACK``), else None."""
    env = os.environ.get("LIVABILITY_BENCH_PACK")
    p = Path(env) if env else _ROOT.parent / "shared" / "data" / "blekinge"
    return p if (p / "pack.json").is_file() else None


def temp_data_dir() -> Path:
    """A fresh temporary store folder (the caller removes it)."""
    return Path(tempfile.mkdtemp(prefix="livability-bench-"))


def synthetic_pack(folder: Path, net: SyntheticNetwork, scale: float = 1.0) -> Path:
    """Write a data pack of SYNTHETIC amenities placed on ``net``'s nodes; return its folder.

    Counts are :data:`SYNTHETIC_KINDS` times ``scale`` (at least 2 of each kind).
    """
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for layer, kinds in SYNTHETIC_KINDS.items():
        counts = {k: max(2, round(n * scale)) for k, n in kinds.items()}
        counts = {k: min(n, net.n_nodes // (2 * len(counts))) for k, n in counts.items()}
        df = synthetic_amenities(net, counts, seed=sum(map(ord, layer)))
        gdf = gpd.GeoDataFrame(df.drop(columns=["lon", "lat"]),
                               geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs="EPSG:4326")
        gdf["id"] = [f"synthetic-{layer}-{i}" for i in range(len(gdf))]
        name = f"SYNTHETIC_{layer}.geojson"
        gdf.to_file(folder / name, driver="GeoJSON")
        entries.append({
            "file": name, "theme": layer, "coverage": "partial",
            "what": f"SYNTHETIC {layer} amenities for benchmarks, not real",
            "fields": {"id": "id", "name": "name", "kind": "kind"},
            "source": f"SYNTHETIC ({SYNTHETIC_NOTE})", "license": "n/a (synthetic)",
            "date": "synthetic",
        })
    manifest = {"name": "SYNTHETIC-benchmark-amenities", "synthetic": True, "layers": entries}
    (folder / "pack.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def _copy_with_networks(snap: Any, data: Path, networks: dict[str, tuple[pd.DataFrame,
                                                                         pd.DataFrame]]) -> Any:
    """Rewrite ``snap`` through :func:`geo.store.write_snapshot`, adding ``networks``."""
    from geo.schema import Provenance
    from geo.store import open_snapshot, write_snapshot

    man = snap.manifest
    prov = Provenance(source=f"SYNTHETIC street network ({SYNTHETIC_NOTE})",
                      license="n/a (synthetic)", date="synthetic", coverage="complete",
                      note="benchmarks only")
    with write_snapshot(snap.region_key, man["region"], data) as w:
        for name in ("boundary", "municipalities", "localities"):
            srcs = [Provenance.from_dict(p) for p in man["base"].get(name, {}).get("sources", [])]
            w.put_base(name, getattr(snap, name)(), srcs)
        if "coverage" in man["base"].get("localities", {}):
            w.manifest["base"]["localities"]["coverage"] = man["base"]["localities"]["coverage"]
        for key in snap.layer_keys():
            st = snap.layer_status(key)
            w.put_layer(key, snap.layer(key), list(st.sources), st.coverage, st.reason)
        for name in snap.table_names():
            entry = man["tables"][name]
            df = snap.table(name)
            if df is None:
                continue
            w.put_table(name, df, Provenance.from_dict(entry["sources"][0]),
                        **{k: v for k, v in entry.items()
                           if k not in ("file", "rows", "sources")})
        for mode, (nodes, edges) in networks.items():
            w.put_network(mode, nodes, edges, prov)
        w.manifest["inputs"] = dict(man.get("inputs", {}), synthetic_network=SYNTHETIC_NOTE)
        w.manifest["notes"] = [*man.get("notes", []),
                               "SYNTHETIC street network and amenities: benchmark snapshot"]
        w.manifest["parameters"] = dict(man.get("parameters", {}), synthetic=True)
    return open_snapshot(snap.region_key, data)


def blekinge_snapshot(data: Path, *, net: SyntheticNetwork | None = None,
                      extra_pack: Path | None = None,
                      modes: tuple[str, ...] = ("walk", "bike", "drive")) -> Any:
    """Build the Blekinge snapshot into ``data`` from the real pack (+ SYNTHETIC extras).

    Parameters
    ----------
    data
        A temporary store folder.
    net
        When given, the SYNTHETIC network is stored for ``modes``. When None (and no
        ``extra_pack``): the real pack only, what ``make run`` builds offline.
    extra_pack
        A pack of SYNTHETIC amenities (:func:`synthetic_pack`) read beside the real one.

    Returns
    -------
    geo.store.Snapshot
        The verified snapshot.
    """
    from geo.build import build_region

    pack = pack_path()
    if pack is None:
        raise FileNotFoundError("the Blekinge pack (../shared/data/blekinge) is not here")
    packs = [pack] + ([extra_pack] if extra_pack is not None else [])
    snap = build_region("blekinge", packs=packs, offline=True, data=data, default_packs=False)
    if net is None:
        return snap
    frames = {m: (net.nodes, net.edges) for m in modes}
    return _copy_with_networks(snap, data, frames)
