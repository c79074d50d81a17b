"""`grappe registry` commands of members: import, template, export, list, exit, waivers, contacts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli._console import console
from grappe.cli._operational import ClusterArgument, FileFormatOption, build, table, unit
from grappe.cli.registry._base import (
    ContactIn,
    ContactUpdate,
    FeeStatus,
    MemberLeave,
    WaiveIn,
    app,
    clusters,
    fees,
    files,
    memberships,
    organisations,
)
from grappe.errors import InputError, NotFoundError
from grappe.kit import present
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from grappe.registry.organisations.schemas import ContactOut


@app.command("import", epilog="Exemple : grappe registry import MECA adherents.xlsx --strict")
def import_command(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Adhérents en CSV ou XLSX (ex. : adherents.xlsx)."),
    ],
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Tout ou rien : une seule ligne rejetée et rien n'est écrit (statut de sortie 2).",
        ),
    ] = False,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Mettre à jour les adhérents déjà inscrits (même SIREN, période qui chevauche) "
            "au lieu de les rejeter ; chaque valeur changée est affichée.",
        ),
    ] = False,
    accept_unknown: Annotated[
        bool,
        typer.Option(
            "--accept-unknown",
            help="Accepter un SIRET absent du tissu productif ; ces adhérents sont signalés "
            "« hors tissu » dans les listes et exports.",
        ),
    ] = False,
) -> None:
    """Importer des adhérents (SIRET ou SIREN, nom, nature, date d'adhésion, type).

    Modèle de fichier aux colonnes commentées : grappe registry template adherents.xlsx
    """
    with unit() as (session, actor):
        report = files.import_members(
            session,
            actor,
            clusters.resolve_cluster(session, cluster),
            file,
            strict=strict,
            update=update,
            accept_unknown=accept_unknown,
        )
    if report.issues:
        table(
            "Lignes rejetées",
            ["ligne", "colonne", "valeur", "motif"],
            [[i.line, i.column, i.value, i.reason] for i in report.issues],
        )
    if report.changes:
        table(
            "Modifications" + ("" if report.committed else " (non appliquées)"),
            ["ligne", "SIREN", "adhérent", "colonne", "avant", "après"],
            [[c.line, c.siren, c.name, c.column, c.before, c.after] for c in report.changes],
        )
    if report.outside_fabric:
        table(
            "Acceptés hors tissu productif",
            ["ligne", "SIRET"],
            [[i.line, i.value] for i in report.outside_fabric],
        )
    console.print(
        f"{report.rows} lignes lues, {report.inserted} adhésions créées, "
        + (f"{report.updated} mises à jour, " if update else "")
        + f"{report.rejected} rejetées"
        + ("" if report.committed else " — rien n'a été écrit (--strict)")
    )
    if strict and report.rejected:
        raise typer.Exit(2)


@app.command("template", epilog="Exemple : grappe registry template adherents.xlsx")
def template_command(
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Modèle .xlsx ou .csv à écrire (ex. : adherents.xlsx)."),
    ],
) -> None:
    """Écrire un modèle de fichier d'adhérents, chaque colonne expliquée dans le fichier."""
    files.write_template(file)
    console.print(f"Modèle écrit dans {file} : colonnes {', '.join(n for n, _ in files.TEMPLATE_COLUMNS)}")


@app.command("export", epilog="Exemple : grappe registry export MECA adherents.xlsx --current")
def export_command(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Fichier .csv ou .xlsx à écrire (ex. : adherents.xlsx)."),
    ],
    current: Annotated[
        bool, typer.Option("--current", help="Adhérents actuels seulement (sans les anciens).")
    ] = False,
    format: FileFormatOption = None,
) -> None:
    """Exporter les adhérents en CSV ou XLSX."""
    with unit(write=False) as (session, actor):
        n = files.export_members(
            session,
            actor,
            clusters.resolve_cluster(session, cluster),
            file,
            include_former=not current,
            format=format,
        )
    console.print(f"{n} adhésions écrites dans {file}")


