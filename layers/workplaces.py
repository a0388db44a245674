"""Workplaces: offices and industrial, commercial and retail land (OSM); unemployment, income."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule
from .vocab import Measure, Mode

SPEC = LayerSpec(
    key="workplaces",
    osm=(
        OsmRule("office", "*", "office"),
        OsmRule("landuse", "industrial", "industrial"),
        OsmRule("landuse", "commercial", "commercial"),
        OsmRule("landuse", "retail", "retail"),
    ),
    pack_kind_hints=(("office", "office"), ("industrial", "industrial"), ("workplace", "office")),
    indicators=(
        Indicator("workplaces.jobs_30min", measure=Measure.COUNT,
                  kinds=("office", "industrial", "commercial", "retail"), mode=Mode.CAR,
                  threshold_m=15000, budget_min=30, target_count=200),
        Indicator("workplaces.nearest",
                  kinds=("office", "industrial", "commercial", "retail"), mode=Mode.BIKE,
                  threshold_m=3000, weight=0.5),
        Indicator("workplaces.unemployment",
                  measure=Measure.STAT, table="kolada_N03937_open_unemployed_2011_2024",
                  column="open_unemployed_pct_of_pop_18_65", higher_is_better=False,
                  log_scale=True, unit="percent", weight=1.0),
        Indicator("workplaces.income", measure=Measure.STAT,
                  table="scb_household_disposable_income_median_2011_2024",
                  column="household_disposable_income_median_ksek", log_scale=True, unit="ksek",
                  weight=1.0),
    ),
    default_weight=1.0,
    color="#7570b3",
    icon="▣",
)
