"""Data strings never become markup in the app: one escaping helper, a source rule, AppTest, Chromium.

- :func:`app.common.safe_text` is the one helper; the source rule (``test_every_rendered_data_string
  _goes_through_safe_text``) reads app/*.py and streamlit_app.py and fails on any st.* call that
  renders markdown with a value not known to be safe (see :func:`_unsafe_calls`).
- AppTest renders a SYNTHETIC store whose locality, municipality and region names hold a markdown
  image, a link, bold, HTML, LaTeX, a colour directive, an emoji shortcode and an autolink, on the
  map, profile, compare and data pages, and checks the element values.
- A real headless Chromium (marked ``browser``; skipped without /usr/bin/chromium) opens that
  locality's profile and the map against ``streamlit run`` and checks the DOM and that a counting
  HTTP server on 127.0.0.1, which every hostile URL points at, got no request.
"""

from __future__ import annotations

import ast
import html
import http.server
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import geopandas as gpd
import pytest
from _app_fixtures import compare_table, run_app
from _browser import CHROMEDRIVER, CHROMIUM, chromium, serve_app
from shapely.geometry import Point, box

from app.common import WORD_JOINER, safe_text
from geo.messages import text
from geo.schema import Provenance, conform
from geo.store import write_snapshot

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [*sorted((ROOT / "app").glob("*.py")), ROOT / "streamlit_app.py"]


def hostile_name(port: int) -> str:
    """A locality name with every kind of markup Streamlit or a browser could act on."""
    host = f"http://127.0.0.1:{port}"
    return (f"![x]({host}/image.png) [link]({host}/link) **bold** <img src=x onerror=alert(1)> "
            f"<img src={host}/html.png> $x$ :red[x] :tada: {host}/autolink _em_ `code` # | ~s~")


def hostile_muni(port: int) -> str:
    return f"Kommun **fet** [m](http://127.0.0.1:{port}/muni) $k$"


HOSTILE_REGION = "County **x** :blue[y] $z$"
SYNTH = Provenance(source="SYNTHETIC test fixture", license="CC0-1.0", date="2026",
                   coverage="complete", attribution="synthetic test data")


def unescape(value: str) -> str:
    """What a reader sees of ``safe_text(x)``: backslash escapes, entities, word joiners resolved."""
    return html.unescape(re.sub(r"\\(.)", r"\1", value.replace(WORD_JOINER, "")))


def write_hostile_store(data: Path, port: int) -> Path:
    """A SYNTHETIC snapshot whose S003 locality, 9902 municipality and region have hostile names."""
    crs = "EPSG:4326"
    name, muni = hostile_name(port), hostile_muni(port)
    places = [("S001", "Alphaby", "9901", 12000, 15.00, 56.20),
              ("S002", "Betaköping", "9901", 3000, 15.08, 56.22),
              ("S003", name, "9902", 800, 15.20, 56.18),
              ("S004", "Deltavik", "9902", 450, 15.30, 56.25)]
    munis = gpd.GeoDataFrame({"code": ["9901", "9902"], "name": ["Västkommun", muni]},
                             geometry=[box(14.9, 56.1, 15.15, 56.3), box(15.15, 56.1, 15.45, 56.3)],
                             crs=crs)
    locs = gpd.GeoDataFrame(
        {"code": [p[0] for p in places], "name": [p[1] for p in places],
         "municipality": [p[2] for p in places],
         "municipality_name": ["Västkommun" if p[2] == "9901" else muni for p in places],
         "population": [p[3] for p in places], "area_ha": [100.0] * len(places),
         "source": SYNTH.source, "license": SYNTH.license, "source_date": SYNTH.date,
         "coverage": "complete"},
        geometry=[Point(p[4], p[5]) for p in places], crs=crs)
    layers = {
        "schools": (["Alpha skola", name], ["school", "school"], [(15.005, 56.201), (15.201, 56.181)]),
        "transit": (["Beta station", "Delta C"], ["rail_station"] * 2, [(15.081, 56.221), (15.3, 56.25)]),
        "services": (["Apotek Alpha", name], ["pharmacy", "grocery"], [(15.0, 56.199), (15.2, 56.18)]),
    }
    with write_snapshot("blekinge", {"name": HOSTILE_REGION, "code": "99"}, data) as w:
        w.put_base("boundary", gpd.GeoDataFrame({"name": [HOSTILE_REGION]},
                                                geometry=[box(14.9, 56.1, 15.45, 56.3)], crs=crs),
                   [SYNTH])
        w.put_base("municipalities", munis, [SYNTH])
        w.put_base("localities", locs, [SYNTH])
        for key, (names, kinds, xy) in layers.items():
            gdf = conform(gpd.GeoDataFrame({"name": names, "kind": kinds},
                                           geometry=[Point(*p) for p in xy], crs=crs), key, SYNTH)
            w.put_layer(key, gdf, [SYNTH], "complete")
            empty = gdf.iloc[0:0]
        for key in ("nature", "housing", "workplaces", "culture"):
            w.put_layer(key, empty, [], "missing", reason=text(f"synthetic store has none: {name}"))
    return data


