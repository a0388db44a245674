"""``livability compare`` and ``score --top/--type``; geo.compare's place names.

The name tests use a SYNTHETIC stand-in for a model (invented places with real-looking names).
The pack tests take every expected figure from the model built on the same store, never literals:
Blekinge (``blekinge_store``, fast) and, marked slow, the whole country (``sweden_store``).
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pandas as pd
import pytest

from geo.cli import main
from geo.compare import compare_places, find_place, parse_place_type, place_refs
from geo.errors import LimitError, RegionNotFoundError
from geo.messages import place_type_name, render
from geo.scoring import ScoreModel, build_model, score


def _fake_model() -> ScoreModel:
    """SYNTHETIC: three localities named Ekeby, a town Lund in Lund and a village Lund elsewhere."""
    rows = [("0001TB1", "Ekeby", "0001", "Alfa"), ("0002TB1", "Ekeby", "0002", "Beta"),
            ("0003TB1", "Ekeby", "0003", "Gamma"), ("0004TC1", "Lund", "0004", "Lund"),
            ("0005TB1", "Lund", "0005", "Delta"), ("0006TB1", "Bräkne-Hoby", "0006", "Epsilon")]
    loc = pd.DataFrame(rows, columns=["code", "name", "municipality", "municipality_name"])
    loc = loc.set_index(loc["code"].to_numpy())
    munis = {m: n for _, _, m, n in rows} | {"0007": "Solna"}
    return cast(ScoreModel, SimpleNamespace(localities=loc, municipality_names=munis,
                                            region="sverige", region_name="Sverige"))


def test_a_shared_name_is_ambiguous_and_lists_candidates_with_municipalities() -> None:
    m = _fake_model()
    with pytest.raises(RegionNotFoundError) as err:
        find_place(m, "Ekeby")
    text = str(err.value)
    assert "\n" not in text and "3 localities" in text
    for code, muni in (("0001TB1", "Alfa"), ("0002TB1", "Beta"), ("0003TB1", "Gamma")):
        assert f"Ekeby ({muni}, {code})" in text
    assert "Ekeby (Alfa)" in text  # the way to write it
    sv = err.value.render("sv")
    assert "tätorter" in sv and "Ekeby (Beta, 0002TB1)" in sv


@pytest.mark.parametrize("text, code", [
    ("Ekeby (Beta)", "0002TB1"), ("ekeby (beta kommun)", "0002TB1"), ("Ekeby (0003)", "0003TB1"),
    ("0001TB1", "0001TB1"), ("0001tb1", "0001TB1"),
    ("Lund", "0004TC1"),          # the locality in the municipality of the same name
    ("Lund (Delta)", "0005TB1"),
    ("brakne hoby", "0006TB1"),   # accents and the hyphen folded
    ("Lund kommun", "0004"), ("0004", "0004"),
    ("Solna", "0007"),            # no locality of that name: the municipality
])
def test_place_names_codes_and_qualifiers(text: str, code: str) -> None:
    assert find_place(_fake_model(), text).code == code


def test_unknown_place_suggests_close_names_and_the_national_build() -> None:
    with pytest.raises(RegionNotFoundError) as err:
        find_place(_fake_model(), "Ekebi")
    text = str(err.value)
    assert "Ekeby" in text and "--region sverige" in text and "\n" not in text


def test_place_refs_list_every_locality_then_every_municipality() -> None:
    m = _fake_model()
    refs = place_refs(m)
    assert [r.kind for r in refs] == ["locality"] * len(m.localities) + \
        ["municipality"] * len(m.municipality_names)
    assert {r.label for r in refs if r.kind == "locality"} >= {"Ekeby (Alfa)", "Lund (Lund)"}


@pytest.mark.parametrize("text, key", [("town", "town"), ("Town", "town"), ("small_town", "small_town"),
                                       ("small town", "small_town"), ("small-town", "small_town"),
                                       ("mindre tätort", "small_town"), ("stad", "town"),
                                       ("villages", "village"), ("archipelago", "archipelago")])
def test_place_type_by_key_or_name(text: str, key: str) -> None:
    assert parse_place_type(text) == key


def test_unknown_place_type_lists_the_known_ones_in_one_line() -> None:
    with pytest.raises(LimitError) as err:
        parse_place_type("city")
    text = str(err.value)
    assert "\n" not in text and "'city'" in text
    for key in ("town", "small_town", "village", "archipelago"):
        assert f"{key} ({place_type_name(key)})" in text
    assert "countryside" not in text
    assert f"town ({place_type_name('town', 'sv')})" in err.value.render("sv")


def test_cli_unknown_type_is_a_one_line_error(capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path) -> None:
    assert main(["--data-dir", str(tmp_path), "score", "--type", "metropolis"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "metropolis" in err and "small_town" in err


# -- the Blekinge pack (fast) ----------------------------------------------------------------
def _table_rows(out: str) -> list[list[str]]:
    """The ranked table's data rows split on runs of 2+ spaces."""
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith("----")) + 1
    rows = []
    for ln in lines[start:]:
        if not ln.strip():
            break
        rows.append(re.split(r"\s{2,}", ln.strip()))
    return rows


