"""``livability build`` and ``livability info``."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from layers import LAYERS
from layers.vocab import NETWORK_MODES, NetworkMode

from .catalog import CATALOGUE, fmt_number, t
from .cli_common import echo
from .cli_score import check_text
from .errors import DataSourceError
from .messages import render
from .settings import DEFAULT_REGION

if TYPE_CHECKING:
    from .sources.registry import InputCheck
    from .store import Snapshot

__all__ = ["format_info", "register"]

_STEPS = 8


def _file_arg(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(
            f"--file takes LAYER=PATH (e.g. schools=my_schools.geojson), got {text!r}")
    layer, path = text.split("=", 1)
    return layer.strip(), path.strip()


def register(sub: Any) -> None:  # Any: argparse has no public type for its sub-parsers object
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
    b.add_argument("--modes", default=NetworkMode.WALK.value,
                   help=f"street networks to store: {','.join(NETWORK_MODES)} (default walk)")
    b.add_argument("--offline", action="store_true", help="never touch the network")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--workers", type=int, default=None, metavar="N",
                   help="read the pack files and write the snapshot's parts on a local Dask "
                        "cluster of N worker processes (0 or without the option: one process)")
    b.add_argument("--scheduler", default=None, metavar="ADDR",
                   help="an existing Dask scheduler, e.g. tcp://host:8786 (default "
                        "$DASK_SCHEDULER_ADDRESS when --workers is given): pack files are read "
                        "there, the parts written by this process")
    b.set_defaults(func=_build)

    i: argparse.ArgumentParser = sub.add_parser("info", help="list what the store holds for a region")
    i.add_argument("--region", default=DEFAULT_REGION,
                   help="region name, code or key, as given to build (default: blekinge)")
    i.add_argument("--check", action="store_true",
                   help="only check whether the snapshot's inputs changed since the build: exit 0 "
                        "when up to date, 1 (one line per changed input) when a rebuild is due")
    i.set_defaults(func=_info)


def _build(args: argparse.Namespace) -> int:
    from tqdm import tqdm  # lazy: ~30 ms of --help's start-up, for a bar only build draws

    from .build import build_region  # lazy: geopandas, scipy, pyarrow (~0.8 s), not for --help
    from .regions import resolve_region  # lazy: geopandas, pyarrow (~0.4 s)
    from .sources.registry import BuildOptions  # lazy: the store (geopandas)

    for label, p in (("--pbf", args.pbf), ("--osm-xml", args.osm_xml), ("--gtfs", args.gtfs)):
        if p and not Path(p).is_file():
            raise DataSourceError(f"{label} {p} does not exist; check the path")
    try:
        start, end = (int(h) for h in args.gtfs_hours.split("-", 1))
    except ValueError:
        raise DataSourceError(f"--gtfs-hours takes START-END in whole hours (e.g. 7-19), "
                              f"got {args.gtfs_hours!r}") from None
    options = BuildOptions(
        packs=tuple(args.pack), files=tuple(args.file), pbf=args.pbf, osm_xml=args.osm_xml,
        gtfs=args.gtfs, gtfs_url=args.gtfs_url, gtfs_key=args.gtfs_key,
        gtfs_weekday=args.gtfs_weekday, gtfs_date=args.gtfs_date, gtfs_hours=(start, end),
        offline=args.offline, data=args.data_dir, default_packs=not args.no_default_packs,
        modes=tuple(m.strip() for m in args.modes.split(",") if m.strip()), file_crs=args.file_crs)
    if not Path(args.region).suffix:
        check_text("--region", args.region)
    region = args.region if Path(args.region).suffix else resolve_region(args.region, offline=args.offline)
    bar = tqdm(total=_STEPS, desc="build", unit="step", disable=args.quiet or not sys.stderr.isatty(),
               leave=False)

    def progress(msg: str) -> None:
        bar.set_description(msg[:40])
        bar.update(1)

    try:
        if args.workers or args.scheduler:
            snap = _build_distributed(args, region, options, progress)
        else:
            snap = build_region(region, options, progress=progress)
    finally:
        bar.close()
    echo(t("cli.built", region=snap.region_name, path=snap.path))
    echo(format_info(snap))
    return 0


def _build_distributed(args: argparse.Namespace, region: Any, options: Any,
                       progress: Any) -> Snapshot:
    """``build --workers N`` / ``--scheduler ADDR``: the build's read and write stages on Dask
    (:func:`geo.distributed.build_region_distributed`), the dashboard link on stderr."""
    # lazy: dask (through geo.distributed and its CLI module) is not for --help or a plain build
    from .cli_distributed import MAX_WORKERS, quiet_dask_logs
    from .distributed import build_region_distributed
    from .errors import LimitError

    if args.workers is not None and not 0 <= args.workers <= MAX_WORKERS:
        raise LimitError(f"--workers {args.workers} is outside 0-{MAX_WORKERS}; give the number "
                         "of local worker processes (0: in this process)")
    lang = getattr(args, "lang", "en")
    quiet_dask_logs()

    def on_client(client: Any) -> None:
        link = getattr(client, "dashboard_link", None)
        if link:
            echo(t("cli.dist.dashboard", lang, url=link), err=True)

    snap, _ = build_region_distributed(region, options, workers=args.workers,
                                       scheduler=args.scheduler, progress=progress,
                                       on_client=on_client)
    out: Snapshot = snap
    return out


def format_info(snap: Snapshot, lang: str = "en") -> str:
    """Return the human-readable listing of a snapshot (layers, coverage, sources, missing)."""
    m = snap.manifest
    pad = f"  {'':<12} {'':>6}  {'':<9} "
    lines = [t("cli.info.head", lang, region=snap.region_name, code=snap.region_key,
               built=snap.built_at, path=snap.path)]
    loc = snap.localities()
    base = m.get("base", {}).get("localities")
    src = "; ".join(p.get("source", "") for p in (base["sources"] if base else [])) \
        or t("cli.info.none", lang)
    pop = int(loc["population"].fillna(0).sum()) if len(loc) else 0
    lines.append("  " + t("cli.info.localities", lang, n=len(loc), population=fmt_number(pop, lang),
                          coverage=base.get("coverage", "missing") if base else "missing",
                          sources=src))
    lines.append("")
    col = {c: t(f"cli.info.col.{c}", lang) for c in ("layer", "count", "coverage", "source")}
    lines.append(f"  {col['layer']:<12} {col['count']:>6}  {col['coverage']:<9} {col['source']}")
    missing = []
    for key in LAYERS:
        st = snap.layer_status(key)
        if not st.available:
            missing.append((key, render(st.reason)))
            continue
        srcs = "; ".join(dict.fromkeys(f"{p.source} ({p.date})" if p.date and p.date not in p.source
                                       else p.source for p in st.sources))
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(st.kinds.items()))
        lines.append(f"  {key:<12} {st.count:>6}  {st.coverage:<9} {srcs}")
        lines.append(pad + t("cli.info.kinds", lang, kinds=kinds))
        if st.reason:
            lines.append(pad + t("cli.info.note", lang, note=render(st.reason, lang)))
    tables = m.get("tables", {})
    if tables:
        lines.append("")
        lines.append("  " + t("cli.info.tables", lang))
        for name, tab in tables.items():
            srcs = "; ".join(p.get("source", "") for p in tab.get("sources", []))
            lines.append(f"  {name:<45} "
                         + t("cli.info.table_rows", lang, rows=tab.get("rows", 0), sources=srcs))
    nets = m.get("networks", {})
    lines.append("")
    if nets:
        for mode, n in nets.items():
            lines.append("  " + t("cli.info.network", lang, mode=mode,
                                  nodes=fmt_number(n["nodes"], lang), edges=fmt_number(n["edges"], lang)))
    else:
        lines.append("  " + t("cli.info.no_network", lang))
    lines.extend(_drop_lines(m.get("drops", {}), lang))
    if missing:
        lines.append("")
        lines.append("  " + t("cli.info.missing_head", lang))
        for key, reason in missing:
            lines.append(f"  {key:<12} {reason}")
        lines.append("  " + t("cli.info.get_them", lang))
    return "\n".join(lines)


def _drop_reason(reason: str, lang: str) -> str:
    """A drop reason of the manifest (``outside_region`` ...) in words (``cli.drop.<reason>``)."""
    key = f"cli.drop.{reason}"
    return t(key, lang) if key in CATALOGUE else reason.replace("_", " ")


def _drop_lines(drops: dict[str, dict[str, int]], lang: str = "en") -> list[str]:
    """One ``dropped`` line per source of the manifest's drop counts (nothing when none)."""
    if not drops:
        return []
    lines = ["", "  " + t("cli.info.dropped_head", lang)]
    for origin, counts in drops.items():
        what = ", ".join(t("cli.info.drop_count", lang, n=n, reason=_drop_reason(r, lang))
                         for r, n in counts.items())
        lines.append("  " + t("cli.info.dropped", lang, origin=origin, what=what))
    return lines


def _info(args: argparse.Namespace) -> int:
    from .sources.registry import check_inputs  # lazy: the source readers (geopandas)
    from .store import list_snapshots, open_region  # lazy: geopandas, pyarrow (~0.6 s)

    if "/" not in args.region:
        check_text("--region", args.region)
    snap = open_region(args.region, args.data_dir)  # the same name -> key mapping as build
    check = check_inputs(snap, args.data_dir)
    if args.check:
        return _check_lines(snap, check)
    echo(format_info(snap))
    if check.stale:
        echo("\n" + "\n".join("  " + t("cli.info.stale", msg=render(m)) for m in check.stale))
    echo("\n  " + t("cli.regions_in_store", regions=", ".join(list_snapshots(args.data_dir))))
    return 0


def _check_lines(snap: Snapshot, check: InputCheck) -> int:
    """``info --check``: one line per stale input (exit 1), else an up-to-date line (exit 0)."""
    for msg in check.stale:
        echo(render(msg))
    if check.up_to_date:
        echo(t("cli.check.fresh", region=snap.region_key, built=snap.built_at[:10], n=check.checked))
    for msg in check.unchecked:
        echo(render(msg))
    return 0 if check.up_to_date else 1