# -- the helper -------------------------------------------------------------------------------
@pytest.mark.parametrize("raw", [
    "![x](http://h/x.png)", "[l](http://h/)", "**b** __b__ *i* _i_", "<img src=x onerror=alert(1)>",
    "`code`", "# heading", "- item", "1. item", "> quote", "a | b", "$x^2$", ":red[x]", ":tada:",
    ":material/map:", "http://h/p", "www.example.com", "a@b.se", "---", "=== x", "~~s~~",
    "&lt;b&gt;", "\\*", "Bräkne-Hoby (Ronneby)",
])
def test_safe_text_round_trips_and_leaves_no_markup(raw: str) -> None:
    out = safe_text(raw)
    assert unescape(out) == raw  # the reader sees the literal text
    assert "<" not in out and ">" not in out  # no HTML at all
    # every markdown metacharacter is escaped: none is preceded by anything but a backslash
    assert not re.search(r"(?<!\\)[`*_\[\]#|$~!]", out)
    assert not re.match(r"[-+=]|\d+[.)]", out)  # no list item / underline at a line's start
    assert not re.search(r":[A-Za-z/]", out.replace("\\:" + WORD_JOINER, ""))  # no :name
    assert "http:/" not in out and "www." not in out.lower().replace("\\", "")


def test_safe_text_contexts_and_normalisation() -> None:
    assert safe_text(None) == safe_text(float("nan")) == ""
    assert safe_text("a\nb\u202ec\x00 ") == "a b c"  # one line, no bidi override, no NUL
    assert safe_text("<b>*x*</b>\n", "plain") == "<b>*x*</b>"  # literal elements: text only
    assert safe_text("/tmp/`x`_1", "code") == "/tmp/'x'_1"  # inside a code span
    assert safe_text("Karlskrona") == "Karlskrona"  # plain names are unchanged
    assert safe_text(12.5) == "12\\.5"


# -- the source rule --------------------------------------------------------------------------
#: st.* calls whose text argument is rendered as markdown (found with Chromium: header, markdown,
#: caption, error, metric label AND value, expander, radio, button all render images and links)
MARKDOWN_CALLS = {"markdown", "header", "subheader", "title", "caption", "write", "error",
                  "warning", "info", "success", "toast", "metric", "expander", "button",
                  "download_button", "popover"}
#: option widgets whose format_func output is shown literally / rendered as markdown
PLAIN_OPTIONS = {"selectbox", "multiselect"}
MARKDOWN_OPTIONS = {"radio", "segmented_control", "pills"}
NUMERIC = {"len", "int", "float", "round", "num", "fmt_number", "fmt_percent"}
STR_METHODS = {"lower", "upper", "strip", "title"}
#: geo.catalog's title look-ups: catalogue strings, like ``t``
CATALOGUE_TITLES = {"layer_title", "indicator_title", "persona_title", "stat_title"}
OPT_OUT = "# safe-markdown:"


