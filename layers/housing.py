"""Housing: residential land and buildings (OSM); house prices, tax rate and rent per municipality."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule
from .vocab import Measure

SPEC = LayerSpec(
    key="housing",
    osm=(
        OsmRule("landuse", "residential", "residential_area"),
        OsmRule("building", "apartments", "apartments"),
        OsmRule("building", "residential", "residential_building"),
        OsmRule("building", "house", "house"),
        OsmRule("building", "detached", "house"),
        OsmRule("building", "terrace", "house"),
        OsmRule("building", "semidetached_house", "house"),
    ),
    indicators=(
        # municipal statistics: national tables (all 290 municipalities) except rent (county only)
        Indicator("housing.house_price", measure=Measure.STAT,
                  table="scb_smahus_price_2025", column="smahus_mean_purchase_price_ksek",
                  higher_is_better=False, log_scale=True, unit="ksek", weight=1.5),
        Indicator("housing.tax_rate", measure=Measure.STAT,
                  table="kolada_tax_rate_2025", column="total_tax_rate_percent",
                  higher_is_better=False, unit="percent", weight=1.0),
        Indicator("housing.rent",
                  measure=Measure.STAT, table="rent_median_sek_per_m2_year", column="value",
                  higher_is_better=False, unit="sek_m2_year", weight=1.0),
    ),
    default_weight=1.0,
    residential=True,
    home_kinds=("residential_area", "apartments", "residential_building", "house"),
    color="#8c510a",
    icon="⌂",
)
