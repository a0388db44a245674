"""AppTest of "compare with where you live now" against SYNTHETIC stores (invented places).

The national snapshot here is the synthetic store written under the key ``sverige`` beside the
region's, so both hold the same invented places; what is checked is the page's behaviour: the URL
round trip (``se``, ``with``), scores taken from the national model, the one-line build hint
without a national snapshot, and that the national model is not loaded unless the comparison is
opened.
"""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from _app_fixtures import HOSTILE, compare_table, run_app, write_synthetic_store

from app.state import encode_params, parse_params, persona_weights
from app.view_national import BUILD_COMMAND, national_weights
from geo.catalog import t
from geo.scoring import build_model, score
from geo.store import open_snapshot

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


@pytest.fixture(scope="module")
def region_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_store(tmp_path_factory.mktemp("region_only"))


@pytest.fixture()
def with_national(tmp_path: Path) -> Path:
    data = write_synthetic_store(tmp_path / "data")
    return write_synthetic_store(data, region="sverige")


def _ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error], [e.value for e in at.error]


def _national_scores(data: Path) -> tuple[object, object]:
    snap = open_snapshot("sverige", data)
    model = build_model(snap)
    # the app's weights: the sidebar's (balanced) for the themes with data in both
    have = model.loc_scores.columns[model.loc_scores.notna().any().to_numpy()]
    themes = tuple(k for k in persona_weights("balanced")
                   if any(i.layer == k for i in model.indicators if i.key in set(have)))
    w = national_weights(persona_weights("balanced"), themes, "balanced", themes)
    return model, score(model, w)


def test_url_params_round_trip() -> None:
    s = parse_params({"page": "compare", "se": "Ekeby (Bjuv)", "with": "S001"},
                     known_places={"S001"})
    assert (s.se, s.se_with) == ("Ekeby (Bjuv)", "S001")
    assert encode_params(s) == {"page": "compare", "se": "Ekeby (Bjuv)", "with": "S001"}
    bad = parse_params({"page": "compare", "se": HOSTILE, "with": "../../etc"},
                       known_places={"S001"})
    assert bad.se is not None and "<" not in bad.se and bad.se_with is None
    assert parse_params({"se": "1280TC106"}).se == "1280TC106"


def test_no_national_snapshot_says_once_how_to_build_it(monkeypatch: pytest.MonkeyPatch,
                                                         region_only: Path) -> None:
    for lang in ("en", "sv"):
        at = run_app(monkeypatch, region_only, page="compare", se="Malmö", **{"with": "S001"},
                     lang=lang)
        _ok(at)
        assert at.radio(key=f"compare_kind__{lang}").value == "sweden"
        hints = [i.value for i in at.info if BUILD_COMMAND in i.value]
        assert len(hints) == 1
        assert hints[0] == t("se_missing", lang, cmd=f"`{BUILD_COMMAND}`")
        assert not [s for s in at.selectbox if s.label.startswith(t("se_pick", lang)[:10])]
        assert not list((region_only / "cache" / "models").glob("sverige-*"))


def test_shared_link_reopens_the_comparison_with_national_scores(
        monkeypatch: pytest.MonkeyPatch, with_national: Path) -> None:
    at = run_app(monkeypatch, with_national, page="compare", se="Betaköping", **{"with": "S005"})
    _ok(at)
    assert at.radio(key="compare_kind__en").value == "sweden"
    assert at.selectbox(key="se__en").value == "S002"  # the name resolved to its code
    assert at.selectbox(key="se_with__en").value == "S005"
    assert at.query_params["se"] == "S002" and at.query_params["with"] == "S005"
    _, s = _national_scores(with_national)
    L = s.localities  # type: ignore[attr-defined]
    table = compare_table(at)
    assert list(table.columns) == ["Betaköping (Västkommun)", "Epsilonstad (Östkommun)"]
    assert table.loc[t("score", "en")].tolist() == [f"{L.at['S002', 'composite']:.1f}",
                                           f"{L.at['S005', 'composite']:.1f}"]
    text = "\n".join(html.unescape(m.value) for m in at.markdown)
    n_type = int((L["place_type"] == L.at["S002", "place_type"]).sum())
    assert f"better than {L.at['S002', 'pct_type']:.0f}% of Sweden's {n_type}" in text
    captions = " ".join(c.value for c in at.caption)
    assert "national data pack" in captions and "licence" in captions
    assert list((with_national / "cache" / "models").glob("sverige-*"))  # cached like the region's
    # choosing another place updates the address; that address reopens it
    at.selectbox(key="se__en").set_value("S004").run()
    _ok(at)
    assert at.query_params["se"] == "S004"
    again = run_app(monkeypatch, with_national, page="compare", se="S004", **{"with": "S005"},
                    lang="sv")
    _ok(again)
    table = compare_table(again)
    assert table.loc[t("score", "sv")].tolist() == [f"{L.at['S004', 'composite']:.1f}".replace(".", ","),
                                           f"{L.at['S005', 'composite']:.1f}".replace(".", ",")]
    assert "bättre än" in "\n".join(m.value for m in again.markdown)


def test_map_page_does_not_load_the_national_model(monkeypatch: pytest.MonkeyPatch,
                                                   with_national: Path) -> None:
    at = run_app(monkeypatch, with_national)
    _ok(at)
    assert list((with_national / "cache" / "models").glob("blekinge-*"))
    assert not list((with_national / "cache" / "models").glob("sverige-*"))


def test_hostile_or_unknown_se_is_a_warning_not_a_crash(monkeypatch: pytest.MonkeyPatch,
                                                        with_national: Path) -> None:
    at = run_app(monkeypatch, with_national, page="compare", se="Nowhereville")
    _ok(at)
    assert any("Nowhereville" in w.value for w in at.warning)
    assert at.selectbox(key="se__en").value is None
    assert "se" not in at.query_params
