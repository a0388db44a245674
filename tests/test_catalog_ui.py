"""The catalogue's edge section: every key the app and the CLI use exists, layer specs hold keys."""

from __future__ import annotations

import ast
import dataclasses
import math
import string
from pathlib import Path

import pandas as pd
import pytest

from geo import catalog
from geo.catalog import CATALOGUE, indicator_title, layer_title, persona_title, stat_title, t
from geo.cli_score import table_text
from geo.messages import text
from layers import LAYERS, PERSONAS, Indicator, LayerSpec, Persona, all_indicators
from layers.context import CONTEXT_STATS, ContextStat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "geo").rglob("*.py"),
                  ROOT / "streamlit_app.py"])


def _t_calls() -> list[tuple[str, int, ast.expr]]:
    """``(file, line, first argument)`` of every ``t(...)`` / ``<obj>.t(...)`` call in the sources."""
    calls = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            f = node.func
            if (isinstance(f, ast.Name) and f.id == "t") or (isinstance(f, ast.Attribute)
                                                             and f.attr == "t"):
                calls.append((str(path.relative_to(ROOT)), node.lineno, node.args[0]))
    return calls


def test_sources_call_t_at_all() -> None:
    """The walk finds the calls (a walk that finds nothing would pass the tests below vacuously)."""
    literal = [a for _, _, a in _t_calls() if isinstance(a, ast.Constant)]
    assert len(literal) > 100


def test_every_literal_key_the_code_uses_is_in_the_catalogue() -> None:
    missing = [f"{f}:{line}: {a.value!r}" for f, line, a in _t_calls()
               if isinstance(a, ast.Constant) and isinstance(a.value, str)
               and a.value not in CATALOGUE]
    assert missing == []


def test_every_f_string_key_prefix_starts_some_catalogue_key() -> None:
    """``t(f"cli.score.col.{c}")``, ``t("mode_" + m)``: the literal head names existing keys."""
    bad = []
    for f, line, a in _t_calls():
        head = None
        if isinstance(a, ast.JoinedStr) and a.values and isinstance(a.values[0], ast.Constant):
            head = str(a.values[0].value)
        elif (isinstance(a, ast.BinOp) and isinstance(a.op, ast.Add)
              and isinstance(a.left, ast.Constant) and isinstance(a.left.value, str)):
            head = a.left.value
        if head is not None and not any(k.startswith(head) for k in CATALOGUE):
            bad.append(f"{f}:{line}: {head!r}...")
    assert bad == []


def test_every_layer_indicator_persona_and_context_line_has_titles_in_en_and_sv() -> None:
    keys = [f"layer.{k}" for k in LAYERS] + [f"layer.{k}.description" for k in LAYERS]
    keys += [f"indicator.{i.key}" for i in all_indicators()]
    keys += [f"persona.{k}" for k in PERSONAS] + [f"stat.{c.key}" for c in CONTEXT_STATS]
    assert len(keys) == 2 * 7 + 26 + 6 + 7  # 7 layers, 26 indicators, 6 personas, 7 lines
    lacking = [k for k in keys if k not in CATALOGUE or not all(s.strip() for s in CATALOGUE[k])]
    assert lacking == []


def test_titles_in_both_languages() -> None:
    assert (layer_title("schools", "sv"), layer_title("schools", "en")) == ("Skolor", "Schools")
    assert indicator_title("transit.rail", "sv") == "Järnvägsstation med cykel"
    assert indicator_title("transit.rail") == "Railway station by bike"
    assert persona_title("family", "sv") == "Barnfamilj"
    assert stat_title("context.population", "en") == "Population"
    assert layer_title("no_such_layer", "sv") == "no_such_layer"  # unknown: the key itself


@pytest.mark.parametrize("cls", [Indicator, LayerSpec, Persona, ContextStat])
def test_layer_specs_hold_keys_not_translated_titles(cls: type) -> None:
    names = {f.name for f in dataclasses.fields(cls)}
    assert not {n for n in names if n.startswith(("title_", "description_"))}
    assert not hasattr(cls, "title")


def test_t_keeps_its_fallbacks() -> None:
    assert t("page_map", "sv") == "Karta"
    assert t("page_map", "de") == "Map"  # an unknown language: English
    assert t("no.such.key", "sv") == "no.such.key"  # an unknown key: shown as itself
    assert t("tagline", "en", region="Blekinge") == \
        "Where to live in Blekinge: open data, transparent scores."


def test_no_placeholder_clashes_with_t_s_own_arguments() -> None:
    """``t(key, lang, **params)``: a ``{key}`` or ``{lang}`` placeholder could never be filled."""
    clash = [k for k, pair in CATALOGUE.items() for s in pair
             for _, name, _, _ in string.Formatter().parse(s) if name in ("key", "lang")]
    assert clash == []


def test_app_i18n_is_gone_and_nobody_imports_it() -> None:
    assert not (ROOT / "app" / "i18n.py").exists()
    importers = [str(p.relative_to(ROOT)) for p in [*SOURCES, *(ROOT / "tests").glob("*.py")]
                 if p.name != Path(__file__).name
                 and ("app.i18n" in p.read_text(encoding="utf-8")
                      or "from .i18n" in p.read_text(encoding="utf-8"))]
    assert importers == []


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"rank": [1.0, math.nan], "name": ["Ronneby", "Ö"], "composite": [61.25, math.nan],
                         "complete_share": [0.5, math.nan], "municipality": ["1081", "1082"],
                         "municipality_name": ["Ronneby", ""], "missing": ["", ""]})


def test_cli_table_renders_the_catalogue_in_english_and_swedish() -> None:
    en = table_text(_frame(), {"transit.bus": text("no stops")}, approximate=True).splitlines()
    sv = table_text(_frame(), {"transit.bus": text("no stops")}, approximate=True, lang="sv").splitlines()
    assert en[0].split() == ["Rank", "Locality", "Municipality", "Score", "Complete", "Band",
                             "Missing", "here"]
    assert sv[0].split() == ["Plats", "Ort", "Kommun", "Betyg", "Fullständigt", "Band", "Saknas",
                             "här"]
    assert en[2].split()[:5] == ["1", "Ronneby", "Ronneby", "61.2", "50%"]
    assert sv[2].split()[:6] == ["1", "Ronneby", "Ronneby", "61,2", "50", "%"]  # decimal comma
    assert en[3].split()[:5] == ["-", "Ö", "1082", "-", "-"]
    assert catalog.CATALOGUE["cli.score.missing_everywhere"][0] in en
    assert catalog.CATALOGUE["cli.score.approximate"][1] in sv
