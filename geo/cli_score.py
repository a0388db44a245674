"""``livability score``: a ranked table of localities, one place's breakdown, a CSV export.

Examples
--------
``livability score --region blekinge --persona family --weights schools=3,transit=1``
``livability score --region blekinge --explain Bräkne-Hoby --lang sv``
``livability score --region blekinge --context Karlskrona`` (any municipality of the tables)
``livability score --region sverige --top 20 --type town`` (the 20 best-scored towns of Sweden)
``livability score --region sverige --workers 2`` (partition by partition on a local Dask cluster)
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from layers import LAYERS, PERSONAS
from layers.vocab import DECAYS

from .catalog import fmt_number, t
from .cli_common import echo
from .cli_distributed import add_arguments, distributed_model, wants_partitions
from .errors import LimitError, LivabilityError
from .messages import Message, render
from .settings import MAX_NAME_CHARS, MAX_SENSITIVITY_DRAWS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["check_text", "parse_weights", "register", "run", "select_rows", "table_text"]

#: the ranked table's columns (catalogue keys ``cli.score.col.<name>``)
_COLUMNS = ("rank", "locality", "municipality", "score", "complete", "band", "missing")


def check_text(option: str, text: str | None) -> None:
    """Refuse a name or query longer than :data:`~geo.settings.MAX_NAME_CHARS` (README "Limits").

    Raises
    ------
    LimitError
        Naming the option, the length and the limit.
    """
    if text is not None and len(text) > MAX_NAME_CHARS:
        raise LimitError(f"{option} is {len(text):,} characters long, more than the limit of "
                         f"{MAX_NAME_CHARS}; give a name or code of at most {MAX_NAME_CHARS}")


def parse_weights(text: str | None) -> dict[str, float]:
    """``"schools=3,transit=1"`` -> ``{"schools": 3.0, "transit": 1.0}``.

    Raises
    ------
    LivabilityError
        For an item that is not ``theme=number``.
    """
    out: dict[str, float] = {}
    if not text:
        return out
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, val = item.partition("=")
        check_text("a --weights theme", key.strip())
        try:
            if not sep:
                raise ValueError
            out[key.strip()] = float(val)
        except ValueError:
            raise LivabilityError(
                f"--weights item {item!r} is not theme=number; write e.g. schools=3,transit=1"
            ) from None
    return out


def table_text(frame: pd.DataFrame, missing_everywhere: Mapping[str, Message | None], *, approximate: bool,
               lang: str = "en") -> str:
    """The ranked table as text: rank, name, municipality, score, the share of the score resting on
    complete data, rank band, missing indicators."""
    head = tuple(t(f"cli.score.col.{c}", lang) for c in _COLUMNS)
    rows = []
    for r in frame.sort_values(["rank", "name"], na_position="last").itertuples(index=False):
        rank = "-" if math.isnan(r.rank) else str(int(r.rank))
        scr = fmt_number(r.composite, lang, 1, grouping=False)  # "-" for NaN
        share = float(getattr(r, "complete_share", math.nan))
        done = "-" if math.isnan(share) else t("cli.score.percent", lang,
                                               n=fmt_number(100 * share, lang))
        band = ""
        if hasattr(r, "rank_low") and not math.isnan(float(r.rank_low)):
            band = f"{int(r.rank_low)}-{int(r.rank_high)}"
        extra = [k for k in str(r.missing).split(", ") if k and k not in missing_everywhere]
        rows.append((rank, str(r.name), str(r.municipality_name or r.municipality), scr, done,
                     band, ", ".join(extra)))
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{'>' if i in (0, 3, 4) else '<'}{w}}}" for i, w in enumerate(widths))
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*row).rstrip() for row in rows]
    if missing_everywhere:
        lines.append("")
        lines.append(t("cli.score.missing_everywhere", lang))
        lines += [f"  {k}: {render(why, lang)}" for k, why in missing_everywhere.items()]
    lines.append("")
    lines.append(t("cli.score.complete_note", lang))
    if approximate:
        lines.append("")
        lines.append(t("cli.score.approximate", lang))
    return "\n".join(lines)


def select_rows(frame: pd.DataFrame, place_type: str | None, top: int | None,
                lang: str = "en") -> tuple[pd.DataFrame, str]:
    """The rows of ``place_type`` (None: all), the ``top`` best ranked of them (None: all), and
    what was selected in words ("towns, top 20"; "" when nothing was).

    The rank stays each place's rank among all localities of the region.
    """
    from .messages import place_type_name  # lazy: only --type and --top need it

    what = []
    if place_type is not None:
        frame = frame[frame["place_type"] == place_type]
        what.append(place_type_name(place_type, lang, "many"))
    if top is not None:
        frame = frame.sort_values(["rank", "name"], na_position="last").head(top)
        what.append(t("cli.score.shown_top", lang, n=top))
    return frame, ", ".join(what)


def run(args: argparse.Namespace) -> int:
    """Run ``livability score``."""
    # lazy: each pulls geopandas/pandas/h3/scipy (~1 s together), which --help never needs
    from .compare import parse_place_type
    from .grid import check_resolution
    from .scoring import build_model, explain, municipal_context, resolve_weights, score
    from .sensitivity import attach_bands, rank_bands
    from .store import open_region

    check_text("--region", args.region)
    check_text("--explain", args.explain)
    check_text("--context", args.context)
    check_resolution(args.resolution)
    if not 0 <= args.sensitivity <= MAX_SENSITIVITY_DRAWS:
        raise LimitError(f"--sensitivity {args.sensitivity} is outside 0-{MAX_SENSITIVITY_DRAWS:,}; "
                         "give the number of draws for the rank band (default 200, 0: no band)")
    if args.context:
        snap = open_region(args.region, args.data_dir)
        rows = municipal_context(snap, args.context)
        name = rows[0].municipality_name if rows else args.context
        echo(render(Message("context_header", {"municipality": name}), args.lang))
        echo("\n".join("  " + r.text(args.lang) for r in rows))
        return 0
    if args.top is not None and args.top < 1:
        raise LimitError(f"--top {args.top} is not a positive number of rows; give e.g. --top 20")
    ptype = parse_place_type(args.type) if args.type else None
    weights = parse_weights(args.weights)
    resolve_weights(list(LAYERS), weights, args.persona)  # before the slow model build
    snap = open_region(args.region, args.data_dir)  # Skåne, skane, 12: the key build used
    if wants_partitions(args):
        model = distributed_model(args, snap)
    else:
        model = build_model(snap, resolution=args.resolution, decay=args.decay)
    scores = score(model, weights, persona=args.persona, penalty=args.penalty)
    if args.explain:
        echo(explain(model, scores, args.explain).to_text(args.lang))
        return 0
    frame = scores.localities
    if args.sensitivity > 0:
        bands = rank_bands(model, weights, persona=args.persona, penalty=args.penalty,
                           n=args.sensitivity)
        frame = attach_bands(frame, bands)
    frame, shown = select_rows(frame, ptype, args.top, args.lang)
    if shown:
        echo(t("cli.score.shown", args.lang, n=len(frame), total=len(scores.localities),
               what=shown), err=True)
    if args.out:
        try:
            frame.sort_values("rank").to_csv(args.out, index=False)
        except OSError as exc:
            raise LivabilityError(f"cannot write {args.out}: {exc.strerror}; "
                                  "choose a writable path with --out") from None
        echo(t("cli.score.wrote", args.lang, n=len(frame), path=args.out), err=True)
    echo(table_text(frame, scores.missing, approximate=scores.approximate, lang=args.lang))
    return 0


def register(sub: Any) -> None:  # Any: argparse has no public type for its sub-parsers object
    """Add the ``score`` sub-command to the CLI's sub-parsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "score", help="rank localities by livability; --explain NAME breaks one down",
        description="Score every locality of a built region and print a ranked table with rank "
                    "bands and the indicators that could not be computed.")
    p.add_argument("--region", default="blekinge",
                   help="region name, code or key of a built snapshot (default: blekinge)")
    p.add_argument("--persona", default=None, choices=sorted(PERSONAS),
                   help="weight preset (default: every theme weighs its default)")
    p.add_argument("--weights", default=None, metavar="THEME=W,...",
                   help="theme weights on top of the persona, e.g. schools=3,transit=1")
    p.add_argument("--penalty", action="store_true",
                   help="Mazziotta-Pareto penalty: lower scores for unbalanced places")
    p.add_argument("--decay", default=None, choices=sorted(DECAYS),
                   help="one decay for every distance indicator (default: each indicator's own)")
    p.add_argument("--resolution", type=int, default=9,
                   help="H3 resolution of the grid, 7-10 (default 9)")
    p.add_argument("--out", default=None, metavar="FILE.csv", help="also write the table as CSV")
    p.add_argument("--explain", default=None, metavar="NAME",
                   help="print the breakdown of one locality (name or code)")
    p.add_argument("--context", default=None, metavar="MUNICIPALITY",
                   help="print a municipality's statistics beside the national median "
                        "(name or 4-digit code, any municipality in the tables)")
    p.add_argument("--top", type=int, default=None, metavar="N",
                   help="print only the N best-ranked localities (after --type)")
    p.add_argument("--type", default=None, metavar="TYPE",
                   help="only localities of this place type: town, small_town, village, "
                        "archipelago (their English or Swedish names work too)")
    p.add_argument("--lang", default="en", choices=("en", "sv"), help="output language")
    p.add_argument("--sensitivity", type=int, default=200, metavar="N",
                   help="weight/decay draws for the rank band, 0-10000 (0: no band)")
    add_arguments(p)
    p.set_defaults(func=run)
