"""A tiny fabric: establishment Parquet files in the fabric store's schema, written with DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
from dbkit import siret

# (n, nic, naf, commune, size_band, created, name); x/y are left NULL for some rows on purpose.
ROWS = [
    (1001, 1, "25.62A", "69123", "11", "2010-05-01", "Décolletage Dupont"),  # a member (world)
    (4001, 1, "25.62A", "69123", "21", "2023-01-15", "Usinage Récent"),
    (4002, 1, "25.62B", "69266", "03", "1995-01-01", "Mécanique Ancienne"),
    (4003, 1, "28.41Z", "69123", "12", "2015-06-01", "Machines-outils Lyon"),
    (4004, 1, "10.71C", "69123", "11", "2015-06-01", "Boulangerie (hors secteur)"),
    (4005, 1, "25.62A", "75056", "21", "2015-06-01", "Paris (hors territoire)"),
    (4006, 1, "25.62A", "69123", None, "2012-01-01", "Taille inconnue"),
]


def write_fabric(folder: Path) -> Path:
    """Write the rows to ``folder/establishments.parquet`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "establishments.parquet"
    values = ", ".join(
        f"('{siret(n, nic)}', '{naf}', '{commune}', {repr(band) if band else 'NULL'}, "
        f"DATE '{created}', '{name}')"
        for n, nic, naf, commune, band, created, name in ROWS
    )
    con = duckdb.connect()
    try:
        con.execute(f"""
            COPY (
                SELECT siret, substr(siret, 1, 9) AS siren, substr(siret, 10, 5) AS nic, naf,
                       commune, size_band, created, CAST(NULL AS DATE) AS closed, TRUE AS active,
                       CAST(NULL AS DATE) AS valid_from, CAST(NULL AS DATE) AS valid_to,
                       CAST(NULL AS DOUBLE) AS x, CAST(NULL AS DOUBLE) AS y, name,
                       'test' AS source
                FROM (VALUES {values}) t(siret, naf, commune, size_band, created, name)
                UNION ALL
                -- a closed establishment in scope: never a prospect
                SELECT '{siret(4007)}', '{siret(4007)[:9]}', '00019', '25.62A', '69123', '11',
                       DATE '2000-01-01', DATE '2020-01-01', FALSE, NULL, NULL, NULL, NULL,
                       'Fermée', 'test'
            ) TO '{out}' (FORMAT parquet)
        """)
    finally:
        con.close()
    return out