class _Checker:
    """Decides whether an expression is safe to hand to a markdown-rendering element.

    Safe: string/number constants; f-strings, ``+``, ``x if c else y`` and ``or`` of safe parts;
    ``safe_text(v)`` / ``safe_text(v, "code")`` (``"plain"`` where markdown renders is unsafe);
    translations ``t(key, lang, **kw)`` / ``ctx.t(key, **kw)`` whose keyword values are safe and
    the catalogue's titles (``persona_title(k, lang)`` ...);
    ``len``/``int``/``float``/``round``/``num``; module constants (``UPPER_CASE`` names, their
    subscripts and attributes, e.g. ``LAYERS[k].icon``); a local name whose every
    assignment in the function is safe. Everything else (parameters, attributes of data, loop
    variables) is unsafe unless the call's line carries ``# safe-markdown: <why>``.
    """

    def __init__(self, fn: ast.AST | None, markdown: bool = True) -> None:
        self.assigned: dict[str, list[ast.expr]] = {}
        self.containers: set[str] = set()  # c1, c2, c3 = st.columns(3); with st.expander() as x
        self.markdown = markdown
        for node in ast.walk(fn) if fn is not None else []:
            if isinstance(node, ast.Assign):
                for tgt in node.targets:
                    if isinstance(tgt, ast.Name):
                        self.assigned.setdefault(tgt.id, []).append(node.value)
                    if _from_st(node.value):
                        self.containers |= {n.id for n in ast.walk(tgt) if isinstance(n, ast.Name)}
            elif isinstance(node, ast.withitem) and _from_st(node.context_expr) and isinstance(
                    node.optional_vars, ast.Name):
                self.containers.add(node.optional_vars.id)
            elif (isinstance(node, (ast.AnnAssign, ast.AugAssign))
                  and isinstance(node.target, ast.Name) and node.value is not None):
                self.assigned.setdefault(node.target.id, []).append(node.value)

    def safe(self, e: ast.expr | None, depth: int = 0) -> bool:
        if e is None or depth > 6:
            return e is None
        if isinstance(e, ast.Constant):
            return True
        if isinstance(e, ast.JoinedStr):
            return all(self.safe(v.value, depth + 1) for v in e.values
                       if isinstance(v, ast.FormattedValue))
        if isinstance(e, ast.BinOp):
            return self.safe(e.left, depth + 1) and self.safe(e.right, depth + 1)
        if isinstance(e, ast.IfExp):
            return self.safe(e.body, depth + 1) and self.safe(e.orelse, depth + 1)
        if isinstance(e, ast.BoolOp):
            return all(self.safe(v, depth + 1) for v in e.values)
        if isinstance(e, ast.Name):
            if e.id.isupper():
                return True
            values = self.assigned.get(e.id)
            return bool(values) and all(self.safe(v, depth + 1) for v in values)
        if isinstance(e, (ast.Subscript, ast.Attribute)):
            return self._constant(e)
        if isinstance(e, ast.Call):
            return self._safe_call(e, depth)
        return False

    def _constant(self, e: ast.expr) -> bool:
        while isinstance(e, (ast.Subscript, ast.Attribute, ast.Call)):
            if isinstance(e, ast.Attribute) and e.attr.isupper():
                return True
            e = e.func if isinstance(e, ast.Call) else e.value
        if isinstance(e, ast.Dict):
            return all(isinstance(v, ast.Constant) for v in e.values)
        return isinstance(e, ast.Name) and e.id.isupper()

    def _safe_call(self, e: ast.Call, depth: int) -> bool:
        f = e.func
        name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
        if name == "safe_text":
            ctx = e.args[1] if len(e.args) > 1 else next(
                (k.value for k in e.keywords if k.arg == "context"), None)
            wanted = ("markdown", "code") if self.markdown else ("markdown", "code", "plain")
            return ctx is None or (isinstance(ctx, ast.Constant) and ctx.value in wanted)
        if name == "t" or name in CATALOGUE_TITLES:
            return all(self.safe(k.value, depth + 1) for k in e.keywords)
        if name in NUMERIC:
            return True
        if isinstance(f, ast.Attribute) and name in STR_METHODS:
            return self.safe(f.value, depth + 1) or self._constant(e)
        return self._constant(e)


def _from_st(e: ast.expr) -> bool:
    """True when ``e`` is rooted at the ``st`` module (``st.columns(3)``, ``st.sidebar``...)."""
    while isinstance(e, (ast.Attribute, ast.Call, ast.Subscript)):
        e = e.func if isinstance(e, ast.Call) else e.value
    return isinstance(e, ast.Name) and e.id == "st"


