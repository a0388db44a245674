"""The one module that feeds streamlit-folium's component directly (the rest of the app does not).

Why it exists: ``st_folium(fmap)`` re-renders the whole folium tree (0.2-0.3 s for the county map's
~1,700 hexagons and 52 tooltips) and walks its ~0.4 MB script on *every* rerun of *every*
session, and it attaches ``feature_group_to_add`` to the map it is given, so a map shared between
sessions (``st.cache_resource``) would be mutated concurrently. streamlit-folium has no public API
to send an already rendered map, so the map page does this instead:

1. :func:`render_payload` renders a *freshly built* map once, with public folium / branca /
   streamlit-folium calls only (``Figure.render``, ``Figure.header`` / ``html``,
   :func:`streamlit_folium.generate_leaflet_string`, :func:`streamlit_folium.get_full_id`), into a
   frozen :class:`MapPayload` of strings: what may be cached and shared. The map object is
   dropped afterwards; nothing shared is ever mutated.
2. :func:`feature_group_script` turns the selected place's small layer into its script on a
   throwaway map (public ``add_to`` / ``render`` / ``generate_leaflet_string``).
   A weighting's colours (:func:`geo.maps.recolour_script`) ride in front of that script as
   ``dynamic``: the component evaluates the string in its live Leaflet map whenever it changes, and
   keeps the map itself while the payload (hence the component key) is the same, so a weight
   change re-colours the map instead of reloading it.
3. :func:`send` hands both to streamlit-folium's component function ``_component_func``: the
   **only private name** used (see ``PRIVATE_API``), together with the component's argument
   protocol (the keyword names st_folium passes it), which is not documented either.

What fails loudly on an upgrade of streamlit-folium (``tests/test_imports.py`` and
``tests/test_app_safety.py::test_precomputed_map_args_match_st_folium``): the version is outside
``TESTED_VERSIONS``; st_folium no longer calls ``_component_func`` with exactly the keywords
:func:`send` passes; or what :func:`render_payload` / :func:`feature_group_script` / :func:`send`
produce differs from what ``st_folium`` itself sends for the same map. At run time, if
``_component_func`` is gone, :data:`FAST` is False and the map page falls back to the public
``st_folium`` on a map built for that run (slower, still never shared).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from textwrap import dedent
from typing import Any

import branca.element
import folium
import streamlit_folium
from streamlit_folium import generate_leaflet_string, get_full_id

__all__ = ["FAST", "PRIVATE_API", "TESTED_VERSIONS", "MapPayload", "allow_zoom", "component_kwargs",
           "ensure_registered", "feature_group_script", "installed_version", "render_payload",
           "send"]

#: The private names of dependencies this module uses, and nothing else in the app does.
PRIVATE_API = ("streamlit_folium._component_func",)
#: streamlit-folium releases whose st_folium this module mirrors (checked by the tests).
TESTED_VERSIONS = ("0.27.4",)
#: True when the component function is there (else the map page uses the public st_folium).
FAST = callable(getattr(streamlit_folium, "_component_func", None))

# the regular expressions of streamlit_folium 0.27 (_get_header, _get_html, _get_map_string,
# generate_js_hash)
_SCRIPT_SRC = re.compile(r'<script\b[^>]*\bsrc=["\']([^"\']*)["\'][^>]*>.*?</script\b[^>]*>',
                         re.IGNORECASE | re.DOTALL)
_CSS_LINK = re.compile(r'<link rel="stylesheet" href="(.*?)"/>')
_ICON_PATH = re.compile(r'(L\.Icon\.Default\.imagePath\s*=\s*["\'])([^"\']*?/dist)(["\'])')
_MAP_DIV = re.compile(r'<div class="folium-map" id=".*" ></div>')
_DRAWN_ITEMS = re.compile(r"drawnItems_draw_control_div_\d+")
_HASH_STRIP = re.compile(r"(_[a-z0-9]+)")
_HASH_URL = re.compile(r"(maps\/[-a-z0-9]+\/)")
#: folium's page meta: ``maximum-scale=1.0, user-scalable=no`` stops people zooming the map
#: frame with two fingers or the browser (WCAG 1.4.4; axe-core's ``meta-viewport`` rule)
_NO_ZOOM = re.compile(r",\s*maximum-scale=[0-9.]+\s*,\s*user-scalable=no")


@dataclass(frozen=True)
class MapPayload:
    """A rendered map as streamlit-folium's component takes it: immutable, shareable strings.

    Attributes
    ----------
    script, header, html, map_id
        The map's Leaflet script, its header (without the asset links), its extra HTML and the
        map's element id, as st_folium computes them.
    css_links, js_links
        The stylesheet and script URLs of the map's assets, in the order folium loads them.
    hash_source
        The script normalised as :func:`streamlit_folium.generate_js_hash` does (the component's
        key is its sha256 plus the widget key), so a rerun hashes it without two regex passes.
    """

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    hash_source: str

    def component_key(self, key: str, return_on_hover: bool = False) -> str:
        """``streamlit_folium.generate_js_hash(self.script, key, return_on_hover)``."""
        h = hashlib.sha256(self.hash_source.encode())
        h.update(f"{key}{key}{return_on_hover}".encode())
        return h.hexdigest()


def _figure(fmap: folium.Map) -> branca.element.Figure:
    root = fmap.get_root()
    if not isinstance(root, branca.element.Figure):
        raise TypeError("the map must be inside a branca Figure (folium.Map adds one)")
    return root


def _links(header: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """CSS and JS asset URLs from a rendered header (folium adds each element's there, in order)."""
    css = tuple(dict.fromkeys(_CSS_LINK.findall(header)))
    js = tuple(dict.fromkeys(_SCRIPT_SRC.findall(header)))
    return css, js


def _map_script(fmap: folium.Map) -> str:
    leaflet = generate_leaflet_string(fmap).replace("alert(coords);", "")
    leaflet = dedent(_DRAWN_ITEMS.sub("drawnItems", leaflet))
    if "drawnItems" not in leaflet:
        leaflet += "\nvar drawnItems = [];"
    return leaflet


def allow_zoom(header: str) -> str:
    """``header`` with folium's viewport meta made zoomable: its maximum scale and
    ``user-scalable=no`` taken out, the rest (device width, initial scale 1) kept."""
    return _NO_ZOOM.sub("", header)


def render_payload(fmap: folium.Map, *, extra_header: Sequence[tuple[str, str]] = ()) -> MapPayload:
    """Render a freshly built map once into what the component needs (the map is used up).

    Parameters
    ----------
    fmap : folium.Map
        A map nobody else holds: rendering renames its elements.
    extra_header : sequence of (name, html)
        Elements added to the map's page header first (e.g. a ``<style>``).

    Returns
    -------
    MapPayload
        What ``st_folium(fmap)`` would send for the map, computed once.
    """
    fig = _figure(fmap)
    for name, html_text in extra_header:
        fig.header.add_child(folium.Element(html_text), name=name)
    fig.render()
    fmap.render()
    raw_header = fig.header.render()
    css, js = _links(raw_header)
    header = _CSS_LINK.sub("", _SCRIPT_SRC.sub("", raw_header))
    header = _ICON_PATH.sub(r"\1\2/images/\3", header)
    map_id = get_full_id(fmap)
    header = allow_zoom(header.replace(map_id, "map_div"))
    html = _MAP_DIV.sub("", fig.html.render()).strip()
    script = _map_script(fmap)
    return MapPayload(script=script, header=header, html=html, map_id=get_full_id(fmap),
                      css_links=css, js_links=js,
                      hash_source=_HASH_URL.sub("", _HASH_STRIP.sub("", script)))


def feature_group_script(group: folium.FeatureGroup, idx: int = 0) -> str:
    """The script st_folium makes for ``feature_group_to_add=group``, on a throwaway map.

    Parameters
    ----------
    group : folium.FeatureGroup
        A group built for this run only (it is attached to the throwaway map and renamed).
    idx : int
        Its position among the run's groups.
    """
    holder = folium.Map(location=(0, 0), tiles=None)
    folium.Figure().add_child(holder)
    base = f"feature_group_{idx}"
    group.add_to(holder)
    group.render()
    script = generate_leaflet_string(group, base_id=base).replace(get_full_id(holder), "map_div")
    return dedent(script) + dedent(
        f"""
        map_div.addLayer(feature_group_{base});
        window.feature_group = window.feature_group || [];
        window.feature_group.push(feature_group_{base});
        """
    )


def component_kwargs(payload: MapPayload, *, key: str, height: int,
                     returned_objects: Sequence[str], feature_group: str | None,
                     on_change: Callable[[], None]) -> dict[str, object]:
    """The keyword arguments st_folium 0.27 passes its component, for the map page's options.

    No zoom / centre override, no layer control, full container width, no hover events.
    """
    return {
        "script": payload.script, "header": payload.header, "html": payload.html,
        "id": payload.map_id, "key": key, "height": height, "width": None,
        "returned_objects": list(returned_objects),
        "default": dict.fromkeys(returned_objects), "zoom": None, "center": None,
        "feature_group": feature_group, "return_on_hover": False, "layer_control": None,
        "pixelated": False, "css_links": list(payload.css_links),
        "js_links": list(payload.js_links), "on_change": on_change, "wrap_longitude": False,
    }


def send(payload: MapPayload, *, key: str, height: int, returned_objects: Sequence[str],
         group: folium.FeatureGroup | None,
         session_state: MutableMapping[Any, Any], dynamic: str = "") -> object:
    """Draw the component for ``payload`` plus this run's ``group``; returns its value.

    The component keeps its Leaflet map while ``payload`` (hence the component key) stays the
    same: on a rerun it only removes the previous run's layer and evaluates the new
    ``feature_group`` script in the live map. ``dynamic`` rides on that script: code run in the
    live map before the group's (the map page's :func:`geo.maps.recolour_script`), so a new
    weighting re-colours the map instead of rebuilding it.

    Parameters
    ----------
    payload : MapPayload
        The cached, shared map.
    key : str
        The widget key; as with st_folium the component's value is copied to
        ``session_state[key]`` when it changes.
    height : int
        Component height in pixels.
    returned_objects : sequence of str
        The st_folium return keys the page listens to.
    group : folium.FeatureGroup or None
        A layer made for this run (see :func:`feature_group_script`).
    session_state : MutableMapping
        ``st.session_state``, passed in so this module does not decide where state lives (its
        keys are str or int and its values anything, hence ``Any`` as in Streamlit).
    dynamic : str
        JavaScript run in the live map on each change of it or of ``group`` ("" for none).
    """
    hash_key = payload.component_key(key)

    def on_change() -> None:  # as st_folium: the component's value under the caller's key
        session_state[key] = session_state.get(hash_key, {})

    fg = (dynamic + (feature_group_script(group) if group is not None else "")) or None
    ensure_registered()
    component: Callable[..., object] = streamlit_folium._component_func
    return component(**component_kwargs(payload, key=hash_key, height=height,
                                        returned_objects=returned_objects, feature_group=fg,
                                        on_change=on_change))


def ensure_registered() -> None:
    """Register streamlit-folium's component with this server's runtime when it is not yet.

    ``components.declare_component`` (run when ``streamlit_folium`` is imported) registers the
    component only when it runs inside a script run. When the warm-up thread
    (:mod:`app.warm`) imported the module first, nothing was registered, and the browser would get
    a blank map frame (the server does not know the component's files). Called before every draw
    of the map: one dictionary look-up when it is registered already.
    """
    from streamlit.components.v1.component_registry import ComponentRegistry

    component = getattr(streamlit_folium, "_component_func", None)
    name = getattr(component, "name", None)
    if component is None or not isinstance(name, str):
        return
    registry = ComponentRegistry.instance()
    if registry.get_component(name) is None:
        registry.register_component(component)


def installed_version() -> str:
    """The installed streamlit-folium version (for the upgrade check)."""
    return version("streamlit-folium")
