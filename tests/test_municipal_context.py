"""Municipal context: statistics against all municipalities of their table, national medians, the
cap on their share of the composite, and missing municipalities left missing.

Real-pack tests (``blekinge_snapshot`` / ``pack_dir``, skipped without the pack) read every expected
figure from the pack's CSVs with pandas. Synthetic tables (invented municipalities ``9xxx``) are
built in this file.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geo.access import STAT_Z_POINTS, DistanceEngine, compute_indicator
from geo.cli import main
from geo.messages import fmt_value
from geo.scoring import STAT_CAP, build_model, explain, municipal_context, score
from geo.sensitivity import rank_bands
from layers import PERSONAS, Indicator
from layers.context import CONTEXT_STATS

KARLSKRONA, OLOFSTROM = "1080", "1060"


# -- expected figures from the pack's CSVs ------------------------------------------------------
def _csv(pack_dir: Path, table: str) -> pd.DataFrame:
    return pd.read_csv(pack_dir / "stats" / f"{table}.csv", dtype={"kommun_kod": str})


def _latest(df: pd.DataFrame, column: str, year: int | None = None,
            zero_is_missing: bool = True) -> pd.Series:
    """Each municipality's value of its latest year (or of ``year``), by kommun_kod."""
    d = df[df[column].notna()]
    if zero_is_missing:
        d = d[d[column] != 0]
    if year is not None:
        d = d[d["year"] == year]
    d = d[d["year"] == d.groupby("kommun_kod")["year"].transform("max")]
    return d.set_index("kommun_kod")[column].astype(float)


def _change(pack_dir: Path, end: tuple[str, str, int], base: tuple[str, str, int]) -> pd.Series:
    e = _latest(_csv(pack_dir, end[0]), end[1], end[2])
    b = _latest(_csv(pack_dir, base[0]), base[1], base[2])
    return (100 * (e / b - 1)).dropna()


def _dwellings(pack_dir: Path) -> pd.Series:
    df = _csv(pack_dir, "scb_population_completions_2011_2024")
    df["r"] = 1000 * df["completed_dwellings_new_buildings_count"] / df["population_persons_dec31"]
    return _latest(df, "r", zero_is_missing=False)


#: row key -> (the pack tables it reads, its values per municipality read with pandas)
EXPECTED: dict[str, tuple[tuple[str, ...], Any]] = {
    "housing.house_price": (("scb_smahus_price_2025",), lambda p: _latest(
        _csv(p, "scb_smahus_price_2025"), "smahus_mean_purchase_price_ksek")),
    "housing.tax_rate": (("kolada_tax_rate_2025",), lambda p: _latest(
        _csv(p, "kolada_tax_rate_2025"), "total_tax_rate_percent")),
    "schools.eligibility": (("kolada_grade9_eligible_vocational_percent",), lambda p: _latest(
        _csv(p, "kolada_grade9_eligible_vocational_percent"),
        "grade9_eligible_vocational_program_percent")),
    "workplaces.unemployment": (("kolada_N03937_open_unemployed_2011_2024",), lambda p: _latest(
        _csv(p, "kolada_N03937_open_unemployed_2011_2024"), "open_unemployed_pct_of_pop_18_65")),
    "workplaces.income": (("scb_household_disposable_income_median_2011_2024",),
                          lambda p: _latest(
                              _csv(p, "scb_household_disposable_income_median_2011_2024"),
                              "household_disposable_income_median_ksek")),
    "context.crime": (("kolada_reported_crime_per100k_2025",), lambda p: _latest(
        _csv(p, "kolada_reported_crime_per100k_2025"), "reported_crimes_per_100k_inhabitants")),
    "context.population": (("kolada_population_2025",), lambda p: _latest(
        _csv(p, "kolada_population_2025"), "population_persons")),
    "context.population_trend": (
        ("kolada_population_2025", "scb_population_1950_2020"),
        lambda p: _change(p, ("kolada_population_2025", "population_persons", 2025),
                          ("scb_population_1950_2020", "population_persons_dec31", 2015))),
    "context.population_forecast": (("kolada_population_forecast_change_2024",), lambda p: _latest(
        _csv(p, "kolada_population_forecast_change_2024"), "forecast_change_10y_percent",
        zero_is_missing=False)),
    "context.house_price_trend": (
        ("scb_smahus_price_kt_2011_2024",),
        lambda p: _change(p, ("scb_smahus_price_kt_2011_2024", "smahus_mean_purchase_price_sek",
                              2024),
                          ("scb_smahus_price_kt_2011_2024", "smahus_mean_purchase_price_sek",
                           2014))),
    "context.completed_dwellings": (("scb_population_completions_2011_2024",), _dwellings),
}


