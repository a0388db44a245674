"""Scores on the real Blekinge pack (skipped when ../shared/data/blekinge is absent)."""

from __future__ import annotations

import _pack_facts as facts
import numpy as np
import pandas as pd
import pytest

from geo.access import weighted_median
from geo.cli import main
from geo.scoring import build_model, explain, score
from geo.sensitivity import rank_bands

pytestmark = pytest.mark.pack


@pytest.fixture(scope="module")
def model(blekinge_snapshot):  # type: ignore[no-untyped-def]
    return build_model(blekinge_snapshot)


def col(model, key: str) -> int:  # type: ignore[no-untyped-def]
    return model.ind_keys.index(key)


def test_all_52_localities_scored_and_ranked(model) -> None:  # type: ignore[no-untyped-def]
    s = score(model, persona="family")
    loc = s.localities
    assert len(loc) == 52
    assert loc["composite"].notna().all()
    assert ((loc["composite"] >= 0) & (loc["composite"] <= 100)).all()
    assert sorted(loc["rank"].astype(int)) == list(range(1, 53))
    assert loc["population"].sum() == 132691
    assert len(s.municipalities) == 5 and s.municipalities["rank"].notna().all()
    assert s.cells["composite"].notna().all()


def test_explain_brakne_hoby_names_its_station(model) -> None:  # type: ignore[no-untyped-def]
    e = explain(model, score(model, persona="family"), "Bräkne-Hoby")
    rail = next(r for r in e.indicators if r.key == "transit.rail")
    near = rail.nearest[0]
    assert near.name == "Bräkne-Hoby station"
    assert 0 < near.distance_m < 1500 and near.mode == "bike"
    assert rail.approximate  # no street network in the pack
    assert "Bräkne-Hoby station" in e.to_text()


def test_station_nearby_scores_higher_on_rail(model) -> None:  # type: ignore[no-untyped-def]
    # the median resident's distance over each locality's cells (the same cells as its score)
    raw = model.indicator_values("transit.rail")["raw"]
    median_dist = pd.Series({code: weighted_median(raw[w.index].to_numpy(), w.to_numpy())
                             for code in model.localities.index
                             for w in [model.cells_of(code)]})
    rail = model.loc_scores["transit.rail"]
    near, far = rail[median_dist < 2500], rail[median_dist > 5000]
    assert len(near) >= 5 and len(far) >= 10
    assert near.min() > far.max()


def test_rent_present(model) -> None:  # type: ignore[no-untyped-def]
    assert "housing.rent" not in model.missing
    vals = model.loc_scores["housing.rent"].to_numpy()
    assert np.isfinite(vals).all()
    assert len(np.unique(np.round(vals, 6))) == 5  # one value per municipality
    # standardised around 50: Karlskrona (highest rent, 1,167 SEK/m2) lowest, Olofström (871) highest
    assert 10 < vals.min() < 30 and 70 < vals.max() < 90
    assert abs(np.mean(np.unique(np.round(vals, 6))) - 50) < 1e-6


def _indicators_without_data(pack_dir) -> list[str]:  # type: ignore[no-untyped-def]
    """Feature indicators of the layers the pack has no file for (read from pack.json)."""
    from layers import LAYERS

    return [i.key for key in sorted(set(LAYERS) - facts.themes(pack_dir))
            for i in LAYERS[key].indicators if i.measure != "stat"]


