"""Province-level divisions: every spelling maps to one code; HK, MO and TW are separate countries."""

from __future__ import annotations

import pytest

from sitrep.enrich.regions import BY_CODE, REGIONS, SEPARATE_COUNTRIES, alias_rows, name

ALIASES = dict(alias_rows())


@pytest.mark.parametrize(
    "spelling",
    ["GUANGDONG", "广东省", "广东", "CN-44", "44", "GD", "CN-GD", "GUANGDONG PROVINCE", "GUANGDONG SHENG"],
)
def test_guangdong_spellings(spelling: str) -> None:
    assert ALIASES[spelling.upper()] == "GD"


@pytest.mark.parametrize(
    ("spelling", "code"),
    [
        ("BEIJING", "BJ"),
        ("北京市", "BJ"),
        ("INNER MONGOLIA", "NM"),
        ("NEI MONGOL", "NM"),
        ("内蒙古自治区", "NM"),
        ("GUANGXI ZHUANG", "GX"),
        ("XINJIANG UYGUR", "XJ"),
        ("TIBET", "XZ"),
        ("XIZANG", "XZ"),
        ("SHAANXI", "SN"),
        ("SHANXI", "SX"),
        ("CN-11", "BJ"),
        ("CN-65", "XJ"),
        ("HONG KONG", "HK"),
        ("HONGKONG", "HK"),
        ("香港", "HK"),
        ("MACAU", "MO"),
        ("澳门特别行政区", "MO"),
        ("台湾省", "TW"),
    ],
)
def test_other_spellings(spelling: str, code: str) -> None:
    assert ALIASES[spelling] == code


def test_every_alias_is_upper_case_and_unambiguous() -> None:
    rows = alias_rows()
    assert all(alias == alias.upper() for alias, _ in rows)
    seen: dict[str, str] = {}
    for alias, code in rows:
        assert seen.setdefault(alias, code) == code, f"{alias} maps to {seen[alias]} and {code}"


def test_thirty_four_divisions() -> None:
    assert len(REGIONS) == 34
    assert len(BY_CODE) == 34
    assert {code for _, code in alias_rows()} == set(BY_CODE)


def test_hk_mo_tw_are_separate_countries() -> None:
    assert SEPARATE_COUNTRIES == {"HK": "HK", "MO": "MO", "TW": "TW"}
    assert not set(SEPARATE_COUNTRIES) & {"GD", "BJ", "SH"}


def test_printed_names() -> None:
    assert name("GD") == "广东"
    assert name("GD", "en") == "Guangdong"
    assert name("NM") == "内蒙古"
    assert name(None) == "未知"
    assert name(None, "en") == "unknown"
    assert name("ZZ") == "ZZ"
