"""Municipal context: a municipality's statistics beside the national median.

Every municipal statistic of the registry (the ``stat`` indicators of :mod:`layers` and the context
lines of :mod:`layers.context`) becomes one :class:`ContextRow` per municipality: the value, its
unit and year, the national median (the median over all municipalities of a national table), the
score it gets as an indicator (NaN for context lines), and the table's source and licence, including
"unclear: ..." licence statements. A table that holds only the county's municipalities has no
national median; its row says "compared within <county> only: no national table in the pack". A
municipality the table has no value for gets NaN and "no value for <municipality> in <table>".
A statistic whose table is not in the snapshot has no row (its indicator is listed as missing).

:func:`context_rows` computes the rows from a snapshot; :func:`geo.scoring.build_model` keeps them
on the model (``ScoreModel.context``) and :func:`geo.scoring.municipal_context` returns one
municipality's rows for an app's profile.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from layers import all_indicators
from layers.context import CONTEXT_STATS, SKR_GROUPS_EN, ContextStat

from .access import StatReference, stat_values
from .catalog import indicator_title, stat_title
from .messages import Message, fmt_value, render
from .store import Snapshot

__all__ = ["ContextRow", "context_rows", "municipality_names"]

log = logging.getLogger(__name__)


@dataclass
class ContextRow:
    """One municipal statistic of one municipality, against the country.

    Attributes
    ----------
    key
        Indicator key (``housing.tax_rate``) or context key (``context.crime``); its title is
        :meth:`title` (:func:`geo.catalog.indicator_title` / :func:`geo.catalog.stat_title`).
    theme
        The indicator's theme, or the context line's group (``safety``, ``population``).
    municipality, municipality_name
        The municipality's code and name.
    value, unit, year
        The statistic in the table's unit (a :func:`geo.messages.fmt_value` code) and its year
        (``"2015-2025"`` for a change); NaN when the table has no value for the municipality.
    national_median
        Median over all municipalities of a national table; NaN for a county-only table.
    reference, n_compared, reference_median
        ``national``, ``county`` (only the county's municipalities) or ``table`` (some other set),
        how many municipalities the value is compared with and their median.
    score, scored, higher_is_better
        The indicator score 0-100 (NaN for context lines), whether it enters the composite, the
        direction (None: neither is better).
    table, column, source, license
        Where the value comes from; ``license`` as the pack states it (``"unclear: ..."``).
    note
        Why the value is missing or why there is no national median (None otherwise); for a
        category, how many municipalities share it.
    label, label_sv
        For a category (``unit == "category"``, value NaN): its name (``"Small town (C6)"``).
    """

    key: str
    theme: str
    municipality: str
    municipality_name: str
    value: float
    unit: str
    year: str
    national_median: float
    reference: str
    n_compared: int
    reference_median: float
    score: float
    scored: bool
    higher_is_better: bool | None
    table: str
    column: str
    source: str
    license: str
    note: Message | None = None
    label: str = ""
    label_sv: str = ""

    @property
    def license_unclear(self) -> bool:
        """True when the pack calls the table's licence unclear."""
        return self.license.strip().lower().startswith("unclear")

    def title(self, lang: str = "en") -> str:
        """The statistic's title in ``lang`` (from :mod:`geo.catalog`)."""
        return (indicator_title if self.scored else stat_title)(self.key, lang)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (with ``license_unclear``; ``note`` as a message dict or None)."""
        return asdict(self) | {"note": self.note.to_dict() if self.note else None,
                               "license_unclear": self.license_unclear}

    def text(self, lang: str = "en") -> str:
        """``"Tax rate ...: 33.69% (national median 33.60%); 2025; Kolada ..., licence unclear"``."""
        shown = ((self.label_sv if lang == "sv" else self.label) or "-") \
            if self.unit == "category" else fmt_value(self.value, self.unit, lang)
        head = f"{self.title(lang)}: {shown}"
        return head + self.comparison(lang) + self.provenance(lang)

    def comparison(self, lang: str = "en") -> str:
        """`` (national median ...)``, or the note (county only, no value) in brackets."""
        if self.value == self.value and self.national_median == self.national_median:
            return " (" + render(Message("national_median", {
                "median": fmt_value(self.national_median, self.unit, lang)}), lang) + ")"
        return f" ({render(self.note, lang)})" if self.note else ""

    def provenance(self, lang: str = "en") -> str:
        """``; 2025; <source>[, licence unclear]``."""
        out = f"; {self.year}" if self.year else ""
        out += f"; {self.source}" if self.source else ""
        if self.license_unclear:
            out += ", " + render(Message("licence_unclear"), lang)
        return out


def _provenance(snapshot: Snapshot, table: str) -> tuple[str, str, str]:
    """(source, license, date) of a stored table, from the snapshot's manifest."""
    entry = snapshot.manifest["tables"].get(table)
    sources = entry["sources"] if entry is not None else []
    if not sources:
        return "", "", ""
    src = sources[0]
    return str(src.get("source", "")), str(src.get("license", "")), str(src.get("date", ""))


@dataclass(frozen=True)
class _Spec:
    """What a row needs of an indicator (``scored``) or a context line."""

    key: str
    theme: str
    unit: str
    higher_is_better: bool | None
    table: str
    column: str
    scored: bool


def _year(v: float, default: str) -> str:
    return str(int(v)) if v == v else default


@dataclass
class _Series:
    """One statistic over all municipalities of its table(s)."""

    values: pd.Series
    years: pd.Series
    ref: StatReference
    source: str
    license: str
    date: str
    missing: Message | None = None
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)