@app.command("members", epilog="Exemple : grappe registry members MECA --all")
def members_command(
    cluster: ClusterArgument,
    every: Annotated[
        bool, typer.Option("--all", help="Toutes les périodes, anciens adhérents compris.")
    ] = False,
) -> None:
    """Lister les adhérents par nom ; « hors tissu » : absent du tissu productif."""
    from grappe.kit.repository import MAX_PAGE  # here: it loads SQLAlchemy, which --help must not

    with unit(write=False) as (session, actor):
        page = memberships.list_members(
            session, actor, clusters.resolve_cluster(session, cluster), include_former=every, limit=MAX_PAGE
        )
    table(
        f"Adhérents ({page.total})",
        ["adhésion", "SIREN", "nom", "type", "adhésion le", "départ le", "tissu"],
        [
            [
                m.membership_id,
                m.siren,
                m.name,
                m.membership_type,
                present.date(m.joined),
                present.date(m.left) if m.left else None,
                "" if m.in_fabric else "hors tissu",
            ]
            for m in page.items
        ],
    )


@app.command(
    "leave",
    epilog='Exemple : grappe registry leave MECA 552100554 --date 31/12/2025 --reason "cessation"',
)
def leave_command(
    cluster: ClusterArgument,
    siren: Annotated[str, typer.Argument(metavar="SIREN", help="SIREN de l'adhérent (ex. : 552100554).")],
    on: Annotated[
        str,
        typer.Option("--date", help="Date de départ, AAAA-MM-JJ ou JJ/MM/AAAA (ex. : 31/12/2025)."),
    ],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Motif du départ (ex. : cessation d'activité).")
    ] = None,
) -> None:
    """Enregistrer le départ d'un adhérent : sa période en cours se termine à la date donnée."""
    data = build(MemberLeave, left=option_date("--date", on), reason=reason)
    with unit() as (session, actor):
        out = memberships.leave(session, actor, clusters.resolve_cluster(session, cluster), siren, data)
    console.print(f"Départ enregistré : {out.name} (adhésion n° {out.membership_id}) le {out.left:%d/%m/%Y}")


@app.command("waive", epilog='Exemple : grappe registry waive MECA 12 --reason "adhérent en redressement"')
def waive_command(
    cluster: ClusterArgument,
    fee_call: Annotated[int, typer.Argument(metavar="APPEL", help="N° de l'appel de cotisation (ex. : 12).")],
    reason: Annotated[str, typer.Option("--reason", help="Motif de l'exonération (ex. : première année).")],
) -> None:
    """Exonérer un adhérent d'un appel de cotisation, avec un motif."""
    with unit() as (session, actor):
        calls = fees.list_calls(session, actor, clusters.resolve_cluster(session, cluster))
        call = next((c for c in calls if c.id == fee_call), None)
        if call is None:
            raise NotFoundError(f"appel de cotisation {fee_call} introuvable dans cette structure")
        out = fees.waive(session, actor, fee_call, build(WaiveIn, version=call.version, reason=reason))
    console.print(f"Appel {out.id} ({out.organisation}, {out.year}) exonéré")


@app.command("waivers", epilog="Exemple : grappe registry waivers MECA --year 2025")
def waivers_command(
    cluster: ClusterArgument,
    year: Annotated[
        int | None,
        typer.Option("--year", help="Année des cotisations (ex. : 2025 ; défaut : toutes)."),
    ] = None,
) -> None:
    """Lister les exonérations de cotisation accordées, avec leur motif."""
    with unit(write=False) as (session, actor):
        calls = fees.list_calls(
            session, actor, clusters.resolve_cluster(session, cluster), year=year, status=FeeStatus.WAIVED
        )
    table(
        "Exonérations",
        ["appel", "organisation", "année", "montant", "motif"],
        [[c.id, c.organisation, c.year, present.money(c.amount_eur), c.waived_reason] for c in calls],
    )


