"""Housing: residential land and buildings (OSM), rent levels per municipality (SCB)."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule

SPEC = LayerSpec(
    key="housing",
    title_en="Housing",
    title_sv="Boende",
    description_en="Residential areas and buildings; rent levels per municipality.",
    description_sv="Bostadsområden och bostadshus; hyresnivåer per kommun.",
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
        Indicator("housing.rent", "Rent level (lower is better)", "Hyresnivå (lägre är bättre)",
                  measure="stat", table="rent_median_sek_per_m2_year", column="value",
                  higher_is_better=False, weight=2.0),
    ),
    default_weight=1.0,
    color="#8c510a",
    icon="⌂",
)