def _indicator_series(snapshot: Snapshot, table: str, column: str, *, log_scale: bool = False,
                      year: int | None = None, zero_is_missing: bool = True) -> _Series:
    src, lic, date = _provenance(snapshot, table)
    df = snapshot.table(table)
    if df is None:
        empty = pd.Series(dtype=float)
        return _Series(empty, empty, StatReference.of(empty), src, lic, date,
                       Message("stat_table_missing", {"table": table}))
    frame, _ = stat_values(df, column, year=year, zero_is_missing=zero_is_missing)
    return _Series(frame["value"], frame["year"], StatReference.of(frame["value"], log_scale),
                   src, lic, date)


def _change_series(snapshot: Snapshot, c: ContextStat) -> _Series:
    """Percent change from ``base`` to the value, over the municipalities in both tables."""
    end = _indicator_series(snapshot, c.table, c.column, year=c.year)
    base = _indicator_series(snapshot, str(c.base_table), str(c.base_column), year=c.base_year)
    change = (100.0 * (end.values / base.values - 1.0)).dropna()
    years = pd.Series(np.nan, index=change.index)
    srcs = list(dict.fromkeys(s for s in (base.source, end.source) if s))
    lics = list(dict.fromkeys(s for s in (base.license, end.license) if s))
    return _Series(change, years, StatReference.of(change), "; ".join(srcs), "; ".join(lics),
                   f"{c.base_year}-{c.year}", end.missing or base.missing)


def _ratio_series(snapshot: Snapshot, c: ContextStat) -> _Series:
    """``per * column / per_column`` of the same rows, latest year."""
    df = snapshot.table(c.table)
    if df is None or c.per_column not in df.columns or c.column not in df.columns:
        return _indicator_series(snapshot, c.table, c.column)  # says what is missing
    df = df.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = c.per * pd.to_numeric(df[c.column], errors="coerce") / pd.to_numeric(
            df[str(c.per_column)], errors="coerce")
    df["_ratio"] = ratio.where(np.isfinite(ratio))
    src, lic, date = _provenance(snapshot, c.table)
    frame, _ = stat_values(df, "_ratio", year=c.year, zero_is_missing=c.zero_is_missing)
    return _Series(frame["value"], frame["year"], StatReference.of(frame["value"]), src, lic,
                   date)


def _category_series(snapshot: Snapshot, c: ContextStat) -> _Series:
    """A category per municipality: NaN values, labels, and each category's size in ``years``."""
    src, lic, date = _provenance(snapshot, c.table)
    df = snapshot.table(c.table)
    empty = pd.Series(dtype=float)
    if df is None or "municipality" not in df.columns or c.column not in df.columns:
        return _Series(empty, empty, StatReference.of(empty), src, lic, date,
                       Message("stat_table_missing", {"table": c.table}))
    codes = df[c.column].astype(str).str.strip()
    names = df[c.label_column].astype(str) if c.label_column in df.columns else codes
    keys = df["municipality"].astype(str)
    sizes = codes.map(codes.value_counts())
    labels = {m: (f"{SKR_GROUPS_EN.get(k, n)} ({k})", f"{n} ({k})")
              for m, k, n in zip(keys, codes, names)}
    n = pd.Series(sizes.to_numpy(dtype=float), index=keys)
    ref = StatReference(len(df), float("nan"), float("nan"), float("nan"), float("nan"),
                        float("nan"))
    return _Series(pd.Series(np.nan, index=keys), n, ref, src, lic, date, labels=labels)


