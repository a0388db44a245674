"""Workplaces: offices and industrial, commercial and retail land (OSM); unemployment, income."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule

SPEC = LayerSpec(
    key="workplaces",
    title_en="Workplaces",
    title_sv="Arbetsplatser",
    description_en="Offices and industrial, commercial and retail areas; unemployment and "
                   "household income per municipality.",
    description_sv="Kontor samt industri-, handels- och verksamhetsområden; arbetslöshet och "
                   "hushållens inkomster per kommun.",
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
        Indicator("workplaces.unemployment", "Open unemployment (share of ages 18-65; lower is "
                  "better)", "Öppen arbetslöshet (andel av 18–65 år; lägre är bättre)",
                  measure="stat", table="kolada_N03937_open_unemployed_2011_2024",
                  column="open_unemployed_pct_of_pop_18_65", higher_is_better=False,
                  log_scale=True, unit="percent", weight=1.0),
        Indicator("workplaces.income", "Household income (median, disposable)",
                  "Hushållens inkomst (median, disponibel)", measure="stat",
                  table="scb_household_disposable_income_median_2011_2024",
                  column="household_disposable_income_median_ksek", log_scale=True, unit="ksek",
                  weight=1.0),
    ),
    default_weight=1.0,
    color="#7570b3",
    icon="▣",
)
