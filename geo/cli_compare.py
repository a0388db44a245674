"""``livability compare``: two to four places side by side, scored with one model.

Examples
--------
``livability compare Malmö Ronneby`` (the national snapshot ``sverige`` when it is built)
``livability compare "Ekeby (Bjuv)" 1081TC109 --lang sv``
``livability compare Karlskrona Ronneby --region blekinge``
"""

from __future__ import annotations

import argparse
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from layers import PERSONAS

from .catalog import fmt_number, indicator_title, layer_title, t
from .cli_common import echo
from .cli_score import check_text, parse_weights
from .errors import LimitError
from .messages import band_name, place_type_name, render
from .settings import DEFAULT_REGION

if TYPE_CHECKING:
    from .compare import ComparedPlace
    from .scoring import ScoreModel

__all__ = ["compare_text", "default_region", "register", "run"]

#: widest a place's column grows before its text wraps
_COL_MAX = 34
_LABEL_MAX = 34
MAX_PLACES = 4


def default_region(data: str | None) -> str:
    """``sverige`` when its snapshot is built in ``data``, else the default region (blekinge)."""
    # lazy: regions and the store pull geopandas
    from .regions import COUNTRY_KEY
    from .store import list_snapshots

    try:
        built = list_snapshots(data)
    except OSError:
        built = []
    return COUNTRY_KEY if COUNTRY_KEY in built else DEFAULT_REGION


def _rows(places: Sequence[ComparedPlace], model: ScoreModel,
          lang: str) -> list[tuple[str, list[str]] | str]:
    """Table rows (label, one cell per place) and section headings (a plain string)."""
    from .compare import context_text, indicator_text  # lazy: pulls the scoring engine

    rows: list[tuple[str, list[str]] | str] = []

    def add(key: str, cells: list[str]) -> None:
        rows.append((t(f"cli.compare.row.{key}", lang), cells))

    add("kind", [t(f"cli.compare.kind.{p.ref.kind}", lang) for p in places])
    add("municipality", [p.ref.municipality_name or p.ref.municipality for p in places])
    add("population", [fmt_number(p.population, lang, 0) if math.isfinite(p.population) else "–"
                       for p in places])
    add("score", [fmt_number(p.composite, lang, 1, grouping=False) for p in places])
    add("band", [band_name(p.band, lang) or "–" for p in places])
    add("type", [place_type_name(p.place_type, lang) for p in places])
    add("percentile", [render(m, lang) if (m := p.percentile_message(model)) else "–"
                       for p in places])
    add("rank", [t("cli.compare.rank_of", lang, rank=int(p.rank), n=p.n_ranked)
                 if math.isfinite(p.rank) else "–" for p in places])
    rows.append(t("cli.compare.themes", lang))
    for th in model.themes:
        vals = [p.themes.get(th, math.nan) for p in places]
        rows.append((layer_title(th, lang), [fmt_number(v, lang, 1, grouping=False) for v in vals]))
    keys = [ind.key for ind in model.indicators if ind.measure != "stat"]
    have = [k for k in keys if any(not r.missing for p in places for r in p.indicators
                                   if r.key == k)]
    if have:
        rows.append(t("cli.compare.indicators", lang))
        for k in have:
            cells = []
            for p in places:
                row = next((r for r in p.indicators if r.key == k), None)
                cells.append(indicator_text(row, lang) if row is not None else "–")
            rows.append((indicator_title(k, lang), cells))
    ctx_keys = list(dict.fromkeys(r.key for p in places for r in p.context))
    if ctx_keys:
        rows.append(t("cli.compare.context", lang))
        for k in ctx_keys:
            cells, title = [], k
            for p in places:
                c = next((r for r in p.context if r.key == k), None)
                if c is None:
                    cells.append("–")
                    continue
                title = c.title(lang)
                cells.append(context_text(c, lang))
            rows.append((title, cells))
    return rows


