"""Schools: preschools, compulsory and upper-secondary schools; school results per municipality.

Standards per place type of the distance indicators (compulsory school on foot 800 m in a town,
3 km in the countryside, a common school-transport limit): see :mod:`geo.placetypes`.
"""

from __future__ import annotations

from .spec import Indicator, LayerSpec, OsmRule, by_place_type
from .vocab import Measure, Mode

SPEC = LayerSpec(
    key="schools",
    osm=(
        OsmRule("amenity", "kindergarten", "kindergarten"),
        OsmRule("amenity", "school", "school"),
        OsmRule("amenity", "college", "college"),
        OsmRule("amenity", "university", "university"),
    ),
    pack_kind_hints=(("school_units", "school"), ("preschool", "kindergarten"),
                     ("upper_secondary", "college")),
    # "gymnasium", "gymnasiet", "gymnasieskola": Swedish upper-secondary schools (not "gymnastik")
    name_kinds=(("school", r"gymnasi", "college"),),
    indicators=(
        Indicator("schools.preschool",
                  kinds=("kindergarten",), mode=Mode.WALK, threshold_m=500,
                  thresholds=by_place_type(700, 1000, 2500)),
        Indicator("schools.primary",
                  kinds=("school",), mode=Mode.WALK, threshold_m=800,
                  thresholds=by_place_type(1000, 1500, 3000), weight=1.5),
        Indicator("schools.upper_secondary", kinds=("college",), mode=Mode.BIKE, threshold_m=5000),
        # the same figure as Skolverket's county export (yrkesprogram), from Kolada's national table
        Indicator("schools.eligibility", measure=Measure.STAT,
                  table="kolada_grade9_eligible_vocational_percent",
                  column="grade9_eligible_vocational_program_percent", unit="percent",
                  weight=1.0),
        # Skolverket exports of the county only: compared within the county (see geo.access)
        Indicator("schools.grade6_pass", measure=Measure.STAT,
                  table="school_grade6_pass_rates_2024_25",
                  column="Andel (%) elever som fått godkänt betyg i alla ämnen", unit="percent",
                  weight=0.5),
        Indicator("schools.certified_teachers",
                  measure=Measure.STAT, table="school_teacher_certification_2024_25",
                  column="Andel med lärarlegitimation och behörighet", unit="percent",
                  weight=0.5),
    ),
    default_weight=1.0,
    color="#d95f02",
    icon="✎",
)