def _pack_tables(pack_dir: Path) -> dict[str, dict[str, Any]]:
    manifest = json.loads((pack_dir / "pack.json").read_text(encoding="utf-8"))
    return {Path(t["file"]).stem: t for t in manifest["tables"]}


def _national_tables(pack_dir: Path) -> list[str]:
    """Pack tables holding (nearly) every Swedish municipality, found by reading the CSVs."""
    out = []
    for name, entry in _pack_tables(pack_dir).items():
        df = pd.read_csv(pack_dir / entry["file"], dtype=str, on_bad_lines="skip")
        if "kommun_kod" in df.columns and df["kommun_kod"].nunique() >= 250:
            out.append(name)
    return out


@pytest.fixture(scope="module")
def model(blekinge_snapshot):  # type: ignore[no-untyped-def]
    return build_model(blekinge_snapshot)


def _rows(rows: list[Any]) -> dict[str, Any]:
    return {r.key: r for r in rows}


# -- every national table: an indicator or a context line with its national median ---------------
@pytest.mark.pack
def test_every_national_table_has_a_row_with_its_national_median(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(municipal_context(model, KARLSKRONA))
    tables = _national_tables(pack_dir)
    assert len(tables) >= 11
    covered = {t for key in EXPECTED for t in EXPECTED[key][0]}
    # the SKR groups are a category: the row names the group and its size instead of a median
    assert set(tables) - covered == {"skr_kommungrupper"}
    for key, (_, values) in EXPECTED.items():
        expected = values(pack_dir)
        r = rows[key]
        assert r.reference == "national" and r.n_compared == len(expected), key
        assert r.national_median == pytest.approx(float(expected.median())), key
        assert r.value == pytest.approx(float(expected[KARLSKRONA])), key
        assert r.scored == (not key.startswith("context.")), key
    skr = _csv(pack_dir, "skr_kommungrupper")
    code = skr.set_index("kommun_kod").loc[KARLSKRONA, "skr_kommungrupp_kod"]
    group = rows["context.skr_group"]
    assert group.label.endswith(f"({code})") and code in group.label_sv
    assert group.note is not None and group.note.to_dict() == {
        "code": "context_group", "total": len(skr),
        "n": int((skr["skr_kommungrupp_kod"] == code).sum())}
    assert {c.key for c in CONTEXT_STATS} <= set(rows)


@pytest.mark.pack
def test_karlskrona_context_tax_house_price_population_trend(model, blekinge_snapshot,
                                                             pack_dir) -> None:  # type: ignore[no-untyped-def]
    tax = _csv(pack_dir, "kolada_tax_rate_2025").set_index("kommun_kod")
    price = _csv(pack_dir, "scb_smahus_price_2025").set_index("kommun_kod")
    pop25 = _csv(pack_dir, "kolada_population_2025").set_index("kommun_kod")
    pop = _csv(pack_dir, "scb_population_1950_2020")
    pop15 = pop[pop["year"] == 2015].set_index("kommun_kod")
    trend = 100 * (pop25["population_persons"] / pop15["population_persons_dec31"] - 1)
    from_model = _rows(municipal_context(model, KARLSKRONA))
    from_snapshot = _rows(municipal_context(blekinge_snapshot, "karlskrona"))
    assert list(from_model) == list(from_snapshot)
    for key in from_model:  # the app can ask either and gets the same rows
        a, b = from_model[key].as_dict(), from_snapshot[key].as_dict()
        assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True), key
    t, h, p = (from_model[k] for k in ("housing.tax_rate", "housing.house_price",
                                       "context.population_trend"))
    assert t.value == pytest.approx(tax.loc[KARLSKRONA, "total_tax_rate_percent"])
    assert t.national_median == pytest.approx(tax["total_tax_rate_percent"].median())
    assert (t.unit, t.year) == ("percent", str(tax.loc[KARLSKRONA, "year"]))
    assert h.value == pytest.approx(price.loc[KARLSKRONA, "smahus_mean_purchase_price_ksek"])
    assert h.national_median == pytest.approx(price["smahus_mean_purchase_price_ksek"].median())
    assert h.unit == "ksek"
    assert p.value == pytest.approx(trend[KARLSKRONA])
    assert p.national_median == pytest.approx(trend.median())
    assert (p.unit, p.year) == ("pct_change", "2015-2025")
    entries = _pack_tables(pack_dir)
    for r in (t, h):
        assert r.source == entries[r.table]["source"] and r.license == entries[r.table]["license"]
        assert r.license.startswith("unclear:") and r.license_unclear
    e = explain(model, score(model, persona="family"), "Karlskrona")
    ctx = {r.key: r for r in e.context}
    assert ctx["housing.tax_rate"].national_median == t.national_median
    assert ctx["housing.tax_rate"].license_unclear is True
    row = e.row("housing.tax_rate")
    assert row.context is not None
    assert {k: getattr(row.context, k) for k in ("value", "national_median", "unit", "year",
                                                 "source", "license")} \
        == {k: getattr(t, k) for k in ("value", "national_median", "unit", "year", "source",
                                       "license")}
    text = e.to_text()
    tax_text = (f"{fmt_value(t.value, 'percent')} (national median "
                f"{fmt_value(t.national_median, 'percent')})")
    assert tax_text in text and f"{fmt_value(h.value, 'ksek')} (national median " in text
    assert "Municipal context, Karlskrona" in text
    assert f"Population change 2015-2025: {fmt_value(p.value, 'pct_change')} (national median " \
           f"{fmt_value(p.national_median, 'pct_change')})" in text
    sv = e.to_text("sv")
    assert f"(riksmedian {fmt_value(t.national_median, 'percent', 'sv')})" in sv
    assert "Kommunfakta, Karlskrona" in sv and "oklar licens" in sv


