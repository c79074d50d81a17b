"""The fabric store: idempotent imports, imports and removals atomic under SIGKILL, orphans, info."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fabrickit import sirene_row, write_csv

from grappe.errors import FileFormatError, InputError
from grappe.fabric import FabricStore
from grappe.fabric.store import CATALOGUE


def _snapshot(store_dir: Path) -> dict[str, Any]:
    """Catalogue rows and data file bytes: what "the store is exactly as before" compares."""
    con = duckdb.connect(str(store_dir / CATALOGUE), read_only=True)
    try:
        sources = con.execute("SELECT * FROM sources ORDER BY source_id").fetchall()
        quarantine = con.execute("SELECT * FROM quarantine ORDER BY ALL").fetchall()
    finally:
        con.close()
    files = {
        str(p.relative_to(store_dir)): p.read_bytes()
        for sub in ("establishments", "aggregates") for p in sorted((store_dir / sub).iterdir())
    }
    return {"sources": sources, "quarantine": quarantine, "files": files}


def _bad_and_good(tmp_path: Path, n: int, name: str) -> Path:
    rows = [sirene_row(i) for i in range(n)] + [sirene_row(n, codeCommuneEtablissement="1")]
    return write_csv(tmp_path / name, rows)


def test_reimport_is_a_noop(tmp_path: Path) -> None:
    path = _bad_and_good(tmp_path, 5, "a.csv")
    store = FabricStore.open(tmp_path / "store")
    (first,) = store.import_files([path])
    before = _snapshot(store.path)
    copy = tmp_path / "copy-of-a.csv"
    copy.write_bytes(path.read_bytes())
    second, third = store.import_files([path, copy])
    assert not first.skipped
    assert second.skipped
    assert third.skipped
    assert second.source_id == third.source_id == first.source_id
    assert (second.rows_read, second.rows_stored, second.rows_quarantined) == (6, 5, 1)
    assert _snapshot(store.path) == before
    assert len(store.establishment_files()) == 1


KILLER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import grappe.fabric.importer as importer
    import grappe.fabric.store as store

    def die(*_args, **_kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def after(function):
        def wrapped(*args, **kwargs):
            function(*args, **kwargs)
            die()
        return wrapped

    point = sys.argv[3]
    if point == "write":        # the Parquet file is written in the work directory
        importer.fsync_file = die
    elif point == "move":       # the Parquet file is in place, no catalogue row yet
        store._move_into_place = after(store._move_into_place)
    elif point == "commit":     # catalogue rows inserted, transaction not committed
        store._insert_catalogue_rows = after(store._insert_catalogue_rows)
    store.FabricStore.open(Path(sys.argv[1])).import_files([Path(sys.argv[2])])
    print("not killed")
""")


@pytest.mark.parametrize("point", ["write", "move", "commit"])
def test_killed_import_leaves_the_store_as_it_was(tmp_path: Path, point: str) -> None:
    store = FabricStore.open(tmp_path / "store")
    store.import_files([_bad_and_good(tmp_path, 3, "first.csv")])
    before = _snapshot(store.path)
    second = _bad_and_good(tmp_path, 20, "second.csv")
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(store.path), str(second), point],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    leftovers = list((store.path / ".tmp").iterdir())
    if point == "move":
        assert len(list((store.path / "establishments").iterdir())) == 2  # one orphan
    assert leftovers or point != "write"
    reopened = FabricStore.open(store.path)
    assert _snapshot(reopened.path) == before
    assert list((store.path / ".tmp").iterdir()) == []
    # the store still works: the same file imports normally afterwards
    (report,) = reopened.import_files([second])
    assert not report.skipped
    assert (report.rows_stored, report.rows_quarantined) == (20, 1)
    assert len(reopened.establishment_files()) == 2


def test_wrong_format_fails_at_once_and_imports_nothing(real_data: Path, tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    good = _bad_and_good(tmp_path, 2, "good.csv")
    urssaf = real_data / "urssaf_commune_ape_ze2815_rouen.csv"
    with pytest.raises(FileFormatError) as caught:
        store.import_files([good, urssaf], format="sirene")
    message = str(caught.value)
    assert "n'est pas au format sirene" in message
    expected = ("colonnes manquantes : siret (ou siren + nic), activitePrincipaleEtablissement, "
                "codeCommuneEtablissement, etatAdministratifEtablissement ; ")
    assert expected in message
    assert "trouvé : Région;Ancienne région;Département" in message
    assert "\n" not in message
    assert store.sources().num_rows == 0


def test_unknown_layout_and_bad_options(tmp_path: Path) -> None:
    odd = tmp_path / "odd.csv"
    odd.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    store = FabricStore.open(tmp_path / "store")
    with pytest.raises(FileFormatError, match=r"format non reconnu.*trouvé : a;b;c"):
        store.import_files([odd])
    with pytest.raises(InputError, match="format 'xls' inconnu"):
        store.import_files([odd], format="xls")
    with pytest.raises(InputError, match="encodage 'ebcdic' non pris en charge ; valeurs "
                       "possibles : utf-8, cp1252, latin-1"):
        store.import_files([odd], encoding="ebcdic")
    with pytest.raises(InputError, match="fichier introuvable"):
        store.import_files([tmp_path / "missing.csv"])
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileFormatError, match="fichier vide"):
        store.import_files([empty])
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    with pytest.raises(FileFormatError, match="Parquet illisible"):
        store.import_files([broken])


