"""Member import (row-by-row report, strict, atomicity), export, and prospects."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from dbkit import Database, World, build_world, siren, siret
from fabric_kit import write_fabric
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grappe.errors import FileFormatError
from grappe.registry import LOCAL_ADMIN, fabric_link, prospects
from grappe.registry.memberships import files as member_files
from grappe.registry.memberships import service as memberships
from grappe.registry.models import Membership, Organisation
from grappe.storage.sql import session_scope

TODAY = dt.date(2025, 1, 1)


def _fabric_lookup(tmp_path: Path) -> member_files.Lookup:
    store = write_fabric(tmp_path / "fabric")
    return lambda a, b: fabric_link.lookup(a, b, store)


def _csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


BAD_AND_GOOD = [
    "SIRET;Nom;Nature;Date d'adhésion;Type d'adhésion",
    f"{siret(4001)};Usinage Récent;entreprise;2024-01-10;adherent",  # 2 good
    "12345678901234;Mauvais;entreprise;2024-01-10;adherent",  # 3 bad Luhn
    f"{siret(4002)};Mécanique Ancienne;laboratoire;31/02/2024;adherent",  # 4 invalid date
    f"{siret(4001)};Usinage Récent bis;entreprise;2024-02-10;adherent",  # 5 duplicate of 2
    f"{siret(5555)};Inconnue;entreprise;2024-01-10;adherent",  # 6 unknown to the fabric
    f"{siret(1001)};Décolletage Dupont;entreprise;2024-01-10;adherent",  # 7 overlaps (world)
    f"{siret(4003)};;association;15/03/2023;membre associé",  # 8 good, name from fabric
    f"{siret(4006)};X;chimère;2024-01-10;adherent",  # 9 unknown kind
]


def test_import_reports_each_bad_row_and_keeps_good_ones(
    db: Session, world: World, tmp_path: Path
) -> None:
    report = member_files.import_members(
        db,
        LOCAL_ADMIN,
        world.a,
        _csv(tmp_path / "m.csv", BAD_AND_GOOD),
        lookup=_fabric_lookup(tmp_path),
        today=TODAY,
    )
    reasons = {i.line: (i.column, i.reason) for i in report.issues}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 9]
    assert "Luhn" in reasons[3][1]
    assert reasons[4] == ("Date d'adhésion", "date invalide : attendu AAAA-MM-JJ ou JJ/MM/AAAA")
    assert "double (déjà ligne 2)" in reasons[5][1]
    assert reasons[6] == ("SIRET", "SIRET inconnu du tissu productif")
    assert "chevauche" in reasons[7][1]
    assert reasons[9][0] == "Nature"  # the column as the file names it
    assert (report.rows, report.inserted, report.rejected, report.committed) == (8, 2, 6, True)
    members = memberships.list_members(db, LOCAL_ADMIN, world.a, on=TODAY).items
    by_name = {m.name: m for m in members}
    assert set(by_name) == {"Décolletage Dupont", "Usinage Récent", "Machines-outils Lyon"}
    lyon = by_name["Machines-outils Lyon"]
    assert (lyon.kind, lyon.membership_type, lyon.joined) == (
        "association",
        "membre associé",
        dt.date(2023, 3, 15),
    )
    assert lyon.size_category == "PME"  # band 12 (20-49) from the fabric
    assert lyon.commune == "69123"


def test_strict_import_writes_nothing(db: Session, world: World, tmp_path: Path) -> None:
    before = db.scalar(select(func.count()).select_from(Membership))
    report = member_files.import_members(
        db,
        LOCAL_ADMIN,
        world.a,
        _csv(tmp_path / "m.csv", BAD_AND_GOOD),
        strict=True,
        lookup=_fabric_lookup(tmp_path),
        today=TODAY,
    )
    assert (report.inserted, report.committed, report.rejected) == (0, False, 6)
    assert db.scalar(select(func.count()).select_from(Membership)) == before


def test_failure_mid_import_leaves_nothing(
    fresh: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(fresh.engine, actor=LOCAL_ADMIN) as s:
        world = build_world(s)
    lines = ["siren;nom;date_adhesion"] + [
        f"{siren(6000 + i)};Firme {i};2024-01-0{i}" for i in range(1, 6)
    ]
    real_insert = member_files._insert
    calls = {"n": 0}

    def failing_insert(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disque plein")
        real_insert(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(member_files, "_insert", failing_insert)
    with pytest.raises(RuntimeError), session_scope(fresh.engine, actor=LOCAL_ADMIN) as s:
        member_files.import_members(
            s, LOCAL_ADMIN, world.a, _csv(tmp_path / "m.csv", lines), lookup=lambda a, b: {}
        )
    with session_scope(fresh.engine) as s:
        assert s.scalar(select(func.count()).select_from(Organisation)) == 3  # the world's only
        assert s.scalar(select(func.count()).select_from(Membership)) == 2


def test_xlsx_import_and_exports(db: Session, world: World, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["SIREN", "Raison sociale", "Date adhésion"])
    sheet.append([siren(7007), "Labo XLSX", dt.datetime(2024, 5, 2)])
    sheet.append([None, None, None])
    sheet.append([siren(7008), "Sans date", None])
    book.save(tmp_path / "m.xlsx")
    report = member_files.import_members(
        db, LOCAL_ADMIN, world.a, tmp_path / "m.xlsx", lookup=lambda a, b: {}, today=TODAY
    )
    assert (report.inserted, [(i.line, i.reason) for i in report.issues]) == (
        1,
        [(4, "date d'adhésion manquante")],
    )
    n = member_files.export_members(db, LOCAL_ADMIN, world.a, tmp_path / "out.xlsx")
    rows = list(load_workbook(tmp_path / "out.xlsx").worksheets[0].iter_rows(values_only=True))
    assert n == 2
    assert rows[0] == tuple(member_files.EXPORT_LABELS.values())
    assert {r[2] for r in rows[1:]} == {"Décolletage Dupont", "Labo XLSX"}
    member_files.export_members(db, LOCAL_ADMIN, world.a, tmp_path / "out.csv")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert text[0] == ",".join(member_files.EXPORT_LABELS)  # for programs: English names
    assert len(text) == 3
    member_files.export_members(db, LOCAL_ADMIN, world.a, tmp_path / "out.csv", format="csv-excel")
    text = (tmp_path / "out.csv").read_text(encoding="utf-8-sig").splitlines()
    assert text[0] == ";".join(member_files.EXPORT_LABELS.values())


def test_unreadable_member_files(db: Session, world: World, tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="colonne siret ou siren"):
        member_files.import_members(
            db, LOCAL_ADMIN, world.a, _csv(tmp_path / "x.csv", ["a;b", "1;2"])
        )
    (tmp_path / "x.xlsx").write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match="XLSX illisible"):
        member_files.import_members(db, LOCAL_ADMIN, world.a, tmp_path / "x.xlsx")
    with pytest.raises(FileFormatError, match=r"extension \.json non prise en charge"):
        member_files.import_members(db, LOCAL_ADMIN, world.a, _csv(tmp_path / "x.json", ["{}"]))


def test_prospects_rank_non_members_in_scope(db: Session, world: World, tmp_path: Path) -> None:
    store = write_fabric(tmp_path / "fabric")
    table = prospects.prospects(db, LOCAL_ADMIN, world.a, store=store, on=TODAY)
    rows = table.to_pylist()
    names = [r["name"] for r in rows]
    # out: the member (Dupont), 25.62B and the bakery (sector scope is 25.62A + division 28),
    # Paris (territory) and the closed establishment
    assert set(names) == {"Usinage Récent", "Machines-outils Lyon", "Taille inconnue"}
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    best = rows[0]
    assert best["name"] == "Usinage Récent"  # largest band, exact sous-classe, created 2023
    assert best["recency"] == 1.0
    assert best["sector_fit"] == 1.0
    lyon = next(r for r in rows if r["name"] == "Machines-outils Lyon")
    assert lyon["sector_fit"] == 0.7  # matched through division 28
    assert next(r for r in rows if r["name"] == "Taille inconnue")["size_score"] == 0.1
    expected = sum(prospects.WEIGHTS[k] * best[k] for k in prospects.WEIGHTS)
    assert best["score"] == pytest.approx(expected, abs=1e-3)
    assert best["commune_name"]  # names beside the codes
    assert best["naf_name"]
    out = prospects.write_prospects(table, tmp_path / "p.csv")
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("rank,siret,siren")
    out = prospects.write_prospects(table, tmp_path / "p.csv", format="csv-excel")
    assert out.read_text(encoding="utf-8-sig").splitlines()[0].startswith("rang;siret;siren")
