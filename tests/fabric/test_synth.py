"""Tests of the synthetic SIRENE generator: determinism, identifiers, defects, planted clusters."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli.demo import next_commands
from grappe.errors import InputError, UnknownCodeError
from grappe.fabric.synth import (
    DEFECTS,
    FIXED_SHARES,
    PLANTED_CLUSTERS,
    SECTION_SHARES,
    SIRENE_COLUMNS,
    SynthReport,
    luhn_valid,
    naf_shares,
    write_synthetic,
)
from grappe.refdata import naf, sizes, territories

# ---------------------------------------------------------------------------- helpers


def read_sirene(path: Path) -> pa.Table:
    """A synthetic file as a table of strings, empty CSV fields as nulls."""
    if path.suffix == ".parquet":
        return pq.read_table(path)
    types = dict.fromkeys(SIRENE_COLUMNS, pa.string())
    return pacsv.read_csv(
        path, convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def numbers(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(pc.cast(table[column], pa.int64()).to_numpy(), dtype=np.int64)


def known_communes() -> set[str]:
    """Current commune codes and the aliases SIRENE may use (arrondissements, old codes)."""
    return set(territories.communes()["code"].to_pylist()) | set(
        territories.commune_aliases()["alias"].to_pylist()
    )


def defect_flags(table: pa.Table) -> dict[str, np.ndarray]:
    """Re-check every row independently of the generator: one boolean array per defect kind."""

    def unknown(column: str, codes: list[str]) -> np.ndarray:
        known = pc.is_in(table[column], value_set=pa.array(codes, pa.string()))
        return ~np.asarray(known.to_numpy(zero_copy_only=False), dtype=bool)

    def text(column: str) -> np.ndarray:
        return table[column].to_numpy(zero_copy_only=False).astype(str)

    def is_date(value: str) -> bool:
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            return False
        return True

    created, where = np.unique(text("dateCreationEtablissement"), return_inverse=True)
    readable = np.array([is_date(value) for value in created])[where]
    closed = text("etatAdministratifEtablissement") == "F"
    return {
        "siret_luhn": ~luhn_valid(numbers(table, "siret"), 14),
        "siret_nic_mismatch": np.asarray(
            pc.not_equal(pc.utf8_slice_codeunits(table["siret"], 9), table["nic"]).to_numpy(
                zero_copy_only=False), dtype=bool),
        "naf_unknown": unknown("activitePrincipaleEtablissement",
                               naf.sous_classes()["code"].to_pylist()),
        "commune_unknown": unknown("codeCommuneEtablissement", sorted(known_communes())),
        "size_band_unknown": unknown("trancheEffectifsEtablissement",
                                     sizes.size_bands()["code"].to_pylist()),
        "date_impossible": ~readable,
        "closure_before_creation": readable & closed
        & (text("dateDebut") < text("dateCreationEtablissement")),
        "siren_luhn": ~luhn_valid(numbers(table, "siren"), 9),
    }


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthReport, pa.Table]:
    """A clean file (no defect) of 60,000 rows over all France."""
    path = tmp_path_factory.mktemp("synth") / "clean.csv"
    report = write_synthetic(path, 60_000, seed=7)
    return report, read_sirene(path)


# ---------------------------------------------------------------------------- layout and bytes


def test_header_is_insee_current_column_set(clean: tuple[SynthReport, pa.Table]) -> None:
    report, table = clean
    first_line = report.path.read_text(encoding="utf-8").split("\n", 1)[0]
    assert first_line == ",".join(SIRENE_COLUMNS)
    assert len(SIRENE_COLUMNS) == len(set(SIRENE_COLUMNS)) == 54
    assert table.num_rows == report.rows == 60_000
    # Columns INSEE fills that the generator does not simulate stay empty.
    assert table["codePostal2Etablissement"].null_count == table.num_rows
    assert table["activitePrincipaleNAF25Etablissement"].null_count == table.num_rows


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for suffix in (".csv", ".parquet"):
        a = write_synthetic(tmp_path / f"a{suffix}", 30_000, seed=3, invalid_rate=0.02)
        b = write_synthetic(tmp_path / f"b{suffix}", 30_000, seed=3, invalid_rate=0.02)
        c = write_synthetic(tmp_path / f"c{suffix}", 30_000, seed=4, invalid_rate=0.02)
        assert sha256(a.path) == sha256(b.path)
        assert sha256(a.path) != sha256(c.path)
        assert a.invalid_by_defect == b.invalid_by_defect
    assert not list(tmp_path.glob(".*partial"))


def test_parquet_and_csv_hold_the_same_rows(tmp_path: Path) -> None:
    csv = write_synthetic(tmp_path / "f.csv", 20_000, seed=5, invalid_rate=0.01)
    parquet = write_synthetic(tmp_path / "f.parquet", 20_000, seed=5, invalid_rate=0.01)
    assert csv.invalid_by_defect == parquet.invalid_by_defect
    assert read_sirene(csv.path).equals(read_sirene(parquet.path))


# ---------------------------------------------------------------------------- identifiers


def test_luhn_matches_known_and_real_identifiers(real_data: Path) -> None:
    # La Poste's SIREN is Luhn-valid (its SIRETs are the ones that follow another rule).
    assert luhn_valid(np.array([356000000, 732829320, 732829321]), 9).tolist() == [
        True, True, False,
    ]
    real = pacsv.read_csv(
        real_data / "sirene_bas_rhin_2019_geocoded_latin1.csv",
        read_options=pacsv.ReadOptions(encoding="latin-1"),
        convert_options=pacsv.ConvertOptions(
            include_columns=["siren", "siret"],
            column_types={"siren": pa.string(), "siret": pa.string()},
        ),
    )
    assert luhn_valid(numbers(real, "siren"), 9).all()
    valid = luhn_valid(numbers(real, "siret"), 14)
    # The only exception is La Poste, whose SIRETs have a digit sum divisible by 5 instead.
    exceptions = real["siret"].to_numpy(zero_copy_only=False)[~valid].astype(str)
    assert len(exceptions) > 0
    assert all(s.startswith("356000000") and sum(map(int, s)) % 5 == 0 for s in exceptions)


def test_identifiers_are_valid_and_consistent(clean: tuple[SynthReport, pa.Table]) -> None:
    _, table = clean
    siren = table["siren"].to_numpy(zero_copy_only=False).astype(str)
    nic = table["nic"].to_numpy(zero_copy_only=False).astype(str)
    siret = table["siret"].to_numpy(zero_copy_only=False).astype(str)
    assert {len(s) for s in siren} == {9}
    assert {len(s) for s in nic} == {5}
    assert (np.char.add(siren, nic) == siret).all()
    assert luhn_valid(numbers(table, "siren"), 9).all()
    assert luhn_valid(numbers(table, "siret"), 14).all()
    assert len(set(siret)) == table.num_rows
    assert "356000000" not in set(siren)

    # Several establishments for some legal units, exactly one head office each.
    _, per_firm = np.unique(siren, return_counts=True)
    assert per_firm.max() > 5
    assert 0.05 < (per_firm > 1).mean() < 0.3
    head = table["etablissementSiege"].to_numpy(zero_copy_only=False) == "true"
    heads_per_firm = dict(zip(*np.unique(siren[head], return_counts=True), strict=True))
    assert len(heads_per_firm) == len(per_firm)
    assert set(heads_per_firm.values()) == {1}


# ---------------------------------------------------------------------------- defects


def test_no_defect_without_invalid_rate(clean: tuple[SynthReport, pa.Table]) -> None:
    report, table = clean
    assert report.invalid_rows == 0
    for kind, flags in defect_flags(table).items():
        assert not flags.any(), kind


def test_invalid_rate_gives_the_announced_defects(tmp_path: Path) -> None:
    rows, rate = 40_000, 0.05
    report = write_synthetic(tmp_path / "bad.csv", rows, seed=9, invalid_rate=rate)
    assert report.invalid_rows == round(rows * rate) == sum(report.invalid_by_defect.values())
    assert set(report.invalid_by_defect) == set(DEFECTS)
    assert all(n > 150 for n in report.invalid_by_defect.values())

    flags = defect_flags(read_sirene(report.path))
    assert not flags.pop("siren_luhn").any()
    stacked = np.vstack([flags[k] for k in DEFECTS])
    assert stacked.sum(axis=0).max() == 1  # one defect per defective row
    assert int(stacked.any(axis=0).sum()) == report.invalid_rows
    assert {k: int(flags[k].sum()) for k in DEFECTS} == report.invalid_by_defect


# ---------------------------------------------------------------------------- places


def test_communes_are_real_with_arrondissements(clean: tuple[SynthReport, pa.Table]) -> None:
    _, table = clean
    codes = set(table["codeCommuneEtablissement"].to_pylist())
    assert codes <= known_communes()
    assert len(codes) > 5_000
    assert "75056" not in codes
    assert any(c.startswith("751") for c in codes)
    # No collectivité d'outre-mer outside SIRENE (Polynésie, Nouvelle-Calédonie...).
    assert not any(c[:3] in {"984", "986", "987", "988", "989"} for c in codes)


def test_coordinates_scatter_around_the_commune_centroid(
    clean: tuple[SynthReport, pa.Table],
) -> None:
    _, table = clean
    communes = territories.communes()
    aliases = dict(zip(territories.commune_aliases()["alias"].to_pylist(),
                       territories.commune_aliases()["commune"].to_pylist(), strict=True))
    index = {c: i for i, c in enumerate(communes["code"].to_pylist())}
    rows = np.array([index[aliases.get(c, c)]
                     for c in table["codeCommuneEtablissement"].to_pylist()])
    x = pc.cast(table["coordonneeLambertAbscisseEtablissement"], pa.float64()).to_numpy(
        zero_copy_only=False)
    y = pc.cast(table["coordonneeLambertOrdonneeEtablissement"], pa.float64()).to_numpy(
        zero_copy_only=False)
    overseas = np.array([c.startswith("97") for c in table["codeCommuneEtablissement"].to_pylist()])
    assert np.isnan(x[overseas]).all()
    assert np.isnan(y[overseas]).all()
    assert not np.isnan(x[~overseas]).any()
    cx = communes["x"].to_numpy(zero_copy_only=False)[rows]
    cy = communes["y"].to_numpy(zero_copy_only=False)[rows]
    distance = np.hypot(x - cx, y - cy)[~overseas]
    assert distance.max() <= 3 * 5000 * np.sqrt(2) + 1
    assert 300 < np.median(distance) < 3000
    assert (x[~overseas] > 0).all()
    assert (x[~overseas] < 1_300_000).all()
    assert (y[~overseas] > 6_000_000).all()
    assert (y[~overseas] < 7_200_000).all()


def test_region_filter(tmp_path: Path) -> None:
    report = write_synthetic(tmp_path / "occitanie.csv", 20_000, seed=1, region="76")
    table = read_sirene(report.path)
    communes = territories.communes()
    region_of = dict(zip(communes["code"].to_pylist(), communes["region"].to_pylist(),
                         strict=True))
    assert {region_of[c] for c in table["codeCommuneEtablissement"].to_pylist()} == {"76"}
    assert [p.naf for p in report.planted] == ["30.30Z"]  # only Toulouse is in Occitanie
    with pytest.raises(UnknownCodeError, match="région inconnue : '99'"):
        write_synthetic(tmp_path / "nowhere.csv", 100, seed=1, region="99")
    assert not (tmp_path / "nowhere.csv").exists()


# ---------------------------------------------------------------------------- activities, dates


def test_naf_tables_are_consistent() -> None:
    sous_classes = naf.sous_classes()
    codes = sous_classes["code"].to_pylist()
    assert len(codes) == 732
    assert set(FIXED_SHARES) <= set(codes)
    assert {site.naf for site in PLANTED_CLUSTERS} <= set(FIXED_SHARES)
    shares = naf_shares(codes, sous_classes["section"].to_pylist())
    assert shares.min() > 0
    assert shares.sum() == pytest.approx(1.0)
    assert set(SECTION_SHARES) == set(sous_classes["section"].to_pylist())


def test_sections_and_size_bands_follow_the_tables(clean: tuple[SynthReport, pa.Table]) -> None:
    _, table = clean
    section_of = dict(zip(naf.sous_classes()["code"].to_pylist(),
                          naf.sous_classes()["section"].to_pylist(), strict=True))
    sections = np.array([section_of[c]
                         for c in table["activitePrincipaleEtablissement"].to_pylist()])
    total = sum(SECTION_SHARES.values())
    for section in ("C", "F", "G", "L", "M", "Q"):
        expected = SECTION_SHARES[section] / total
        assert (sections == section).mean() == pytest.approx(expected, abs=0.012), section

    central = dict(zip(sizes.size_bands()["code"].to_pylist(),
                       sizes.size_bands()["central"].to_pylist(), strict=True))
    active = table["etatAdministratifEtablissement"].to_numpy(zero_copy_only=False) == "A"
    band = table["trancheEffectifsEtablissement"].to_numpy(zero_copy_only=False).astype(str)
    headcount = np.array([central[b] for b in band])
    # Most establishments are small; industry runs larger than commerce and services.
    assert np.isin(band[active], ["NN", "00", "01"]).mean() > 0.75
    industry = headcount[active & (sections == "C")].mean()
    assert industry > 2 * headcount[active & (sections == "G")].mean()
    employer = table["caractereEmployeurEtablissement"].to_numpy(zero_copy_only=False) == "O"
    assert (employer == ~np.isin(band, ["NN", "00"])).all()


def test_creation_and_closure_dates(clean: tuple[SynthReport, pa.Table]) -> None:
    _, table = clean
    created = table["dateCreationEtablissement"].to_numpy(zero_copy_only=False).astype(
        "datetime64[D]")
    debut = table["dateDebut"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
    closed = table["etatAdministratifEtablissement"].to_numpy(zero_copy_only=False) == "F"
    assert created.min() >= np.datetime64("1950-01-01")
    assert max(created.max(), debut.max()) < np.datetime64("2025-01-01")
    assert (debut[closed] > created[closed]).all()
    assert (debut[~closed] >= created[~closed]).all()
    assert 0.4 < closed.mean() < 0.75
    # Growth: more creations in the 2010s than in the 1980s.
    year = created.astype("datetime64[Y]").astype(int) + 1970
    assert ((year >= 2010) & (year < 2020)).sum() > 2 * ((year >= 1980) & (year < 1990)).sum()


# ---------------------------------------------------------------------------- planted clusters


def _local_quotients(table: pa.Table) -> dict[str, tuple[int, float]]:
    """For each planted site: establishments of its NAF in its communes, location quotient."""
    codes = table["codeCommuneEtablissement"].to_numpy(zero_copy_only=False)
    activity = table["activitePrincipaleEtablissement"].to_numpy(zero_copy_only=False)
    out = {}
    for site in PLANTED_CLUSTERS:
        here = np.isin(codes, site.communes)
        same = activity == site.naf
        local = int((here & same).sum())
        national_share = same.mean()
        out[site.naf] = (local, (local / max(here.sum(), 1)) / max(national_share, 1e-12))
    return out


def test_planted_clusters_stand_out(tmp_path: Path) -> None:
    report = write_synthetic(tmp_path / "planted.csv", 200_000, seed=11)
    assert [p.naf for p in report.planted] == [s.naf for s in PLANTED_CLUSTERS]
    table = read_sirene(report.path)
    quotients = _local_quotients(table)
    for planted in report.planted:
        local, quotient = quotients[planted.naf]
        assert planted.establishments >= 12
        assert local >= planted.establishments
        assert quotient > 20, planted.name
        assert len(planted.communes) >= 5

    # Planted establishments are active, and larger than their background.
    active = table["etatAdministratifEtablissement"].to_numpy(zero_copy_only=False) == "A"
    codes = table["codeCommuneEtablissement"].to_numpy(zero_copy_only=False)
    activity = table["activitePrincipaleEtablissement"].to_numpy(zero_copy_only=False)
    arve = PLANTED_CLUSTERS[0]
    in_arve = np.isin(codes, arve.communes) & (activity == arve.naf)
    assert active[in_arve].mean() > 0.9

    none = write_synthetic(tmp_path / "none.csv", 200_000, seed=11, strength=0.0)
    assert none.planted == []
    background = _local_quotients(read_sirene(none.path))
    for planted in report.planted:
        assert background[planted.naf][0] < planted.establishments / 3


def test_planted_count_scales_with_size_and_strength(tmp_path: Path) -> None:
    small = write_synthetic(tmp_path / "s.parquet", 2_000, seed=2)
    strong = write_synthetic(tmp_path / "t.parquet", 2_000, seed=2, strength=2.0)
    assert all(p.establishments == 2_000 // 200 for p in small.planted)
    assert sum(p.establishments for p in strong.planted) == 2 * sum(
        p.establishments for p in small.planted
    )


def test_planted_communes_are_the_real_places() -> None:
    communes = territories.communes()
    where = {c: (n, d) for c, n, d in zip(communes["code"].to_pylist(),
                                         communes["name"].to_pylist(),
                                         communes["departement"].to_pylist(), strict=True)}
    expected = {
        "25.62A": ({"74"}, {"Cluses", "Scionzier", "Marnaz", "Thyez", "Marignier", "Magland",
                            "Sallanches"}),
        "22.29A": ({"01"}, {"Oyonnax", "Bellignat", "Arbent"}),
        "30.30Z": ({"31"}, {"Toulouse", "Blagnac", "Colomiers"}),
        "23.13Z": ({"76", "80"}, {"Eu", "Le Tréport", "Blangy-sur-Bresle", "Gamaches", "Aumale"}),
        "26.52Z": ({"25"}, {"Morteau", "Pontarlier", "Villers-le-Lac"}),
    }
    for site in PLANTED_CLUSTERS:
        departements, must_have = expected[site.naf]
        assert {where[c][1] for c in site.communes} <= departements
        assert must_have <= {where[c][0] for c in site.communes}


# ---------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("name", "rows", "kwargs", "message"),
    [
        ("f.txt", 10, {}, "extension '.txt'"),
        ("f.csv", 0, {}, "establishments = 0"),
        ("f.csv", 60_000_001, {}, "establishments = 60000001"),
        ("f.csv", 10, {"seed": -1}, "seed = -1"),
        ("f.csv", 10, {"invalid_rate": 1.5}, "invalid_rate = 1.5"),
        ("f.csv", 10, {"strength": -1.0}, "strength = -1.0"),
    ],
)
def test_bad_arguments_are_refused(
    tmp_path: Path, name: str, rows: int, kwargs: dict[str, float], message: str
) -> None:
    arguments: dict[str, object] = {"seed": 1, **kwargs}
    with pytest.raises(InputError, match=message):
        write_synthetic(tmp_path / name, rows, **arguments)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------- memory


@pytest.mark.slow
def test_two_million_rows_in_bounded_memory(tmp_path: Path) -> None:
    # The peak is the child's VmHWM, the high-water mark of its own address space. Not
    # ru_maxrss: Linux carries the parent's peak into a child across fork and exec, so the
    # child would report this pytest process's peak (gigabytes after the detection tests).
    script = textwrap.dedent(f"""
        import json, re
        from pathlib import Path
        from grappe.fabric.synth import write_synthetic
        report = write_synthetic(Path({str(tmp_path / "big.csv")!r}), 2_000_000, seed=1,
                                 invalid_rate=0.001)
        status = Path("/proc/self/status").read_text()
        peak_kib = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))
        print(json.dumps({{"rows": report.rows, "peak_mib": peak_kib / 1024}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True, timeout=300)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["rows"] == 2_000_000
    assert result["peak_mib"] < 1024, result
    with (tmp_path / "big.csv").open("rb") as handle:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 24), b""))
    assert lines == 2_000_001


