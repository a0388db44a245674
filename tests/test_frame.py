"""The frame for a newcomer (issue 10 items 5-7 and links): sliders only for themes with data,
a persona control on phones, Swedish throughout, municipality links and populations.

AppTest over the SYNTHETIC store (tests/_app_fixtures.py: housing, workplaces and culture have no
data there) and, for the population table, the Blekinge pack (``pack_dir``; skipped without it).
"""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from _app_fixtures import HOSTILE, compare_table, run_app, write_synthetic_store

from app.common import num_texts
from app.state import persona_weights
from geo.catalog import layer_title, t

#: The themes the synthetic store has data for, in registry order.
WITH_DATA = ["schools", "transit", "nature", "services"]
WITHOUT_DATA = ["housing", "workplaces", "culture"]


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("frame"))


def _ok(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _walk(node: Any) -> Any:
    """Every element of an AppTest block, depth first."""
    for child in getattr(node, "children", {}).values():
        yield child
        yield from _walk(child)


def _elements(at: Any) -> list[Any]:
    return [el for root in (at.main, at.sidebar) for el in _walk(root)]


def _ranking(at: Any) -> list[str]:
    df = next(d.value for d in at.dataframe if "Tätort" in d.value.columns or "Locality" in d.value.columns)
    return df[df.columns[1]].tolist()


# -- sliders: only themes with data --------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_no_slider_for_a_theme_without_data_and_one_listing(monkeypatch: pytest.MonkeyPatch,
                                                            synth_store: Path, lang: str) -> None:
    at = run_app(monkeypatch, synth_store, lang=lang)
    _ok(at)
    assert [s.key for s in at.sidebar.select_slider] == [f"w_{k}" for k in WITH_DATA]
    assert [s.label for s in at.sidebar.select_slider] == [layer_title(k, lang) for k in WITH_DATA]
    names = ", ".join(layer_title(k, lang) for k in WITHOUT_DATA)
    head = "Not scored (no data yet): " if lang == "en" else "Poängsätts inte (inga data än): "
    texts = [str(getattr(el, "value", "")) for el in _elements(at)
             if getattr(el, "type", "") in ("caption", "markdown")]
    listed = [x for x in texts if head in x]
    assert listed == [f"{head}{names}. " + ("How to add one: " if lang == "en" else
                                              "Så lägger du till ett: ")
                      + "`livability build --file housing=FILE`"]
    assert sum(x.count(layer_title("workplaces", lang)) for x in texts) == 1  # listed ONCE
    # the weights passed on: 0 for the themes without data, the persona's for the others
    assert all(at.session_state[f"w_{k}"] == persona_weights("balanced")[k] for k in WITH_DATA)


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_slider_labels_start_with_a_letter(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                           lang: str) -> None:
    at = run_app(monkeypatch, synth_store, lang=lang)
    labels = [s.label for s in at.sidebar.select_slider]
    assert labels and all(lab[:1].isalpha() for lab in labels), labels


def test_a_shared_weight_for_a_theme_without_data_does_not_break(monkeypatch: pytest.MonkeyPatch,
                                                                 synth_store: Path) -> None:
    """``weights=culture:5,...`` names a theme with no data: ignored (weight 0), the rest holds."""
    with_culture = run_app(monkeypatch, synth_store, weights="culture:5,transit:5,schools:0")
    _ok(with_culture)
    plain = run_app(monkeypatch, synth_store, weights="transit:5,schools:0")
    _ok(plain)
    assert with_culture.sidebar.select_slider(key="w_transit").value == 5.0
    assert with_culture.sidebar.select_slider(key="w_schools").value == 0.0
    assert "w_culture" not in [s.key for s in with_culture.sidebar.select_slider]
    assert _ranking(with_culture) == _ranking(plain)
    # the link written back leaves the theme out (it has no slider to set it)
    weights = with_culture.query_params["weights"]
    weights = weights[0] if isinstance(weights, list) else weights
    assert "culture" not in weights and "transit:5" in weights


# -- the persona control on phones -------------------------------------------------------------


