"""Workplaces: offices and industrial, commercial and retail land (OSM)."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule

SPEC = LayerSpec(
    key="workplaces",
    title_en="Workplaces",
    title_sv="Arbetsplatser",
    description_en="Offices and industrial, commercial and retail areas.",
    description_sv="Kontor samt industri-, handels- och verksamhetsområden.",
    osm=(
        OsmRule("office", "*", "office"),
        OsmRule("landuse", "industrial", "industrial"),
        OsmRule("landuse", "commercial", "commercial"),
        OsmRule("landuse", "retail", "retail"),
    ),
    pack_kind_hints=(("office", "office"), ("industrial", "industrial"), ("workplace", "office")),
    indicators=(
        Indicator("workplaces.jobs_30min", "Workplaces within 30 min by car",
                  "Arbetsplatser inom 30 min med bil", measure="count",
                  kinds=("office", "industrial", "commercial", "retail"), mode="car",
                  threshold_m=15000, budget_min=30, target_count=200),
        Indicator("workplaces.nearest", "Workplace area by bike", "Arbetsplatsområde med cykel",
                  kinds=("office", "industrial", "commercial", "retail"), mode="bike",
                  threshold_m=3000, weight=0.5),
    ),
    default_weight=1.0,
    color="#7570b3",
    icon="▣",
)