def municipality_names(snapshot: Snapshot) -> dict[str, str]:
    """Code -> name of every municipality the snapshot knows: its region's, then those of its
    statistics tables (``municipality`` and ``kommun`` columns), so any of Sweden's 290."""
    names: dict[str, str] = {}
    for t in CONTEXT_STATS[:2]:
        df = snapshot.table(t.table)
        if df is not None and {"municipality", "kommun"} <= set(df.columns):
            names |= dict(zip(df["municipality"].astype(str), df["kommun"].astype(str)))
    region = snapshot.manifest["region"]
    return names | {str(k): str(v) for k, v in (region.get("municipalities") or {}).items()}


def _reference(ref: StatReference, values: pd.Series, region: str,
               region_codes: set[str]) -> tuple[str, Message | None]:
    if ref.national:
        return "national", None
    if region_codes and set(values.index) <= region_codes:
        return "county", Message("stat_county_only", {"region": region})
    return "table", Message("stat_table_only", {"n": ref.n})


def context_rows(snapshot: Snapshot, codes: Iterable[str], *,
                 names: Mapping[str, str] | None = None) -> dict[str, list[ContextRow]]:
    """The context rows of each municipality in ``codes``: scored statistics, then context lines.

    Parameters
    ----------
    snapshot
        A :class:`geo.store.Snapshot` (its tables and their provenance).
    codes
        4-digit municipality codes.
    names
        Code -> name (defaults to the snapshot's region municipalities).
    """
    codes = [str(c) for c in codes]
    region = snapshot.manifest["region"]
    region_codes = {str(k) for k in (region.get("municipalities") or {})}
    names = dict(region.get("municipalities") or {}) | dict(names or {})
    region_name = snapshot.region_name
    out: dict[str, list[ContextRow]] = {c: [] for c in codes}
    specs: list[tuple[_Spec, _Series]] = []
    for ind in all_indicators():
        if ind.measure == "stat" and ind.table and ind.column:
            specs.append((_Spec(ind.key, ind.layer, ind.unit, ind.higher_is_better, ind.table,
                                ind.column, True),
                          _indicator_series(snapshot, ind.table, ind.column,
                                            log_scale=ind.log_scale)))
    for c in CONTEXT_STATS:
        if c.is_change:
            series = _change_series(snapshot, c)
        elif c.unit == "category":
            series = _category_series(snapshot, c)
        elif c.per_column:
            series = _ratio_series(snapshot, c)
        else:
            series = _indicator_series(snapshot, c.table, c.column, year=c.year,
                                       zero_is_missing=c.zero_is_missing)
        specs.append((_Spec(c.key, c.group, c.unit, c.higher_is_better, c.table, c.column, False),
                      series))
    for spec, s in specs:
        if s.missing is not None and s.missing.code == "stat_table_missing":
            continue  # not in this snapshot: the indicator says so, a context line is left out
        reference, ref_note = _reference(s.ref, s.values, region_name, region_codes)
        national = s.ref.median if reference == "national" else float("nan")
        scored, hib = spec.scored, spec.higher_is_better
        for code in codes:
            name = names.get(code, code)
            value = float(s.values.get(code, np.nan))
            note = ref_note
            label = s.labels.get(code, ("", ""))
            year = _year(float(s.years.get(code, np.nan)), s.date)
            if spec.unit == "category":
                note = Message("context_group", {"n": int(s.years.get(code, 0)),
                                                 "total": s.ref.n}) if label[0] else \
                    Message("stat_no_value_for", {"municipalities": [name], "table": spec.table})
                reference, year = "national", s.date
            elif value != value:
                note = s.missing or Message("stat_no_value_for", {"municipalities": [name],
                                                                  "table": spec.table})
            score = float(s.ref.score(np.array([value]), bool(hib))[0]) if scored \
                else float("nan")
            out[code].append(ContextRow(
                key=spec.key, theme=spec.theme,
                municipality=code, municipality_name=name, value=value, unit=spec.unit,
                year=year, national_median=national,
                reference=reference, n_compared=s.ref.n, reference_median=s.ref.median,
                score=score, scored=scored, higher_is_better=hib, table=spec.table,
                column=spec.column, source=s.source, license=s.license,
                note=note, label=label[0],
                label_sv=label[1]))
    log.info("municipal context: %d statistics for %d municipalities", len(specs), len(codes))
    return out