def compare_text(places: Sequence[ComparedPlace], model: ScoreModel, *, built: str = "",
                 lang: str = "en") -> str:
    """The side-by-side table as text (places as columns; long cells wrap)."""
    rows = _rows(places, model, lang)
    heads = [p.ref.label for p in places]
    width = [min(_COL_MAX, max([len(h)] + [len(r[1][i]) for r in rows if not isinstance(r, str)]))
             for i, h in enumerate(heads)]
    lw = min(_LABEL_MAX, max(len(r[0]) + 2 for r in rows if not isinstance(r, str)))

    def line(label: str, cells: Sequence[str]) -> list[str]:
        wrapped = [textwrap.wrap(c, w) or [""] for c, w in zip(cells, width, strict=True)]
        lab = textwrap.wrap(label, lw, subsequent_indent="    ") or [""]
        n = max(len(lab), *(len(c) for c in wrapped))
        out = []
        for k in range(n):
            left = lab[k] if k < len(lab) else ""
            parts = [(c[k] if k < len(c) else "").ljust(w) for c, w in zip(wrapped, width,
                                                                          strict=True)]
            out.append((left.ljust(lw) + "  " + "  ".join(parts)).rstrip())
        return out

    from .regions import COUNTRY_KEY  # lazy: pulls geopandas

    places_txt = ", ".join(heads)
    out = [t("cli.compare.head", lang, places=places_txt, region=model.region_name, built=built)]
    if model.region == COUNTRY_KEY:
        out.append(t("cli.compare.national", lang))
    out.append("")
    out += line("", heads)
    out.append(" " * lw + "  " + "  ".join("-" * w for w in width))
    for r in rows:
        if isinstance(r, str):
            out += ["", r]
        else:
            out += line("  " + r[0], r[1])
    if any(p.ref.kind == "municipality" for p in places):
        out += ["", t("cli.compare.no_indicators", lang)]
    out += ["", t("cli.compare.licence_note", lang, region=model.region)]
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    """Run ``livability compare``."""
    # lazy: each pulls geopandas/pandas/h3/scipy, which --help never needs
    from .compare import compare_places
    from .regions import COUNTRY_KEY
    from .scoring import build_model, resolve_weights, score
    from .store import open_region

    for p in args.places:
        check_text("a place name", p)
    check_text("--region", args.region)
    if not 2 <= len(args.places) <= MAX_PLACES:
        raise LimitError(f"compare takes 2 to {MAX_PLACES} places, got {len(args.places)}; "
                         "e.g. livability compare Malmö Ronneby")
    region = args.region or default_region(args.data_dir)
    weights = parse_weights(args.weights)
    snap = open_region(region, args.data_dir)
    if args.region is None and snap.region_key != COUNTRY_KEY:
        echo(t("cli.compare.no_sverige", args.lang, region=snap.region_name), err=True)
    model = build_model(snap)
    resolve_weights(model.themes, weights, args.persona)
    scores = score(model, weights, persona=args.persona, penalty=args.penalty)
    places = compare_places(model, scores, args.places)
    echo(compare_text(places, model, built=snap.built_at[:10], lang=args.lang))
    return 0


def register(sub: Any) -> None:  # Any: argparse has no public type for its sub-parsers object
    """Add the ``compare`` sub-command to the CLI's sub-parsers."""
    p: argparse.ArgumentParser = sub.add_parser(
        "compare", help="compare 2-4 places side by side (e.g. Malmö Ronneby)",
        description="Compare localities (tätorter) or municipalities side by side: score, band, "
                    "themes, key indicators with distances, municipal context, and percentiles "
                    "against all places of the same type. Both are scored with one model: the "
                    "national snapshot 'sverige' when it is built.")
    p.add_argument("places", nargs="+", metavar="PLACE",
                   help="a tätort or municipality name or code; 'Name (Municipality)' for a name "
                        "several tätorter share; 'Name kommun' for the municipality")
    p.add_argument("--region", default=None,
                   help="snapshot to score with (default: sverige when built, else blekinge)")
    p.add_argument("--persona", default=None, choices=sorted(PERSONAS), help="weight preset")
    p.add_argument("--weights", default=None, metavar="THEME=W,...",
                   help="theme weights on top of the persona, e.g. schools=3,transit=1")
    p.add_argument("--penalty", action="store_true",
                   help="Mazziotta-Pareto penalty: lower scores for unbalanced places")
    p.add_argument("--lang", default="en", choices=("en", "sv"), help="output language")
    p.set_defaults(func=run)
