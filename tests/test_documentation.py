"""Every command and every setting is documented in the README (fails when one is added silently)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main

from grappe.cli import app
from grappe.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group: typer.Typer, prefix: str = "grappe") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []

    def walk(command: object, path: str) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            names.append(path)
            return
        for name, sub in sorted(subcommands.items()):
            walk(sub, f"{path} {name}")

    walk(click_group, prefix)
    return names


@pytest.mark.parametrize("command", _commands(app))
def test_every_command_is_in_the_readme(command: str) -> None:
    assert re.search(rf"`{re.escape(command)}[` ]", README), f"README does not document `{command}`"


@pytest.mark.parametrize("field", sorted(Settings.model_fields))
def test_every_setting_is_in_the_readme(field: str) -> None:
    variable = f"GRAPPE_{field.upper()}"
    assert variable in README, f"README does not document the setting {variable}"


def test_the_batch_solvers_figures_in_the_readme_are_their_constants() -> None:
    from grappe.calls.assignment import AFFINITY_SCALE, MAX_AFFINITY
    from grappe.partners.schedule import DEFAULT_TIME_LIMIT

    assert f"(default {DEFAULT_TIME_LIMIT:g} s," in README
    assert f"{len(str(AFFINITY_SCALE)) - 1} decimals exact" in README
    assert f"beyond ±{MAX_AFFINITY}, `MAX_AFFINITY`" in README


def test_the_partner_search_weights_in_the_readme_are_its_constants() -> None:
    from grappe.partners.search import PROXIMITY_KM, SAME_DEPARTEMENT, SAME_DIVISION, WEIGHTS

    rows = {
        "text": WEIGHTS.text, "sector": WEIGHTS.sector, "proximity": WEIGHTS.proximity,
        "shared partners": WEIGHTS.shared_partners, "worked together": WEIGHTS.worked_together,
        "activity": WEIGHTS.activity,
    }
    for name, weight in rows.items():
        assert re.search(rf"^\| {name} \|.*\| {weight:.2f} \|$", README, re.MULTILINE), name
    assert f"`exp(−d / {PROXIMITY_KM:g} km)`" in README
    assert f"{SAME_DEPARTEMENT:g} in one département" in README
    assert f"{SAME_DIVISION:g} for one division" in README
