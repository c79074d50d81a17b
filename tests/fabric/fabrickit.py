"""Builders of small SIRENE / URSSAF / table files for the fabric tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SIRENE_COLUMNS = (
    "siren", "nic", "siret", "dateCreationEtablissement", "trancheEffectifsEtablissement",
    "codeCommuneEtablissement", "codePaysEtrangerEtablissement", "etatAdministratifEtablissement",
    "dateDebut", "activitePrincipaleEtablissement", "nomenclatureActivitePrincipaleEtablissement",
    "coordonneeLambertAbscisseEtablissement", "coordonneeLambertOrdonneeEtablissement",
    "denominationUsuelleEtablissement",
)


def luhn_key(digits: str) -> str:
    """The digit that completes ``digits`` into a Luhn-valid number."""
    total = 0
    for position, char in enumerate(reversed(digits + "0"), start=1):
        d = int(char)
        if position % 2 == 0:
            d = d * 2 - 9 if d >= 5 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def siren(base8: str) -> str:
    """A valid SIREN from 8 digits."""
    return base8 + luhn_key(base8)


def siret(siren9: str, nic4: str) -> str:
    """A valid SIRET from a SIREN and the first 4 NIC digits."""
    body = siren9 + nic4
    return body + luhn_key(body)


def sirene_row(n: int, **overrides: str) -> dict[str, str]:
    """A valid SIRENE establishment row (number n picks distinct identifiers)."""
    sn = siren(f"{12345000 + n:08d}")
    st = siret(sn, "0001")
    row = {
        "siren": sn, "nic": st[9:], "siret": st, "dateCreationEtablissement": "2001-02-03",
        "trancheEffectifsEtablissement": "11", "codeCommuneEtablissement": "74042",
        "codePaysEtrangerEtablissement": "", "etatAdministratifEtablissement": "A",
        "dateDebut": "2001-02-03", "activitePrincipaleEtablissement": "25.62A",
        "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
        "coordonneeLambertAbscisseEtablissement": "967000.5",
        "coordonneeLambertOrdonneeEtablissement": "6553000.25",
        "denominationUsuelleEtablissement": f"DECOLLETAGE {n}",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: Sequence[dict[str, str]], columns: Sequence[str] = SIRENE_COLUMNS,
              *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False) -> Path:
    """Write rows as a CSV file (values quoted only when needed)."""
    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [delimiter.join(columns)]
    lines += [delimiter.join(cell(r.get(c, "")) for c in columns) for r in rows]
    text = "\n".join(lines) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode(encoding) + text.encode(encoding))
    return path


def write_parquet(path: Path, rows: Sequence[dict[str, str]],
                  columns: Sequence[str] = SIRENE_COLUMNS) -> Path:
    """Write rows as a Parquet file of strings (empty strings become nulls)."""
    table = pa.table({c: pa.array([r.get(c) or None for r in rows], pa.string()) for c in columns})
    pq.write_table(table, path)
    return path


PERIODS_SIRET = "73282932000074"


def write_periods(path: Path) -> Path:
    """A SIRENE history (periods) file of one establishment: active 2001-2015 in two periods
    (25.62A then 25.62B), closed from 2015-05-01."""
    pq.write_table(pa.table({
        "siret": [PERIODS_SIRET] * 3,
        "dateDebut": [dt.date(2001, 1, 1), dt.date(2010, 1, 1), dt.date(2015, 5, 1)],
        "dateFin": [dt.date(2009, 12, 31), dt.date(2015, 4, 30), None],
        "etat": ["A", "A", "F"],
        "code_ape": ["2562A", "25.62B", "25.62B"],
        "code_commune": ["74081"] * 3,
        "code_tranche": ["11", "NN", "NN"],
    }), path)
    return path
