"""A tiny fabric: a SIRENE file of a few establishments imported into a real fabric store."""

from __future__ import annotations

import csv
from pathlib import Path

from dbkit import siret

from grappe.fabric import FabricStore

# (n, nic, naf, commune, size_band, created, name); no row has coordinates: the commune
# centroid stands in.
ROWS = [
    (1001, 1, "25.62A", "69123", "11", "2010-05-01", "Décolletage Dupont"),  # a member (world)
    (4001, 1, "25.62A", "69123", "21", "2023-01-15", "Usinage Récent"),
    (4002, 1, "25.62B", "69266", "03", "1995-01-01", "Mécanique Ancienne"),
    (4003, 1, "28.41Z", "69123", "12", "2015-06-01", "Machines-outils Lyon"),
    (4004, 1, "10.71C", "69123", "11", "2015-06-01", "Boulangerie (hors secteur)"),
    (4005, 1, "25.62A", "75056", "21", "2015-06-01", "Paris (hors territoire)"),
    (4006, 1, "25.62A", "69123", "", "2012-01-01", "Taille inconnue"),
]
CLOSED = (4007, 19, "25.62A", "69123", "11", "2000-01-01", "Fermée")
"""An establishment in scope closed on 1 January 2020: never a prospect afterwards."""

HEADER = (
    "siren", "nic", "siret", "dateCreationEtablissement", "trancheEffectifsEtablissement",
    "codeCommuneEtablissement", "etatAdministratifEtablissement", "dateDebut",
    "activitePrincipaleEtablissement", "nomenclatureActivitePrincipaleEtablissement",
    "denominationUsuelleEtablissement",
)


def write_fabric(folder: Path) -> Path:
    """Import the rows into a fabric store under ``folder`` and return the store directory."""
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "sirene.csv"
    with source.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(HEADER)
        for (n, nic, naf, commune, band, created, name), state, since in [
            *((row, "A", row[5]) for row in ROWS), (CLOSED, "F", "2020-01-01"),
        ]:
            number = siret(n, nic)
            writer.writerow((number[:9], number[9:], number, created, band, commune, state,
                             since, naf, "NAFRev2", name))
    store = folder / "store"
    (report,) = FabricStore.open(store).import_files([source])
    assert report.rows_stored == len(ROWS) + 1, report
    return store
