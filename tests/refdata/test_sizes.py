"""Headcount bands and firm categories (décret 2008-1354)."""

from __future__ import annotations

import itertools

import pytest

from grappe.errors import InputError, UnknownCodeError
from grappe.refdata import sizes

CODES = ["NN", "00", "01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51",
         "52", "53"]


def test_bands_complete_and_ordered() -> None:
    table = sizes.size_bands()
    assert table.schema.names == ["code", "label", "low", "central", "high", "known"]
    rows = table.to_pylist()
    assert [r["code"] for r in rows] == CODES
    for r in rows:
        assert r["low"] <= r["central"] <= r["high"]
        assert r["central"] == (r["low"] + r["high"]) / 2
    by_code = {r["code"]: r for r in rows}
    assert by_code["NN"]["known"] is False
    assert (by_code["NN"]["low"], by_code["NN"]["high"]) == (0, 0)
    assert by_code["00"]["known"] is True
    assert by_code["00"]["high"] == 0
    assert (by_code["01"]["low"], by_code["01"]["high"]) == (1, 2)
    assert (by_code["31"]["low"], by_code["31"]["high"]) == (200, 249)
    assert by_code["53"]["low"] == 10_000
    assert by_code["53"]["high"] == sizes.OPEN_BAND_HIGH
    # From 00 on, the bands tile the integers with no gap and no overlap.
    known = rows[1:]
    for before, after in itertools.pairwise(known):
        assert after["low"] == before["high"] + 1


def test_band_lookup() -> None:
    assert sizes.band(" 11 ") == (10, 14.5, 19)
    with pytest.raises(UnknownCodeError, match="'99'"):
        sizes.band("99")


@pytest.mark.parametrize(
    ("headcount", "turnover", "balance", "category"),
    [
        (0, None, None, "TPE"),
        (9, None, None, "TPE"),
        (10, None, None, "PME"),
        (9, 2_000_000, None, "TPE"),
        (9, 2_000_001, None, "PME"),
        (9, 2_000_001, 2_000_000, "TPE"),  # turnover OR balance sheet
        (9, 2_000_001, 2_000_001, "PME"),
        (249, 50_000_000, None, "PME"),
        (249, 50_000_001, 43_000_000, "PME"),
        (249, 50_000_001, 43_000_001, "ETI"),
        (250, 1_000_000, 1_000_000, "ETI"),
        (4_999, 1_500_000_000, None, "ETI"),
        (4_999, 1_500_000_001, 2_000_000_000, "ETI"),
        (4_999, 1_500_000_001, 2_000_000_001, "GE"),
        (5_000, 1, 1, "GE"),
    ],
)
def test_firm_category_boundaries(headcount: int, turnover: float | None,
                                  balance: float | None, category: str) -> None:
    assert sizes.firm_category(headcount, turnover, balance) == category


@pytest.mark.parametrize("bad", [-1, float("nan")])
def test_firm_category_rejects_bad_numbers(bad: float) -> None:
    with pytest.raises(InputError, match="headcount"):
        sizes.firm_category(bad)
    with pytest.raises(InputError, match="turnover_eur"):
        sizes.firm_category(5, turnover_eur=bad)


def test_category_of_band() -> None:
    expected = {"NN": "TPE", "00": "TPE", "01": "TPE", "02": "TPE", "03": "TPE",
                "11": "PME", "12": "PME", "21": "PME", "22": "PME", "31": "PME",
                "32": "ETI", "41": "ETI", "42": "ETI", "51": "ETI", "52": "GE", "53": "GE"}
    assert {code: sizes.category_of_band(code) for code in CODES} == expected
    with pytest.raises(UnknownCodeError):
        sizes.category_of_band("04")