@pytest.fixture(scope="module")
def blekinge_scores(blekinge_snapshot: Any) -> tuple[ScoreModel, Any]:
    model = build_model(blekinge_snapshot)
    return model, score(model)


@pytest.mark.pack
def test_score_top_and_type_on_blekinge(blekinge_store: Path, blekinge_scores: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, s = blekinge_scores
    L = s.localities
    for ptype in ("town", "small_town", "village"):
        n_type = int((L["place_type"] == ptype).sum())
        top = min(3, n_type)
        assert main(["--data-dir", str(blekinge_store), "score", "--sensitivity", "0",
                     "--type", ptype, "--top", "3"]) == 0
        out, err = capsys.readouterr()
        rows = _table_rows(out)
        want = L[L["place_type"] == ptype].sort_values(["rank", "name"]).head(3)
        assert [r[1] for r in rows] == want["name"].tolist()
        assert [int(r[0]) for r in rows] == want["rank"].astype(int).tolist()
        assert [float(r[3]) for r in rows] == [round(v, 1) for v in want["composite"]]
        assert f"{top} of {len(L)} localities shown ({place_type_name(ptype, 'en', 'many')}, top 3)" \
            in err
    assert main(["--data-dir", str(blekinge_store), "score", "--sensitivity", "0", "--top", "5"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert [r[1] for r in rows] == L.sort_values(["rank", "name"]).head(5)["name"].tolist()
    assert main(["--data-dir", str(blekinge_store), "score", "--top", "0"]) == 2
    assert "--top 0" in capsys.readouterr().err


@pytest.mark.pack
def test_compare_two_blekinge_towns(blekinge_store: Path, blekinge_scores: Any,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    model, s = blekinge_scores
    a, b = compare_places(model, s, ["Karlskrona", "Ronneby"])
    assert main(["--data-dir", str(blekinge_store), "compare", "Karlskrona", "Ronneby"]) == 0
    out, err = capsys.readouterr()
    assert "No national snapshot" in err and "--region sverige" in err  # said once, on stderr
    score_line = next(ln for ln in out.splitlines() if ln.strip().startswith("Score (0-100)"))
    assert re.split(r"\s{2,}", score_line.strip())[1:] == [f"{a.composite:.1f}", f"{b.composite:.1f}"]
    for p in (a, b):
        msg = p.percentile_message(model)
        assert msg is not None
        assert " ".join(render(msg, "en").split()[:3]) in out  # "better than NN%"
        assert p.pct_type == s.localities.at[p.ref.code, "pct_type"]
    # Swedish
    assert main(["--data-dir", str(blekinge_store), "compare", "Karlskrona", "Ronneby",
                 "--lang", "sv"]) == 0
    out = capsys.readouterr().out
    assert "Betyg (0–100)" in out and f"{a.composite:.1f}".replace(".", ",") in out
    assert "Kommunala förhållanden" in out


# -- the whole country (slow) ----------------------------------------------------------------
@pytest.fixture(scope="module")
def sweden_scores(sweden_store: Path) -> tuple[ScoreModel, Any]:
    from geo.store import open_region

    model = build_model(open_region("sverige", sweden_store))
    return model, score(model)


@pytest.mark.slow
def test_compare_malmo_ronneby_nationally(sweden_store: Path, sweden_scores: Any,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    _, s = sweden_scores
    L = s.localities
    # default region: sverige, as it is built
    assert main(["--data-dir", str(sweden_store), "compare", "Malmö", "Ronneby"]) == 0
    out, err = capsys.readouterr()
    assert "No national snapshot" not in err
    assert "national data pack" in out
    malmo = L[(L["name"] == "Malmö") & (L["municipality_name"] == "Malmö")].iloc[0]
    ronneby = L[(L["name"] == "Ronneby") & (L["municipality_name"] == "Ronneby")].iloc[0]
    score_line = next(ln for ln in out.splitlines() if ln.strip().startswith("Score (0-100)"))
    assert re.split(r"\s{2,}", score_line.strip())[1:] == [f"{malmo['composite']:.1f}",
                                                           f"{ronneby['composite']:.1f}"]
    n_type = int((L["place_type"] == malmo["place_type"]).sum())
    assert f"better than {malmo['pct_type']:.0f}% of Sweden's {n_type}" in " ".join(out.split())
    # a name several tätorter share: one line with each candidate
    dup = L["name"].value_counts()
    name = next(n for n, c in dup.items() if c > 1 and
                not (L.loc[L["name"] == n, "municipality_name"] == n).any())
    assert main(["--data-dir", str(sweden_store), "compare", str(name), "Ronneby"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    for _, r in L[L["name"] == name].iterrows():
        assert f"{name} ({r['municipality_name']}, {r['code']})" in err


@pytest.mark.slow
def test_score_sverige_top_20_towns(sweden_store: Path, sweden_scores: Any,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    _, s = sweden_scores
    L = s.localities
    assert main(["--data-dir", str(sweden_store), "score", "--region", "sverige", "--top", "20",
                 "--type", "town", "--sensitivity", "0"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    want = L[L["place_type"] == "town"].sort_values(["rank", "name"]).head(20)
    assert [r[1] for r in rows] == want["name"].tolist()
    assert [float(r[3]) for r in rows] == [round(v, 1) for v in want["composite"]]
