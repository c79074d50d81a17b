"""The method notes of the significance test state the figures its constants and data give."""

from __future__ import annotations

import math
import re

import pytest

from grappe.detection import candidates, hotspots, significance
from grappe.detection.significance import ALPHA, CONFIDENCE, MAX_PERMUTATIONS, PERMUTATIONS
from grappe.detection.significance.permutation import _TIE_RTOL
from grappe.detection.significance.refinement import _schedule
from grappe.refdata import naf, territories

# Small integers of formulas and numbered steps ("n - 1", "round 0", "steps 2–4"): not figures.
_STRUCTURAL = {"0", "1", "2", "3", "4"}
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?:e-?\d+)?(?: %)?")


def _figures(text: str) -> set[str]:
    return {m.group().rstrip(",") for m in _NUMBER.finditer(text)} - _STRUCTURAL


def _expected() -> set[str]:
    """Every figure of the notes, computed from the constants and the packaged territories."""
    communes = round(len(territories.names("commune")), -3)
    table = territories.communes()
    commune_departements = dict(
        zip(table["code"].to_pylist(), table["departement"].to_pylist(), strict=True)
    )
    levels = territories.commune_levels()
    metropolitan_zones = {
        zone
        for commune, zone in zip(levels["commune"].to_pylist(), levels["ze"].to_pylist(), strict=True)
        if zone is not None and not commune_departements[commune].startswith("97")
    }
    sous_classes = sum(1 for level in naf.table()["level"].to_pylist() if level == "sous-classe")
    floor = 1 / (PERMUTATIONS + 1)
    # Benjamini–Hochberg rejects p_(k) <= alpha k / m: at the floor, k >= m floor / alpha.
    needed_communes = math.ceil(round(communes * floor / ALPHA, 9))
    needed_zones = math.ceil(round(len(metropolitan_zones) * floor / ALPHA, 9))
    schedule = _schedule(PERMUTATIONS, MAX_PERMUTATIONS)
    return {
        f"{PERMUTATIONS:,}",
        f"{communes:,}",
        f"{sous_classes:,}",
        f"{_TIE_RTOL:.0e}",
        f"{PERMUTATIONS + 1:,}",
        f"{ALPHA * 100:g} %",
        f"{needed_communes:,}",
        f"{len(metropolitan_zones):,}",
        f"{needed_zones:,}",
        f"{(MAX_PERMUTATIONS + 1) // (PERMUTATIONS + 1):,}",
        f"{MAX_PERMUTATIONS:,}",
        f"{CONFIDENCE:g}",
        f"{schedule[1]:,}",
        f"{schedule[2]:,}",
    }


def test_every_figure_of_the_significance_notes_comes_from_the_code() -> None:
    assert significance.__doc__ is not None
    assert _figures(significance.__doc__) == _expected()


@pytest.mark.parametrize("module", [candidates, hotspots], ids=lambda m: m.__name__)
def test_other_notes_do_not_restate_the_significance_figures(module: object) -> None:
    """The figures of the test are written in one place: the significance package's notes."""
    restated = {
        f"{MAX_PERMUTATIONS:,}",
        f"{PERMUTATIONS + 1:,}",
        f"{CONFIDENCE:g}",
        f"{round(len(territories.names('commune')), -3):,}",
    }
    doc = getattr(module, "__doc__", None) or ""
    assert not _figures(doc) & restated
