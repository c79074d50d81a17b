"""Saved detection runs: the candidates of a run and its parameters, kept under GRAPPE_HOME.

A run named ``NAME`` lives in ``GRAPPE_HOME/observatory/NAME``: ``candidates.parquet`` (the
table of :class:`~grappe.detection.candidates.Candidates`, best first) and ``run.json`` (its
parameters, :class:`SavedRun`). The observatory of the web application shows them.

Saving is atomic: the files are written to a hidden folder, then ``NAME`` (a symbolic link to
that folder) is swapped for the new one in one ``rename``, so a reader sees the old run or the
new one, never a half-written one nor none; the old folder is removed afterwards.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> home = Path(tempfile.mkdtemp())
>>> check_name("rouen-2022")
'rouen-2022'
>>> list_runs(home)
[]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from grappe.errors import InputError, NotFoundError

if TYPE_CHECKING:
    import pandas as pd

    from grappe.detection.candidates import Candidates

__all__ = ["RUNS_FOLDER", "SavedRun", "check_name", "list_runs", "load", "runs_dir", "save"]

#: The folder of GRAPPE_HOME holding the saved runs.
RUNS_FOLDER = "observatory"
CANDIDATES_FILE = "candidates.parquet"
PARAMETERS_FILE = "run.json"
# Hidden folder of the run versions that the names point to.
_VERSIONS = ".versions"
#: Longest run name: it appears in URLs and folder names.
NAME_MAX = 64
_NAME = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_.-]{{0,{NAME_MAX - 1}}}")
# Runs kept in memory once read: a version folder never changes (a new save makes a new one),
# so a cached copy is exact for as long as the name points to it.
_CACHED_RUNS = 4


@dataclass(frozen=True)
class SavedRun:
    """The parameters of a saved run, as written in its ``run.json``.

    Attributes
    ----------
    name : str
        The run's name (:func:`check_name`).
    saved_at : str
        When it was saved, ISO 8601 with its UTC offset.
    grappe_version : str
        The version of grappe that computed it.
    store : str
        The fabric store analysed (absolute path).
    level, sectors : str
        Territory level and sector level (or sector-group file) of the candidates.
    reference : str
        What the location quotients compare with (the reference store's name, or the store).
    include_local : bool
        Whether local sectors are among the candidates.
    date : str
        Snapshot date of the fabric, ISO.
    basis : str
        ``employment`` or ``establishments`` (data without headcounts).
    permutations, seed : int
        Permutation draws of the Gi* test and their seed.
    alpha : float
        False discovery rate of the ``significant`` call.
    min_establishments, min_employment : float
        The minimum mass of a candidate.
    candidates : int
        Rows of the candidates table.
    """

    name: str
    saved_at: str
    grappe_version: str
    store: str
    level: str
    sectors: str
    reference: str
    include_local: bool
    date: str
    basis: str
    permutations: int
    seed: int
    alpha: float
    min_establishments: float
    min_employment: float
    candidates: int

    @property
    def saved(self) -> dt.datetime:
        """``saved_at`` as a datetime."""
        return dt.datetime.fromisoformat(self.saved_at)

    @property
    def snapshot(self) -> dt.date:
        """``date``, the snapshot date of the fabric, as a date."""
        return dt.date.fromisoformat(self.date)


def runs_dir(home: Path | None = None) -> Path:
    """The folder of the saved runs (``GRAPPE_HOME/observatory`` by default)."""
    if home is None:
        from grappe.config import get_settings

        home = get_settings().home
    return Path(home) / RUNS_FOLDER


def check_name(name: str) -> str:
    """A run name as given, or :class:`InputError` saying what a name may hold.

    Names appear in URLs and folder names: 1 to 64 unaccented letters, digits, ``-``, ``_``
    and ``.``, starting with a letter or a digit.
    """
    if not _NAME.fullmatch(name):
        raise InputError(
            f"nom de sauvegarde {name!r} : attendu 1 à {NAME_MAX} caractères parmi les lettres "
            "sans accent, les chiffres, « - », « _ » et « . », en commençant par une lettre ou "
            "un chiffre"
        )
    return name


def save(
    candidates: Candidates,
    name: str,
    *,
    store: Path | str,
    sectors: str | Path,
    home: Path | None = None,
) -> SavedRun:
    """Keep a run under ``name``, replacing a run of that name atomically.

    Parameters
    ----------
    candidates : Candidates
        The result of :func:`grappe.detection.candidates.detect`.
    name : str
        The run's name (:func:`check_name`).
    store : Path or str
        The fabric store analysed.
    sectors : str or Path
        The sector level or sector-group file given to ``detect``.
    home : Path, optional
        GRAPPE_HOME (default: the settings').

    Returns
    -------
    SavedRun
        The parameters written.
    """
    from grappe import __version__

    check_name(name)
    run = SavedRun(
        name=name,
        saved_at=dt.datetime.now(dt.UTC).isoformat(),
        grappe_version=__version__,
        store=str(Path(store).resolve()),
        level=candidates.territory_level,
        sectors=str(sectors),
        reference=candidates.reference,
        include_local=candidates.include_local,
        date=candidates.date,
        basis=candidates.basis,
        permutations=candidates.permutations,
        seed=candidates.seed,
        alpha=candidates.alpha,
        min_establishments=candidates.minimum_mass.establishments,
        min_employment=candidates.minimum_mass.employment,
        candidates=len(candidates),
    )
    root = runs_dir(home)
    versions = root / _VERSIONS
    versions.mkdir(parents=True, exist_ok=True)
    version = versions / f"{name}.{secrets.token_hex(8)}"
    version.mkdir()
    try:
        candidates.frame.to_parquet(version / CANDIDATES_FILE, index=False)
        (version / PARAMETERS_FILE).write_text(
            json.dumps(asdict(run), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        link = root / name
        previous = os.readlink(link) if link.is_symlink() else None
        if link.exists() and previous is None:
            raise InputError(f"{link} : ce n'est pas une sauvegarde de grappe ; choisissez un autre nom")
        staged = root / f".{name}.{secrets.token_hex(8)}.link"
        staged.symlink_to(Path(_VERSIONS) / version.name)
        os.replace(staged, link)  # the one atomic step: readers see the old run or the new one
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    if previous is not None:
        shutil.rmtree(root / previous, ignore_errors=True)
    return run


def list_runs(home: Path | None = None) -> list[SavedRun]:
    """Every saved run, the most recently saved first."""
    root = runs_dir(home)
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        if entry.name.startswith(".") or not entry.is_symlink():
            continue
        try:
            found.append(_parameters(entry.resolve(strict=True)))
        except FileNotFoundError:
            continue  # replaced or removed while listing
    return sorted(found, key=lambda run: run.saved_at, reverse=True)


def load(name: str, home: Path | None = None) -> tuple[SavedRun, pd.DataFrame]:
    """A saved run's parameters and its candidates table (best first).

    Raises
    ------
    NotFoundError
        No run of that name (or not a valid name).
    """
    link = runs_dir(home) / name
    if not _NAME.fullmatch(name) or not link.is_symlink():
        raise NotFoundError(f"sauvegarde {name!r} introuvable")
    # A save in between removes the folder read: read again through the new link.
    for _ in range(2):
        try:
            run, frame = _read(link.resolve(strict=True))
            return run, frame.copy()
        except FileNotFoundError:
            continue
    raise NotFoundError(f"sauvegarde {name!r} introuvable")


@lru_cache(maxsize=_CACHED_RUNS)
def _read(folder: Path) -> tuple[SavedRun, pd.DataFrame]:
    import pandas as pd

    return _parameters(folder), pd.read_parquet(folder / CANDIDATES_FILE)


def _parameters(folder: Path) -> SavedRun:
    values: dict[str, Any] = json.loads((folder / PARAMETERS_FILE).read_text(encoding="utf-8"))
    return SavedRun(**values)
