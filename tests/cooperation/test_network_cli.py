"""`grappe cooperation network` on a registry with projects, links and deals (CliRunner, SQLite)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import networkx as nx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from grappe.cli import app
from grappe.cli import cooperation as cli
from grappe.cooperation import network, service
from grappe.cooperation.models import LinkKind, ProjectKind
from grappe.cooperation.schemas import DealIn, LinkIn, PartnerIn, ProjectIn
from grappe.errors import InputError, PermissionDeniedError
from grappe.registry import open_registry
from grappe.registry.models import Organisation
from grappe.registry.policy import LOCAL_ADMIN

runner = CliRunner()
SIRENS = ("000000117", "000000125", "000000133", "000000141", "000000158")
MEMBERS = ("Alpha", "Beta", "Gamma", "Delta", "Epsilon")
HEADER = ["organisation", "kind", "degree", "weighted_degree", "betweenness", "eigenvector",
          "community", "core", "organisation_id"]


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def cluster(tmp_path: Path) -> dict[str, int]:
    """MECA with five members; Alpha, Beta, Gamma share a 2024 project, Gamma a 2023 one with an
    outside lab; Alpha–Delta a confirmed link, Beta–Delta business; Epsilon works with nobody."""
    assert run("registry", "create", "Mécanique Rhône", "--acronym", "MECA", "--commune", "69123")[0] == 0
    members = tmp_path / "adherents.csv"
    members.write_text(
        "siren;nom;date_adhesion\n"
        + "".join(f"{s};{n};2020-01-02\n" for s, n in zip(SIRENS, MEMBERS, strict=True)),
        encoding="utf-8",
    )
    code, out = run("registry", "import", "MECA", str(members))
    assert code == 0, out
    with open_registry() as session:
        ids = {name: oid for oid, name in session.execute(select(Organisation.id, Organisation.name))}
        service.create_project(session, LOCAL_ADMIN, 1, ProjectIn(
            title="Usinage 2024", kind=ProjectKind.RD_INNOVATION, start=dt.date(2024, 3, 1),
            end=dt.date(2024, 12, 31),
            partners=[PartnerIn(organisation_id=ids[n]) for n in ("Alpha", "Beta", "Gamma")],
        ))
        service.create_project(session, LOCAL_ADMIN, 1, ProjectIn(
            title="Capteurs 2023", kind=ProjectKind.RD_INNOVATION, start=dt.date(2023, 2, 1),
            end=dt.date(2023, 12, 31),
            partners=[PartnerIn(organisation_id=ids["Gamma"]), PartnerIn(name="Labo Externe")],
        ))
        service.declare_link(session, LOCAL_ADMIN, 1, LinkIn(
            organisation_a=ids["Alpha"], organisation_b=ids["Delta"], kind=LinkKind.SUPPLIER_CUSTOMER,
            start=dt.date(2024, 1, 1), intensity=2,
        ))
        service.declare_deal(session, LOCAL_ADMIN, 1, DealIn(
            buyer=ids["Beta"], seller=ids["Delta"], year=2024, amount_eur=Decimal(1000),
        ))
        ids |= {name: oid for oid, name in session.execute(select(Organisation.id, Organisation.name))}
    return ids


def _rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == HEADER
        return {row["organisation"]: row for row in reader}


def test_network_of_a_cluster_with_its_files(cluster: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "reseau.csv"
    code, text = run("cooperation", "network", "--cluster", "MECA", "--out", str(out),
                     "--graphml", str(tmp_path / "g.graphml"), "--gexf", str(tmp_path / "g.gexf"),
                     "--picture", str(tmp_path / "reseau.svg"))
    assert code == 0, text
    rows = _rows(out)
    assert set(rows) == {*MEMBERS, "Labo Externe"}  # the members and whom they work with
    assert rows["Alpha"]["degree"] == "3"  # Beta, Gamma (project), Delta (link)
    assert float(rows["Alpha"]["weighted_degree"]) == 1 + 1 + 2  # the link's intensity is its weight
    assert rows["Epsilon"]["degree"] == "0"
    assert rows["Epsilon"]["organisation_id"] == str(cluster["Epsilon"])
    assert rows["Gamma"]["core"] in {"true", "false"}
    assert "Adhérents isolés, à impliquer : Epsilon." in text
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() == 6
    assert nx.read_gexf(tmp_path / "g.gexf").number_of_edges() == 6
    assert "Réseau de coopération" in (tmp_path / "reseau.svg").read_text(encoding="utf-8")


def test_layers_and_period(cluster: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "reseau.csv"
    assert run("cooperation", "network", "--cluster", "1", "--layers", "projects", "--out", str(out))[0] == 0
    assert _rows(out)["Delta"]["degree"] == "0"
    code, text = run("cooperation", "network", "--cluster", "MECA", "--from", "2024-01-01",
                     "--to", "31/12/2024", "--out", str(out))
    assert code == 0, text
    year = _rows(out)
    assert year["Gamma"]["degree"] == "2"  # the 2023 project with the lab is out of the period
    assert year["Delta"]["degree"] == "2"  # the link and the deal
    result = runner.invoke(app, ["cooperation", "network", "--cluster", "MECA", "--layers", "events",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output  # no event attended yet: nobody is tied
    assert {row["degree"] for row in _rows(out).values()} == {"0"}


def test_all_organisations_and_xlsx(cluster: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "reseau.xlsx"
    code, text = run("cooperation", "network", "--all", "--out", str(out))
    assert code == 0, text
    sheet = load_workbook(out, read_only=True)["Réseau"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Organisation", "Nature", "Degré (partenaires distincts)")
    assert {r[0] for r in rows[1:]} == {*MEMBERS, "Labo Externe"}
    assert next(r for r in rows[1:] if r[0] == "Alpha")[1] == "Entreprise"


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        ([], InputError, "--cluster ou --all : indiquez l'un des deux"),
        (["--cluster", "MECA", "--all"], InputError, "--cluster ou --all : indiquez l'un des deux"),
        (["--all", "--layers", "projets"], InputError, "--layers 'projets' : couche inconnue"),
        (["--all", "--from", "2024-02-30"], InputError, "--from '2024-02-30' : date invalide"),
        (["--all", "--from", "2024-12-31", "--to", "2024-01-01"], InputError, "la fin (2024-01-01) précède"),
        (["--all", "--picture", "r.jpg"], InputError, "r.jpg : extension .jpg non prise en charge"),
        (["--cluster", "MECA", "--compare-to", "2023"], InputError,
         "--compare-to 2023 : indiquez la période analysée avec --from et --to"),
    ],
)
def test_bad_options_in_french(
    cluster: dict[str, int], tmp_path: Path, args: list[str], error: type[Exception], message: str
) -> None:
    out = tmp_path / "reseau.csv"
    result = runner.invoke(app, ["cooperation", "network", *args, "--out", str(out)])
    assert isinstance(result.exception, error), result.output
    assert message in str(result.exception)
    assert not out.exists()  # refused before anything was written


def test_only_managers_read_a_cluster_network(cluster: dict[str, int], tmp_path: Path) -> None:
    code, out = run("registry", "user-add", "m@alpha.fr", "--role", "member", "--organisation",
                    str(cluster["Alpha"]), "--token")
    assert code == 0, out
    token = out.splitlines()[-1]
    result = runner.invoke(app, ["cooperation", "--as", token, "network", "--cluster", "MECA",
                                 "--out", str(tmp_path / "r.csv")])
    assert isinstance(result.exception, PermissionDeniedError)
    result = runner.invoke(app, ["cooperation", "--as", token, "network", "--all",
                                 "--out", str(tmp_path / "r.csv")])
    assert isinstance(result.exception, PermissionDeniedError)


def test_cli_layers_are_the_library_layers() -> None:
    assert cli.LAYERS == network.LAYERS


def test_compare_to_a_year_gives_the_change(cluster: dict[str, int], tmp_path: Path) -> None:
    out = tmp_path / "reseau.csv"
    code, text = run("cooperation", "network", "--cluster", "MECA", "--from", "2024-01-01", "--to",
                     "2024-12-31", "--compare-to", "2023", "--out", str(out))
    assert code == 0, text
    assert "Évolution du réseau depuis 2023" in text
    assert "Liens : 5 nouveaux, 0 maintenus, 1 terminés" in text  # 2023: Gamma–Labo; 2024: five ties
    with open_registry() as session:
        analysis, change = service.network_change(
            session, LOCAL_ADMIN, cluster_id=1, before=service.year_period(2023),
            after=(dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
        )
    assert change.ties == (1, 5)
    assert set(change.joined) == {cluster[n] for n in ("Alpha", "Beta", "Delta")}
    assert set(change.left) == {cluster["Labo Externe"]}
    assert change.core_size == (2, 4)  # a 1-core of two, then Alpha, Beta, Gamma and Delta (2-core)
    assert change.components[1] == analysis.summary.components

