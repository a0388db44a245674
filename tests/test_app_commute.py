"""My commute in the app (Streamlit AppTest on the SYNTHETIC store of tests/_app_fixtures.py):
a target from the URL or the locality picker, the travel-time column and filter, clear, compare."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from _app_fixtures import PLACES, compare_table, run_app, write_synthetic_store

from geo.commute import CommuteTimes, travel_times
from geo.scoring import build_model
from geo.store import open_snapshot

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest

TARGET = "56.21000,15.10000"
NAMES = {p[0]: p[1] for p in PLACES}


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("synth-commute"))


def _times(data: Path, mode: str, lat: float = 56.21, lon: float = 15.10) -> CommuteTimes:
    snap = open_snapshot("blekinge", data)
    return travel_times(build_model(snap), lat, lon, mode, snapshot=snap)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error], [e.value for e in at.error]


def _ranking(at: AppTest) -> pd.DataFrame:
    for df in at.dataframe:
        v = df.value
        if (isinstance(v, pd.DataFrame) and {"Rank", "Locality"} <= set(v.columns)) or \
                (isinstance(v, pd.DataFrame) and {"Placering", "Tätort"} <= set(v.columns)):
            return v
    raise AssertionError("no ranking table on the page")


def _captions(at: AppTest) -> list[str]:
    return [str(c.value) for c in at.caption]


def test_url_target_adds_the_column_and_the_filter_hides_the_far_ones(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, commute=TARGET, commute_name="Work",
                 commute_mode="bike", commute_max="30")
    _ok(at)
    want = _times(synth_store, "bike")
    assert want.approximate
    table = _ranking(at)
    col = "To Work, bike (min, approx.)"
    assert col in table.columns
    near = {NAMES[c] for c, m in want.localities.items() if m <= 30}
    far = {NAMES[c] for c, m in want.localities.items() if m > 30}
    assert near and far  # the fixture has both
    assert set(table["Locality"]) == near
    by_name = {NAMES[c]: round(m) for c, m in want.localities.items()}
    assert {n: int(v) for n, v in zip(table["Locality"], table[col])} == \
        {n: by_name[n] for n in table["Locality"]}
    caps = _captions(at)
    assert f"{len(near)} of 5 localities are at most 30 min away by bike; {len(far)} hidden." in caps
    assert any(c.startswith("Travel times by bike: no bike network loaded") for c in caps)
    assert "Commute to **Work**" in [m.value for m in at.markdown]
    assert at.query_params["commute"] == TARGET and at.query_params["commute_max"] == "30"


def test_without_the_filter_every_locality_has_its_time_in_swedish(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, commute=TARGET, commute_name="Jobbet",
                 commute_mode="walk", lang="sv")
    _ok(at)
    table = _ranking(at)
    col = "Till Jobbet, gång (min, ungefär)"
    want = _times(synth_store, "walk")
    assert len(table) == 5 and col in table.columns
    code_of = {v: k for k, v in NAMES.items()}
    got = {code_of.get(n, "S003"): int(v) for n, v in zip(table["Tätort"], table[col])}
    assert got == {c: round(m) for c, m in want.localities.items()}
    assert not any("dolda" in c for c in _captions(at))  # no filter: nothing hidden
    assert any(c.startswith("Restider till fots: inget gångnät inläst") for c in _captions(at))


def test_clear_removes_the_column_and_the_url_keys(monkeypatch: pytest.MonkeyPatch,
                                                   synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, commute=TARGET, commute_name="Work",
                 commute_mode="bike", commute_max="30")
    _ok(at)
    at.button(key="commute_clear").click().run()
    _ok(at)
    table = _ranking(at)
    assert [c for c in table.columns if c.startswith("To ")] == [] and len(table) == 5
    for k in ("commute", "commute_name", "commute_max"):
        assert k not in at.query_params
    assert at.session_state["commute_mode"] == "bike"  # the mode stays for the next target


def test_picking_a_locality_sets_the_target_and_mode_and_filter_widgets_work(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store)
    _ok(at)
    assert not [c for c in _ranking(at).columns if c.startswith("To ")]
    at.selectbox(key="commute_pick").select("S004").run()
    _ok(at)
    table = _ranking(at)
    assert "To Deltavik, car (min, approx.)" in table.columns
    assert at.query_params["commute"] == "56.25000,15.30000"
    assert at.query_params["commute_name"] == "Deltavik"
    # the mode
    at.radio(key="commute_mode__en").set_value("walk").run()
    _ok(at)
    table = _ranking(at)
    want = _times(synth_store, "walk", 56.25, 15.30)
    col = "To Deltavik, walk (min, approx.)"
    assert int(table.loc[table["Locality"] == "Deltavik", col].iloc[0]) == \
        round(want.localities["S004"])
    assert at.query_params["commute_mode"] == "walk"
    # the filter: off by default, on at 30 min
    assert "commute_max" not in at.query_params
    at.checkbox(key="commute_filter_on").check().run()
    _ok(at)
    assert at.query_params["commute_max"] == "30"
    near = {NAMES[c] for c, m in want.localities.items() if m <= 30}
    assert set(_ranking(at)["Locality"]) == near
    at.slider(key="commute_max_slider").set_value(180).run()
    _ok(at)
    assert at.query_params["commute_max"] == "180"
    near = {c for c, m in want.localities.items() if m <= 180}
    assert len(_ranking(at)) == len(near)


def test_compare_shows_the_travel_time_row(monkeypatch: pytest.MonkeyPatch,
                                           synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="compare", compare="S001,S002", commute=TARGET,
                 commute_name="Work", commute_mode="bike")
    _ok(at)
    table = compare_table(at)
    assert "To Work, bike (min, approx.)" in table.index, list(table.index)
    want = _times(synth_store, "bike")
    row = table.loc["To Work, bike (min, approx.)"]
    assert row.tolist() == [str(round(want.localities["S001"])),
                            str(round(want.localities["S002"]))]


def test_a_target_outside_the_region_is_refused_in_the_ui_language(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    for lang, phrase in (("en", "The commute target was not used: the commute target"),
                         ("sv", "Pendlingsmålet användes inte: pendlingsmålet")):
        at = run_app(monkeypatch, synth_store, commute="55.60000,13.00000", commute_name="Malmö",
                     lang=lang)
        _ok(at)
        warn = [w.value for w in at.warning]
        assert any(w.startswith(phrase) for w in warn), warn
        assert any(("km outside Synthetic county" if lang == "en" else "km utanför Synthetic")
                   in w for w in warn), warn
        table = _ranking(at)
        assert len(table) == 5 and not [c for c in table.columns if "(min" in c]
        assert "commute" not in at.query_params  # dropped: a reload does not repeat it


def test_a_hostile_target_name_is_shown_as_text(monkeypatch: pytest.MonkeyPatch,
                                                synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, commute=TARGET,
                 commute_name="**x** [a](http://e/) $y$ and more")
    _ok(at)
    md = [m.value for m in at.markdown if str(m.value).startswith("Commute to")]
    assert md == ["Commute to **\\*\\*x\\*\\* \\[a\\](http\\:\u2060//e/) \\$y\\$ and more**"]
    cols = [c for c in _ranking(at).columns if c.startswith("To ")]
    # a dataframe header is plain text (shown literally), cut to 24 characters
    assert cols == ["To **x** [a](http://e/) $y…, car (min, approx.)"]
