"""``livability export``: layers and scores for planners (GeoPackage, GeoParquet, GeoJSON, CSV, PostGIS)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from layers import get_layer

from .cli_common import echo
from .settings import DEFAULT_REGION, EXPORT_FORMATS

if TYPE_CHECKING:
    from .scoring import Scores
    from .store import Snapshot

__all__ = ["parse_weights", "register"]


def parse_weights(text: str) -> dict[str, float]:
    """Parse ``schools=2,transit=1`` into ``{"schools": 2.0, "transit": 1.0}``."""
    out: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, val = part.partition("=")
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(val)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"--weights takes THEME=NUMBER pairs like schools=2,transit=1; got {part!r}"
            ) from None
    return out


def register(sub: Any) -> None:  # Any: argparse has no public type for its sub-parsers object
    """Add the ``export`` sub-command to the CLI's sub-parsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "export", help="export layers and scores (gpkg, parquet, geojson, csv, postgis)",
        description="Export a region's layers (and scores) with their provenance and attribution. "
                    "Files are written atomically and never overwritten without --force; --force "
                    "replaces only a regular file or a folder this tool wrote (never a link, a "
                    "device or another folder). PostGIS exports run in one transaction.")
    p.add_argument("--region", default=DEFAULT_REGION,
                   help="region name, code or key, as given to build (default: blekinge)")
    p.add_argument("--format", required=True, choices=list(EXPORT_FORMATS), dest="fmt",
                   help="gpkg: one file; parquet/geojson/csv: a folder, or one file when --out "
                        "ends in .parquet/.geojson/.csv (one table); postgis: a database")
    p.add_argument("--out", required=True, metavar="PATH_OR_DSN",
                   help="output file/folder, or postgresql://USER:PASSWORD@HOST:PORT/DB "
                        "(or 'host=... dbname=...')")
    p.add_argument("--crs", type=int, choices=[3006, 4326], default=None,
                   help="3006 SWEREF 99 TM (default) or 4326 WGS 84 (GeoJSON: 4326 only)")
    p.add_argument("--layers", default=None, metavar="KEY,...",
                   help="comma-separated layer keys (default: every layer in the store)")
    p.add_argument("--scores", action="store_true",
                   help="add locality, municipality and H3 cell scores")
    p.add_argument("--persona", default=None, help="persona for --scores (family, student ...)")
    p.add_argument("--weights", type=parse_weights, default=None, metavar="THEME=W,...",
                   help="theme weights for --scores, e.g. schools=2,transit=1")
    p.add_argument("--force", action="store_true",
                   help="replace an earlier export: a regular file, or a folder this tool wrote")
    p.add_argument("--mode", choices=["replace", "append"], default="replace",
                   help="PostGIS: replace the exported tables (default) or append rows")
    p.add_argument("--schema", default="livability", help="PostGIS schema (default: livability)")
    p.set_defaults(func=_export)


def _open(region: str, data: str | None) -> Snapshot:
    """Open the snapshot of ``region`` (a name, code or key, mapped to a key as build does)."""
    from .store import open_region  # lazy: geopandas, pyarrow (~0.6 s), not for --help

    return open_region(region, data)


def _scores(snapshot: Snapshot, persona: str | None,
            weights: dict[str, float] | None) -> Scores:
    from . import scoring  # lazy: geopandas, h3, scipy (~0.6 s), not for --help

    return scoring.score(scoring.build_model(snapshot), weights, persona=persona)


def _export(args: argparse.Namespace) -> int:
    from .export import ExportError, export  # lazy: geopandas (~0.5 s), not for --help

    if (args.persona or args.weights) and not args.scores:
        raise ExportError("--persona/--weights only apply with --scores; add --scores")
    layers = None
    if args.layers:
        layers = [k.strip() for k in args.layers.split(",") if k.strip()]
        for k in layers:
            get_layer(k)  # unknown names fail before any work, listing the known layers
    snap = _open(args.region, args.data_dir)
    scores = _scores(snap, args.persona, args.weights) if args.scores else None
    report = export(snap, args.fmt, args.out, crs=args.crs, layers=layers, scores=scores,
                    force=args.force, mode=args.mode, schema=args.schema)
    echo("\n".join(report.lines()))
    return 0
