"""The import graph and the dependency boundary of ``geo``, ``layers`` and ``app``.

* no import cycle between modules (function-local imports included: a cycle hidden inside a
  function is still a cycle), built with grimp;
* the package direction: ``app`` -> ``geo`` -> ``layers``; ``layers`` imports nothing from
  ``geo`` or ``app``, the engine never imports ``app`` or streamlit;
* no private name of a third-party dependency is used, except in the adapters listed below (each
  says why in its docstring and has its own upgrade check).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("geo", "layers", "app")

#: (file, dotted private name) the adapters may use. Every entry must be in use (no stale ones).
ALLOWED_PRIVATE = {
    ("app/folium_adapter.py", "streamlit_folium._component_func"),
    ("geo/sources/osmnx_errors.py", "osmnx._errors.InsufficientResponseError"),
    ("geo/sources/osmnx_errors.py", "osmnx._errors.ResponseStatusCodeError"),
}


@cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=True,
                             exclude_type_checking_imports=True, cache_dir=None)


def _internal_digraph() -> nx.DiGraph:
    graph = _graph()
    g = nx.DiGraph()
    for module in graph.modules:
        if module.split(".")[0] not in PACKAGES:
            continue
        g.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.split(".")[0] in PACKAGES:
                g.add_edge(module, imported)
    return g


def test_the_graph_holds_the_modules() -> None:
    modules = set(_internal_digraph())
    assert {"geo.cli", "geo.cli_common", "geo.build", "geo.maps", "layers.spec", "app.view_map",
            "app.folium_adapter"} <= modules
    assert len(modules) >= 50


def test_no_import_cycle_between_modules() -> None:
    cycles = [sorted(c) for c in nx.strongly_connected_components(_internal_digraph()) if len(c) > 1]
    assert cycles == []


def test_nothing_imports_the_streamlit_entry_point() -> None:
    """``streamlit_app.py`` is a script, not a package (grimp cannot root a graph there): it sits
    on top of the graph, so it closes no cycle as long as no package module imports it."""
    assert "streamlit_app" not in _graph().modules  # external imports are in the graph too
    tree = ast.parse((ROOT / "streamlit_app.py").read_text(encoding="utf-8"))
    first_party = {n.module.split(".")[0] for n in ast.walk(tree)
                   if isinstance(n, ast.ImportFrom) and n.module and _first_party(n.module)}
    assert first_party == {"app", "geo"}


def test_cli_sub_commands_never_import_the_cli_frame() -> None:
    graph = _graph()
    for sub in ("geo.cli_build", "geo.cli_score", "geo.cli_export"):
        assert "geo.cli" in graph.find_modules_that_directly_import(sub)
        assert not graph.chain_exists(sub, "geo.cli"), sub
        assert "geo.cli_common" in graph.find_modules_directly_imported_by(sub)


def test_engine_never_imports_the_app_or_streamlit() -> None:
    graph = _graph()
    for engine in ("geo", "layers"):
        assert not graph.chain_exists(engine, "app", as_packages=True), engine
        assert not graph.chain_exists(engine, "streamlit", as_packages=True), engine
        assert not graph.chain_exists(engine, "streamlit_folium", as_packages=True), engine


def test_geo_imports_layers() -> None:
    assert _graph().direct_import_exists(importer="geo", imported="layers", as_packages=True)


# layers/geo.errors and layers/geo.placetypes go away with the "vocab" branch of issue 9 (the shared
# vocabulary moves to layers/vocab.py); until it is merged this one assertion fails, so it is an
# expected failure that turns into a pass (strict=False) and needs no edit after the merge.
def test_layers_import_nothing_from_geo() -> None:
    graph = _graph()
    offenders = sorted(
        (m, i) for m in graph.find_children("layers") | {"layers"}
        for i in graph.find_modules_directly_imported_by(m) if i.split(".")[0] == "geo")
    assert offenders == []


# -- private names of dependencies ------------------------------------------------------------------
def _first_party(module: str) -> bool:
    return module.split(".")[0] in PACKAGES or module == "streamlit_app"


def _private(parts: list[str]) -> bool:
    return any(p.startswith("_") and not (p.startswith("__") and p.endswith("__")) for p in parts)


def _private_uses(path: Path) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of each private name of a third-party module used in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases: dict[str, str] = {}  # local name -> third-party module it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _first_party(a.name):
                    continue
                if _private(a.name.split(".")):
                    yield node.lineno, a.name
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _first_party(node.module) or node.module == "__future__":
                continue
            for a in node.names:
                dotted = f"{node.module}.{a.name}"
                if _private(dotted.split(".")):
                    yield node.lineno, dotted
                aliases[a.asname or a.name] = dotted
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private([node.attr]):
            base = node.value
            names: list[str] = []
            while isinstance(base, ast.Attribute):
                names.insert(0, base.attr)
                base = base.value
            if isinstance(base, ast.Name) and base.id in aliases:
                yield node.lineno, ".".join([aliases[base.id], *names, node.attr])
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in {"getattr", "hasattr"} and len(node.args) >= 2
              and isinstance(node.args[0], ast.Name) and node.args[0].id in aliases
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)
              and _private([node.args[1].value])):
            yield node.lineno, f"{aliases[node.args[0].id]}.{node.args[1].value}"


def _all_private_uses() -> dict[tuple[str, str], list[int]]:
    found: dict[tuple[str, str], list[int]] = {}
    files = [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]
    for path in [*files, ROOT / "streamlit_app.py"]:
        rel = path.relative_to(ROOT).as_posix()
        for line, name in _private_uses(path):
            found.setdefault((rel, name), []).append(line)
    return found


def test_the_private_name_scan_finds_what_it_should(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import streamlit_folium as stf\nimport osmnx._overpass\nfrom geopandas.io.arrow import "
        "_geopandas_to_arrow\nfrom osmnx import _errors\nimport folium\nfrom . import _local\n"
        "stf._component_func()\nfolium.__version__\nhasattr(stf, '_get_html')\nx._children\n",
        encoding="utf-8")
    assert sorted(_private_uses(probe)) == [
        (2, "osmnx._overpass"), (3, "geopandas.io.arrow._geopandas_to_arrow"),
        (4, "osmnx._errors"), (7, "streamlit_folium._component_func"),
        (9, "streamlit_folium._get_html")]


def test_no_private_name_of_a_dependency_outside_the_adapters() -> None:
    found = _all_private_uses()
    unexpected = {k: v for k, v in found.items() if k not in ALLOWED_PRIVATE}
    assert unexpected == {}
    assert set(found) >= ALLOWED_PRIVATE  # the allow-list names only what is really used


def test_the_folium_adapter_matches_the_installed_streamlit_folium() -> None:
    """Loud on an upgrade: a new streamlit-folium may feed its component differently."""
    import inspect

    import streamlit_folium

    from app import folium_adapter

    assert folium_adapter.installed_version() in folium_adapter.TESTED_VERSIONS, (
        "streamlit-folium was upgraded: re-check app/folium_adapter.py against its st_folium, "
        "then add the version to TESTED_VERSIONS")
    assert folium_adapter.FAST
    # the keywords st_folium passes its component are exactly those the adapter passes
    tree = ast.parse(inspect.getsource(streamlit_folium.st_folium))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "_component_func"]
    assert len(calls) == 1
    theirs = {k.arg for k in calls[0].keywords}
    payload = folium_adapter.MapPayload("", "", "", "map_div", (), (), "")
    ours = set(folium_adapter.component_kwargs(payload, key="k", height=1, returned_objects=(),
                                               feature_group=None, on_change=lambda: None))
    assert ours == theirs


def test_osmnx_error_adapter_finds_the_classes() -> None:
    """Loud on an upgrade: osmnx keeps its exception classes only in the private ``_errors``."""
    from geo.sources.osmnx_errors import insufficient_response_error, response_status_code_error

    for get in (insufficient_response_error, response_status_code_error):
        cls = get()
        assert issubclass(cls, Exception) and cls.__module__.startswith("osmnx")


# -- the CLI starts without the heavy stack --------------------------------------------------------
_HEAVY = ("geopandas", "pandas", "numpy", "shapely", "pyarrow", "scipy", "h3", "osmnx", "pyrosm",
          "sqlalchemy", "requests", "tqdm")


def test_cli_help_imports_no_heavy_dependency() -> None:
    """``livability --help`` (and each sub-command's) loads none of the heavy stack: the imports
    that need it stay function-local in geo/cli*.py."""
    import os
    import subprocess
    import sys

    code = ("import sys\nfrom geo.cli import main\n"
            "for argv in (['--help'], ['build', '--help'], ['info', '--help'], "
            "['score', '--help'], ['export', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit as e:\n"
            "        assert e.code == 0, argv\n"
            f"print(sorted(m for m in {_HEAVY!r} if m in sys.modules), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, check=True)
    assert out.stderr.strip() == "[]"
    assert "--format {gpkg,parquet,geojson,csv,postgis}" in out.stdout


def test_export_format_names_are_the_dispatch_tables() -> None:
    from geo.export import FORMATS
    from geo.settings import EXPORT_FORMATS

    assert tuple(FORMATS) == EXPORT_FORMATS


def _local_imports(path: Path) -> Iterator[tuple[int, str]]:
    """Function-local import statements of ``path``: (line, the line's text)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for sub in ast.walk(node):
                if isinstance(sub, ast.Import | ast.ImportFrom):
                    yield sub.lineno, lines[sub.lineno - 1]


def _unexplained(path: Path) -> list[str]:
    """Function-local imports of ``path`` without a ``# lazy:`` reason on their line or on the
    comment line just above their group of imports."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for n, text in _local_imports(path):
        k = n - 2
        while k > 0 and lines[k].lstrip().startswith(("from ", "import ")):
            k -= 1
        if "# lazy:" not in text and "# lazy:" not in lines[k]:
            out.append(f"{path.name}:{n}: {text.strip()}")
    return out


def test_every_lazy_cli_import_says_why(tmp_path: Path) -> None:
    """Each function-local import left in geo/cli*.py says why it is lazy."""
    demo = tmp_path / "cli_demo.py"
    demo.write_text("def f():\n    # lazy: heavy\n    import a\n    import b\n\n"
                    "def g():\n    import c  # lazy: heavy\n    import d\n", encoding="utf-8")
    assert _unexplained(demo) == ["cli_demo.py:8: import d"]
    assert [u for p in sorted((ROOT / "geo").glob("cli*.py")) for u in _unexplained(p)] == []


def test_no_text_and_message_pairs_are_left() -> None:
    """Issue 9: one Message type; no ``*_msg`` twins, ``render_or`` or ``parse_reason`` again."""
    import re

    pattern = re.compile(r"_msg\b|parse_reason|render_or")
    hits = [f"{p.relative_to(ROOT)}:{i}" for pkg in ("geo", "app", "layers")
            for p in sorted((ROOT / pkg).rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if pattern.search(line)]
    assert hits == []