def _opted_out(lines: list[str], node: ast.Call) -> bool:
    """The call's lines, or the line above it, say ``# safe-markdown: <why>``."""
    first = max(node.lineno - 1, 1)
    return any(OPT_OUT in lines[i - 1] for i in range(first, (node.end_lineno or 0) + 1))


def _rendered_args(node: ast.Call, attr: str) -> list[ast.expr]:
    if attr == "metric":
        args = node.args[:3] + [k.value for k in node.keywords if k.arg in ("label", "value", "delta")]
    else:
        args = node.args[:1] + [k.value for k in node.keywords if k.arg in ("body", "label")]
    return args + [k.value for k in node.keywords if k.arg == "help"]


def _unsafe_calls(source: str, filename: str = "<src>") -> list[str]:
    """``file:line: call`` of every st.* call rendering an expression not known to be safe."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[str] = []
    scopes: list[tuple[ast.AST | None, ast.AST]] = [(None, tree)]
    scopes += [(fn, fn) for fn in ast.walk(tree)
               if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))]
    seen: set[int] = set()
    for fn, body in reversed(scopes):  # innermost function first
        for node in ast.walk(body):
            if not isinstance(node, ast.Call) or id(node) in seen:
                continue
            seen.add(id(node))
            f = node.func
            if not isinstance(f, ast.Attribute):
                continue
            checker = _Checker(fn)
            if not (_from_st(f.value) or (isinstance(f.value, ast.Name)
                                          and f.value.id in checker.containers)):
                continue  # not a Streamlit element (zf.write, log.info ...)
            bad: list[ast.expr] = []
            if f.attr in MARKDOWN_CALLS:
                bad = [a for a in _rendered_args(node, f.attr) if not checker.safe(a)]
                if any(k.arg == "unsafe_allow_html" for k in node.keywords):
                    bad = bad or [node]
            for k in node.keywords:
                if k.arg == "format_func" and f.attr in PLAIN_OPTIONS | MARKDOWN_OPTIONS:
                    fmt = k.value.body if isinstance(k.value, ast.Lambda) else k.value
                    opt = _Checker(fn, markdown=f.attr in MARKDOWN_OPTIONS)
                    if not (opt.safe(fmt) or (isinstance(fmt, ast.Attribute) and fmt.attr == "t")):
                        bad.append(fmt)
            if bad and not _opted_out(lines, node):
                out.append(f"{filename}:{node.lineno}: {ast.unparse(node)[:120]}")
    return out


def test_source_rule_catches_the_probe_findings() -> None:
    """The rule flags the shapes the hostile-user probe found, and accepts their fixes."""
    bad = '''
def render(ctx, name, msg, opts):
    c1, c2 = st.columns(2)
    st.header(name)
    st.caption(f"{ctx.t('municipality')}: {name}")
    st.info(ctx.t("scores_failed", msg=msg))
    c1.metric("Region", ctx.snapshot.region_name)
    st.markdown(f"- {safe_text(name, 'plain')}")
    st.selectbox("p", list(opts), format_func=lambda c: opts[c])
    st.markdown(f"<b>{name}</b>", unsafe_allow_html=True)
'''
    assert len(_unsafe_calls(bad)) == 7, _unsafe_calls(bad)
    good = '''
def render(ctx, name, msg, opts):
    c1, c2 = st.columns(2)
    label = safe_text(name) if name else ctx.t("missing")
    st.header(safe_text(name))
    st.caption(f"{ctx.t('municipality')}: {safe_text(name)} ({len(opts)})")
    st.info(ctx.t("scores_failed", msg=safe_text(msg)))
    c1.metric("Region", safe_text(ctx.snapshot.region_name), help=ctx.t("x"))
    st.markdown(f"- **{label}**: `{safe_text(name, 'code')}`")
    st.selectbox("p", list(opts), format_func=lambda c: safe_text(opts[c], "plain"))
    st.radio("k", KINDS, format_func=ctx.t)
    st.markdown(f"<b>{COLOUR}</b>", unsafe_allow_html=True)  # safe-markdown: constants
'''
    assert _unsafe_calls(good) == []


def test_every_rendered_data_string_goes_through_safe_text() -> None:
    """The rule holds in app/*.py and streamlit_app.py (grep ``# safe-markdown:`` for opt-outs)."""
    problems = []
    for path in SOURCES:
        problems += _unsafe_calls(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    assert problems == []
    opt_outs = [ln for p in SOURCES for ln in p.read_text(encoding="utf-8").splitlines()
                if OPT_OUT in ln]
    assert len(opt_outs) <= 2 and all(ln.split(OPT_OUT, 1)[1].strip() for ln in opt_outs)
    assert not any("md_text" in p.read_text(encoding="utf-8") for p in SOURCES)  # one helper


# -- AppTest over a hostile store ---------------------------------------------------------------
#: Markup of the hostile names as it would read unescaped (a link is ``](`` without a backslash)
FRAGMENTS = ("![x]", "**bold**", "<img", "$x$", ":red[x]", ":tada:", "`code`", "**fet**",
             ":blue[y]", "$k$", "$z$", "http://")
_LINK = re.compile(r"(?<!\\)\]\(")


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_store(tmp_path_factory.mktemp("hostile"), 9)


def _markdown_values(at: object) -> list[str]:
    """Every value AppTest shows of elements that render markdown (cells of st.table included)."""
    vals: list[str] = []
    for kind in ("markdown", "caption", "header", "subheader", "title", "info", "warning",
                 "error", "success"):
        vals += [str(e.value) for e in getattr(at, kind)]
    for m in at.metric:  # type: ignore[attr-defined]
        vals += [str(m.label), str(m.value)]
    for tb in at.table:  # type: ignore[attr-defined]
        df = tb.value
        vals += [str(v) for v in df.to_numpy().ravel()] + [str(i) for i in df.index]
        vals += [str(c) for c in df.columns]
    vals += [str(e.label) for e in at.expander]  # type: ignore[attr-defined]
    return vals


def _no_raw_markup(at: object) -> None:
    assert not at.exception, [e.value for e in at.exception]  # type: ignore[attr-defined]
    for v in _markdown_values(at):
        hits = [f for f in FRAGMENTS if f in v] + _LINK.findall(v)
        assert not hits, (hits, v)


def test_profile_shows_the_hostile_names_as_literal_text(monkeypatch: pytest.MonkeyPatch,
                                                        hostile_store: Path) -> None:
    at = run_app(monkeypatch, hostile_store, page="profile", place="S003")
    _no_raw_markup(at)
    assert not at.error
    name, muni = hostile_name(9), hostile_muni(9)
    assert at.header[0].value == safe_text(name) and unescape(at.header[0].value) == name
    # the profile's HTML blocks (st.html: no markdown) carry the names HTML-escaped
    blocks = [str(e.proto.body) for e in at.get("html")]
    # the frame's one script names the map frames; its text is JSON with "<" escaped
    label = [b for b in blocks if "__livabilityMapLabel" in b]
    assert len(label) == 1 and "<img" not in label[0].split("</script>")[0].split("<script>", 1)[1]
    blocks = [b for b in blocks if b not in label]
    assert not [b for b in blocks if "<img" in b or "<script" in b]
    line = next(b for b in blocks if 'class="pf-line"' in b)
    assert html.escape(muni) in line
    assert 'class="pf-head"' in "".join(blocks)
    # the place picker shows the literal label (a selectbox renders text, not markdown)
    assert f"{name} ({muni})" in at.selectbox(key="place__en").options
    themes = next(b for b in blocks if 'class="pf-grid"' in b)
    assert html.escape(name) in themes  # the nearest amenity named like the place
    assert html.unescape(themes).count(name) >= 1


def test_map_compare_and_data_pages_show_literal_text(monkeypatch: pytest.MonkeyPatch,
                                                      hostile_store: Path) -> None:
    name, muni = hostile_name(9), hostile_muni(9)
    at = run_app(monkeypatch, hostile_store)  # the map page: ranking + picker
    _no_raw_markup(at)
    ranking = next(d.value for d in at.dataframe if "Locality" in d.value.columns)
    assert name in ranking["Locality"].tolist() and muni in ranking["Municipality"].tolist()
    assert name in at.selectbox(key="map_pick").options
    assert safe_text(HOSTILE_REGION) in at.caption[0].value  # the tagline
    at = run_app(monkeypatch, hostile_store, page="compare", compare="S003,S001")
    _no_raw_markup(at)
    table = compare_table(at)
    assert f"{name} ({muni})" in list(table.columns)
    assert at.multiselect(key="compare__en").value == ["S003", "S001"]
    at = run_app(monkeypatch, hostile_store, page="data")
    _no_raw_markup(at)
    assert at.metric[0].value == safe_text(HOSTILE_REGION)
    assert unescape(at.metric[0].value) == HOSTILE_REGION


def test_error_panel_escapes_the_exception_text(monkeypatch: pytest.MonkeyPatch,
                                                hostile_store: Path) -> None:
    from app import views

    def boom(_ctx: object) -> None:
        raise RuntimeError(hostile_name(9))

    monkeypatch.setitem(views.VIEWS, "data", boom)
    at = run_app(monkeypatch, hostile_store, page="data")
    assert len(at.error) == 1
    err = at.error[0].value
    assert safe_text(f"RuntimeError: {hostile_name(9)}") in err
    assert not [f for f in FRAGMENTS if f in err] and not _LINK.findall(err)
    assert "livability build --region blekinge" in err  # the advice is still there


# -- a real browser -----------------------------------------------------------------------------


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser_app() -> Iterator[tuple[str, int, list[str]]]:
    """A counting HTTP server and ``streamlit run`` over a hostile store pointing at it."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("Debian chromium / chromedriver not installed")
    pytest.importorskip("selenium.webdriver")
    counter = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    _Counter.hits = []
    threading.Thread(target=counter.serve_forever, daemon=True).start()
    hport = int(counter.server_address[1])
    data = write_hostile_store(Path(tempfile.mkdtemp(prefix="livability-hostile-")), hport)
    env = os.environ | {"LIVABILITY_DATA_DIR": str(data), "LIVABILITY_TILES": "none",
                        "PYTHONPATH": str(ROOT)}
    env.pop("LIVABILITY_REGION", None)
    try:
        with serve_app(ROOT, env) as url:
            yield url, hport, _Counter.hits
    finally:
        counter.shutdown()
        counter.server_close()
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.browser
@pytest.mark.slow
def test_browser_renders_hostile_names_inert(browser_app: tuple[str, int, list[str]]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, hport, hits = browser_app
    host = f"127.0.0.1:{hport}"
    name = hostile_name(hport)

    def text() -> str:
        return str(drv.find_element(By.TAG_NAME, "body").text).replace(WORD_JOINER, "")

    def inert(where: str) -> None:
        # nothing from the names became an element: no image, link, bold, maths, colour
        imgs = drv.execute_script("return Array.from(document.images).map(i => i.src)")
        assert not [s for s in imgs if host in s or s.endswith("/x")], (where, imgs)
        links = drv.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        assert not [h for h in links if host in h], (where, links)
        strong = drv.execute_script(
            "return Array.from(document.querySelectorAll('strong, b')).map(s => s.textContent)")
        assert not {"bold", "fet", "x"} & {s.strip() for s in strong}, (where, strong)
        assert not drv.find_elements(By.CSS_SELECTOR, ".katex"), where
        assert "🎉" not in text(), where

    with chromium() as drv:
        drv.get(url + "/?page=profile&place=S003")
        WebDriverWait(drv, 120).until(lambda d: "Theme breakdown" in text() and not d.find_elements(
            By.CSS_SELECTOR, "[data-testid='stStatusWidget']"))
        time.sleep(1.0)
        header = drv.find_element(By.CSS_SELECTOR, "[data-testid='stHeading'] h2")
        assert header.text.replace(WORD_JOINER, "").strip() == name  # the literal name
        inert("profile")
        drv.get(url + "/?page=map")
        WebDriverWait(drv, 120).until(lambda d: d.find_elements(
            By.CSS_SELECTOR, "iframe[title*='streamlit_folium']") and not d.find_elements(
            By.CSS_SELECTOR, "[data-testid='stStatusWidget']"))
        time.sleep(2.0)
        inert("map")
        drv.switch_to.frame(drv.find_element(By.CSS_SELECTOR, "iframe[title*='streamlit_folium']"))
        inert("map iframe")
        drv.switch_to.default_content()
        time.sleep(1.0)
        assert hits == []  # the browser never fetched a hostile URL


# -- the map sent without st_folium's per-run render (B1) ---------------------------------------
def test_precomputed_map_args_match_st_folium(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the map page sends equals what st_folium itself sends for the same map and layer.

    Two identical maps are built: st_folium draws one (its component function replaced by a
    recorder), :mod:`app.folium_adapter` renders the other once and sends the cached strings.
    This is the upgrade check of the adapter: a new streamlit-folium that computes anything
    differently fails here.
    """
    import dataclasses

    import folium
    import streamlit_folium as stf

    from app import folium_adapter
    from geo import maps

    if not folium_adapter.FAST:
        pytest.fail("streamlit-folium has no _component_func: app/folium_adapter.py needs a look")
    b = gpd.GeoDataFrame(geometry=[box(15.0, 56.0, 15.5, 56.3)], crs="EPSG:4326")
    locs = gpd.GeoDataFrame({"code": ["A1", "A2"], "name": [hostile_name(9), "Y"],
                             "population": [1000, 50]},
                            geometry=[Point(15.1, 56.1), Point(15.3, 56.2)], crs="EPSG:4326")
    style = ("fill_iframe", "<style>#map_div{height:100vh !important;}</style>")
    layers = {"schools": ("Schools", "#1b9e77", locs.assign(uid=["s1", "s2"]))}  # a clustered layer
    payload = folium_adapter.render_payload(maps.build_region_map(b, locs, layers=layers),
                                            extra_header=[style])
    with pytest.raises(dataclasses.FrozenInstanceError):
        payload.script = ""  # type: ignore[misc]  # the shared map cannot be changed
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(stf, "_component_func", lambda **kw: sent.append(kw) or None)
    returned = ["last_object_clicked_tooltip"]
    for focus in (None, False, True):
        group = None if focus is None else maps.highlight_group(
            locs.geometry.iloc[0], locs["name"].iloc[0], population=1000, focus=focus)
        theirs_map = maps.build_region_map(b, locs, layers=layers)
        theirs_map.get_root().header.add_child(folium.Element(style[1]), name=style[0])
        stf.st_folium(theirs_map, key="county_map_27", height=560, use_container_width=True,
                      returned_objects=returned, feature_group_to_add=group)
        theirs = sent.pop()
        ours_group = None if focus is None else maps.highlight_group(
            locs.geometry.iloc[0], locs["name"].iloc[0], population=1000, focus=focus)
        folium_adapter.send(payload, key="county_map_27", height=560, returned_objects=returned,
                            group=ours_group, session_state={})
        ours = sent.pop()
        assert set(ours) == set(theirs)
        for name in set(theirs) - {"on_change", "header"}:
            assert ours[name] == theirs[name], name
        # the header differs in one place only: the map frame can be zoomed (WCAG 1.4.4)
        assert "user-scalable=no" in str(theirs["header"])
        assert ours["header"] == folium_adapter.allow_zoom(str(theirs["header"]))
        assert "user-scalable" not in str(ours["header"])
        assert "maximum-scale" not in str(ours["header"])
        assert 'content="width=device-width,' in str(ours["header"])
        assert "map_div" in str(ours["script"]) and len(ours["js_links"]) == 2  # type: ignore[arg-type]
        assert len(ours["css_links"]) == 3  # type: ignore[arg-type]  # leaflet + 2 markercluster
        fg = str(ours["feature_group"] or "")
        assert ("place-highlight" in fg) is (focus is not None)
        assert ("__livabilityFocus" in fg) is bool(focus)
        assert hostile_name(9) not in fg  # the name is escaped (geo.maps.safe_text)
    for key in ("county_map_1", "county_map_27"):
        assert payload.component_key(key) == stf.generate_js_hash(payload.script, key, False)
