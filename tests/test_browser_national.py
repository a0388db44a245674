"""Real-browser test of "compare with where you live now": Malmö beside Ronneby from a shared URL.

A store with the Blekinge snapshot and the national one (``sverige``), both built offline from the
packs beside the checkout; the app serves Blekinge. The shared address
``?page=compare&se=Malmö&with=1081TC109`` opens the comparison in English and Swedish, on a desktop
(1440 x 900) and a phone (390 x 844): both names shown, the scores equal the national model's
(computed here from the same store), the percentile sentence present, nothing wider than a phone.
Screenshots and the page-load times go to artifacts/national/ (git-ignored).
Skips without chromium/chromedriver or either pack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest
from _browser import chromium, have_chromium, serve_store

from app.state import persona_weights
from app.view_national import national_weights
from geo.compare import compare_places
from geo.messages import fmt_number, render

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "artifacts" / "national"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.pack]

if not have_chromium():
    pytest.skip("Debian chromium / chromedriver not installed", allow_module_level=True)
pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
#: language -> the score row's label in the compare table
SCORE_ROW = {"en": "Score", "sv": "Poäng"}


@pytest.fixture(scope="module")
def both_store(pack_dir: Path, sweden_pack: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Blekinge and the whole country in one data folder (about 15 s to build)."""
    from geo.build import build_region

    data = tmp_path_factory.mktemp("national_store")
    build_region("blekinge", packs=[pack_dir], offline=True, data=data, default_packs=False)
    build_region("sverige", packs=[sweden_pack], offline=True, data=data, default_packs=False)
    return data


@pytest.fixture(scope="module")
def expected(both_store: Path) -> dict[str, Any]:
    """Malmö and Ronneby scored by the national model with the app's default (balanced) weights."""
    from geo.scoring import build_model, score
    from geo.store import open_snapshot

    model = build_model(open_snapshot("sverige", both_store))
    have = set(model.loc_scores.columns[model.loc_scores.notna().any().to_numpy()])
    themes = tuple(k for k in persona_weights("balanced")
                   if any(i.layer == k and i.key in have for i in model.indicators))
    blekinge = build_model(open_snapshot("blekinge", both_store))
    bl_have = set(blekinge.loc_scores.columns[blekinge.loc_scores.notna().any().to_numpy()])
    bl_themes = tuple(k for k in persona_weights("balanced")
                      if any(i.layer == k and i.key in bl_have for i in blekinge.indicators))
    w = national_weights({k: v if k in bl_themes else 0.0 for k, v in
                          persona_weights("balanced").items()}, bl_themes, "balanced", themes)
    s = score(model, w)
    malmo, ronneby = compare_places(model, s, ["Malmö", "1081TC109"])
    return {"model": model, "places": (malmo, ronneby)}


@pytest.fixture(scope="module")
def app_url(both_store: Path) -> Iterator[str]:
    with serve_store(both_store, SHOTS) as url:
        yield url


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    with chromium("1440,900") as drv:
        yield drv


def _idle(drv: Any, timeout: float = 120) -> None:
    time.sleep(0.4)
    WebDriverWait(drv, timeout).until(lambda d: not d.find_elements(
        By.CSS_SELECTOR, "[data-testid='stStatusWidget']"))


def _tables(drv: Any) -> list[list[list[str]]]:
    """Every ``.lv-compare`` table as rows of cell texts (the header row first)."""
    return list(drv.execute_script(
        "return Array.from(document.querySelectorAll('.lv-compare table')).map(t =>"
        " Array.from(t.querySelectorAll('tr')).map(r =>"
        " Array.from(r.children).map(c => c.textContent.trim())));"))


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_shared_link_compares_malmo_with_ronneby(app_url: str, driver: Any, expected: dict[str, Any],
                                                 lang: str, size: str) -> None:
    drv = driver
    drv.set_window_size(*SIZES[size])
    malmo, ronneby = expected["places"]
    url = app_url + f"/?page=compare&se={quote('Malmö')}&with=1081TC109&lang={lang}"
    t0 = time.perf_counter()
    drv.get(url)
    WebDriverWait(drv, 240).until(lambda d: len(_tables(d)) >= 2 and
                                  "Malmö (Malmö)" in d.find_element(By.TAG_NAME, "body").text)
    _idle(drv)
    load_s = round(time.perf_counter() - t0, 2)
    body = _norm(drv.find_element(By.TAG_NAME, "body").text)
    assert "Malmö (Malmö)" in body and "Ronneby (Ronneby)" in body
    summary = _tables(drv)[0]
    assert summary[0][1:] == ["Malmö (Malmö)", "Ronneby (Ronneby)"]
    row = next(r for r in summary if r[0] == SCORE_ROW[lang])
    want = [fmt_number(p.composite, lang, 1, grouping=False) for p in (malmo, ronneby)]
    assert [_norm(c) for c in row[1:]] == [_norm(w) for w in want]
    for p in (malmo, ronneby):  # "better than 78% of Sweden's 126 towns"
        msg = p.percentile_message(expected["model"])
        assert msg is not None and _norm(render(msg, lang)) in body
    assert {"en": "national data pack", "sv": "nationella datapaketet"}[lang] in body
    query = parse_qs(urlparse(drv.current_url).query)
    assert query["se"] == [malmo.ref.code] and query["with"] == ["1081TC109"]
    inner, scroll = drv.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]")
    assert scroll <= inner + 1, f"{scroll} px wide on a {inner} px screen"
    SHOTS.mkdir(parents=True, exist_ok=True)
    picker = drv.find_elements(By.CSS_SELECTOR, "[data-testid='stRadio']")[-1]
    drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", picker)
    time.sleep(0.5)
    drv.save_screenshot(str(SHOTS / f"{size}_{lang}_top.png"))
    first = drv.find_element(By.CSS_SELECTOR, ".lv-compare table")
    drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", first)
    time.sleep(0.5)
    drv.save_screenshot(str(SHOTS / f"{size}_{lang}_summary.png"))
    tables = drv.find_elements(By.CSS_SELECTOR, ".lv-compare table")
    drv.execute_script("arguments[0].scrollIntoView({block: 'start'})", tables[1])
    time.sleep(0.5)
    drv.save_screenshot(str(SHOTS / f"{size}_{lang}_indicators.png"))
    drv.execute_script("arguments[0].scrollIntoView({block: 'end'})", tables[-1])
    time.sleep(0.5)
    drv.save_screenshot(str(SHOTS / f"{size}_{lang}_context.png"))
    out = SHOTS / "timings.json"
    old = json.loads(out.read_text()) if out.exists() else {}
    old[f"{size}_{lang}"] = {"compare_page_load_s": load_s}
    out.write_text(json.dumps(old, indent=1))