@pytest.mark.parametrize("page", ["map", "compare"])
def test_persona_control_in_the_main_area_is_the_same_persona(monkeypatch: pytest.MonkeyPatch,
                                                              synth_store: Path, page: str) -> None:
    at = run_app(monkeypatch, synth_store, page=page, lang="sv")
    _ok(at)
    main = at.main.selectbox(key="persona_main__sv")
    assert main.label == t("what_matters", "sv")
    assert main.value == at.sidebar.selectbox(key="persona__sv").value == "balanced"
    main.set_value("commuter").run()
    _ok(at)
    assert at.session_state["persona"] == "commuter"
    assert at.sidebar.selectbox(key="persona__sv").value == "commuter"  # one source of truth
    assert at.sidebar.select_slider(key="w_transit").value == persona_weights("commuter")["transit"]
    assert at.query_params["persona"] in ("commuter", ["commuter"])
    # and back through the sidebar: the main control follows
    at.sidebar.selectbox(key="persona__sv").set_value("family").run()
    assert at.main.selectbox(key="persona_main__sv").value == "family"


def test_the_persona_control_shows_only_where_the_sidebar_is_collapsed(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    """Its container is hidden from 769 px (Streamlit collapses the sidebar at 768 px and less)."""
    at = run_app(monkeypatch, synth_store)
    css = "\n".join(h.value for h in at.html)
    assert re.search(r"@media \(min-width: 769px\) \{ \.st-key-persona_main \{ display: none", css)


# -- Swedish throughout ------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["map", "profile", "compare", "export", "data"])
def test_swedish_pages_have_no_english_placeholder(monkeypatch: pytest.MonkeyPatch,
                                                   synth_store: Path, page: str) -> None:
    at = run_app(monkeypatch, synth_store, page=page, lang="sv")
    _ok(at)
    boxes = [el for el in _elements(at) if getattr(el, "type", "") in ("selectbox", "multiselect")]
    assert boxes
    own = {"commute_pick": t("commute_pick_placeholder", "sv")}  # pickers that say what they pick
    for el in boxes:
        want = own.get(el.key) or t("choose_options" if el.type == "multiselect"
                                    else "choose_option", "sv")
        assert el.proto.placeholder == want, (el.key, el.proto.placeholder)
        assert "Choose" not in el.proto.placeholder


#: A decimal point between digits: "23.1" (a Swedish page writes "23,1").
_POINT = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
_TAG = re.compile(r"<[^>]*>")


def _shown_numbers_with_points(at: Any) -> list[str]:
    """Every shown text (markdown, captions, HTML text, table cells, metrics) with a "1.5"."""
    bad: list[str] = []
    for el in _elements(at):
        kind = getattr(el, "type", "")
        if kind == "dataframe":
            df = el.value
            for col in df.columns:
                for v in df[col]:
                    if isinstance(v, float) and math.isfinite(v) and v != int(v):
                        bad.append(f"{col}: {v!r} (a float the browser formats)")
                    elif isinstance(v, str) and _POINT.search(v):
                        bad.append(f"{col}: {v}")
            continue
        if kind == "select_slider":  # the weights' labels (1,5)
            bad += [o for o in el.options if _POINT.search(o)]
            continue
        if kind in ("component_instance", "vega_lite_chart"):
            continue  # the map and the chart: their own tests
        value = getattr(el, "value", None)
        if isinstance(value, str):
            text = _TAG.sub(" ", value.split("</style>")[-1])  # visible text, not CSS or attributes
            bad += _POINT.findall(text)
    return bad


@pytest.mark.parametrize("params", [{"page": "map"}, {"page": "compare", "compare": "S001,S005,S004"},
                                    {"page": "compare", "compare": "9901,9902"}])
def test_swedish_numbers_use_decimal_commas(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                            params: dict[str, str]) -> None:
    at = run_app(monkeypatch, synth_store, lang="sv", **params)
    _ok(at)
    assert _shown_numbers_with_points(at) == []
    if params["page"] == "map":
        scores = next(d.value for d in at.dataframe if "Poäng" in d.value.columns)["Poäng"]
        assert all(re.fullmatch(r" *\d+,\d", s) for s in scores), scores.tolist()
    else:
        table = compare_table(at)
        assert all(re.fullmatch(r"\d+,\d|–", v) for v in table.loc["Poäng"])


def test_score_texts_sort_like_the_numbers() -> None:
    values = [37.1, 9.5, 100.0, float("nan"), 0.0, 23.14]
    texts = num_texts(values, "sv")
    assert texts == [" 37,1", "  9,5", "100,0", "    -", "  0,0", " 23,1"]
    order = sorted(range(len(values)), key=lambda i: texts[i])
    assert [values[i] for i in order][1:] == [0.0, 9.5, 23.14, 37.1, 100.0]
    assert num_texts([66021, 950], "sv", 0, grouping=True) == ["66\xa0021", "   950"]


# -- the compare page: municipality links, a table that fits a phone ----------------------------


def test_municipality_codes_reopen_as_a_municipality_comparison(monkeypatch: pytest.MonkeyPatch,
                                                                synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="compare", compare="9902,9901")
    _ok(at)
    assert at.radio(key="compare_kind__en").value == "municipalities"
    assert at.multiselect(key="compare__en").value == ["9902", "9901"]
    table = compare_table(at)
    assert list(table.columns) == ["Östkommun", "Västkommun"]
    # no population table in the synthetic store: the sum of the localities (800 + 450 + 2,200)
    assert table.loc["Population"].tolist() == ["3,450", "15,000"]
    assert ("Rank", "Västkommun") in table.attrs["best"] or ("Rank", "Östkommun") in table.attrs["best"]


def test_compare_table_is_html_that_wraps_and_escapes(monkeypatch: pytest.MonkeyPatch,
                                                      synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="compare", compare="S003,S001,S002,S004")
    _ok(at)
    body = next(h.value for h in at.html if 'class="lv-compare"' in h.value)
    assert "table-layout: fixed" in body and "overflow-wrap: anywhere" in body
    assert "<img" not in body and "&lt;img src=x onerror=alert(1)&gt;" in body
    table = compare_table(at)
    assert table.columns[0] == f"{HOSTILE} (Östkommun)" and len(table.columns) == 4
    # the best score of each row is marked (bold and a yellow ground)
    best = dict(table.attrs["best"])
    assert "Score" in best


def _pack_population(pack: Path) -> dict[str, float]:
    """Municipality code -> population, read from the pack's population table file."""
    spec = json.loads((pack / "pack.json").read_text(encoding="utf-8"))
    entry = next(x for x in spec["tables"] if x["file"].endswith("kolada_population_2025.csv"))
    with (pack / entry["file"]).open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    codes = set(spec["region"]["municipalities"])
    return {r["kommun_kod"]: float(r["population_persons"]) for r in rows if r["kommun_kod"] in codes}


def test_municipal_population_is_the_pack_table_value(pack_dir: Path, blekinge_snapshot: Any) -> None:
    from geo.scoring import build_model, score

    want = _pack_population(pack_dir)
    assert len(want) == 5
    s = score(build_model(blekinge_snapshot))
    got = s.municipalities.set_index("code")["population"].to_dict()
    assert {c: got[c] for c in want} == want
    locs = s.localities.groupby("municipality")["population"].sum()
    assert locs["1080"] < got["1080"]  # not the sum of its tätorter (55,941 in 2020)


def test_compare_link_shows_the_pack_population(monkeypatch: pytest.MonkeyPatch, pack_dir: Path,
                                                blekinge_store: Path) -> None:
    want = _pack_population(pack_dir)
    at = run_app(monkeypatch, blekinge_store, page="compare", compare="1060,1080", lang="sv")
    _ok(at)
    assert at.radio(key="compare_kind__sv").value == "municipalities"
    table = compare_table(at)
    assert list(table.columns) == ["Olofström", "Karlskrona"]
    shown = [f"{int(want[c]):,}".replace(",", "\xa0") for c in ("1060", "1080")]
    assert table.loc["Folkmängd"].tolist() == shown
    assert _shown_numbers_with_points(at) == []
