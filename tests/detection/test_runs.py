"""Saved detection runs: save, list, load, atomic replacement and names refused in French."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from grappe.detection import runs
from grappe.detection.candidates import CANDIDATE_COLUMNS, Candidates
from grappe.detection.ranking import MinimumMass, ScoreWeights
from grappe.errors import InputError, NotFoundError


def candidates(rows: int, level: str = "departement") -> Candidates:
    """A ranked table of ``rows`` candidates with every output column (values by position)."""
    frame = pd.DataFrame({name: range(rows) for name in CANDIDATE_COLUMNS})
    frame["territory_code"] = [f"{n + 1:02d}" for n in range(rows)]
    frame["reasons"] = [f"raison {n}" for n in range(rows)]
    frame["strong"] = [n % 2 == 0 for n in range(rows)]
    return Candidates(
        frame=frame, territory_level=level, sector_level="sous-classe", support="commune",
        weights_kind="queen", permutations=99, seed=3, alpha=0.05, score_weights=ScoreWeights(),
        date="2022-12-31", minimum_mass=MinimumMass(15, 50), include_local=True,
    )


def test_save_then_load_gives_the_table_and_its_parameters(grappe_home: Path) -> None:
    saved = runs.save(candidates(5), "rouen-2022", store=grappe_home / "store", sectors="division")
    run, frame = runs.load("rouen-2022")
    assert run == saved
    assert (run.level, run.sectors, run.date) == ("departement", "division", "2022-12-31")
    assert run.include_local
    assert (run.permutations, run.seed, run.min_establishments, run.candidates) == (99, 3, 15, 5)
    assert run.store == str((grappe_home / "store").resolve())
    assert run.reference == "magasin analysé"
    assert run.grappe_version
    assert run.saved.tzinfo is not None
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    assert frame["reasons"].tolist() == [f"raison {n}" for n in range(5)]
    assert (grappe_home / runs.RUNS_FOLDER / "rouen-2022" / runs.PARAMETERS_FILE).is_file()


def test_each_load_gives_its_own_table(grappe_home: Path) -> None:
    runs.save(candidates(3), "ze", store=grappe_home, sectors="sous-classe")
    _, first = runs.load("ze")
    first.loc[0, "reasons"] = "changé"
    assert runs.load("ze")[1]["reasons"].tolist() == ["raison 0", "raison 1", "raison 2"]


def test_list_runs_most_recent_first_and_empty_without_folder(grappe_home: Path) -> None:
    assert runs.list_runs() == []
    runs.save(candidates(2), "a", store=grappe_home, sectors="sous-classe")
    runs.save(candidates(3), "b", store=grappe_home, sectors="sous-classe")
    assert [run.name for run in runs.list_runs()] == ["b", "a"]


def test_saving_a_name_again_replaces_it_and_leaves_no_old_version(grappe_home: Path) -> None:
    runs.save(candidates(2), "ze", store=grappe_home, sectors="sous-classe")
    runs.save(candidates(7), "ze", store=grappe_home, sectors="sous-classe")
    run, frame = runs.load("ze")
    assert run.candidates == len(frame) == 7
    root = grappe_home / runs.RUNS_FOLDER
    assert len(list((root / ".versions").iterdir())) == 1
    assert sorted(p.name for p in root.iterdir()) == [".versions", "ze"]


def test_a_failed_save_keeps_the_previous_run_whole(grappe_home: Path) -> None:
    runs.save(candidates(2), "ze", store=grappe_home, sectors="sous-classe")
    broken = candidates(3)
    broken.frame["reasons"] = [object(), object(), object()]  # Parquet cannot write these
    with pytest.raises(Exception):  # noqa: B017, PT011 - pyarrow's own error, whichever it is
        runs.save(broken, "ze", store=grappe_home, sectors="sous-classe")
    run, frame = runs.load("ze")
    assert run.candidates == len(frame) == 2
    root = grappe_home / runs.RUNS_FOLDER
    assert len(list((root / ".versions").iterdir())) == 1
    assert sorted(p.name for p in root.iterdir()) == [".versions", "ze"]


@pytest.mark.parametrize("name", ["", ".cache", "a/b", "../x", "été", "a b", "x" * 65, "-x"])
def test_bad_names_are_refused_in_french(grappe_home: Path, name: str) -> None:
    with pytest.raises(InputError, match=r"nom de sauvegarde .* lettres sans accent"):
        runs.save(candidates(1), name, store=grappe_home, sectors="sous-classe")
    assert not (grappe_home / runs.RUNS_FOLDER).exists() or runs.list_runs() == []


def test_a_folder_of_another_program_is_not_overwritten(grappe_home: Path) -> None:
    (grappe_home / runs.RUNS_FOLDER / "mine").mkdir(parents=True)
    with pytest.raises(InputError, match="pas une sauvegarde de grappe"):
        runs.save(candidates(1), "mine", store=grappe_home, sectors="sous-classe")
    assert not list((grappe_home / runs.RUNS_FOLDER / ".versions").iterdir())


@pytest.mark.parametrize("name", ["absent", "../etc", ".versions"])
def test_loading_an_unknown_run_is_not_found(grappe_home: Path, name: str) -> None:
    with pytest.raises(NotFoundError, match="introuvable"):
        runs.load(name)


def test_detect_refuses_a_bad_save_name_before_computing(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grappe.cli import app

    result = CliRunner().invoke(app, ["detect", "--store", str(tmp_path), "--save", "../x"])
    assert result.exit_code == 2
    assert "nom de sauvegarde '../x'" in result.stderr
    assert not (tmp_path / runs.RUNS_FOLDER).exists()
