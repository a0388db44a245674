"""The place profile as a family reads it (AppTest over the SYNTHETIC store of _app_fixtures).

Headline band and percentile, no "None" anywhere, gaps in plain words for a partial layer,
sources with their licence status, a municipality profile; plus the engine's amenity coordinates
that the small map draws.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _app_fixtures import run_app, write_synthetic_store

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("synth_profile"))


def _html(at: AppTest) -> list[str]:
    return [str(e.proto.body) for e in at.get("html")]


def _everything(at: AppTest) -> str:
    """Every text the page renders: markdown, headers, captions, notices, HTML blocks, tables."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [h.value for h in at.header] + [h.value for h in at.subheader]
    parts += [i.value for i in at.info] + [w.value for w in at.warning]
    parts += [str(m.value) for m in at.metric] + [str(m.label) for m in at.metric]
    parts += [d.value.to_csv() for d in at.dataframe] + [t.value.to_csv() for t in at.table]
    return "\n".join(str(p) for p in parts + _html(at))


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error], [e.value for e in at.error]


def _headline(at: AppTest) -> str:
    return next(h for h in _html(at) if 'class="pf-head"' in h)


def test_headline_has_band_percentile_and_rank(monkeypatch: pytest.MonkeyPatch,
                                               synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="profile", place="S005")
    _ok(at)
    assert at.header[0].value == "Epsilonstad"
    head = _headline(at)
    # the score out of 100 and its band in words (geo.scoring.BANDS via band_name)
    score = re.search(r'class="pf-score"[^>]*>(\d+)<span class="pf-of">/100', head)
    assert score is not None
    from geo.messages import band_name
    from geo.scoring import score_band

    band = band_name(score_band(float(score.group(1)))[0], "en")
    assert f'<p class="pf-band">{band[:1].upper() + band[1:]}</p>' in head
    assert re.search(r"Better than \d+% of the places in Synthetic county \(TEST\)", head)
    assert re.search(r"Rank \d of 5", head)
    assert 'aria-label="Score ' in head
    # the place line: type, municipality, inhabitants
    assert any("in Östkommun municipality · 2,200 inhabitants" in h for h in _html(at))


def test_swedish_headline(monkeypatch: pytest.MonkeyPatch, synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="profile", place="S005", lang="sv")
    _ok(at)
    head = _headline(at)
    assert re.search(r"Bättre än \d+\xa0% av orterna i Synthetic county", head)
    assert "Plats " in head and " av 5" in head
    assert "Poäng per tema" in [s.value for s in at.subheader]


@pytest.mark.parametrize("place", ["S001", "S003", "S005", "9901", "9902"])
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_no_none_or_nan_anywhere(monkeypatch: pytest.MonkeyPatch, synth_store: Path,
                                 place: str, lang: str) -> None:
    at = run_app(monkeypatch, synth_store, page="profile", place=place, lang=lang)
    _ok(at)
    text = _everything(at)
    assert "None" not in text
    assert not re.search(r"\bnan\b|\bNaN\b", text)
    # one chart, no duplicate breakdown table
    assert len(at.get("vega_lite_chart")) == 1
    assert not [d for d in at.dataframe if "Theme" in d.value.columns]


def test_theme_lists_name_places_with_distance_and_mode(monkeypatch: pytest.MonkeyPatch,
                                                        synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="profile", place="S005")
    _ok(at)
    themes = next(h for h in _html(at) if 'class="pf-grid"' in h)
    # Epsilon C is the rail station beside Epsilonstad (about 0.2 km by bike)
    assert re.search(r"<strong>Railway station by bike</strong>: \d+/100 — Epsilon C \(\d+ m\) "
                     r"by bike", themes)
    assert "Transit · " in themes and "Housing · no data" in themes
    # the engine's log-like notes are gone
    assert "partial;" not in themes and "list incomplete" not in themes


def test_gaps_in_plain_words_for_a_partial_layer(monkeypatch: pytest.MonkeyPatch,
                                                 synth_store: Path) -> None:
    """Schools is partial (its only source is marked partial): said in words, per kind."""
    at = run_app(monkeypatch, synth_store, page="profile", place="S004")
    _ok(at)
    assert "What we do not know here" in [s.value for s in at.subheader]
    gaps = next(h for h in _html(at) if "Incomplete lists" in h)
    assert "A score counts only the places its list has" in gaps  # the rule, once
    assert "<li>Schools: the source lists only some.</li>" in gaps
    assert "<li>Preschools: the source lists only some.</li>" in gaps
    # a theme layer with no data: the indicators that are left out, named once per kind
    assert re.search(r"We have no data on offices, industrial areas, commercial areas and shopping "
                     r"areas yet, so “Workplaces within 30 min by car” and “Workplace area by "
                     r"bike” is left out of the score\.", gaps)
    assert "Distances are straight-line distances with a detour factor" in gaps
    sv = run_app(monkeypatch, synth_store, page="profile", place="S004", lang="sv")
    assert any("<li>Skolor: källan listar bara en del.</li>" in h for h in _html(sv))


