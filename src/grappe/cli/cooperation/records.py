"""`grappe cooperation` records: project import, links, projects, business, merges."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._analysis import choice
from grappe.cli._console import console, err_console
from grappe.cli.cooperation._base import (
    CATEGORIES,
    DEAL_KINDS,
    FORMATS,
    LINK_KINDS,
    ORIENTATIONS,
    PROJECT_KINDS,
    STATUSES,
    ClusterArgument,
    Limit,
    _amount,
    _date,
    app,
    in_cluster,
    label,
    print_listing,
)

if TYPE_CHECKING:
    from grappe.cooperation.schemas import ProjectImportReport, ProjectOut


# --- import ----------------------------------------------------------------------------------


def _print_report(report: ProjectImportReport) -> None:
    if report.issues:
        operational.table(
            "Lignes signalées",
            ["fichier", "ligne", "colonne", "valeur", "motif"],
            [[Path(i.file).name, i.line, i.column, i.value, i.reason] for i in report.issues],
        )
    if report.merges:
        operational.table(
            "Organisations fusionnées (même nom normalisé et même nature)",
            ["nom lu", "fusionné avec", "organisation", "nature"],
            [[m.name, m.merged_into, m.organisation_id, m.kind] for m in report.merges],
        )
    for what, counts in (("projets", report.projects), ("partenaires", report.partners)):
        console.print(
            f"{Path(counts.file).name} : {counts.read} {what} lus = {counts.inserted} ajoutés "
            f"+ {counts.unchanged} déjà enregistrés + {counts.reported} signalés"
        )
    console.print(
        f"{report.organisations_created} organisations créées, {report.unnamed_partners} partenaires "
        "non renseignés (hors réseau)" + ("" if report.committed else " — rien n'a été écrit (--strict)")
    )


@app.command(
    "import-projects",
    epilog="Exemple : grappe cooperation import-projects --format anr anr-projets.xlsx anr-partenaires.xlsx",
)
def import_projects(
    projects: Annotated[Path, typer.Argument(metavar="PROJETS", help="Fichier des projets (.xlsx ou .csv).")],
    partners: Annotated[
        Path, typer.Argument(metavar="PARTENAIRES", help="Fichier des partenaires (.xlsx ou .csv).")
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="Disposition : anr (données ouvertes de l'ANR) ou table "
            "(disposition générique, voir le README).",
        ),
    ] = "anr",
    strict: Annotated[
        bool, typer.Option("--strict", help="Ne rien écrire si une ligne est signalée (statut 2).")
    ] = False,
) -> None:
    """Importer des projets collaboratifs et leurs partenaires (ANR ou tableau générique)."""
    choice("--format", fmt, FORMATS)
    from grappe.cooperation.projects_io import ImportFormat
    from grappe.cooperation.projects_io import import_projects as run

    with operational.unit() as (session, actor):
        report = run(session, actor, projects, partners, fmt=ImportFormat(fmt), strict=strict)
    _print_report(report)
    if strict and report.issues:
        raise typer.Exit(2)


# --- links -----------------------------------------------------------------------------------


@app.command(
    "link-declare",
    epilog="Exemple : grappe cooperation link-declare MECA 12 34 --kind supplier_customer "
    "--orientation products_markets",
)
def link_declare(
    cluster: ClusterArgument,
    organisation_a: Annotated[
        int,
        typer.Argument(
            metavar="ORGANISATION_A", help="N° de l'organisation fournisseur ou donneuse d'ordre (ex. : 12)."
        ),
    ],
    organisation_b: Annotated[
        int, typer.Argument(metavar="ORGANISATION_B", help="N° de l'autre organisation (ex. : 34).")
    ],
    kind: Annotated[str, typer.Option("--kind", help=f"Nature du lien : {', '.join(LINK_KINDS)}.")],
    orientations: Annotated[
        list[str] | None,
        typer.Option("--orientation", help=f"Orientation ({', '.join(ORIENTATIONS)}) ; répétable."),
    ] = None,
    start: Annotated[str | None, typer.Option("--from", help="Début (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Fin (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
    intensity: Annotated[
        int | None, typer.Option("--intensity", help="Intensité de 1 (ponctuel) à 5 (stratégique).")
    ] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Montant du lien en euros (ex. : 45000).")
    ] = None,
) -> None:
    """Déclarer un lien de coopération (à confirmer par l'autre partie s'il vient d'un adhérent)."""
    choice("--kind", kind, LINK_KINDS)
    for orientation in orientations or []:
        choice("--orientation", orientation, ORIENTATIONS)
    from grappe.cooperation import service
    from grappe.cooperation.schemas import LinkIn

    data = operational.build(
        LinkIn,
        organisation_a=organisation_a,
        organisation_b=organisation_b,
        kind=kind,
        orientations=orientations or [],
        start=_date("--from", start),
        end=_date("--to", end),
        intensity=intensity,
        amount_eur=None if amount is None else _amount("--amount", amount),
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        link = service.declare_link(session, actor, cluster_id, data)
    console.print(
        f"Lien {link.id} : {link.organisation_a_name} — {link.organisation_b_name} ({link.kind}), "
        f"{label('link_state', link.state)}"
    )


@app.command("link-answer", epilog="Exemple : grappe cooperation --as u@firme.fr link-answer 7")
def link_answer(
    link_id: Annotated[int, typer.Argument(metavar="LIEN", help="N° du lien (ex. : 7).")],
    decline: Annotated[
        bool, typer.Option("--decline", help="Refuser le lien au lieu de le confirmer.")
    ] = False,
) -> None:
    """Confirmer (ou refuser) un lien déclaré par l'autre partie."""
    from grappe.cooperation import service
    from grappe.cooperation.schemas import LinkAnswer

    with operational.unit() as (session, actor):
        link = service.answer_link(session, actor, link_id, LinkAnswer(accept=not decline))
    console.print(f"Lien {link.id} : {label('link_state', link.state)}")


@app.command("link-end", epilog="Exemple : grappe cooperation link-end 7 --date 2025-12-31")
def link_end(
    link_id: Annotated[int, typer.Argument(metavar="LIEN", help="N° du lien (ex. : 7).")],
    on: Annotated[
        str | None,
        typer.Option("--date", help="Jour de fin, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : aujourd'hui)."),
    ] = None,
) -> None:
    """Mettre fin à un lien de coopération (les gestionnaires de sa structure)."""
    from grappe.cooperation import service
    from grappe.cooperation.schemas import LinkEnd

    data = operational.build(LinkEnd, end=_date("--date", on))
    with operational.unit() as (session, actor):
        link = service.end_link(session, actor, link_id, data)
    console.print(
        f"Lien {link.id} : {link.organisation_a_name} — {link.organisation_b_name}, "
        f"terminé le {link.end:%d/%m/%Y}"
    )


@app.command("links", epilog="Exemple : grappe cooperation links MECA")
def links(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Lister les liens de coopération d'une structure."""
    from grappe.cooperation import service

    print_listing(
        cluster,
        partial(service.list_links, limit=limit),
        "Liens",
        ["n°", "organisation A", "organisation B", "nature", "orientations", "montant (€)", "état", "fin"],
        lambda x: [
            x.id,
            x.organisation_a_name,
            x.organisation_b_name,
            x.kind,
            " ".join(x.orientations),
            x.amount_eur,
            label("link_state", x.state),
            None if x.end is None else f"{x.end:%d/%m/%Y}",
        ],
    )


# --- projects --------------------------------------------------------------------------------


def _print_project(project: ProjectOut) -> None:
    """The project in one line, then its partners with the row numbers `partner-remove` takes."""
    console.print(
        f"Projet {project.id} « {project.title} » ({project.kind}) : "
        f"{label('project_status', project.status)}, "
        f"{len(project.partners)} partenaires" + (", inter-clusters" if project.inter_cluster else "")
    )
    if project.partners:
        operational.table(
            "Partenaires",
            ["n°", "partenaire", "catégorie", "chef de file", "ville", "budget (€)"],
            [
                [
                    p.id,
                    p.name or "non renseigné",
                    p.category,
                    "oui" if p.coordinator else "",
                    p.town,
                    p.budget_eur,
                ]
                for p in project.partners
            ],
        )


@app.command(
    "project-create",
    epilog='Exemple : grappe cooperation project-create MECA "Usinage propre" --kind rd_innovation',
)
def project_create(
    cluster: ClusterArgument,
    title: Annotated[str, typer.Argument(metavar="TITRE", help="Titre du projet.")],
    kind: Annotated[str, typer.Option("--kind", help=f"Nature : {', '.join(PROJECT_KINDS)}.")],
    acronym: Annotated[str | None, typer.Option("--acronym", help="Acronyme (ex. : USIPRO).")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Début (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Fin (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
    confidential: Annotated[
        bool, typer.Option("--confidential", help="Détails réservés aux partenaires et au gestionnaire.")
    ] = False,
) -> None:
    """Créer un projet collaboratif (statut : idée)."""
    choice("--kind", kind, PROJECT_KINDS)
    from grappe.cooperation import service
    from grappe.cooperation.schemas import ProjectIn

    data = operational.build(
        ProjectIn,
        title=title,
        kind=kind,
        acronym=acronym,
        start=_date("--from", start),
        end=_date("--to", end),
        confidential=confidential,
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        project = service.create_project(session, actor, cluster_id, data)
    _print_project(project)


@app.command(
    "project-status", epilog="Exemple : grappe cooperation project-status 3 submitted --date 2025-03-01"
)
def project_status(
    project_id: Annotated[int, typer.Argument(metavar="PROJET", help="N° du projet (ex. : 3).")],
    status: Annotated[str, typer.Argument(metavar="STATUT", help=f"Nouveau statut : {', '.join(STATUSES)}.")],
    on: Annotated[str | None, typer.Option("--date", help="Date de l'étape (défaut : aujourd'hui).")] = None,
) -> None:
    """Faire avancer un projet dans son parcours (idée, montage, labellisé, déposé…)."""
    choice("STATUT", status, STATUSES)
    from grappe.cooperation import service
    from grappe.cooperation.schemas import StatusIn

    data = operational.build(StatusIn, status=status, on=_date("--date", on))
    with operational.unit() as (session, actor):
        project = service.change_status(session, actor, project_id, data)
    _print_project(project)


@app.command(
    "partner-add",
    epilog="Exemple : grappe cooperation partner-add 3 --organisation 12 --category member_firm "
    "--coordinator",
)
def partner_add(
    project_id: Annotated[int, typer.Argument(metavar="PROJET", help="N° du projet (ex. : 3).")],
    name: Annotated[
        str | None,
        typer.Argument(metavar="NOM", help="Nom d'un partenaire sans n° (omis : partenaire non renseigné)."),
    ] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="N° d'une organisation enregistrée (ex. : 12).")
    ] = None,
    category: Annotated[
        str | None, typer.Option("--category", help=f"Catégorie : {', '.join(CATEGORIES)}.")
    ] = None,
    coordinator: Annotated[bool, typer.Option("--coordinator", help="Chef de file du projet.")] = False,
    budget: Annotated[str | None, typer.Option("--budget", help="Budget du partenaire en euros.")] = None,
    town: Annotated[str | None, typer.Option("--town", help="Ville (partenaire sans SIREN).")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Pays (ex. : Allemagne).")] = None,
) -> None:
    """Ajouter un partenaire à un projet."""
    if category is not None:
        choice("--category", category, CATEGORIES)
    from grappe.cooperation import service
    from grappe.cooperation.schemas import PartnerIn

    data = operational.build(
        PartnerIn,
        organisation_id=organisation,
        name=name,
        category=category,
        coordinator=coordinator,
        budget_eur=None if budget is None else _amount("--budget", budget),
        town=town,
        country=country,
    )
    with operational.unit() as (session, actor):
        project = service.add_partner(session, actor, project_id, data)
    _print_project(project)


@app.command("partner-remove", epilog="Exemple : grappe cooperation partner-remove 3 18")
def partner_remove(
    project_id: Annotated[int, typer.Argument(metavar="PROJET", help="N° du projet (ex. : 3).")],
    partner_id: Annotated[
        int,
        typer.Argument(
            metavar="PARTENAIRE",
            help="N° de la ligne du partenaire, tel que project-show l'affiche (ex. : 18).",
        ),
    ],
) -> None:
    """Retirer un partenaire d'un projet (les gestionnaires du projet)."""
    from grappe.cooperation import service

    with operational.unit() as (session, actor):
        project = service.remove_partner(session, actor, project_id, partner_id)
    _print_project(project)


@app.command("project-show", epilog="Exemple : grappe cooperation project-show 3")
def project_show(
    project_id: Annotated[int, typer.Argument(metavar="PROJET", help="N° du projet (ex. : 3).")],
) -> None:
    """Un projet lisible et ses partenaires, avec leurs n° de ligne."""
    from grappe.cooperation import service

    with operational.unit(write=False) as (session, actor):
        project = service.get_project(session, actor, project_id)
    _print_project(project)


@app.command("projects", epilog="Exemple : grappe cooperation projects --cluster MECA --status funded")
def projects(
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="N°, sigle ou nom d'une structure (ex. : MECA).")
    ] = None,
    status: Annotated[str | None, typer.Option("--status", help=f"Statut : {', '.join(STATUSES)}.")] = None,
    limit: Limit = 100,
) -> None:
    """Lister les projets lisibles (données ouvertes comprises)."""
    if status is not None:
        choice("--status", status, STATUSES)
    from grappe.cooperation import service
    from grappe.cooperation.models import ProjectStatus

    wanted = ProjectStatus(status) if status else None
    print_listing(
        cluster,
        lambda session, actor, cluster_id: service.list_projects(
            session, actor, cluster_id=cluster_id, status=wanted, limit=limit
        ),
        "Projets",
        ["n°", "code", "acronyme", "titre", "nature", "statut", "début"],
        lambda p: [p.id, p.code, p.acronym, p.title, p.kind, label("project_status", p.status), p.start],
    )


# --- business --------------------------------------------------------------------------------


@app.command(
    "deal-declare",
    epilog="Exemple : grappe cooperation deal-declare MECA 12 34 --year 2025 --amount 150000 --brokered",
)
def deal_declare(
    cluster: ClusterArgument,
    buyer: Annotated[int, typer.Argument(metavar="ACHETEUR", help="N° de l'organisation acheteuse.")],
    seller: Annotated[int, typer.Argument(metavar="VENDEUR", help="N° de l'organisation vendeuse.")],
    year: Annotated[int, typer.Option("--year", help="Année de l'affaire (ex. : 2025).")],
    amount: Annotated[str, typer.Option("--amount", help="Montant en euros (ex. : 150000).")],
    kind: Annotated[str, typer.Option("--kind", help=f"Nature : {', '.join(DEAL_KINDS)}.")] = "goods",
    brokered: Annotated[bool, typer.Option("--brokered", help="Affaire apportée par la structure.")] = False,
) -> None:
    """Déclarer une affaire entre deux organisations."""
    choice("--kind", kind, DEAL_KINDS)
    from grappe.cooperation import service
    from grappe.cooperation.schemas import DealIn

    data = operational.build(
        DealIn,
        buyer=buyer,
        seller=seller,
        year=year,
        amount_eur=_amount("--amount", amount),
        kind=kind,
        brokered=brokered,
    )
    with in_cluster(cluster) as (session, actor, cluster_id):
        deal = service.declare_deal(session, actor, cluster_id, data)
    console.print(
        f"Affaire {deal.id} : {deal.seller_name} → {deal.buyer_name}, {deal.year}, {deal.amount_eur} €"
    )


@app.command("business", epilog="Exemple : grappe cooperation business MECA")
def business(cluster: ClusterArgument) -> None:
    """Volume annuel des affaires entre organisations et sa répartition."""
    from grappe.cooperation import service

    with in_cluster(cluster, write=False) as (session, actor, cluster_id):
        volume = service.business_volume(session, actor, cluster_id)
    if not volume.years:
        err_console.print("aucune affaire enregistrée pour cette structure")
    operational.table(
        "Affaires entre membres",
        ["année", "affaires", "montant (€)", "dont apporté (€)", "par nature (€)"],
        [
            [
                y.year,
                y.deals,
                y.amount_eur,
                y.brokered_eur,
                ", ".join(f"{k} {v}" for k, v in sorted(y.by_kind.items())),
            ]
            for y in volume.years
        ],
    )


@app.command("figures", epilog="Exemple : grappe cooperation --as f@region.fr figures MECA")
def figures(cluster: ClusterArgument) -> None:
    """Chiffres de coopération d'une structure : projets par statut, liens, affaires."""
    from grappe.cooperation import service

    with in_cluster(cluster, write=False) as (session, actor, cluster_id):
        numbers = service.cooperation_figures(session, actor, cluster_id)
    operational.table(
        "Coopération",
        ["indicateur", "valeur"],
        [
            *[
                [f"projets « {label('project_status', status)} »", n]
                for status, n in sorted(numbers.projects_by_status.items())
            ],
            ["projets inter-clusters", numbers.inter_cluster_projects],
            *[
                [f"liens « {label('link_state', state)} »", n]
                for state, n in sorted(numbers.links_by_state.items())
            ],
            *[[f"affaires {y.year} (€)", y.amount_eur] for y in numbers.business],
        ],
    )


# --- organisations known by name ------------------------------------------------------------------


@app.command("merge", epilog="Exemple : grappe cooperation merge 57 12")
def merge(
    source: Annotated[
        int, typer.Argument(metavar="SOURCE", help="N° de l'organisation connue par son nom seul (ex. : 57).")
    ],
    target: Annotated[
        int,
        typer.Argument(
            metavar="CIBLE", help="N° de l'organisation qui la remplace, avec son SIREN (ex. : 12)."
        ),
    ],
) -> None:
    """Fusionner une organisation connue par son nom dans une autre (son SIREN, une fois connu)."""
    from grappe.cooperation import service

    with operational.unit() as (session, actor):
        moved = service.merge_organisation(session, actor, source, target)
    console.print(f"Organisation {source} fusionnée dans {target} : {moved} fiches de coopération reprises")


