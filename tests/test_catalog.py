"""The one catalogue: every key in English and Swedish, with the same placeholders."""

from __future__ import annotations

import string

import pytest

from geo import catalog


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


@pytest.mark.parametrize("key", sorted(catalog.CATALOGUE))
def test_every_key_has_english_and_swedish_with_the_same_placeholders(key: str) -> None:
    en, sv = catalog.CATALOGUE[key]
    assert en.strip() and sv.strip(), f"{key}: an empty entry"
    assert _fields(en) == _fields(sv), f"{key}: placeholders differ between en and sv"


def test_sections_do_not_share_keys() -> None:
    assert not set(catalog._ENGINE) & set(catalog._UI)


def test_numbers_follow_the_reader_s_language() -> None:
    assert catalog.fmt_number(1720.5, "sv", 1) == "1\xa0720,5"
    assert catalog.fmt_number(1720.5, "en", 1) == "1,720.5"
    assert catalog.fmt_number(float("nan"), "sv") == "-"
    assert catalog.fmt_number(1720, "de") == "1,720"


def test_unknown_key_is_shown_as_itself() -> None:
    assert catalog.t("no.such.key", "sv") == "no.such.key"


def test_percentages_follow_the_reader_s_language() -> None:
    assert catalog.fmt_percent(0.04, "sv") == "4\xa0%"
    assert catalog.fmt_percent(0.04, "en") == "4%"
    assert catalog.fmt_percent(float("nan"), "sv") == "-"
