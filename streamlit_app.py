"""Livability explorer: page frame and navigation. The views live in the ``app`` package.

Run with ``make run`` (``python -m app.launch run streamlit_app.py``: Streamlit's own CLI and
server, plus a warm-up of the map page's caches as soon as the server listens, see
:mod:`app.launch`) or plain ``streamlit run streamlit_app.py``. The data folder is ``LIVABILITY_DATA_DIR``
(default ``./data``); the region ``LIVABILITY_REGION`` (default ``blekinge``).
"""

from __future__ import annotations

import json
import logging
import os
import time

import streamlit as st

from app.import_lock import IMPORT_LOCK

with IMPORT_LOCK:  # the warm-up thread (app.warm) may be importing the same modules right now
    from app import state as app_state
    from app import view_first_run as first_run
    from app.common import (
        Ctx,
        bound,
        compute_result,
        error_panel,
        safe_text,
        store,
        themes_with_data,
        weights_sidebar,
    )
    from app.data import current_key, get_snapshot
    from app.state import FOCUS_KEY, LEFT_KEY
    from app.views import VIEWS
    from geo.catalog import t
    from geo.errors import LivabilityError
    from geo.settings import data_dir

log = logging.getLogger("livability.app")

st.set_page_config(page_title="Livability explorer", page_icon="🗺️", layout="wide")

_MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: Phones (Streamlit stacks columns below 640 px): a smaller title and a map shorter than the screen
#: (the map inside follows the iframe, see app.view_map). Tablets and narrow windows: the map and the
#: ranking stack instead of squeezing into two thin columns.
_RESPONSIVE_CSS = f"""<style>
/* WCAG 2.1 AA (1.4.3): captions, legends and the sliders' min/max in a grey of 6.2:1 on the
   sidebar and 6.7:1 on white (Streamlit draws captions at 60 % opacity: 3.9:1) */
[data-testid="stCaptionContainer"], [data-testid="stSliderTickBarMin"],
[data-testid="stSliderTickBarMax"] {{ color: #5a5c65 !important; opacity: 1 !important; }}
@media (max-width: 640px) {{
  h1 {{ font-size: 2rem !important; }}
  {_MAP_IFRAME} {{ height: min(560px, 58vh) !important; }}
}}
@media (max-width: 1300px) {{
  [data-testid="stHorizontalBlock"]:has({_MAP_IFRAME}) {{ flex-wrap: wrap; }}
  [data-testid="stHorizontalBlock"]:has({_MAP_IFRAME}) > [data-testid="stColumn"] {{
    width: 100% !important; flex: 1 1 100% !important; min-width: 100% !important; }}
}}
</style>"""


#: The map's iframe is named after the component ("streamlit_folium.st_folium") and Streamlit has
#: no public way to title it: this script (in the page, not in a frame) gives every such iframe an
#: accessible name in the UI language (aria-label, which screen readers and axe's frame-title rule
#: use before the title; the title stays, so selectors that find the map keep working).
_MAP_LABEL_JS = """<script>
(function () {
  window.__livabilityMapLabel = %s;
  function label() {
    document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]').forEach(function (f) {
      if (f.getAttribute("aria-label") !== window.__livabilityMapLabel) {
        f.setAttribute("aria-label", window.__livabilityMapLabel); }
    });
  }
  label();
  if (!window.__livabilityMapObserver) {
    window.__livabilityMapObserver = new MutationObserver(label);
    window.__livabilityMapObserver.observe(document.body, {childList: true, subtree: true});
  }
})();
</script>"""


def map_label_script(lang: str, region: str) -> str:
    """The script that names the map iframes "Interactive map of <region>" in ``lang``."""
    label = json.dumps(t("map_frame_title", lang, region=region)).replace("<", "\\u003c")
    return _MAP_LABEL_JS % label


def _init_state(known_places: set[str] | None, aliases: dict[str, str] | None = None) -> None:
    """First run of a session: take the view from the URL (invalid values are ignored)."""
    if st.session_state.get("_init"):
        return
    s = app_state.parse_params(st.query_params.to_dict(), known_places, aliases)
    st.session_state.update(page=s.page, lang=s.lang, persona=s.persona, place=s.place,
                            compare=s.compare, point=s.point, commute=s.commute,
                            commute_name=s.commute_name, commute_mode=s.commute_mode,
                            commute_max=s.commute_max, se=s.se, se_with=s.se_with, _init=True)
    if s.se:  # a shared "compare with where you live now" link opens on that comparison
        st.session_state["compare_kind"] = "sweden"
    weights = app_state.persona_weights(s.persona) | s.weights
    for k, v in weights.items():
        st.session_state[f"w_{k}"] = v