def test_layers_without_data_missing_not_zero(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    keys = _indicators_without_data(pack_dir)
    assert keys  # the pack has no workplaces layer (pack.json: not available offline)
    for key in keys:
        assert key in model.missing, key
        assert model.missing[key]
        assert np.isnan(model.loc_scores[key]).all()
    s = score(model)
    themes = sorted({k.split(".")[0] for k in keys})
    for theme in themes:  # a theme is missing only when none of its indicators has data
        if not all(i.key in keys for i in model.indicators if i.key.startswith(theme + ".")):
            continue
        assert s.localities[f"theme:{theme}"].isna().all()
    assert s.localities["missing"].str.contains(keys[0], regex=False).all()
    # a theme with some indicators missing is the mean of the others, not dragged down by zeros
    transit = [i for i in model.ind_keys if i.startswith("transit.") and i not in model.missing]
    assert transit
    vals = model.loc_scores[transit].to_numpy()
    w = np.array([model.ind_weight[col(model, k)] for k in transit])
    ok = np.isfinite(vals)
    expected = pd.Series(np.where(ok, vals, 0) @ w / (ok @ w), index=model.loc_scores.index)
    assert np.allclose(s.localities["theme:transit"], expected[s.localities.index])


def test_rank_bands_present(model) -> None:  # type: ignore[no-untyped-def]
    bands = rank_bands(model, persona="family", n=100)
    assert len(bands) == 52
    assert (bands["rank_low"] >= 1).all() and (bands["rank_high"] <= 52).all()
    assert (bands["rank_low"] <= bands["rank_high"]).all()
    assert (bands["rank_high"] > bands["rank_low"]).any()


@pytest.mark.slow
def test_cli_table_and_explain(blekinge_store, pack_dir, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "scores.csv"
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--persona",
               "family", "--weights", "schools=3,transit=1", "--sensitivity", "40",
               "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Band" in text and "Bräkne-Hoby" in text
    first_missing = _indicators_without_data(pack_dir)[0]
    assert f"{first_missing}:" in text and "not counted as zero" in text
    lines = [ln for ln in text.splitlines() if ln.strip().startswith("1 ")]
    assert lines and "-" in lines[0].split()[-1]

    csv = pd.read_csv(out)
    assert len(csv) == 52 and {"rank_low", "rank_high", "top5_share"} <= set(csv.columns)
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--explain",
               "Bräkne-Hoby", "--lang", "sv"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Bräkne-Hoby station" in text and "med cykel" in text
    rc = main(["--data-dir", str(blekinge_store), "score", "--region", "blekinge", "--explain",
               "Brakne-Hoby"])
    assert rc == 2
    assert "Did you mean Bräkne-Hoby" in capsys.readouterr().err


def _median_known_distance(model, code: str, key: str) -> float:  # type: ignore[no-untyped-def]
    from geo.access import weighted_median

    w = model.cells_of(code)
    raw = model.indicator_values(key).loc[w.index, "raw"]
    return float(weighted_median(raw.to_numpy(), w.to_numpy()))


@pytest.mark.parametrize("persona", ["balanced", "family"])
def test_ranking_plausible_to_a_local(model, pack_dir, persona: str) -> None:  # type: ignore[no-untyped-def]
    """The municipal seats rank in the upper part; no village without a pharmacy and a health
    centre within 10 km (median resident, known lists) is in the top ten."""
    s = score(model, persona=persona)
    loc = s.localities
    seats = set(facts.manifest(pack_dir)["region"]["municipalities"].values())
    ranks = dict(zip(loc["name"], loc["rank"].astype(int)))
    assert seats <= set(ranks)
    upper = len(loc) // 3
    assert all(ranks[name] <= upper for name in seats), {n: ranks[n] for n in seats}
    for code in loc.index[loc["rank"] <= 10]:
        if loc.at[code, "place_type"] in ("town", "small_town"):
            continue
        far = [_median_known_distance(model, code, k) > 10_000
               for k in ("services.pharmacy", "services.health")]
        assert not all(far), (loc.at[code, "name"], int(loc.at[code, "rank"]))


def test_doubtful_positions_from_the_pack_files(model, pack_dir) -> None:  # type: ignore[no-untyped-def]
    """An amenity whose name gives a tätort it lies 2-15 km outside, inside another tätort, is
    flagged (the set counted here from the pack's own files), named in the explanation, and never
    moved."""
    import re

    import geopandas as gpd

    from geo.settings import WORK_CRS

    m = facts.manifest(pack_dir)
    outlines = next(e for e in m["boundaries"] if "tatort" in e["file"])
    towns = gpd.read_file(pack_dir / outlines["file"]).to_crs(WORK_CRS)
    name_col = outlines["fields"]["name"]
    towns = towns[towns[name_col].isin(set(model.localities["name"]))]  # outlines of localities
    towns = towns.dissolve(by=name_col).reset_index()
    munis = {n.casefold() for n in m["region"]["municipalities"].values()}
    counted = {}
    for e in m["layers"]:
        if e["theme"] in ("localities", "transit", "nature"):
            continue
        feats = gpd.read_file(pack_dir / e["file"]).to_crs(WORK_CRS)
        col = e.get("fields", {}).get("name") or next(
            (c for c in ("name", "namn", "NAMN", "Name") if c in feats.columns), None)
        if col is None:
            continue
        for name, geom in zip(feats[col], feats.geometry, strict=True):
            if not isinstance(name, str) or geom is None:
                continue
            words = re.findall(r"\w+", name.casefold())
            hits = [t for t in towns[name_col] if t.casefold() not in munis and any(
                words[i:i + len(tw)] == tw for tw in [re.findall(r"\w+", t.casefold())]
                for i in range(len(words)))]
            if len(hits) == 1:
                d = float(towns.loc[towns[name_col] == hits[0]].geometry.iloc[0].distance(
                    geom.representative_point()))
                inside = [t for t, g in zip(towns[name_col], towns.geometry, strict=True)
                          if g.contains(geom.representative_point())]
                if 2000 < d <= 15000 and inside:  # outside every tätort: not flagged
                    pt = geom.representative_point()
                    counted[name] = (hits[0], d, inside[0], (round(pt.x, -1), round(pt.y, -1)))
    # names after one village at two or more positions inside one other tätort: a district name
    spots: dict[tuple[str, str], set[tuple[float, float]]] = {}
    for place, _, town, xy in counted.values():
        spots.setdefault((place, town), set()).add(xy)
    counted = {n: (c[0], c[1]) for n, c in counted.items() if len(spots[(c[0], c[2])]) < 2}
    flagged = {}
    for res in model.results.values():
        if len(res.amenities) and "uid" in res.amenities:
            for uid, name in zip(res.amenities["uid"], res.amenities["name"], strict=True):
                if uid in model.doubtful:
                    flagged[name] = model.doubtful[uid]
    assert set(flagged) == set(counted)
    for name, (place, dist) in flagged.items():
        assert place == counted[name][0] and abs(dist - counted[name][1]) < 50.0, name
    # named in the explanation of a locality that has it among its nearest places
    s = score(model)
    for code in model.localities.index:
        e = explain(model, s, str(code))
        for row in e.indicators:
            for p in row.nearest:
                if p.doubt is not None:
                    assert p.name in flagged and row.statement is not None
                    assert f"outside {p.doubt}, which its name gives" in e.to_text("en")
                    assert f"utanför {p.doubt}, som namnet anger" in e.to_text("sv")
