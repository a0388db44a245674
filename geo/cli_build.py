"""``livability build`` and ``livability info``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from .cli_common import echo
from .cli_score import check_text
from .errors import DataSourceError
from .settings import DEFAULT_REGION

__all__ = ["format_info", "register"]

_STEPS = 8


def _file_arg(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(
            f"--file takes LAYER=PATH (e.g. schools=my_schools.geojson), got {text!r}")
    layer, path = text.split("=", 1)
    return layer.strip(), path.strip()


def register(sub: Any) -> None:
    """Add ``build`` and ``info`` to the CLI."""
    b: argparse.ArgumentParser = sub.add_parser(
        "build", help="gather sources for a region into the local store",
        description="Build (or rebuild) a region's snapshot from data packs, OpenStreetMap, GTFS "
                    "and your own files. The old snapshot stays until the new one is complete.")
    b.add_argument("--region", default=DEFAULT_REGION,
                   help="county/municipality name or code, polygon file, or osm:PLACE (default: blekinge)")
    b.add_argument("--pack", action="append", default=[], metavar="DIR",
                   help="data pack folder with pack.json (repeatable); packs in <data>/packs/ are added")
    b.add_argument("--no-default-packs", action="store_true", help="ignore packs in <data>/packs/")
    b.add_argument("--file", action="append", default=[], type=_file_arg, metavar="LAYER=PATH",
                   help="add one GeoJSON/GPKG/CSV file to a layer (repeatable)")
    b.add_argument("--file-crs", metavar="EPSG",
                   help="CRS of the coordinates in --file CSVs (default 4326, WGS 84 degrees; "
                        "e.g. 3006 for SWEREF 99 TM metres)")
    b.add_argument("--pbf", help="local OpenStreetMap extract (.osm.pbf)")
    b.add_argument("--osm-xml", help="local OpenStreetMap XML (.osm)")
    b.add_argument("--gtfs", help="local GTFS zip")
    b.add_argument("--gtfs-url", help="GTFS feed URL (e.g. Trafiklab's regional feed)")
    b.add_argument("--gtfs-key", default=os.environ.get("TRAFIKLAB_API_KEY"),
                   help="API key for --gtfs-url (default $TRAFIKLAB_API_KEY)")
    b.add_argument("--gtfs-weekday", default="tuesday",
                   help="count departures on this weekday (default tuesday)")
    b.add_argument("--gtfs-date", help="count departures on this date instead (YYYY-MM-DD; --gtfs only)")
    b.add_argument("--gtfs-hours", default="7-19", help="hour window for departures per hour (default 7-19)")
    b.add_argument("--modes", default="walk", help="street networks to store: walk,bike,drive (default walk)")
    b.add_argument("--offline", action="store_true", help="never touch the network")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(func=_build)

    i: argparse.ArgumentParser = sub.add_parser("info", help="list what the store holds for a region")
    i.add_argument("--region", default=DEFAULT_REGION,
                   help="region name, code or key, as given to build (default: blekinge)")
    i.set_defaults(func=_info)


def _build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .build import build_region
    from .regions import resolve_region

    for label, p in (("--pbf", args.pbf), ("--osm-xml", args.osm_xml), ("--gtfs", args.gtfs)):
        if p and not Path(p).is_file():
            raise DataSourceError(f"{label} {p} does not exist; check the path")
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    bad = [m for m in modes if m not in ("walk", "bike", "drive")]
    if bad:
        raise DataSourceError(f"unknown --modes {', '.join(bad)}; use walk, bike, drive")
    try:
        start, end = (int(h) for h in args.gtfs_hours.split("-", 1))
    except ValueError:
        raise DataSourceError(f"--gtfs-hours takes START-END in whole hours (e.g. 7-19), "
                              f"got {args.gtfs_hours!r}") from None
    if not Path(args.region).suffix:
        check_text("--region", args.region)
    region = args.region if Path(args.region).suffix else resolve_region(args.region, offline=args.offline)
    bar = tqdm(total=_STEPS, desc="build", unit="step", disable=args.quiet or not sys.stderr.isatty(),
               leave=False)

    def progress(msg: str) -> None:
        bar.set_description(msg[:40])
        bar.update(1)

    try:
        snap = build_region(region, packs=args.pack, files=args.file, pbf=args.pbf,
                            osm_xml=args.osm_xml, gtfs=args.gtfs, gtfs_url=args.gtfs_url,
                            gtfs_key=args.gtfs_key, gtfs_weekday=args.gtfs_weekday,
                            gtfs_date=args.gtfs_date, gtfs_hours=(start, end), offline=args.offline,
                            data=args.data_dir,
                            modes=modes, default_packs=not args.no_default_packs, progress=progress,
                            file_crs=args.file_crs)
    finally:
        bar.close()
    echo(f"built {snap.region_name} into {snap.path}")
    echo(format_info(snap))
    return 0


def format_info(snap: Any) -> str:
    """Return the human-readable listing of a snapshot (layers, coverage, sources, missing)."""
    from layers import LAYERS

    m = snap.manifest
    lines = [f"{snap.region_name} ({snap.region_key}), built {snap.built_at}, store {snap.path}"]
    loc = snap.localities()
    base = m.get("base", {}).get("localities", {})
    src = "; ".join(p.get("source", "") for p in base.get("sources", [])) or "none"
    pop = int(loc["population"].fillna(0).sum()) if len(loc) else 0
    lines.append(f"  localities    {len(loc):>6}  population {pop:,}  "
                 f"[{base.get('coverage', 'missing')}]  {src}")
    lines.append("")
    lines.append(f"  {'layer':<12} {'count':>6}  {'coverage':<9} source (date)")
    missing = []
    for key in LAYERS:
        st = snap.layer_status(key)
        if not st.available:
            missing.append((key, st.reason))
            continue
        srcs = "; ".join(dict.fromkeys(f"{p.source} ({p.date})" if p.date and p.date not in p.source
                                       else p.source for p in st.sources))
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(st.kinds.items()))
        lines.append(f"  {key:<12} {st.count:>6}  {st.coverage:<9} {srcs}")
        lines.append(f"  {'':<12} {'':>6}  {'':<9} kinds: {kinds}")
        if st.reason:
            lines.append(f"  {'':<12} {'':>6}  {'':<9} note: {st.reason}")
    tables = m.get("tables", {})
    if tables:
        lines.append("")
        lines.append("  tables")
        for name, t in tables.items():
            srcs = "; ".join(p.get("source", "") for p in t.get("sources", []))
            lines.append(f"  {name:<45} {t.get('rows', 0):>4} rows  {srcs}")
    nets = m.get("networks", {})
    lines.append("")
    if nets:
        for mode, n in nets.items():
            lines.append(f"  network {mode:<6} {n['nodes']:,} nodes, {n['edges']:,} edges")
    else:
        lines.append("  network       none (distances are straight-line x detour factor: approximate)")
    lines.extend(_drop_lines(m.get("drops", {})))
    if missing:
        lines.append("")
        lines.append("  missing layers (left out of the scores):")
        for key, reason in missing:
            lines.append(f"  {key:<12} {reason}")
        lines.append("  get them: build online (OpenStreetMap), or --pbf extract.osm.pbf, --gtfs feed.zip, "
                     "--pack DIR, --file LAYER=PATH")
    return "\n".join(lines)


_DROP_REASONS = {"outside_region": "outside the region", "no_coordinates": "without coordinates",
                 "duplicate": "duplicates of another source's", "superseded": "not used (an earlier "
                 "source gave localities)"}


def _drop_lines(drops: dict[str, dict[str, int]]) -> list[str]:
    """One ``dropped`` line per source of the manifest's drop counts (nothing when none)."""
    if not drops:
        return []
    lines = ["", "  features dropped while building (counted, not stored):"]
    for origin, counts in drops.items():
        what = ", ".join(f"{n} {_DROP_REASONS.get(r, r.replace('_', ' '))}" for r, n in counts.items())
        lines.append(f"  dropped  {origin}: {what}")
    return lines


def _info(args: argparse.Namespace) -> int:
    from .store import list_snapshots, open_region

    if "/" not in args.region:
        check_text("--region", args.region)
    snap = open_region(args.region, args.data_dir)  # the same name -> key mapping as build
    echo(format_info(snap))
    echo(f"\n  regions in this store: {', '.join(list_snapshots(args.data_dir))}")
    return 0
