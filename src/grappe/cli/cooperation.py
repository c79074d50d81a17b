"""`grappe cooperation` commands: projects, links, business, events, shared equipment, the network.

Every command runs as one transaction on the registry database, as the user given by
``grappe cooperation --as TOKEN_OR_EMAIL ...`` (default: the local administrator), like
``grappe registry``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._analysis import choice
from grappe.cli._console import console, err_console, number
from grappe.errors import InputError
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from grappe.cooperation.actions.schemas import PurchaseOut, ShareOut
    from grappe.cooperation.network import NetworkAnalysis
    from grappe.cooperation.schemas import ProjectImportReport, ProjectOut
    from grappe.registry.clusters import service as cluster_service
else:
    cluster_service = operational.Lazy("grappe.registry.clusters.service")

#: Values of the coded options, written here so that `--help` loads no model
#: (tests/cooperation/test_cli.py checks they agree with the models' enums).
FORMATS = ("anr", "table")
LINK_KINDS = (
    "supplier_customer",
    "subcontracting",
    "co_development",
    "horizontal_partnership",
    "shared_resource",
)
ORIENTATIONS = ("means", "products_markets", "working_club")
PROJECT_KINDS = ("rd_innovation", "market", "training", "structuring")
STATUSES = (
    "idea",
    "drafting",
    "labelled",
    "submitted",
    "funded",
    "rejected",
    "running",
    "completed",
    "abandoned",
)
CATEGORIES = (
    "member_firm",
    "non_member_firm",
    "laboratory",
    "training_body",
    "public_body",
    "foreign_partner",
)
DEAL_KINDS = ("goods", "services", "subcontracting", "other")
#: The layers of ``--layers`` (``grappe.cooperation.network.LAYERS``).
LAYERS = ("projects", "links", "events", "business")
#: Columns of the measures file (CONTRACTS, "network measures"), the stored id last.
MEASURES = ("organisation", "kind", "degree", "weighted_degree", "betweenness", "eigenvector",
            "community", "core", "organisation_id")
MEASURE_LABELS = {
    "organisation": "Organisation",
    "kind": "Nature",
    "degree": "Degré (partenaires distincts)",
    "weighted_degree": "Degré pondéré",
    "betweenness": "Intermédiarité",
    "eigenvector": "Centralité de vecteur propre",
    "community": "Communauté",
    "core": "Cœur",
    "organisation_id": "N° organisation",
}
MEASURE_SUFFIXES = (".csv", ".xlsx")
#: French names of the states and statuses the tables show (the codes are what options take).
LINK_STATES = {"pending": "en attente", "confirmed": "confirmé", "declined": "refusé"}
STATUS_NAMES = dict(
    zip(
        STATUSES,
        ("idée", "montage", "labellisé", "déposé", "financé", "refusé", "en cours", "terminé", "abandonné"),
        strict=True,
    )
)

app = typer.Typer(
    help="Coopération : liens, projets collaboratifs, affaires entre membres, import des projets.",
    epilog="Exemple : grappe cooperation import-projects --format anr projets.xlsx partenaires.xlsx",
    no_args_is_help=True,
)

ClusterArgument = operational.ClusterArgument
Limit = Annotated[int, typer.Option("--limit", help="Nombre de lignes au plus (1 à 500).")]


@app.callback()
def _options(acting: operational.ActingOption = None) -> None:
    # the registry's unit of work reads the acting user from its state: one rule for both groups
    operational.act_as(acting)


def _amount(option: str, text: str) -> Decimal:
    try:
        return Decimal(text.replace(" ", "").replace(",", "."))
    except InvalidOperation as exc:
        raise InputError(f"{option} {text!r} : montant invalide (ex. : 12500 ou 12500,50)") from exc


def _date(option: str, text: str | None) -> dt.date | None:
    return None if text is None else option_date(option, text)


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
    )
    with operational.unit() as (session, actor):
        link = service.declare_link(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
    console.print(
        f"Lien {link.id} : {link.organisation_a_name} — {link.organisation_b_name} ({link.kind}), "
        f"{LINK_STATES[link.state]}"
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
    console.print(f"Lien {link.id} : {LINK_STATES[link.state]}")


@app.command("links", epilog="Exemple : grappe cooperation links MECA")
def links(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Lister les liens de coopération d'une structure."""
    from grappe.cooperation import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_links(
            session, actor, cluster_service.resolve_cluster(session, cluster), limit=limit
        )
    operational.table(
        f"Liens ({page.total})",
        ["n°", "organisation A", "organisation B", "nature", "orientations", "état"],
        [
            [
                x.id,
                x.organisation_a_name,
                x.organisation_b_name,
                x.kind,
                " ".join(x.orientations),
                LINK_STATES[x.state],
            ]
            for x in page.items
        ],
    )


