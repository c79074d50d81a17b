"""`grappe registry` commands of cluster organisations: migrate, create, list, show, labels, directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grappe.cli._analysis import choice
from grappe.cli._console import console
from grappe.cli._operational import ClusterArgument, build, table, unit
from grappe.cli.registry._base import ClusterCreate, LabelIn, app, clusters, get_engine, migrate
from grappe.errors import InputError
from grappe.kit import present
from grappe.kit.dates import option_date


@app.command("migrate", epilog="Exemple : grappe registry migrate")
def migrate_command() -> None:
    """Mettre la base du registre au dernier schéma."""
    engine = get_engine()
    before = migrate.current_revision(engine)
    after = migrate.upgrade(engine)
    console.print(f"Base du registre : révision {before or 'vide'} → {after}")


@app.command(
    "create",
    epilog='Exemple : grappe registry create "Mécanique Rhône" --acronym MECA --commune 69123 --naf 25.62A',
)
def create(
    name: Annotated[
        str, typer.Argument(metavar="NOM", help='Nom de la structure (ex. : "Mécanique Rhône").')
    ],
    acronym: Annotated[str | None, typer.Option("--acronym", help="Sigle (ex. : MECA).")] = None,
    communes: Annotated[
        list[str] | None,
        typer.Option("--commune", help="Code COG d'une commune du territoire (ex. : 69123) ; répétable."),
    ] = None,
    epcis: Annotated[
        list[str] | None,
        typer.Option("--epci", help="SIREN d'un EPCI du territoire (ex. : 200046977) ; répétable."),
    ] = None,
    departements: Annotated[
        list[str] | None,
        typer.Option("--department", help="Code d'un département du territoire (ex. : 69) ; répétable."),
    ] = None,
    regions: Annotated[
        list[str] | None,
        typer.Option("--region", help="Code COG d'une région du territoire (ex. : 84) ; répétable."),
    ] = None,
    naf: Annotated[
        list[str] | None,
        typer.Option("--naf", help="Code NAF de tout niveau (ex. : 25.62A ou 25) ; répétable."),
    ] = None,
    sector_group: Annotated[
        str | None,
        typer.Option(
            "--sector-group",
            help="Filière FICHIER.toml:CODE, dont les codes NAF sont repris (ex. : filieres.toml:meca).",
        ),
    ] = None,
    legal_form: Annotated[
        str | None, typer.Option("--legal-form", help="Forme juridique (ex. : association).")
    ] = None,
    founded: Annotated[int | None, typer.Option("--founded", help="Année de création (ex. : 2006).")] = None,
    website: Annotated[
        str | None, typer.Option("--website", help="Site web (ex. : https://meca.example.fr).")
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", help="Présentation en quelques phrases.")
    ] = None,
) -> None:
    """Créer une structure d'animation (administrateur)."""
    territories = [
        {"level": level, "code": code}
        for level, codes in (
            ("commune", communes),
            ("epci", epcis),
            ("departement", departements),
            ("region", regions),
        )
        for code in codes or []
    ]
    sectors = list(naf or [])
    group_name = None
    if sector_group:
        from grappe.detection.sector_groups import load

        file, _, code = sector_group.rpartition(":")
        if not file or not code:
            raise InputError(f"--sector-group {sector_group!r} : attendu FICHIER.toml:CODE")
        groups = {g.code: g for g in load(Path(file))}
        if code not in groups:
            raise InputError(f"{file}: filière {code!r} absente ({', '.join(groups)})")
        sectors += list(groups[code].naf)
        group_name = groups[code].name
    with unit() as (session, actor):
        out = clusters.create_cluster(
            session,
            actor,
            build(
                ClusterCreate,
                name=name,
                acronym=acronym,
                legal_form=legal_form,
                founded=founded,
                website=website,
                description=description,
                territories=territories,
                sectors=sectors,
                sector_group=group_name,
            ),
        )
    console.print(f"Structure créée : n° {out.id} {out.name}")


@app.command("list", epilog="Exemple : grappe registry list")
def list_command() -> None:
    """Lister les structures visibles par l'utilisateur."""
    from grappe.kit.repository import MAX_PAGE  # SQL kit: not loaded for --help

    with unit(write=False) as (session, actor):
        page = clusters.list_clusters(session, actor, limit=MAX_PAGE)
    table(
        f"Structures ({present.number(page.total)})",
        ["n°", "nom", "sigle", "adhérents"],
        [[c.id, c.name, c.acronym, present.number(c.member_count)] for c in page.items],
    )


