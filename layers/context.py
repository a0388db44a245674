"""Municipal context lines: statistics shown beside a place's score but not scored.

A context line is one number per municipality with its national median (reported crime, population
and its trend, the population forecast). They are not indicators: they would add municipal
statistics to the composite (whose share is capped, see :mod:`geo.scoring`), and a ``safety`` theme
made of one municipal figure would be a slider that cannot tell two places of a municipality apart.
Reported crime also depends on reporting habits, shops and visitors, so it is context, not a score.

>>> [c.key for c in CONTEXT_STATS][:2]
['context.crime', 'context.population']
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONTEXT_STATS", "SKR_GROUPS_EN", "ContextStat"]

#: English names of SKR's municipality groups (2017 scheme); the table holds the Swedish ones.
SKR_GROUPS_EN: dict[str, str] = {
    "A1": "Large city", "A2": "Commuter municipality near a large city", "B3": "Large town",
    "B4": "Commuter municipality near a large town",
    "B5": "Low-commuting municipality near a large town", "C6": "Small town",
    "C7": "Commuter municipality near a small town", "C8": "Rural municipality",
    "C9": "Rural municipality with a visitor industry",
}


@dataclass(frozen=True)
class ContextStat:
    """One context line: ``column`` of ``table`` per municipality (latest year, or ``year``).

    Parameters
    ----------
    key
        Key (``context.<name>``); its label is the catalogue's ``stat.<key>``
        (:func:`geo.catalog.stat_title`).
    group
        What it is about (``safety``, ``population``).
    table, column, year
        The statistic; ``year`` None takes each municipality's latest year.
    unit
        A :func:`geo.messages.fmt_value` unit code.
    higher_is_better
        Direction, None when neither is better (population).
    base_table, base_column, base_year
        When set, the line is the percent change from this value to ``column``
        (``100 * (value / base - 1)``).
    zero_is_missing
        Treat 0 as "no value" (False for changes, which can be 0 or negative).
    per_column, per
        When set, the line is ``per * column / per_column`` of the same row (dwellings per 1,000
        inhabitants).
    label_column
        For a category (``unit="category"``): ``column`` holds the code, this column its name.
    """

    key: str
    group: str
    table: str
    column: str
    unit: str = ""
    year: int | None = None
    higher_is_better: bool | None = None
    base_table: str | None = None
    base_column: str | None = None
    base_year: int | None = None
    zero_is_missing: bool = True
    per_column: str | None = None
    per: float = 1.0
    label_column: str | None = None

    @property
    def is_change(self) -> bool:
        """True when the line is a percent change between two values."""
        return self.base_table is not None


#: Context lines in display order.
CONTEXT_STATS: tuple[ContextStat, ...] = (
    ContextStat("context.crime", "safety",
                "kolada_reported_crime_per100k_2025", "reported_crimes_per_100k_inhabitants",
                unit="per_100k", higher_is_better=False),
    ContextStat("context.population", "population",
                "kolada_population_2025", "population_persons", unit="persons"),
    # 2015 from SCB's 1950-2020 series, 2025 from Kolada (both SCB's 31 December population)
    ContextStat("context.population_trend", "population", "kolada_population_2025",
                "population_persons", unit="pct_change", year=2025,
                base_table="scb_population_1950_2020", base_column="population_persons_dec31",
                base_year=2015, zero_is_missing=False),
    ContextStat("context.population_forecast", "population",
                "kolada_population_forecast_change_2024", "forecast_change_10y_percent",
                unit="pct_change", zero_is_missing=False),
    ContextStat("context.house_price_trend", "housing",
                "scb_smahus_price_kt_2011_2024", "smahus_mean_purchase_price_sek",
                unit="pct_change", year=2024, base_table="scb_smahus_price_kt_2011_2024",
                base_column="smahus_mean_purchase_price_sek", base_year=2014,
                zero_is_missing=False),
    ContextStat("context.completed_dwellings", "housing",
                "scb_population_completions_2011_2024", "completed_dwellings_new_buildings_count",
                unit="per_1000", per_column="population_persons_dec31", per=1000.0,
                zero_is_missing=False),
    ContextStat("context.skr_group", "population",
                "skr_kommungrupper", "skr_kommungrupp_kod", unit="category",
                label_column="skr_kommungrupp"),
)
