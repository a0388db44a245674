"""Streamlit AppTest tests of every page, run against a small SYNTHETIC store (and the pack)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from _app_fixtures import HOSTILE, compare_table, run_app, write_synthetic_store

from app.state import encode_params, parse_params, persona_weights

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("synth"))


def _run(monkeypatch: pytest.MonkeyPatch, data: Path, **params: str) -> AppTest:
    return run_app(monkeypatch, data, **params)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error], [e.value for e in at.error]


def _ranking(at: AppTest) -> list[str]:
    for df in at.dataframe:
        v = df.value
        if isinstance(v, pd.DataFrame) and {"Rank", "Locality"} <= set(v.columns):
            return v.sort_values("Rank")["Locality"].tolist()
    raise AssertionError("no ranking table on the page")


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [h.value for h in at.header] + [h.value for h in at.subheader] + [t.value for t in at.title]
    parts += [i.value for i in at.info] + [w.value for w in at.warning] + [c.value for c in at.code]
    return "\n".join(str(p) for p in parts)


# -- pure state parsing -----------------------------------------------------------------------
def test_parse_params_drops_hostile_values() -> None:
    s = parse_params({"page": "<script>", "lang": "xx", "persona": "../../etc",
                      "weights": "transit:NaN,schools:9,nature:2.5,evil:1,housing:-1",
                      "place": HOSTILE, "compare": "S001,<b>,S002,S001"},
                     known_places={"S001", "S002"})
    assert (s.page, s.lang, s.persona, s.place) == ("map", "en", "balanced", None)
    assert s.weights == {"nature": 2.5}
    assert s.compare == ["S001", "S002"]


def test_encode_roundtrip() -> None:
    w = persona_weights("family") | {"transit": 4.0}
    p = encode_params(parse_params({"page": "profile", "persona": "family", "lang": "sv",
                                    "weights": ",".join(f"{k}:{v:g}" for k, v in w.items()),
                                    "place": "S001"}))
    assert p["page"] == "profile" and p["lang"] == "sv" and p["persona"] == "family"
    assert "transit:4" in p["weights"] and p["place"] == "S001"
    assert parse_params(p).weights == w


# -- first run / damaged store ------------------------------------------------------------------
def test_first_run_screen_with_empty_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    at = _run(monkeypatch, tmp_path / "empty")
    _ok(at)
    assert at.header[0].value == "No data built yet"
    code = "\n".join(c.value for c in at.code)
    assert "make build" in code and "livability build --region blekinge --pack" in code


def test_damaged_store_shows_error_panel(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         synth_store: Path) -> None:
    data = tmp_path / "damaged"
    shutil.copytree(synth_store, data)
    (data / "blekinge" / "localities.parquet").write_bytes(b"not parquet")
    at = _run(monkeypatch, data)
    assert not at.exception
    assert len(at.error) == 1
    assert "damaged" in at.error[0].value and "livability build --region blekinge" in at.error[0].value


# -- every page ---------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["map", "profile", "compare", "export", "data"])
def test_every_page_renders(monkeypatch: pytest.MonkeyPatch, synth_store: Path, page: str) -> None:
    at = _run(monkeypatch, synth_store, page=page)
    _ok(at)
    assert at.title[0].value == "Livability explorer"
    assert at.sidebar.radio(key="page__en").value == page
    assert len(at.sidebar.select_slider) == 4  # the synthetic store has no housing, workplaces, culture
    assert at.sidebar.selectbox(key="persona__en").value == "balanced"


def test_map_page_ranking_and_widgets(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store)
    _ok(at)
    ranking = _ranking(at)
    assert len(ranking) == 5 and HOSTILE in ranking
    assert at.sidebar.toggle(key="tiles").value is False  # offline-first default
    assert at.sidebar.toggle(key="hexagons").value is True
    assert "partial" in _text(at)  # the schools layer is flagged partial


def test_weight_change_reorders_ranking_and_url(monkeypatch: pytest.MonkeyPatch,
                                                synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store)
    before = _ranking(at)
    for k in ("schools", "services", "nature"):
        at.sidebar.select_slider(key=f"w_{k}").set_value(0.0)
    at.sidebar.select_slider(key="w_transit").set_value(5.0).run()
    _ok(at)
    after = _ranking(at)
    assert after != before
    assert after[:2] == ["Epsilonstad", "Betaköping"]  # the two places with a station
    assert "transit:5" in at.query_params["weights"]


def test_persona_change_moves_sliders_and_ranking(monkeypatch: pytest.MonkeyPatch,
                                                  synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store)
    before = _ranking(at)
    at.sidebar.selectbox(key="persona__en").set_value("commuter").run()
    _ok(at)
    assert at.sidebar.select_slider(key="w_transit").value == 3.0
    assert at.sidebar.select_slider(key="w_nature").value == 0.5
    assert _ranking(at) != before
    assert at.query_params["persona"] == "commuter"


def test_bad_query_params_ignored(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="<script>alert(1)</script>", lang="xx",
              persona="nope", weights="transit:1e999,evil:3,schools:abc", place=HOSTILE,
              compare="../../etc/passwd")
    _ok(at)
    assert at.sidebar.radio(key="page__en").value == "map"
    assert at.title[0].value == "Livability explorer"
    assert at.sidebar.select_slider(key="w_transit").value == 1.0


def test_url_state_restored(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="profile", place="S004", lang="sv",
              persona="family", weights="transit:4")
    _ok(at)
    assert at.title[0].value == "Livskvalitetsutforskaren"
    assert at.sidebar.radio(key="page__sv").value == "profile"
    assert at.selectbox(key="place__sv").value == "S004"
    assert at.sidebar.select_slider(key="w_transit").value == 4.0
    assert at.sidebar.select_slider(key="w_schools").value == 3.0  # family preset
    assert at.header[0].value == "Deltavik"


def test_language_switch(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store)
    assert "Ranking" in [s.value for s in at.subheader]
    at.sidebar.segmented_control(key="lang").set_value("sv").run()
    _ok(at)
    assert "Rangordning" in [s.value for s in at.subheader]
    assert at.sidebar.selectbox(key="persona__sv").value == "balanced"
    assert at.query_params["lang"] == "sv"


def test_profile_page(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="profile", place="S005")
    _ok(at)
    assert at.header[0].value == "Epsilonstad"
    html = [str(e.proto.body) for e in at.get("html")]
    head = next(h for h in html if 'class="pf-head"' in h)
    assert "/100" in head and "Rank " in head and " of 5" in head
    subs = [s.value for s in at.subheader]
    assert {"Theme breakdown", "What is near, theme by theme", "What we do not know here",
            "Sources and licences"} <= set(subs)
    themes = next(h for h in html if 'class="pf-grid"' in h)
    assert "Transit · " in themes and "Epsilon C" in themes


def test_profile_hostile_name_is_plain_text(monkeypatch: pytest.MonkeyPatch,
                                            synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="profile", place="S003")
    _ok(at)
    # st.header renders markdown (and a markdown image loads): the name goes through safe_text
    assert at.header[0].value == "&lt;img src=x onerror=alert(1)&gt;"


def test_compare_page(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="compare", compare="S001,S005,S004")
    _ok(at)
    assert at.multiselect(key="compare__en").value == ["S001", "S005", "S004"]
    table = compare_table(at)
    assert list(table.columns)[:1] == ["Alphaby (Västkommun)"]
    assert "Score" in table.index
    at.radio(key="compare_kind__en").set_value("municipalities").run()
    _ok(at)
    assert len(at.multiselect(key="compare__en").value) == 2


def test_export_page_builds_download(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="export")
    _ok(at)
    assert set(at.multiselect(key="export_layers__en").value) == {"schools", "transit",
                                                                  "services", "nature"}
    at.radio(key="export_fmt").set_value("csv")
    at.button(key="export_prepare").click().run()
    _ok(at)
    assert at.session_state["_export"][1][:2] == b"PK"  # a zip


def test_export_bytes_formats(synth_store: Path, tmp_path: Path) -> None:
    import io
    import json
    import zipfile

    import geopandas as gpd

    from app.view_export import export_bytes
    from geo.store import open_snapshot

    snap = open_snapshot("blekinge", synth_store)
    gpkg = export_bytes(snap, "gpkg", ["transit"], None)
    assert gpkg[:16] == b"SQLite format 3\x00"
    (tmp_path / "x.gpkg").write_bytes(gpkg)
    transit = gpd.read_file(tmp_path / "x.gpkg", layer="transit")
    assert sorted(transit["name"]) == ["Betaköping station", "Epsilon C"]
    z = zipfile.ZipFile(io.BytesIO(export_bytes(snap, "geojson", ["transit"], None)))
    # the chosen layer and the base layers, each its own GeoJSON file, beside metadata.json
    assert sorted(z.namelist()) == ["ATTRIBUTION.txt", "boundary.geojson", "localities.geojson",
                                    "metadata.json", "municipalities.geojson", "transit.geojson"]
    features = json.loads(z.read("transit.geojson"))["features"]
    assert [(f["properties"]["name"], f["properties"]["kind"]) for f in features] == [
        ("Betaköping station", "rail_station"), ("Epsilon C", "rail_station")]
    assert [f["geometry"]["coordinates"] for f in features] == [[15.081, 56.221],
                                                               [15.359, 56.209]]
    localities = json.loads(z.read("localities.geojson"))["features"]
    assert [f["properties"]["code"] for f in localities] == ["S001", "S002", "S003", "S004",
                                                             "S005"]


def test_data_page(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="data")
    _ok(at)
    layers = at.dataframe[0].value
    row = layers.set_index("Layer")
    assert row.loc["Schools", "Coverage"] == "partial"
    assert row.loc["Housing", "Coverage"] == "missing"
    assert "synthetic store has none" in "\n".join(m.value for m in at.markdown)
    assert row.loc["Transit", "Features"] == 2
    assert "livability build --region blekinge" in "\n".join(c.value for c in at.code)


# -- the real pack ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.pack
def test_blekinge_map_and_profile(monkeypatch: pytest.MonkeyPatch, blekinge_store: Path) -> None:
    at = _run(monkeypatch, blekinge_store)
    _ok(at)
    ranking = _ranking(at)
    assert len(ranking) >= 40 and "Karlskrona" in ranking
    at.sidebar.selectbox(key="persona__en").set_value("retiree").run()
    _ok(at)
    assert _ranking(at) != ranking
    at = _run(monkeypatch, blekinge_store, page="profile", place="1082TC102")
    _ok(at)
    assert at.header[0].value == "Karlshamn"
    facts = next(str(e.proto.body) for e in at.get("html") if 'class="pf-table"' in str(e.proto.body))
    assert "Rent level" in facts and "%" in facts


@pytest.mark.slow
@pytest.mark.pack
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_blekinge_slider_help_says_what_a_theme_is_scored_from(
        monkeypatch: pytest.MonkeyPatch, blekinge_store: Path, lang: str) -> None:
    """Housing has no local data in the pack, only municipal statistics: its slider says so."""
    from app.data import current_key, get_model
    from geo.catalog import indicator_title, t
    from layers import LAYERS
    from layers.vocab import Measure

    at = _run(monkeypatch, blekinge_store, lang=lang)
    _ok(at)
    key = current_key("blekinge")
    assert key is not None
    scores = get_model(key).loc_scores
    have = set(scores.columns[scores.notna().any().to_numpy()])
    stats_only = t("theme_stats_only", lang).split(":")[0]
    sliders = {s.key: s.help for s in at.sidebar.select_slider}
    assert sliders  # one per theme with data
    for k, spec in LAYERS.items():
        inds = [i for i in spec.indicators if i.key in have]
        if not inds:
            assert f"w_{k}" not in sliders
            continue
        text = sliders[f"w_{k}"].replace("\\", "")
        for i in inds:  # every indicator scored here, by its title (escaped for markdown)
            assert indicator_title(i.key, lang).split(" (")[0] in text, (k, i.key)
        assert (stats_only in text) == all(i.measure == Measure.STAT for i in inds), k
    assert stats_only in sliders["w_housing"].replace("\\", "")  # the pack has no homes layer


def test_navigation_by_widgets(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store)
    at.sidebar.radio(key="page__en").set_value("data").run()
    _ok(at)
    assert at.sidebar.radio(key="page__en").value == "data"
    assert [h.value for h in at.header] == ["How the scores work", "What is loaded"]
    assert at.query_params["page"] == "data"
    at.sidebar.segmented_control(key="lang").set_value("sv").run()
    assert at.sidebar.radio(key="page__sv").value == "data"  # page kept across languages
    at.sidebar.radio(key="page__sv").set_value("profile").run()
    at.selectbox(key="place__sv").set_value("S002").run()
    _ok(at)
    assert at.header[0].value == "Betaköping"
    assert at.query_params["place"] == "S002"


def test_municipality_profile(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="profile", place="9902")
    _ok(at)
    assert at.header[0].value == "Östkommun (municipality)"
    head = next(str(e.proto.body) for e in at.get("html") if 'class="pf-head"' in str(e.proto.body))
    assert " of 2" in head


def test_scoring_failure_shows_data_without_scores(monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    import geo.scoring

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(geo.scoring, "score", boom)
    data = write_synthetic_store(tmp_path / "fail")  # fresh store: nothing cached
    at = _run(monkeypatch, data)
    assert not at.exception and not at.error
    assert any("synthetic failure" in w.value for w in at.warning)
    names = at.dataframe[0].value["Locality"].tolist()  # translated headers
    assert len(names) == 5  # the localities are still listed, without scores


def test_md_text_neutralises_markdown_and_html() -> None:
    import html

    from app.common import WORD_JOINER, safe_text  # md_text became safe_text (tests/test_app_safety.py)

    out = safe_text("[x](javascript:alert(1)) ![i](http://e/x.png) <b>*bold*</b>")
    assert "\\](" in out and "<b>" not in out and "*bold*" not in out  # no link: "]" is escaped
    assert html.unescape(out.replace("\\", "").replace(WORD_JOINER, "")) == \
        "[x](javascript:alert(1)) ![i](http://e/x.png) <b>*bold*</b>"
    assert safe_text(None) == ""


def test_place_by_name_in_shared_link() -> None:
    from app.state import parse_params

    s = parse_params({"page": "profile", "place": "Bräkne-Hoby", "compare": "ronneby,nowhere,1081TB104"},
                     {"1081TB104", "1081TC107"}, {"bräkne-hoby": "1081TB104", "ronneby": "1081TC107"})
    assert (s.page, s.place, s.compare) == ("profile", "1081TB104", ["1081TC107", "1081TB104"])
    hostile = parse_params({"place": "<img src=x onerror=alert(1)>"}, {"1081TB104"}, {})
    assert hostile.place is None


# -- the selected place on the map (geo.maps.highlight_group via st_folium) -----------------------
def _map_args(at: AppTest) -> dict[str, object]:
    """The arguments the st_folium component got in the last run (script, feature_group, key...)."""
    import json

    def walk(node: object) -> object:
        for child in (getattr(node, "children", None) or {}).values():
            yield child
            yield from walk(child)

    for el in walk(at._tree):
        if hasattr(getattr(el, "proto", None), "json_args") and "map_div" in el.proto.json_args:
            return dict(json.loads(el.proto.json_args))
    raise AssertionError("no st_folium map on the page")


def test_place_in_url_is_highlighted_on_the_map(monkeypatch: pytest.MonkeyPatch,
                                                synth_store: Path) -> None:
    plain = _map_args(_run(monkeypatch, synth_store))
    # without a place the dynamic layer holds only this weighting's colours (geo.maps.recolour_script)
    assert "place-highlight" not in str(plain["feature_group"])
    assert str(plain["feature_group"]).startswith("if (window.__livabilityRecolour)")
    at = _run(monkeypatch, synth_store, place="S003")
    _ok(at)
    args = _map_args(at)
    group = str(args["feature_group"])
    assert "place-highlight" in group and "place-label" in group
    assert "&lt;img src=x onerror=alert(1)&gt;" in group and HOSTILE not in group
    assert "__livabilityFocus" not in group  # a shared link rings the place, keeps the county view
    # the base map is the same (cached) one: same script, so the browser does not reload it
    assert args["script"] == plain["script"] and "place-highlight" not in str(args["script"])


def test_show_on_map_from_profile_rings_and_zooms(monkeypatch: pytest.MonkeyPatch,
                                                  synth_store: Path) -> None:
    at = _run(monkeypatch, synth_store, page="profile", place="S005")
    at.button(key="show_on_map").click().run()
    _ok(at)
    assert at.sidebar.radio(key="page__en").value == "map"
    assert at.query_params["place"] == "S005"
    group = str(_map_args(at)["feature_group"])
    assert "Epsilonstad" in group and "window.__livabilityFocus = true" in group
    # after another page the place is still ringed, but the map is not zoomed to it again
    at.sidebar.radio(key="page__en").set_value("data").run()
    at.sidebar.radio(key="page__en").set_value("map").run()
    _ok(at)
    group = str(_map_args(at)["feature_group"])
    assert "Epsilonstad" in group and "__livabilityFocus" not in group


def test_map_state_is_fresh_on_each_visit(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    """A click returned in one visit of the map page is not seen in the next (new component key)."""
    at = _run(monkeypatch, synth_store)
    first = _map_args(at)["key"]
    at.selectbox(key="map_pick").set_value("S002").run()  # a rerun on the map page keeps the map
    assert _map_args(at)["key"] == first
    # the cached map's script names only elements it defines (no stale folium ids after reruns)
    import re

    script = str(_map_args(at)["script"])
    assert not re.findall(r"\b[a-z_]+_[0-9a-f]{32}\b", script)
    at.sidebar.radio(key="page__en").set_value("profile").run()
    at.sidebar.radio(key="page__en").set_value("map").run()
    _ok(at)
    assert _map_args(at)["key"] != first


def test_compare_link_with_municipality_codes_reopens_municipalities(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    """A shared ``compare=9901,9902`` names municipalities: the page opens on them (not on the
    first two localities), and Swedish numbers use decimal commas."""
    at = _run(monkeypatch, synth_store, page="compare", compare="9901,9902", lang="sv")
    _ok(at)
    assert at.radio(key="compare_kind__sv").value == "municipalities"
    assert at.multiselect(key="compare__sv").value == ["9901", "9902"]
    table = compare_table(at)
    assert list(table.columns) == ["Västkommun", "Östkommun"]
    score = str(table.loc["Poäng"].iloc[0])
    assert "," in score and "." not in score


@pytest.mark.slow
@pytest.mark.pack
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_blekinge_profile_flags_a_doubtful_position(monkeypatch: pytest.MonkeyPatch,
                                                    blekinge_store: Path, lang: str) -> None:
    """A named place whose position is doubtful (its name gives a locality it lies far outside)
    is marked beside its distance and explained once under "What we do not know here"."""
    import html as html_mod

    from app.data import current_key, get_model
    from geo.catalog import t
    from geo.scoring import explain, score

    _ok(_run(monkeypatch, blekinge_store))  # points the app's data at the fixture's store
    key = current_key("blekinge")
    assert key is not None
    model = get_model(key)
    s = score(model)
    place = next((str(c) for c in model.localities.index
                  if any(p.doubt for r in explain(model, s, str(c)).indicators
                         for p in r.nearest[:3])), None)
    if place is None:
        pytest.skip("no named place of this pack's localities has a doubtful position")
    at = _run(monkeypatch, blekinge_store, page="profile", place=place, lang=lang)
    _ok(at)
    body = html_mod.unescape(" ".join(str(h.proto.body) for h in at.get("html")))
    assert f"; {t('pf_doubt_short', lang)})" in body
    assert ("which its name gives" if lang == "en" else "som namnet anger") in body