def test_gap_lines_quote_the_packs_coverage_note(synth_store: Path) -> None:
    """A partial source's note ("independent shops missing") names what is missing."""
    from types import SimpleNamespace

    from app.view_profile import gap_lines

    src = SimpleNamespace(to_dict=lambda: {
        "source": "chain store locators", "coverage": "partial",
        "note": "grocery stores of the national chains (ICA, Coop); independent shops missing"})
    feats = __import__("pandas").DataFrame({"kind": ["grocery"], "source": ["chain store locators"]})
    snap = SimpleNamespace(layer=lambda key: feats,
                           layer_status=lambda key: SimpleNamespace(sources=[src]))
    row = SimpleNamespace(key="services.grocery", partial=True, missing=False, reason=None,
                          gaps=(), gap=None)
    assert gap_lines([row], snap, "en") == ["Grocery stores: independent shops missing."]
    assert gap_lines([row], snap, "sv") == [
        "Matbutiker: källan listar bara en del (”independent shops missing”)."]
    # the pack's not_available_offline item wins over the note
    row.gaps = ("independent grocery stores",)
    assert gap_lines([row], snap, "en") == ["Grocery stores: independent grocery stores missing."]


def test_sources_have_licence_status(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each source with its licence; one the pack calls unclear says "Licence unclear"."""
    import json

    from geo.store import open_snapshot

    data = write_synthetic_store(tmp_path)
    snap = open_snapshot("blekinge", data)
    # this test's own store: its transit source gets a licence the pack would call unclear
    manifest = json.loads((snap.path / "manifest.json").read_text(encoding="utf-8"))
    for src in manifest["layers"]["transit"]["sources"]:
        src["license"] = "unclear: the collecting repository states none"
    (snap.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    at = run_app(monkeypatch, data, page="profile", place="S005")
    _ok(at)
    assert "Sources and licences" in [s.value for s in at.subheader]
    table = next(h for h in _html(at) if 'class="pf-table pf-sources"' in h)
    # grouped by licence: the open one, then the unclear one with the pack's words
    assert "<td>SYNTHETIC test fixture (partial) (2026); SYNTHETIC test fixture (2026)</td>" \
           '<td data-label="Licence">CC0-1.0</td>' in table
    assert ('<tr><td>SYNTHETIC test fixture (2026)</td><td data-label="Licence"><strong>Licence '
            "unclear</strong>: the collecting repository states none</td></tr>") in table
    sv = run_app(monkeypatch, data, page="profile", place="S005", lang="sv")
    assert any("<strong>Licens oklar</strong>: the collecting repository" in h for h in _html(sv))


def test_municipality_profile_reads_well(monkeypatch: pytest.MonkeyPatch,
                                         synth_store: Path) -> None:
    at = run_app(monkeypatch, synth_store, page="profile", place="9902")
    _ok(at)
    assert at.header[0].value == "Östkommun (municipality)"
    head = _headline(at)
    assert re.search(r"Better than \d+% of the municipalities in Synthetic county", head)
    assert "Rank " in head and " of 2" in head
    subs = [s.value for s in at.subheader]
    assert {"The municipality and its localities", "Theme breakdown",
            "Localities in the municipality", "What we do not know here",
            "Sources and licences"} <= set(subs)
    places = next(h for h in _html(at) if "<strong>Deltavik</strong>" in h)
    assert places.index("Deltavik") < places.index("Epsilonstad")  # ranked
    assert "&lt;img src=x onerror=alert(1)&gt;" in places and "<img" not in places
    assert len(at.get("iframe")) == 1  # the small map


def test_nearest_place_carries_coordinates(synth_store: Path) -> None:
    """The engine's NearestPlace has the amenity's WGS 84 point (the small map draws it)."""
    from geo.scoring import build_model, explain, score
    from geo.store import open_snapshot

    model = build_model(open_snapshot("blekinge", synth_store))
    exp = explain(model, score(model), "S005")
    rail = exp.row("transit.rail").nearest[0]
    assert rail.name == "Epsilon C"
    assert rail.lat == pytest.approx(56.209, abs=1e-6) and rail.lon == pytest.approx(15.359, abs=1e-6)