REMOVER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import grappe.fabric.store as store

    def after(function):
        def wrapped(*args, **kwargs):
            function(*args, **kwargs)
            os.kill(os.getpid(), signal.SIGKILL)
        return wrapped

    def before(function):
        def wrapped(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)
        return wrapped

    point = sys.argv[3]
    if point == "delete":       # catalogue rows deleted, transaction not committed
        store._delete_catalogue_rows = after(store._delete_catalogue_rows)
    elif point == "drop":       # transaction committed, the Parquet file still there
        store._drop_data_file = before(store._drop_data_file)
    store.FabricStore.open(Path(sys.argv[1])).remove_source(sys.argv[2])
    print("not killed")
""")


def _without(snapshot: dict[str, Any], source_id: str) -> dict[str, Any]:
    """A snapshot as it is once one source is removed."""
    return {
        "sources": [r for r in snapshot["sources"] if r[0] != source_id],
        "quarantine": [r for r in snapshot["quarantine"] if r[0] != source_id],
        "files": {k: v for k, v in snapshot["files"].items() if source_id not in k},
    }


@pytest.mark.parametrize(("point", "removed"), [("delete", False), ("drop", True)])
def test_killed_removal_leaves_the_source_whole_or_gone(
    real_data: Path, tmp_path: Path, point: str, removed: bool
) -> None:
    store = FabricStore.open(tmp_path / "store")
    first, second = store.import_files([
        _bad_and_good(tmp_path, 3, "first.csv"),
        real_data / "urssaf_commune_ape_ze2815_rouen.csv",
    ])
    before = _snapshot(store.path)
    script = tmp_path / "remover.py"
    script.write_text(REMOVER, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), str(store.path), "first.csv", point],
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == -signal.SIGKILL, done.stderr
    # the Parquet file is still there in both cases: after the commit, as an orphan
    assert (store.path / "establishments" / f"{first.source_id}.parquet").exists()
    reopened = FabricStore.open(store.path)
    after = _snapshot(reopened.path)
    assert after == (_without(before, first.source_id) if removed else before)
    assert [s["source_id"] for s in reopened.info().sources] == (
        [second.source_id] if removed else [first.source_id, second.source_id])
    # the store still works: the removal (or the import again) goes through afterwards
    if removed:
        (report,) = reopened.import_files([first.path])
        assert (report.skipped, report.rows_stored, report.rows_quarantined) == (False, 3, 1)
    else:
        assert reopened.remove_source("first.csv").source_id == first.source_id
        assert _snapshot(reopened.path) == _without(before, first.source_id)


def test_orphans_are_removed_at_open(tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    store.import_files([_bad_and_good(tmp_path, 2, "a.csv")])
    before = _snapshot(store.path)
    (store.path / "aggregates" / ("0" * 64 + ".parquet")).write_bytes(b"stray")
    dead = store.path / ".tmp" / "dead-import"
    dead.mkdir()
    os.utime(dead, (time.time() - 3600, time.time() - 3600))
    FabricStore.open(store.path)
    assert _snapshot(store.path) == before
    assert list((store.path / ".tmp").iterdir()) == []


def test_info_summarises_the_store(real_data: Path, tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    assert store.info().to_dict()["sources"] == []
    store.import_files([_bad_and_good(tmp_path, 4, "a.csv"),
                        real_data / "urssaf_commune_ape_ze2815_rouen.csv"])
    info = store.info().to_dict()
    assert [s["format"] for s in info["sources"]] == ["sirene", "urssaf"]
    assert info["rows_by_kind"]["establishments"] == 4
    assert info["rows_by_level"] == {"commune": info["rows_by_kind"]["aggregates"]}
    assert info["quarantine_by_reason"] == {"commune inconnue": 1}
    assert info["dates"] == ["2001-02-03", "2001-02-03"]
    assert info["years"] == [2006, 2022]


def test_default_store_is_under_grappe_home(grappe_home: Path) -> None:
    assert FabricStore.open().path == grappe_home / "store"
    assert (grappe_home / "store" / CATALOGUE).is_file()
