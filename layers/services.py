"""Services: health care, pharmacies, grocery stores."""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule

SPEC = LayerSpec(
    key="services",
    title_en="Services",
    title_sv="Service",
    description_en="Grocery stores, pharmacies, health centres, dentists and hospitals.",
    description_sv="Livsmedelsbutiker, apotek, vårdcentraler, tandvård och sjukhus.",
    osm=(
        OsmRule("amenity", "hospital", "hospital"),
        OsmRule("amenity", "clinic", "clinic"),
        OsmRule("amenity", "doctors", "clinic"),
        OsmRule("amenity", "dentist", "dentist"),
        OsmRule("amenity", "pharmacy", "pharmacy"),
        OsmRule("healthcare", "pharmacy", "pharmacy"),
        OsmRule("shop", "supermarket", "grocery"),
        OsmRule("shop", "convenience", "grocery"),
    ),
    pack_kind_hints=(("hospital", "hospital"), ("sjukhus", "hospital"), ("grocery", "grocery"),
                     ("pharmac", "pharmacy"), ("health", "clinic")),
    indicators=(
        Indicator("services.grocery", "Grocery store on foot", "Matbutik till fots",
                  kinds=("grocery",), mode="walk", threshold_m=800, weight=2.0),
        Indicator("services.pharmacy", "Pharmacy by bike", "Apotek med cykel",
                  kinds=("pharmacy",), mode="bike", threshold_m=2000),
        Indicator("services.health", "Health centre by bike", "Vårdcentral med cykel",
                  kinds=("clinic", "hospital"), mode="bike", threshold_m=3000,
                  weight=1.5),
        Indicator("services.hospital", "Hospital by car", "Sjukhus med bil",
                  kinds=("hospital",), mode="car", threshold_m=20000, weight=0.5),
    ),
    default_weight=1.0,
    color="#e7298a",
    icon="✚",
)