# ---------------------------------------------------------------------------- demo


def test_demo_command_generates_imports_and_summarises(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path), "--establishments", "20000", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    # The import quarantines exactly the defective rows that the generator announced.
    assert "lignes lues = lignes stockées + lignes en quarantaine : 20 000 = 19 980 + 20" in (
        out.replace("\u202f", " "))
    assert "Établissements actifs par région et section NAF" in out
    assert "Île-de-France" in out
    assert "Emploi salarié estimé" in out
    assert "Lignes en quarantaine par motif" in out
    assert "25.62A" in out
    assert "Décolletage" in out
    assert (tmp_path / "sirene_synthetique_20000_3.csv").is_file()
    # The demo ranks zones d'emploi without any import (packaged), says where its store is
    # and which commands to try next; the first one runs as printed.
    assert "zones d'emploi x sous-classes NAF" in out
    store = tmp_path / "magasin_20000_3"
    assert f"Magasin de la démonstration : {store}" in out
    commands = next_commands(store)
    for command in commands:
        assert command in out
    first = shlex.split(commands[0])
    assert first[:2] == ["grappe", "detect"]
    detected = CliRunner().invoke(app, [*first[1:], "--permutations", "0"])
    assert detected.exit_code == 0, detected.output
    assert "niveau ze" in detected.output

    again = CliRunner().invoke(
        app, ["demo", "--dir", str(tmp_path), "--establishments", "20000", "--seed", "3"]
    )
    assert again.exit_code == 0, again.output
    assert "déjà importé" in again.output