OrganisationArgument = Annotated[
    str,
    typer.Argument(metavar="ORGANISATION", help="SIREN ou n° de l'organisation (ex. : 552100554)."),
]
ContactArgument = Annotated[int, typer.Argument(metavar="CONTACT", help="N° du contact (ex. : 4).")]
PositionOption = Annotated[
    str | None, typer.Option("--position", help="Fonction (ex. : directrice technique).")
]
EmailOption = Annotated[str | None, typer.Option("--email", help="E-mail (ex. : l.martin@alpha.fr).")]
PhoneOption = Annotated[str | None, typer.Option("--phone", help="Téléphone (ex. : 04 72 00 00 00).")]


def _contact_rows(contacts: list[ContactOut]) -> list[list[object]]:
    return [
        [c.id, c.full_name, c.role, c.email, c.phone, "oui" if c.directory_consent else "non"]
        for c in contacts
    ]


_CONTACT_COLUMNS = ["n°", "nom", "fonction", "e-mail", "téléphone", "annuaire"]


@app.command(
    "contacts",
    epilog="Exemple : grappe registry contacts 552100554",
)
def contacts_command(organisation: OrganisationArgument) -> None:
    """Lister les contacts d'une organisation adhérente."""
    with unit(write=False) as (session, actor):
        rows = organisations.list_contacts(
            session, actor, organisations.resolve_organisation(session, organisation)
        )
    table("Contacts", _CONTACT_COLUMNS, _contact_rows(rows))


@app.command(
    "contact-add",
    epilog='Exemple : grappe registry contact-add 552100554 --name "Léa Martin" --email l.martin@alpha.fr '
    "--directory",
)
def contact_add(
    organisation: OrganisationArgument,
    name: Annotated[str, typer.Option("--name", help='Nom et prénom (ex. : "Léa Martin").')],
    position: PositionOption = None,
    email: EmailOption = None,
    phone: PhoneOption = None,
    directory: Annotated[
        bool,
        typer.Option(
            "--directory", help="Le contact consent à figurer dans l'annuaire des adhérents (daté du jour)."
        ),
    ] = False,
) -> None:
    """Ajouter un contact à une organisation adhérente."""
    data = build(
        ContactIn, full_name=name, role=position, email=email, phone=phone, directory_consent=directory
    )
    with unit() as (session, actor):
        out = organisations.add_contact(
            session, actor, organisations.resolve_organisation(session, organisation), data
        )
    console.print(f"Contact n° {out.id} ajouté : {out.full_name}")


@app.command("contact-edit", epilog="Exemple : grappe registry contact-edit 4 --email lea.martin@alpha.fr")
def contact_edit(
    contact: ContactArgument,
    name: Annotated[str | None, typer.Option("--name", help='Nom et prénom (ex. : "Léa Martin").')] = None,
    position: PositionOption = None,
    email: EmailOption = None,
    phone: PhoneOption = None,
    directory: Annotated[
        bool | None,
        typer.Option(
            "--directory/--no-directory",
            help="Donner ou retirer le consentement à l'annuaire des adhérents (défaut : inchangé).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Modifier un contact : seules les valeurs données changent."""
    given = {
        key: value
        for key, value in (
            ("full_name", name),
            ("role", position),
            ("email", email),
            ("phone", phone),
            ("directory_consent", directory),
        )
        if value is not None
    }
    if not given:
        raise InputError("contact-edit : rien à modifier (--name, --position, --email, --phone, --directory)")
    with unit() as (session, actor):
        version = organisations.get_contact(session, actor, contact).version
        out = organisations.update_contact(
            session, actor, contact, build(ContactUpdate, version=version, **given)
        )
    table("Contact modifié", _CONTACT_COLUMNS, _contact_rows([out]))


@app.command("contact-remove", epilog="Exemple : grappe registry contact-remove 4")
def contact_remove(contact: ContactArgument) -> None:
    """Supprimer un contact."""
    with unit() as (session, actor):
        organisations.remove_contact(session, actor, contact)
    console.print(f"Contact n° {contact} supprimé")