@pytest.mark.pack
def test_county_only_tables_compared_within_the_county(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    rows = _rows(municipal_context(model, KARLSKRONA))
    rent = _csv(pack_dir, "rent_median_sek_per_m2_year")
    assert rent["kommun"].nunique() == 5  # the county only
    for key in ("housing.rent", "schools.grade6_pass", "schools.certified_teachers"):
        r = rows[key]
        assert r.reference == "county" and r.n_compared == 5 and math.isnan(r.national_median)
        assert str(r.note) == "compared within Blekinge län only: no national table in the pack"
    text = explain(model, score(model), "Karlskrona").to_text()
    assert "(compared within Blekinge län only: no national table in the pack)" in text


# -- national standardisation -----------------------------------------------------------------
@pytest.mark.pack
def test_real_statistics_standardised_against_all_municipalities(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    cells = model.cells
    i = cells.index[cells["municipality"] == KARLSKRONA][0]  # a Karlskrona cell
    tax = _csv(pack_dir, "kolada_tax_rate_2025").set_index("kommun_kod")["total_tax_rate_percent"]
    z = (tax[KARLSKRONA] - tax.mean()) / tax.std(ddof=0)  # over all 290, not the county's five
    got = model.indicator_values("housing.tax_rate").at[i, "score"]
    assert got == pytest.approx(50 - STAT_Z_POINTS * z)
    five = tax[tax.index.str.startswith("10")]
    assert got != pytest.approx(50 - STAT_Z_POINTS * (tax[KARLSKRONA] - five.mean()) / five.std(ddof=0))
    price = np.log(_csv(pack_dir, "scb_smahus_price_2025").set_index("kommun_kod")[
        "smahus_mean_purchase_price_ksek"])
    zl = (price[KARLSKRONA] - price.mean()) / price.std(ddof=0)  # skewed: on a log scale
    assert model.indicator_values("housing.house_price").at[i, "score"] == \
        pytest.approx(50 - STAT_Z_POINTS * zl)


def _synthetic_national(n: int = 290) -> pd.DataFrame:
    """Invented municipalities 9000.. with values symmetric around 100 (mean exactly 100)."""
    half = np.linspace(1.0, 40.0, (n - 2) // 2)
    values = np.concatenate([100 - half, 100 + half, [100.0, 100.0]])
    return pd.DataFrame({"municipality": [f"{9000 + k}" for k in range(n)], "year": 2025,
                         "value": values})


def test_municipality_at_the_national_mean_scores_50() -> None:
    table = _synthetic_national()
    mean, sd = table["value"].mean(), table["value"].std(ddof=0)
    assert mean == pytest.approx(100.0)
    at_mean = table.loc[table["value"] == 100.0, "municipality"].iloc[0]
    # the region: three points in two municipalities; the reference is all 290 rows
    above = table.loc[(table["value"] - (mean + sd)).abs().idxmin()]
    munis = np.array([at_mean, at_mean, above["municipality"]], dtype=object)
    eng = DistanceEngine(np.zeros((3, 2)))
    up = Indicator("workplaces.income", measure="stat", table="t", column="value")
    res = compute_indicator(up, eng, table=table, municipalities=munis)
    z = (above["value"] - mean) / sd
    assert res.score.tolist() == pytest.approx([50.0, 50.0, 50 + STAT_Z_POINTS * z])
    assert res.notes[0].to_dict() == {"code": "stat_national", "n": 290,
                                      "median": float(table["value"].median()), "points": STAT_Z_POINTS}
    down = dataclasses.replace(up, higher_is_better=False)
    assert compute_indicator(down, eng, table=table, municipalities=munis).score.tolist() == \
        pytest.approx([50.0, 50.0, 50 - STAT_Z_POINTS * z])
    # log scale: the municipality at the geometric mean scores 50
    logged = table.assign(value=np.exp(table["value"] / 20))
    lg = dataclasses.replace(up, log_scale=True)
    res = compute_indicator(lg, eng, table=logged, municipalities=munis)
    assert res.score[0] == pytest.approx(50.0)
    assert res.notes[0].code == "stat_national_log"
    # five municipalities only: standardised among them, not called national
    five = table.iloc[[0, 1, 144, 145, 288]]
    res = compute_indicator(up, eng, table=five, municipalities=munis)
    assert res.notes[0].code == "stat_standardised" and res.notes[0].params["n"] == 5


# -- a municipality a table lacks: missing, not zero, not average ---------------------------------
def test_synthetic_table_missing_a_municipality_leaves_nan() -> None:
    table = _synthetic_national()
    gone = table["municipality"].iloc[5]
    table = table[table["municipality"] != gone]
    eng = DistanceEngine(np.zeros((2, 2)))
    ind = Indicator("housing.tax_rate", measure="stat", table="tax", column="value",
                    higher_is_better=False)
    res = compute_indicator(ind, eng, table=table,
                            municipalities=np.array([gone, "9100"], dtype=object))
    assert not res.missing and np.isnan(res.raw[0]) and np.isnan(res.score[0])
    assert np.isfinite(res.score[1])
    assert {"code": "stat_no_value_for", "municipalities": [gone], "table": "tax"} in \
        [m.to_dict() for m in res.notes]


class _WithoutMunicipality:
    """The real snapshot, but one statistics table has lost one municipality's rows."""

    def __init__(self, snapshot: Any, table: str, code: str) -> None:
        self._snap, self._table, self._code = snapshot, table, code

    def table(self, name: str) -> pd.DataFrame | None:
        df = self._snap.table(name)
        if name == self._table and df is not None:
            df = df[df["municipality"].astype(str) != self._code].reset_index(drop=True)
        return df

    def __getattr__(self, name: str) -> Any:
        return getattr(self._snap, name)


@pytest.mark.pack
def test_table_missing_a_municipality_leaves_its_places_missing(blekinge_snapshot) -> None:  # type: ignore[no-untyped-def]
    m = build_model(_WithoutMunicipality(blekinge_snapshot, "kolada_tax_rate_2025", OLOFSTROM))
    assert "housing.tax_rate" not in m.missing
    in_olofstrom = m.localities["municipality"] == OLOFSTROM
    assert in_olofstrom.sum() >= 3
    tax_scores = m.loc_scores["housing.tax_rate"]
    assert np.isnan(tax_scores[in_olofstrom]).all()
    assert np.isfinite(tax_scores[~in_olofstrom]).all()
    s = score(m, persona="family")
    e = explain(m, s, "Olofström")
    rows = {r.key: r for r in e.indicators}
    tax = rows["housing.tax_rate"]
    assert tax.missing and str(tax.reason) == "no value for Olofström in kolada_tax_rate_2025"
    assert "housing.tax_rate" in s.localities.set_index("name").loc["Olofström", "missing"]
    # the housing theme is the mean of the other housing statistics: tax counts neither 0 nor 50
    others = [r for r in e.indicators if r.theme == "housing" and not r.missing]
    w = {i.key: i.weight for i in m.indicators}
    expected = sum(r.score * w[r.key] for r in others) / sum(w[r.key] for r in others)
    assert e.themes["housing"] == pytest.approx(expected)
    ctx = _rows(municipal_context(m, OLOFSTROM))["housing.tax_rate"]
    assert math.isnan(ctx.value) and math.isnan(ctx.score)
    assert str(ctx.note) == "no value for Olofström in kolada_tax_rate_2025"
    assert "Income tax rate (municipal + regional; lower is better): - (no value for Olofström " \
           "in kolada_tax_rate_2025)" in e.to_text()


# -- the cap on the statistics' share -----------------------------------------------------------
def _measured_share(model: Any, persona: str | None, column: str = "composite") -> np.ndarray:
    """Share of the statistics, measured: raise every statistic's score by d, see how much the
    composite (or a theme) moves. The composite is linear in the indicator scores."""
    d = 10.0
    base = score(model, persona=persona).localities[column].to_numpy()
    bumped = dataclasses.replace(model, loc_scores=model.loc_scores + d * model.ind_stat[None, :])
    return np.asarray((score(bumped, persona=persona).localities[column].to_numpy() - base) / d)


@pytest.mark.pack
@pytest.mark.parametrize("persona", [None, *sorted(PERSONAS)])
def test_statistics_share_at_most_the_cap(model, persona) -> None:  # type: ignore[no-untyped-def]
    s = score(model, persona=persona)
    share = s.localities["stat_share"].to_numpy()
    assert (share <= STAT_CAP + 1e-9).all() and (share > 0).all()
    assert (s.cells["stat_share"].to_numpy() <= STAT_CAP + 1e-9).all()
    measured = _measured_share(model, persona)
    assert measured == pytest.approx(share)
    assert (measured <= STAT_CAP + 1e-9).all()
    # inside the schools theme (which has local indicators) too
    if persona != "retiree":  # weighs schools 0, but the theme is still computed
        assert (_measured_share(model, persona, "theme:schools") <= STAT_CAP + 1e-9).all()


@pytest.mark.pack
def test_cap_binds_for_family_and_rank_bands_use_it(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model, persona="family")
    # housing and workplaces are statistics only offline: uncapped they would weigh over a quarter
    w = s.weights
    assert (w["housing"] + w["workplaces"]) / sum(w.values()) > STAT_CAP
    assert s.localities["stat_share"].to_numpy() == pytest.approx(STAT_CAP)
    bands = rank_bands(model, persona="family", n=30).set_index("code")
    loc = s.localities.set_index("code")
    assert (bands["rank_low"] <= bands["rank_high"]).all()
    top = loc["rank"].idxmin()
    assert bands.loc[top, "rank_low"] == 1


# -- the command line ---------------------------------------------------------------------------
@pytest.mark.pack
def test_cli_context_and_explain(blekinge_store, pack_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    tax = _csv(pack_dir, "kolada_tax_rate_2025").set_index("kommun_kod")["total_tax_rate_percent"]
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--context",
               "Karlskrona"])
    out = capsys.readouterr().out
    assert rc == 0
    assert out.startswith("Municipal context, Karlskrona")
    assert (f"Income tax rate (municipal + regional; lower is better): "
            f"{fmt_value(tax[KARLSKRONA], 'percent')} (national median "
            f"{fmt_value(tax.median(), 'percent')}); 2025") in out
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--context",
               "0180", "--lang", "sv"])  # any municipality of the national tables
    out = capsys.readouterr().out
    assert rc == 0 and out.startswith("Kommunfakta, Stockholm")
    assert f"{fmt_value(tax['0180'], 'percent', 'sv')} (riksmedian" in out
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--context",
               "Karlskorna"])
    assert rc == 2
    assert "No municipality 'Karlskorna'" in capsys.readouterr().err


@pytest.mark.pack
def test_app_profile_facts_show_tax_price_and_trend(blekinge_snapshot, pack_dir) -> None:  # type: ignore[no-untyped-def]
    """The profile's key facts (app/view_profile.municipal_facts) of a municipality: tax rate,
    mean house price and population change 2015-2025, each beside the national median."""
    from app.view_profile import municipal_facts

    tax = _csv(pack_dir, "kolada_tax_rate_2025").set_index("kommun_kod")["total_tax_rate_percent"]
    for lang, words in (("en", ("tax rate", "house price", "population change 2015")),
                        ("sv", ("skattesats", "huspris", "befolkningsförändring 2015"))):
        facts = dict(municipal_facts(blekinge_snapshot, KARLSKRONA, "Karlskrona", lang))
        for w in words:
            hit = [v for k, v in facts.items() if w in k.lower()]
            assert hit, (lang, w, list(facts))
            assert ("national median" if lang == "en" else "riksmedian") in hit[0], hit[0]
        shown = next(v for k, v in facts.items() if ("tax rate" if lang == "en" else "skatt") in k.lower())
        assert f"{tax[KARLSKRONA]:.2f}".replace(".", "," if lang == "sv" else ".") in shown