def _apply_goto() -> None:
    goto = st.session_state.pop("_goto", None)
    if goto:
        st.session_state["page"], st.session_state["place"] = goto


def _sync_url(ctx: Ctx) -> None:
    # a theme without data is weighted 0 and has no slider: it is left out of the link
    weights = {k: v for k, v in ctx.weights.items() if k in ctx.themes}
    s = app_state.ViewState(page=st.session_state["page"], lang=ctx.lang, persona=ctx.persona,
                            weights=weights, place=st.session_state.get("place"),
                            compare=list(st.session_state.get("compare") or []),
                            point=st.session_state.get("point"),
                            commute=st.session_state.get("commute"),
                            commute_name=st.session_state.get("commute_name"),
                            commute_mode=st.session_state.get("commute_mode")
                            or app_state.COMMUTE_MODES[0],
                            commute_max=st.session_state.get("commute_max"))
    if st.session_state.get("compare_kind") == "sweden":  # only while that comparison is shown
        s.se, s.se_with = st.session_state.get("se"), st.session_state.get("se_with")
    wanted = app_state.encode_params(s)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def main() -> None:
    """Frame: language, navigation, weights; then the chosen view inside an error boundary."""
    st.html(_RESPONSIVE_CSS)
    key = current_key()
    known: set[str] | None = None
    aliases: dict[str, str] = {}
    if key is not None:
        try:
            snap = get_snapshot(key)
            loc, mun = snap.localities(), snap.municipalities()
            known = set(loc["code"].astype(str)) | set(mun.get("code", []).astype(str))
            names = loc["name"].astype(str).str.casefold()
            unique = ~names.duplicated(keep=False)
            aliases = dict(zip(names[unique], loc.loc[unique, "code"].astype(str)))
        except LivabilityError as exc:
            _init_state(None)
            lang = st.session_state["lang"]
            st.title(t("app_title", lang))
            error_panel(exc, key.region, lang)
            return
    _init_state(known, aliases)
    _apply_goto()
    lang = st.sidebar.segmented_control(
        t("language", st.session_state["lang"]), ["en", "sv"], key="lang", required=True,
        format_func=lambda v: {"en": "English", "sv": "Svenska"}[v])
    lang = lang or "en"
    if key is None:
        first_run.render(lang, data_dir())
        return
    store("page", st.sidebar.radio(t("page", lang), list(VIEWS), **bound("page", lang),
                                   format_func=lambda p: t(f"page_{p}", lang)))
    persona, weights = weights_sidebar(lang, key)
    ctx = Ctx(key=key, lang=lang, persona=persona, weights=weights, themes=themes_with_data(key))
    st.title(t("app_title", lang))
    st.caption(t("tagline", lang, region=safe_text(ctx.snapshot.region_name)))
    if st.session_state["page"] != "map":
        st.session_state[LEFT_KEY] = True  # the map's next visit starts with no stale click
        st.session_state.pop(FOCUS_KEY, None)
    try:
        compute_result(ctx)
        VIEWS[st.session_state["page"]](ctx)
    except LivabilityError as exc:
        error_panel(exc, key.region, lang)
    except Exception as exc:
        log.exception("view %s failed", st.session_state.get("page"))
        error_panel(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}",
                    key.region, lang, generic=True)
    _sync_url(ctx)
    st.sidebar.caption(t("share_link", lang))
    st.sidebar.html(map_label_script(lang, ctx.snapshot.region_name), unsafe_allow_javascript=True)


def _timed_main() -> None:
    """Run :func:`main`; with ``LIVABILITY_RUN_LOG=FILE`` append one JSON line per script run.

    The line holds the run's start (epoch seconds), its wall time, the page and how it ended
    (``ok``, ``rerun`` when st.rerun or a newer user action cut it short, ``error``). It is what
    ``benchmarks/app_load.py`` reads; unset (the default) nothing is measured or written.
    """
    path = os.environ.get("LIVABILITY_RUN_LOG")
    if not path:
        main()
        return
    start, t0, outcome = time.time(), time.perf_counter(), "error"
    try:
        main()
        outcome = "ok"
    except BaseException as exc:  # st.rerun / st.stop are control-flow exceptions
        outcome = "rerun" if "Rerun" in type(exc).__name__ else type(exc).__name__
        raise
    finally:
        line = json.dumps({"start": start, "seconds": round(time.perf_counter() - t0, 4),
                           "page": st.session_state.get("page"), "outcome": outcome})
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())  # one O_APPEND write: lines never interleave
        finally:
            os.close(fd)


_timed_main()