# --- projects --------------------------------------------------------------------------------


def _print_project(project: ProjectOut) -> None:
    console.print(
        f"Projet {project.id} « {project.title} » ({project.kind}) : {STATUS_NAMES[project.status]}, "
        f"{len(project.partners)} partenaires" + (", inter-clusters" if project.inter_cluster else "")
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
    with operational.unit() as (session, actor):
        project = service.create_project(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
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

    with operational.unit(write=False) as (session, actor):
        cluster_id = None if cluster is None else cluster_service.resolve_cluster(session, cluster)
        page = service.list_projects(
            session,
            actor,
            cluster_id=cluster_id,
            status=ProjectStatus(status) if status else None,
            limit=limit,
        )
    operational.table(
        f"Projets ({page.total})",
        ["n°", "code", "acronyme", "titre", "nature", "statut", "début"],
        [[p.id, p.code, p.acronym, p.title, p.kind, STATUS_NAMES[p.status], p.start] for p in page.items],
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
    with operational.unit() as (session, actor):
        deal = service.declare_deal(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
    console.print(
        f"Affaire {deal.id} : {deal.seller_name} → {deal.buyer_name}, {deal.year}, {deal.amount_eur} €"
    )


@app.command("business", epilog="Exemple : grappe cooperation business MECA")
def business(cluster: ClusterArgument) -> None:
    """Volume annuel des affaires entre organisations et sa répartition."""
    from grappe.cooperation import service

    with operational.unit(write=False) as (session, actor):
        volume = service.business_volume(
            session, actor, cluster_service.resolve_cluster(session, cluster)
        )
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

    with operational.unit(write=False) as (session, actor):
        numbers = service.cooperation_figures(
            session, actor, cluster_service.resolve_cluster(session, cluster)
        )
    operational.table(
        "Coopération",
        ["indicateur", "valeur"],
        [
            *[
                [f"projets « {STATUS_NAMES[status]} »", n]
                for status, n in sorted(numbers.projects_by_status.items())
            ],
            ["projets inter-clusters", numbers.inter_cluster_projects],
            *[[f"liens « {LINK_STATES[state]} »", n] for state, n in sorted(numbers.links_by_state.items())],
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


# --- network ------------------------------------------------------------------------------------


@app.command(
    "network",
    epilog="Exemple : grappe cooperation network --cluster MECA --layers projects,links "
    "--from 2024-01-01 --to 2024-12-31 --out reseau.xlsx --picture reseau.png",
)
def network_command(
    out: Annotated[
        Path,
        typer.Option("--out", metavar="FICHIER", help="Mesures par organisation, .csv ou .xlsx "
                     "(ex. : reseau.csv)."),
    ],
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", metavar="STRUCTURE",
                     help="N°, sigle ou nom de la structure : ses adhérents et les organisations "
                     "avec qui ils coopèrent (ex. : MECA)."),
    ] = None,
    everyone: Annotated[
        bool,
        typer.Option("--all", help="Toutes les organisations enregistrées, adhérentes ou non "
                     "(administrateur)."),
    ] = False,
    layers: Annotated[
        str | None,
        typer.Option("--layers", metavar="COUCHES",
                     help=f"Couches, séparées par des virgules, parmi {', '.join(LAYERS)} "
                     "(défaut : toutes ; ex. : projects,links)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", metavar="DATE", help="Début de la période, AAAA-MM-JJ ou JJ/MM/AAAA "
                     "(défaut : toutes les périodes, projets sans date compris)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", metavar="DATE", help="Fin de la période, incluse (ex. : 2024-12-31)."),
    ] = None,
    graphml: Annotated[
        Path | None,
        typer.Option("--graphml", metavar="FICHIER", help="Écrire aussi le graphe en GraphML "
                     "(ex. : reseau.graphml)."),
    ] = None,
    gexf: Annotated[
        Path | None,
        typer.Option("--gexf", metavar="FICHIER", help="Écrire aussi le graphe en GEXF, pour Gephi "
                     "(ex. : reseau.gexf)."),
    ] = None,
    picture: Annotated[
        Path | None,
        typer.Option("--picture", metavar="FICHIER", help="Dessiner le réseau en .png ou .svg "
                     "(ex. : reseau.png)."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Graine des communautés et du dessin (ex. : 7).")
    ] = 0,
) -> None:
    """Mesurer le réseau de coopération : une ligne par organisation.

    Degrés, intermédiarité, centralité, communauté, cœur ; puis qui impliquer et la dépendance.
    """
    from grappe.cooperation import network_export
    from grappe.kit.export import write

    if everyone == (cluster is not None):
        raise InputError("--cluster ou --all : indiquez l'un des deux")
    chosen = _layers(layers)
    first, last = _date("--from", start), _date("--to", end)
    network_export.writable(out, MEASURE_SUFFIXES)
    for path, suffixes in ((graphml, network_export.GRAPHML_SUFFIXES),
                           (gexf, network_export.GEXF_SUFFIXES),
                           (picture, network_export.PICTURE_FORMATS)):
        if path is not None:
            network_export.writable(path, suffixes)
    analysis = _analyse(cluster, chosen, first, last, seed)
    table = analysis.measures
    if out.suffix.lower() == ".xlsx":
        table = table.assign(kind=table["kind"].map(network_export.KIND_LABELS).fillna(table["kind"]))
    write(out, table[list(MEASURES)], labels=MEASURE_LABELS, sheet="Réseau")
    if graphml is not None:
        network_export.write_graphml(analysis, graphml)
    if gexf is not None:
        network_export.write_gexf(analysis, gexf)
    if picture is not None:
        network_export.draw(analysis, picture, seed=seed)
    if not len(table):
        err_console.print("Aucune organisation dans ce périmètre : le fichier ne contient que l'en-tête.")
    _render(analysis, out)


def _layers(text: str | None) -> tuple[str, ...]:
    if text is None:
        return LAYERS
    names = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [name for name in names if name not in LAYERS]
    if unknown or not names:
        raise InputError(f"--layers {text!r} : couche inconnue ; attendu : {', '.join(LAYERS)}")
    return names


def _analyse(
    cluster: str | None,
    layers: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    seed: int,
) -> NetworkAnalysis:
    from grappe.cooperation import service

    with operational.unit(write=False) as (session, actor):
        cluster_id = None if cluster is None else cluster_service.resolve_cluster(session, cluster)
        return service.analyse_network(
            session, actor, cluster_id=cluster_id, layers=layers, start=start, end=end, seed=seed
        )


def _render(analysis: NetworkAnalysis, out: Path) -> None:
    """The summary in French: size, core, whom to involve, dependence on the most connected."""
    from grappe.detection.ranking import french_number

    summary = analysis.summary
    names = dict(zip(analysis.measures["organisation_id"], analysis.measures["organisation"], strict=True))

    def listed(ids: tuple[object, ...], limit: int = 10) -> str:
        shown = ", ".join(str(names[i]) for i in ids[:limit])
        return (shown + (f" et {number(len(ids) - limit)} autres" if len(ids) > limit else "")) or "aucun"

    def share(value: float | None) -> str:
        return "–" if value is None else f"{number(100 * value)} %"

    dependence = summary.dependence
    console.print(
        f"Réseau : {number(summary.organisations)} organisations, {number(summary.ties)} liens, "
        f"densité {french_number(summary.density, 4)}, {number(summary.components)} composante(s)."
    )
    console.print(
        f"Cœur ({summary.core_k}-cœur) : {number(summary.core_size)} organisations, "
        f"dont {share(summary.sme_share_in_core)} de PME."
    )
    console.print(f"Adhérents isolés, à impliquer : {listed(summary.isolated_members)}.")
    console.print(f"Adhérents périphériques : {listed(summary.peripheral_members)}.")
    console.print(f"Intermédiaires (points d'articulation) : {listed(summary.brokers)}.")
    console.print(
        f"Dépendance : les {dependence.top} organisations les plus connectées portent "
        f"{share(dependence.ties_lost_share)} des liens ; sans elles, la plus grande composante passe "
        f"de {share(dependence.largest_component_before)} à {share(dependence.largest_component_after)} "
        "des organisations."
    )
    console.print(f"Mesures écrites : {out}")


# --- collective actions: events and shared equipment -------------------------------------------

EVENT_KINDS = ("breakfast", "training", "trade_show", "business_mission", "company_visit", "conference")
MOMENT_HELP = "AAAA-MM-JJ HH:MM, heure de Paris"
EventArgument = Annotated[int, typer.Argument(metavar="ÉVÉNEMENT", help="N° de l'événement (ex. : 3).")]
EquipmentArgument = Annotated[int, typer.Argument(metavar="ÉQUIPEMENT", help="N° de l'équipement (ex. : 2).")]
OrganisationOption = Annotated[
    int | None,
    typer.Option("--organisation", help="N° de l'organisation (gestionnaire ; un adhérent : la sienne)."),
]


def _on(moment: dt.datetime) -> str:
    from grappe.cooperation.actions.service import shown

    return shown(moment)


@app.command(
    "event-create",
    epilog='Exemple : grappe cooperation event-create MECA --kind breakfast --title "Usinage 5 axes" '
    '--from "2026-12-10 08:30" --to "2026-12-10 10:30" --capacity 30 --price 15',
)
def event_create(
    cluster: ClusterArgument,
    kind: Annotated[str, typer.Option("--kind", help=f"Nature : {', '.join(EVENT_KINDS)}.")],
    title: Annotated[str, typer.Option("--title", help="Intitulé de l'événement.")],
    start: Annotated[str, typer.Option("--from", help=f"Début ({MOMENT_HELP}).")],
    end: Annotated[str, typer.Option("--to", help=f"Fin ({MOMENT_HELP}).")],
    place: Annotated[str | None, typer.Option("--place", help="Lieu.")] = None,
    capacity: Annotated[
        int | None, typer.Option("--capacity", help="Places au plus (défaut : sans limite).")
    ] = None,
    price: Annotated[str, typer.Option("--price", help="Prix par place en euros (ex. : 15).")] = "0",
    shared_stand: Annotated[bool, typer.Option("--shared-stand", help="Salon avec stand partagé.")] = False,
    private: Annotated[
        bool, typer.Option("--private", help="Réservé aux gestionnaires (les adhérents ne le voient pas).")
    ] = False,
    description: Annotated[str | None, typer.Option("--description", help="Présentation.")] = None,
) -> None:
    """Créer un événement : petit déjeuner, formation, salon, mission d'affaires, visite, conférence."""
    choice("--kind", kind, EVENT_KINDS)
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import EventIn

    data = operational.build(
        EventIn,
        kind=kind,
        title=title,
        starts_at=start,
        ends_at=end,
        place=place,
        capacity=capacity,
        price_eur=_amount("--price", price),
        shared_stand=shared_stand,
        public=not private,
        description=description,
    )
    with operational.unit() as (session, actor):
        event = service.create_event(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
    console.print(f"Événement {event.id} : {event.title}, le {_on(event.starts_at)}")


@app.command("events", epilog="Exemple : grappe cooperation events MECA")
def events(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Événements d'une structure (un adhérent : les événements publics)."""
    from grappe.cooperation.actions import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_events(
            session, actor, cluster_service.resolve_cluster(session, cluster), limit=limit
        )
    operational.table(
        f"Événements ({page.total})",
        ["n°", "nature", "intitulé", "début", "lieu", "places prises", "capacité", "prix (€)"],
        [
            [
                e.id,
                e.kind,
                e.title,
                _on(e.starts_at),
                e.place,
                e.seats_taken,
                e.capacity or "sans limite",
                e.price_eur,
            ]
            for e in page.items
        ],
    )


@app.command(
    "event-register", epilog="Exemple : grappe cooperation --as u@firme.fr event-register 3 --seats 2"
)
def event_register(
    event_id: EventArgument,
    organisation: OrganisationOption = None,
    seats: Annotated[int, typer.Option("--seats", help="Nombre de places (défaut : 1).")] = 1,
) -> None:
    """S'inscrire à un événement (refusé au-delà de la capacité, avec les places restantes)."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import RegistrationIn

    data = operational.build(RegistrationIn, organisation_id=organisation, seats=seats)
    with operational.unit() as (session, actor):
        registration = service.register(session, actor, event_id, data)
    console.print(
        f"Inscription {registration.id} : {registration.organisation_name}, {registration.seats} place(s), "
        f"{registration.amount_eur} €"
    )


@app.command("registrations", epilog="Exemple : grappe cooperation registrations 3")
def registrations(event_id: EventArgument, limit: Limit = 100) -> None:
    """Inscriptions à un événement et présence (un adhérent : la sienne)."""
    from grappe.cooperation.actions import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_registrations(session, actor, event_id, limit=limit)
    came = {None: "", True: "présente", False: "absente"}
    operational.table(
        f"Inscriptions ({page.total})",
        ["n° organisation", "organisation", "places", "montant (€)", "présence"],
        [
            [r.organisation_id, r.organisation_name, r.seats, r.amount_eur, came[r.attended]]
            for r in page.items
        ],
    )


@app.command("attendance", epilog="Exemple : grappe cooperation attendance 3 12 --absent")
def attendance(
    event_id: EventArgument,
    organisation: Annotated[
        int, typer.Argument(metavar="ORGANISATION", help="N° de l'organisation inscrite.")
    ],
    absent: Annotated[bool, typer.Option("--absent", help="Noter l'absence au lieu de la présence.")] = False,
) -> None:
    """Noter la présence d'une organisation inscrite, une fois l'événement commencé."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import AttendanceIn

    with operational.unit() as (session, actor):
        registration = service.record_attendance(
            session, actor, event_id, organisation, AttendanceIn(attended=not absent)
        )
    console.print(f"{registration.organisation_name} : {'présente' if registration.attended else 'absente'}")


@app.command("event-ics", epilog="Exemple : grappe cooperation event-ics 3 --out evenement.ics")
def event_ics(
    event_id: EventArgument,
    out: Annotated[Path, typer.Option("--out", help="Fichier iCalendar à écrire (.ics).")],
) -> None:
    """Exporter un événement au format iCalendar, pour les agendas."""
    from grappe.cooperation.actions import service

    if out.suffix.lower() != ".ics":
        raise InputError(f"--out {out} : extension attendue .ics")
    with operational.unit(write=False) as (session, actor):
        content = service.event_calendar(session, actor, event_id)
    out.write_bytes(content)
    console.print(f"Événement {event_id} écrit dans {out}")


@app.command(
    "equipment-add", epilog='Exemple : grappe cooperation equipment-add MECA "Salle blanche ISO 7" --rate 80'
)
def equipment_add(
    cluster: ClusterArgument,
    name: Annotated[str, typer.Argument(metavar="NOM", help="Nom de l'équipement.")],
    rate: Annotated[str, typer.Option("--rate", help="Tarif horaire en euros (ex. : 80).")],
    description: Annotated[str | None, typer.Option("--description", help="Présentation.")] = None,
) -> None:
    """Ajouter un équipement mutualisé (salle blanche, banc d'essai), facturé à l'heure."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import EquipmentIn

    data = operational.build(
        EquipmentIn, name=name, hourly_rate_eur=_amount("--rate", rate), description=description
    )
    with operational.unit() as (session, actor):
        equipment = service.create_equipment(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
    console.print(f"Équipement {equipment.id} : {equipment.name}, {equipment.hourly_rate_eur} €/h")


@app.command("equipment", epilog="Exemple : grappe cooperation equipment MECA")
def equipment_list(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Équipements mutualisés d'une structure."""
    from grappe.cooperation.actions import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_equipment(
            session, actor, cluster_service.resolve_cluster(session, cluster), limit=limit
        )
    operational.table(
        f"Équipements ({page.total})",
        ["n°", "nom", "tarif (€/h)"],
        [[e.id, e.name, e.hourly_rate_eur] for e in page.items],
    )


@app.command(
    "book",
    epilog='Exemple : grappe cooperation --as u@firme.fr book 2 --from "2026-12-10 08:00" '
    '--to "2026-12-10 12:00"',
)
def book(
    equipment_id: EquipmentArgument,
    start: Annotated[str, typer.Option("--from", help=f"Début ({MOMENT_HELP}).")],
    end: Annotated[str, typer.Option("--to", help=f"Fin ({MOMENT_HELP}), exclue.")],
    organisation: OrganisationOption = None,
) -> None:
    """Réserver un équipement (refusé s'il chevauche une autre réservation, qui est nommée)."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import BookingIn

    data = operational.build(BookingIn, starts_at=start, ends_at=end, organisation_id=organisation)
    with operational.unit() as (session, actor):
        booking = service.book(session, actor, equipment_id, data)
    console.print(
        f"Réservation {booking.id} : {booking.organisation_name}, du {_on(booking.starts_at)} "
        f"au {_on(booking.ends_at)}"
    )


@app.command(
    "equipment-usage",
    epilog="Exemple : grappe cooperation equipment-usage 2 --from 2026-01-01 --to 2026-12-31",
)
def equipment_usage(
    equipment_id: EquipmentArgument,
    start: Annotated[str, typer.Option("--from", help="Premier jour (AAAA-MM-JJ ou JJ/MM/AAAA).")],
    end: Annotated[str, typer.Option("--to", help="Dernier jour, inclus.")],
) -> None:
    """Usage et facturation d'un équipement par adhérent sur une période (heures réservées)."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import LOCAL_TIME

    first, last = option_date("--from", start), option_date("--to", end)
    # whole days of French local time, the last one included
    since = dt.datetime.combine(first, dt.time(), LOCAL_TIME)
    until = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), LOCAL_TIME)
    with operational.unit(write=False) as (session, actor):
        bill = service.usage(session, actor, equipment_id, since, until)
    operational.table(
        f"Usage de l'équipement {equipment_id} du {first:%d/%m/%Y} au {last:%d/%m/%Y}",
        ["n° organisation", "organisation", "heures", "montant (€)"],
        [[line.organisation_id, line.organisation_name, line.hours, line.amount_eur] for line in bill.lines],
    )
    console.print(f"Total : {bill.total_hours} h, {bill.total_eur} €")


def _share(text: str) -> dict[str, str]:
    organisation, sep, percent = text.partition(":")
    if not sep or not organisation.strip().isdigit():
        raise InputError(f"--share {text!r} : attendu N°_ORGANISATION:POURCENTAGE (ex. : 12:60)")
    return {"organisation_id": organisation.strip(), "percent": str(_amount("--share", percent))}


@app.command(
    "position-create",
    epilog='Exemple : grappe cooperation position-create MECA "Responsable qualité" --from 2026-01-01 '
    "--cost 60000 --share 12:60 --share 34:40",
)
def position_create(
    cluster: ClusterArgument,
    title: Annotated[str, typer.Argument(metavar="INTITULÉ", help="Intitulé du poste.")],
    start: Annotated[str, typer.Option("--from", help="Début (AAAA-MM-JJ ou JJ/MM/AAAA).")],
    cost: Annotated[str, typer.Option("--cost", help="Coût annuel du poste en euros (ex. : 60000).")],
    shares: Annotated[
        list[str], typer.Option("--share", help="Part d'un adhérent, N°:POURCENTAGE ; répétable, total 100.")
    ],
    end: Annotated[str | None, typer.Option("--to", help="Fin (AAAA-MM-JJ ou JJ/MM/AAAA).")] = None,
) -> None:
    """Créer un poste partagé entre adhérents (recrutement commun) : les parts de temps font 100 %."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import PositionIn

    data = operational.build(
        PositionIn,
        title=title,
        start=_date("--from", start),
        end=_date("--to", end),
        yearly_cost_eur=_amount("--cost", cost),
        shares=[_share(text) for text in shares],
    )
    with operational.unit() as (session, actor):
        position = service.create_position(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
    console.print(f"Poste {position.id} : {position.title}")
    _print_shares(position.shares)


def _print_shares(shares: list[ShareOut]) -> None:
    operational.table(
        "Répartition",
        ["n° organisation", "organisation", "part (%)", "coût annuel (€)"],
        [[s.organisation_id, s.organisation_name, s.percent, s.yearly_cost_eur] for s in shares],
    )


@app.command("positions", epilog="Exemple : grappe cooperation positions MECA")
def positions(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Postes partagés d'une structure et leur répartition (un adhérent : ceux qu'il partage)."""
    from grappe.cooperation.actions import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_positions(
            session, actor, cluster_service.resolve_cluster(session, cluster), limit=limit
        )
    operational.table(
        f"Postes partagés ({page.total})",
        ["n°", "intitulé", "début", "fin", "coût annuel (€)", "répartition (%)"],
        [
            [
                p.id,
                p.title,
                p.start,
                p.end,
                p.yearly_cost_eur,
                ", ".join(f"{s.organisation_name} {s.percent}" for s in p.shares),
            ]
            for p in page.items
        ],
    )


PurchaseArgument = Annotated[int, typer.Argument(metavar="ACHAT", help="N° de l'achat groupé (ex. : 4).")]


def _print_purchase(purchase: PurchaseOut) -> None:
    saved = "" if purchase.savings_eur is None else f", économies {purchase.savings_eur} €"
    console.print(
        f"Achat groupé {purchase.id} : {purchase.title}, volume {purchase.volume} {purchase.unit}{saved}"
    )


@app.command(
    "purchase-open",
    epilog='Exemple : grappe cooperation purchase-open MECA "Électricité 2027" --unit MWh --price 150 '
    "--to 2026-12-31",
)
def purchase_open(
    cluster: ClusterArgument,
    title: Annotated[str, typer.Argument(metavar="INTITULÉ", help="Ce qui est acheté.")],
    unit: Annotated[str, typer.Option("--unit", help="Unité des quantités (ex. : MWh, t, licence).")],
    price: Annotated[str, typer.Option("--price", help="Prix unitaire de référence en euros (acheté seul).")],
    closes: Annotated[str, typer.Option("--to", help="Clôture des besoins (AAAA-MM-JJ ou JJ/MM/AAAA).")],
) -> None:
    """Ouvrir un achat groupé : les adhérents expriment leurs besoins jusqu'à la clôture."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import PurchaseIn

    data = operational.build(
        PurchaseIn,
        title=title,
        unit=unit,
        reference_price_eur=_amount("--price", price),
        closes_on=_date("--to", closes),
    )
    with operational.unit() as (session, actor):
        purchase = service.create_purchase(
            session, actor, cluster_service.resolve_cluster(session, cluster), data
        )
    _print_purchase(purchase)


@app.command("purchase-need", epilog="Exemple : grappe cooperation --as u@firme.fr purchase-need 4 120")
def purchase_need(
    purchase_id: PurchaseArgument,
    quantity: Annotated[str, typer.Argument(metavar="QUANTITÉ", help="Besoin, dans l'unité de l'achat.")],
    organisation: OrganisationOption = None,
) -> None:
    """Exprimer (ou modifier) le besoin d'un adhérent dans un achat groupé."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import NeedIn

    data = operational.build(NeedIn, quantity=_amount("QUANTITÉ", quantity), organisation_id=organisation)
    with operational.unit() as (session, actor):
        purchase = service.state_need(session, actor, purchase_id, data)
    _print_purchase(purchase)


@app.command(
    "purchase-conclude", epilog='Exemple : grappe cooperation purchase-conclude 4 "Enercoop" --price 120'
)
def purchase_conclude(
    purchase_id: PurchaseArgument,
    supplier: Annotated[str, typer.Argument(metavar="FOURNISSEUR", help="Fournisseur retenu.")],
    price: Annotated[str, typer.Option("--price", help="Prix unitaire négocié en euros.")],
) -> None:
    """Conclure un achat groupé : fournisseur et prix négocié ; les économies par adhérent en découlent."""
    from grappe.cooperation.actions import service
    from grappe.cooperation.actions.schemas import PurchaseDeal

    data = operational.build(PurchaseDeal, supplier=supplier, negotiated_price_eur=_amount("--price", price))
    with operational.unit() as (session, actor):
        purchase = service.conclude_purchase(session, actor, purchase_id, data)
    _print_purchase(purchase)
    operational.table(
        "Besoins",
        ["n° organisation", "organisation", f"quantité ({purchase.unit})", "économies (€)"],
        [[n.organisation_id, n.organisation_name, n.quantity, n.savings_eur] for n in purchase.needs],
    )


@app.command("purchases", epilog="Exemple : grappe cooperation purchases MECA")
def purchases(cluster: ClusterArgument, limit: Limit = 100) -> None:
    """Achats groupés d'une structure : volume, fournisseur, économies."""
    from grappe.cooperation.actions import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_purchases(
            session, actor, cluster_service.resolve_cluster(session, cluster), limit=limit
        )
    operational.table(
        f"Achats groupés ({page.total})",
        ["n°", "intitulé", "clôture", "volume", "fournisseur", "prix négocié (€)", "économies (€)"],
        [
            [
                p.id,
                p.title,
                p.closes_on,
                f"{p.volume} {p.unit}",
                p.supplier,
                p.negotiated_price_eur,
                p.savings_eur,
            ]
            for p in page.items
        ],
    )