@app.command("show", epilog="Exemple : grappe registry show MECA")
def show(cluster: ClusterArgument) -> None:
    """Afficher la fiche d'une structure."""
    with unit(write=False) as (session, actor):
        out = clusters.get_cluster(session, actor, clusters.resolve_cluster(session, cluster))
    console.print(f"[bold]{out.name}[/] ({out.acronym or 'sans sigle'}) — n° {out.id}, version {out.version}")
    console.print(f"Adhérents : {present.number(out.member_count)}")
    places = [clusters.named_territory(t.level, t.code) for t in out.territories]
    named = (f"{present.label('territory_level', t.level)} {present.coded(t.code, t.name)}" for t in places)
    console.print("Territoire : " + ", ".join(named), highlight=False)
    sectors = [clusters.named_sector(code) for code in out.sectors]
    console.print("Secteurs : " + ", ".join(present.coded(s.code, s.name) for s in sectors), highlight=False)
    for label in out.labels:
        until = present.date(label.end) if label.end else "…"
        console.print(
            f"Label : {present.label('label_kind', label.kind)} {label.name or ''} "
            f"({present.date(label.start)} → {until})",
            highlight=False,
        )


#: The label kinds a label may be recorded with (every kind but ``none``), in French for the help.
LABEL_KINDS = {code: names[0] for code, names in present.LABELS["label_kind"].items() if code != "none"}


@app.command(
    "label-add",
    epilog='Exemple : grappe registry label-add MECA --kind pole --name "Phase V" --from 01/01/2023',
)
def label_add(
    cluster: ClusterArgument,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            metavar="NATURE",
            help="Nature : " + ", ".join(f"{k} ({v})" for k, v in LABEL_KINDS.items()) + ".",
        ),
    ],
    start: Annotated[
        str, typer.Option("--from", help="Début du label, AAAA-MM-JJ ou JJ/MM/AAAA (ex. : 01/01/2023).")
    ],
    end: Annotated[
        str | None,
        typer.Option("--to", help="Fin du label, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : en cours)."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help='Nom du label (ex. : "Pôle Phase V").')] = None,
    funder: Annotated[
        str | None,
        typer.Option("--funder", help="Financeur qui décerne le label (ex. : Région Auvergne-Rhône-Alpes)."),
    ] = None,
) -> None:
    """Enregistrer un label d'une structure sur une période (administrateur, chargé de mission)."""
    choice("--kind", kind, tuple(LABEL_KINDS))
    data = build(
        LabelIn,
        kind=kind,
        name=name,
        funder=funder,
        start=option_date("--from", start),
        end=option_date("--to", end) if end else None,
    )
    with unit() as (session, actor):
        out = clusters.add_label(session, actor, clusters.resolve_cluster(session, cluster), data)
    kind = present.label("label_kind", out.kind)
    console.print(f"Label n° {out.id} enregistré : {kind} {out.name or ''}".rstrip())


@app.command("labels", epilog="Exemple : grappe registry labels MECA")
def labels(cluster: ClusterArgument) -> None:
    """Lister les labels d'une structure, passés et en cours."""
    with unit(write=False) as (session, actor):
        out = clusters.get_cluster(session, actor, clusters.resolve_cluster(session, cluster))
    table(
        f"Labels de {out.name}",
        ["n°", "nature", "nom", "financeur", "début", "fin"],
        [
            [
                label.id,
                present.label("label_kind", label.kind),
                label.name,
                label.funder,
                present.date(label.start),
                present.date(label.end) if label.end else "en cours",
            ]
            for label in out.labels
        ],
    )


@app.command("directory", epilog="Exemple : grappe registry directory --region 84 --naf 25.62A --size moyen")
def directory(
    label: Annotated[
        str | None,
        typer.Option(
            "--label", help="Label : pole, grappe, regional, none ou le nom d'un label (ex. : pole)."
        ),
    ] = None,
    region: Annotated[str | None, typer.Option("--region", help="Code COG de la région (ex. : 84).")] = None,
    sector: Annotated[
        str | None, typer.Option("--naf", help="Code NAF d'un secteur suivi (ex. : 25.62A).")
    ] = None,
    size: Annotated[
        str | None,
        typer.Option("--size", help="petit (< 50 adhérents), moyen (50-199), grand (200 et plus)."),
    ] = None,
) -> None:
    """Annuaire public des structures."""
    with unit(write=False) as (session, actor):
        page = clusters.directory(
            session, actor, label=label, region=region, sector=sector, size=size, limit=500
        )
    table(
        f"Annuaire ({present.number(page.total)})",
        ["n°", "nom", "sigle", "labels", "régions", "adhérents"],
        [
            [
                e.id,
                e.name,
                e.acronym,
                ", ".join(present.label("label_kind", kind) for kind in e.labels),
                ", ".join(present.coded(r, clusters.named_territory("region", r).name) for r in e.regions),
                present.number(e.member_count),
            ]
            for e in page.items
        ],
    )
