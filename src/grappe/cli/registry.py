"""`grappe registry` commands: cluster organisations, members, fees, directory, prospects.

Every command runs as one transaction on the registry database (``GRAPPE_DATABASE_URL`` or
the SQLite file under ``GRAPPE_HOME``), migrated on first use. The acting user is given by
``grappe registry --as TOKEN_OR_EMAIL ...``; without it the command runs as the local
administrator (whoever can open the database file administers it), recorded in the audit
log as ``cli:local-admin``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table

from grappe.cli._analysis import choice
from grappe.cli._console import console
from grappe.errors import InputError
from grappe.kit.dates import option_date

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError
    from sqlalchemy.orm import Session

    from grappe.registry import (
        accounts,
        bounds,
        fees,
        figures,
        invitations,
        members_io,
        migrate,
        open_registry,
        prospects,
        service,
        signin,
    )
    from grappe.registry.models import InvitationStatus
    from grappe.registry.policy import Actor
    from grappe.registry.schemas import (
        ClusterCreate,
        FeeScheduleIn,
        InvitationCreate,
        InvitationOut,
        PaymentIn,
        UserCreate,
    )
    from grappe.storage.sql import get_engine
else:

    class _Lazy:
        """A module, or one of its attributes, imported on first use.

        SQLAlchemy and pydantic take most of the start-up time: `--help` must not load them
        (CONTRACTS: every `--help` within 3x a bare Typer app).
        """

        def __init__(self, module: str, attribute: str | None = None) -> None:
            self._module, self._attribute = module, attribute

        def _target(self) -> Any:
            module = import_module(self._module)
            return module if self._attribute is None else getattr(module, self._attribute)

        def __getattr__(self, name: str) -> Any:
            return getattr(self._target(), name)

        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            return self._target()(*args, **kwargs)

    accounts, bounds, fees, figures, invitations, members_io, migrate, prospects, service, signin = (
        _Lazy(f"grappe.registry.{name}")
        for name in ("accounts", "bounds", "fees", "figures", "invitations", "members_io",
                     "migrate", "prospects", "service", "signin")
    )
    open_registry = _Lazy("grappe.registry", "open_registry")
    get_engine = _Lazy("grappe.storage.sql", "get_engine")
    InvitationStatus = _Lazy("grappe.registry.models", "InvitationStatus")
    ClusterCreate, FeeScheduleIn, InvitationCreate, PaymentIn, UserCreate = (
        _Lazy("grappe.registry.schemas", name)
        for name in ("ClusterCreate", "FeeScheduleIn", "InvitationCreate", "PaymentIn",
                     "UserCreate")
    )

#: The values of ``grappe.registry.models.Role`` (tests/test_cli_help.py checks they agree):
#: written here so that the help does not load the registry's models.
ROLES = ("admin", "funder", "manager", "member", "public")

app = typer.Typer(
    help="Registre des structures d'animation : adhérents, cotisations, annuaire, prospects.",
    epilog="Exemple : grappe registry --as chargee@meca.fr list",
    no_args_is_help=True,
)

ClusterArgument = Annotated[
    str,
    typer.Argument(metavar="STRUCTURE", help="N°, sigle ou nom de la structure (ex. : MECA)."),
]

ActingOption = Annotated[
    str | None,
    typer.Option(
        "--as",
        help="Agir en tant que : jeton d'API (grp_…) ou e-mail d'un utilisateur "
        "(ex. : chargee@meca.fr ; défaut : administrateur local).",
    ),
]
"""The acting user of the commands that work on the registry database (every group's ``--as``)."""

_state: dict[str, str | None] = {"as": None}
M = TypeVar("M", bound="BaseModel")


@app.callback()
def _options(acting: ActingOption = None) -> None:
    _state["as"] = acting


@contextmanager
def _unit(*, write: bool = True) -> Iterator[tuple[Session, Actor]]:
    """A unit of work run as the acting user (resolved inside the transaction).

    ``write=False`` for commands that only read: on SQLite they run on a snapshot beside
    the server's writers instead of queueing for the write lock. A value the database
    refuses (PostgreSQL's ``DataError``, SQLite's ``OverflowError``) is bad input the bounds
    missed: one French line and exit 2, never a traceback; the transaction is rolled back.
    """
    try:
        with open_registry(write=write) as session:
            actor = accounts.actor_for(session, _state["as"])
            session.info["actor"] = actor
            yield session, actor
    except Exception as exc:
        from sqlalchemy.exc import StatementError

        if not isinstance(exc, (StatementError, OverflowError)):
            raise
        refusal = bounds.database_refusal(exc)
        if refusal is None:
            raise
        raise refusal from exc


def _problems(exc: ValidationError) -> str:
    """A schema's refusal on one line: field, reason and the value (cut when long)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])} : {e['msg']} ({bounds.shown(repr(e.get('input')))})"
        for e in exc.errors()
    )


def _build(model: type[M], **values: object) -> M:
    """Validate command-line values into a schema; errors become one readable InputError."""
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InputError(f"valeurs invalides — {_problems(exc)}") from exc


def _table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)


@app.command("migrate", epilog="Exemple : grappe registry migrate")
def migrate_command() -> None:
    """Mettre la base du registre au dernier schéma."""
    engine = get_engine()
    before = migrate.current_revision(engine)
    after = migrate.upgrade(engine)
    console.print(f"Base du registre : révision {before or 'vide'} → {after}")


@app.command(
    "create",
    epilog="Exemple : grappe registry create \"Mécanique Rhône\" --acronym MECA --commune 69123 "
    "--naf 25.62A",
)
def create(
    name: Annotated[
        str, typer.Argument(metavar="NOM", help="Nom de la structure (ex. : \"Mécanique Rhône\").")
    ],
    acronym: Annotated[
        str | None, typer.Option("--acronym", help="Sigle (ex. : MECA).")
    ] = None,
    communes: Annotated[
        list[str] | None,
        typer.Option("--commune", help="Code COG d'une commune du territoire (ex. : 69123) ; "
                     "répétable."),
    ] = None,
    epcis: Annotated[
        list[str] | None,
        typer.Option("--epci", help="SIREN d'un EPCI du territoire (ex. : 200046977) ; répétable."),
    ] = None,
    departements: Annotated[
        list[str] | None,
        typer.Option("--department", help="Code d'un département du territoire (ex. : 69) ; "
                     "répétable."),
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
        typer.Option("--sector-group", help="Filière FICHIER.toml:CODE, dont les codes NAF sont "
                     "repris (ex. : filieres.toml:meca)."),
    ] = None,
    legal_form: Annotated[
        str | None, typer.Option("--legal-form", help="Forme juridique (ex. : association).")
    ] = None,
    founded: Annotated[
        int | None, typer.Option("--founded", help="Année de création (ex. : 2006).")
    ] = None,
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
    with _unit() as (session, actor):
        out = service.create_cluster(
            session,
            actor,
            _build(
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
    with _unit(write=False) as (session, actor):
        rows = service.list_clusters(session, actor, limit=500)
    _table(
        "Structures",
        ["n°", "nom", "sigle", "adhérents"],
        [[c.id, c.name, c.acronym, c.member_count] for c in rows],
    )


@app.command("show", epilog="Exemple : grappe registry show MECA")
def show(cluster: ClusterArgument) -> None:
    """Afficher la fiche d'une structure."""
    with _unit(write=False) as (session, actor):
        out = service.get_cluster(session, actor, service.resolve_cluster(session, cluster))
    console.print(f"[bold]{out.name}[/] ({out.acronym or 'sans sigle'}) — n° {out.id}, version {out.version}")
    console.print(f"Adhérents : {out.member_count}")
    console.print("Territoire : " + ", ".join(f"{t.level} {t.code}" for t in out.territories))
    console.print("Secteurs : " + ", ".join(out.sectors))
    for label in out.labels:
        console.print(f"Label : {label.kind.value} {label.name or ''} ({label.start} → {label.end or '…'})")


@app.command(
    "import", epilog="Exemple : grappe registry import MECA adherents.xlsx --strict"
)
def import_command(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Adhérents en CSV ou XLSX (ex. : adherents.xlsx)."),
    ],
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Tout ou rien : une seule ligne rejetée et rien n'est écrit "
                     "(statut de sortie 2)."),
    ] = False,
) -> None:
    """Importer des adhérents (SIRET ou SIREN, nom, nature, date d'adhésion, type)."""
    with _unit() as (session, actor):
        report = members_io.import_members(
            session, actor, service.resolve_cluster(session, cluster), file, strict=strict
        )
    if report.issues:
        _table(
            "Lignes rejetées",
            ["ligne", "colonne", "valeur", "motif"],
            [[i.line, i.column, i.value, i.reason] for i in report.issues],
        )
    console.print(
        f"{report.rows} lignes lues, {report.inserted} adhésions créées, "
        f"{report.rejected} rejetées" + ("" if report.committed else " — rien n'a été écrit (--strict)")
    )
    if strict and report.rejected:
        raise typer.Exit(2)


@app.command(
    "export", epilog="Exemple : grappe registry export MECA adherents.xlsx --current"
)
def export_command(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Fichier .csv ou .xlsx à écrire (ex. : "
                       "adherents.xlsx)."),
    ],
    current: Annotated[
        bool, typer.Option("--current", help="Adhérents actuels seulement (sans les anciens).")
    ] = False,
) -> None:
    """Exporter les adhérents en CSV ou XLSX."""
    with _unit(write=False) as (session, actor):
        n = members_io.export_members(
            session,
            actor,
            service.resolve_cluster(session, cluster),
            file,
            include_former=not current,
        )
    console.print(f"{n} adhésions écrites dans {file}")


@app.command(
    "fee-schedule", epilog="Exemple : grappe registry fee-schedule MECA bareme-2025.json"
)
def fee_schedule(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(metavar="FICHIER", help="Barème JSON : year, cap_eur, due_days, rules "
                       "(ex. : bareme-2025.json)."),
    ],
) -> None:
    """Fixer le barème des cotisations d'une année depuis un fichier JSON."""
    from pydantic import ValidationError

    try:
        data = FeeScheduleIn.model_validate_json(file.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise InputError(f"{file}: barème invalide — {_problems(exc)}") from exc
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: barème illisible ({exc})") from exc
    with _unit() as (session, actor):
        out = fees.set_schedule(session, actor, service.resolve_cluster(session, cluster), data)
    console.print(f"Barème {out.year} enregistré : {len(out.rules)} règle(s)")


@app.command("fee-calls", epilog="Exemple : grappe registry fee-calls MECA 2025 --issue")
def fee_calls(
    cluster: ClusterArgument,
    year: Annotated[
        int, typer.Argument(metavar="ANNÉE", help="Année des cotisations (ex. : 2025).")
    ],
    issue: Annotated[
        bool, typer.Option("--issue", help="Émettre d'abord les appels manquants de l'année.")
    ] = False,
) -> None:
    """Lister (et émettre avec --issue) les appels de cotisation d'une année."""
    with _unit(write=issue) as (session, actor):
        cid = service.resolve_cluster(session, cluster)
        if issue:
            done = fees.issue_calls(session, actor, cid, year)
            console.print(f"{done.issued} appel(s) émis ({done.total_eur} €), {done.already} déjà émis")
        calls = fees.list_calls(session, actor, cid, year=year)
    _table(
        f"Appels de cotisation {year}",
        ["n°", "organisation", "montant", "payé", "échéance", "statut"],
        [[c.id, c.organisation, c.amount_eur, c.paid_eur, c.due_on, c.status.value] for c in calls],
    )


@app.command(
    "pay", epilog="Exemple : grappe registry pay 12 450,50 --date 2025-03-01 --method virement"
)
def pay(
    fee_call: Annotated[
        int, typer.Argument(metavar="APPEL", help="N° de l'appel de cotisation (ex. : 12).")
    ],
    amount: Annotated[
        str, typer.Argument(metavar="MONTANT", help="Montant payé en euros (ex. : 450,50).")
    ],
    on: Annotated[
        str | None,
        typer.Option("--date", help="Date du paiement, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : aujourd'hui)."),
    ] = None,
    method: Annotated[
        str | None, typer.Option("--method", help="Moyen de paiement (ex. : virement, chèque).")
    ] = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="Référence du paiement (ex. : VIR-2025-031).")
    ] = None,
) -> None:
    """Enregistrer un paiement."""
    paid_on = option_date("--date", on) if on else dt.date.today()
    try:
        value = Decimal(amount.replace(",", "."))
    except ArithmeticError as exc:
        raise InputError(f"montant {amount!r} invalide") from exc
    with _unit() as (session, actor):
        out = fees.record_payment(
            session,
            actor,
            fee_call,
            _build(PaymentIn, amount_eur=value, paid_on=paid_on, method=method, reference=reference),
        )
    console.print(f"Appel {out.id} : payé {out.paid_eur} / {out.amount_eur} € — {out.status.value}")


@app.command("dunning", epilog="Exemple : grappe registry dunning MECA --at 2025-06-30")
def dunning(
    cluster: ClusterArgument,
    on: Annotated[
        str | None,
        typer.Option("--at", help="Date de la relance, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : aujourd'hui)."),
    ] = None,
) -> None:
    """Liste des relances : cotisations échues et impayées."""
    day = option_date("--at", on) if on else None
    with _unit(write=False) as (session, actor):
        lines = fees.dunning_list(session, actor, service.resolve_cluster(session, cluster), on=day)
    _table(
        "Relances",
        ["appel", "organisation", "année", "reste dû", "échéance", "jours", "contacts"],
        [
            [
                x.fee_call_id,
                x.organisation,
                x.year,
                x.outstanding_eur,
                x.due_on,
                x.days_late,
                ", ".join(x.contacts),
            ]
            for x in lines
        ],
    )


@app.command(
    "directory", epilog="Exemple : grappe registry directory --region 84 --naf 25.62A --size moyen"
)
def directory(
    label: Annotated[
        str | None,
        typer.Option("--label", help="Label : pole, grappe, regional, none ou le nom d'un label "
                     "(ex. : pole)."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Code COG de la région (ex. : 84).")
    ] = None,
    sector: Annotated[
        str | None, typer.Option("--naf", help="Code NAF d'un secteur suivi (ex. : 25.62A).")
    ] = None,
    size: Annotated[
        str | None,
        typer.Option("--size", help="petit (< 50 adhérents), moyen (50-199), grand (200 et plus)."),
    ] = None,
) -> None:
    """Annuaire public des structures."""
    with _unit(write=False) as (session, actor):
        page = service.directory(
            session, actor, label=label, region=region, sector=sector, size=size, limit=500
        )
    _table(
        f"Annuaire ({page.total})",
        ["n°", "nom", "sigle", "labels", "régions", "adhérents"],
        [
            [e.id, e.name, e.acronym, ", ".join(e.labels), ", ".join(e.regions), e.member_count]
            for e in page.items
        ],
    )


@app.command("figures", epilog="Exemple : grappe registry figures MECA --format json")
def figures_command(
    cluster: ClusterArgument,
    output: Annotated[
        str, typer.Option("--format", help="Présentation : text ou json.")
    ] = "text",
) -> None:
    """Chiffres clés d'une structure."""
    if output not in ("text", "json"):
        raise InputError(f"--format {output!r} inconnu ; valeurs possibles : text, json")
    with _unit(write=False) as (session, actor):
        key = figures.key_figures(session, actor, service.resolve_cluster(session, cluster))
    if output == "json":
        console.print_json(key.model_dump_json())
        return
    console.print(f"Adhérents au {key.on} : {key.members}")
    console.print("Par nature : " + ", ".join(f"{k} {v}" for k, v in key.by_kind.items()))
    console.print("Par taille : " + ", ".join(f"{k} {v}" for k, v in key.by_size.items()))
    share = "n.d." if key.tpe_pme_share is None else f"{key.tpe_pme_share:.0%}"
    console.print(f"Part TPE/PME : {share}")
    console.print(
        f"Cotisations encaissées {key.on.year} : {key.fee_income_eur} € ; impayés : {key.arrears_eur} €"
    )
    console.print(
        f"Communes : {key.communes} ; départements : "
        + ", ".join(f"{k} ({v})" for k, v in key.by_departement.items())
    )
    _table(
        "Entrées et sorties",
        ["année", "entrées", "sorties", "adhérents fin", "rétention"],
        [
            [
                f.year,
                f.entries,
                f.exits,
                f.members_at_end,
                "" if f.retention is None else f"{f.retention:.0%}",
            ]
            for f in key.flows
        ],
    )


@app.command(
    "prospects", epilog="Exemple : grappe registry prospects MECA --top 200 --out prospects.xlsx"
)
def prospects_command(
    cluster: ClusterArgument,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Fichier .csv ou .xlsx à écrire (sinon : les 50 premiers à "
                     "l'écran ; ex. : prospects.xlsx)."),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option("--store", help="Dossier du magasin du tissu productif (défaut : "
                     "GRAPPE_HOME/store)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--top", help="Garder les N mieux classés (ex. : 200).")
    ] = None,
) -> None:
    """Établissements du territoire et des secteurs de la structure, non adhérents, classés."""
    with _unit(write=False) as (session, actor):
        table = prospects.prospects(
            session, actor, service.resolve_cluster(session, cluster), store=store, limit=limit
        )
    if out is not None:
        prospects.write_prospects(table, out)
        console.print(f"{table.num_rows} prospects écrits dans {out}")
        return
    rows = table.slice(0, 50).to_pylist()
    _table(
        f"Prospects ({table.num_rows}, 50 premiers)",
        ["rang", "siret", "nom", "naf", "commune", "score"],
        [[r["rang"], r["siret"], r["nom"], r["naf"], r["commune"], r["score"]] for r in rows],
    )


@app.command(
    "invite", epilog="Exemple : grappe registry invite MECA 552100554 --joined 2025-01-01"
)
def invite_command(
    cluster: Annotated[
        str,
        typer.Argument(metavar="STRUCTURE", help="N°, sigle ou nom de la structure qui invite "
                       "(ex. : MECA)."),
    ],
    siren: Annotated[
        str,
        typer.Argument(metavar="SIREN", help="SIREN de l'organisation invitée, déjà inscrite "
                       "(ex. : 552100554)."),
    ],
    joined: Annotated[
        str | None,
        typer.Option("--joined", help="Date d'adhésion proposée, AAAA-MM-JJ ou JJ/MM/AAAA "
                     "(défaut : aujourd'hui)."),
    ] = None,
    left: Annotated[
        str | None,
        typer.Option("--left", help="Date de départ, AAAA-MM-JJ ou JJ/MM/AAAA (ex. : 31/12/2026)."),
    ] = None,
    membership_type: Annotated[
        str, typer.Option("--membership-type", help="Type d'adhésion (ex. : adherent).")
    ] = "adherent",
    siret: Annotated[
        str | None,
        typer.Option("--siret", help="SIRET de l'établissement adhérent (ex. : 55210055400013)."),
    ] = None,
) -> None:
    """Inviter une organisation déjà inscrite ; elle devient adhérente quand elle accepte."""
    with _unit() as (session, actor):
        out = invitations.invite(
            session,
            actor,
            service.resolve_cluster(session, cluster),
            _build(
                InvitationCreate,
                siren=siren,
                siret=siret,
                membership_type=membership_type,
                joined=option_date("--joined", joined) if joined else dt.date.today(),
                left=option_date("--left", left) if left else None,
            ),
        )
    console.print(f"Invitation n° {out.id} envoyée au SIREN {out.siren} : en attente de sa réponse")


def _invitation_row(i: InvitationOut) -> list[object]:
    return [i.id, i.cluster, i.siren, i.organisation or "—", i.joined, i.status.value]


@app.command(
    "invitations", epilog="Exemple : grappe registry invitations --cluster MECA --all"
)
def invitations_command(
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="N°, sigle ou nom d'une structure (ex. : MECA)."),
    ] = None,
    organisation: Annotated[
        int | None, typer.Option("--organisation", help="N° d'une organisation (ex. : 7).")
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Aussi celles déjà acceptées ou refusées.")
    ] = False,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Nombre d'invitations affichées au plus.")
    ] = 100,
) -> None:
    """Invitations envoyées par vos structures ou reçues par vos organisations."""
    with _unit() as (session, actor):
        page = invitations.list_invitations(
            session,
            actor,
            cluster_id=service.resolve_cluster(session, cluster) if cluster else None,
            organisation_id=organisation,
            status=None if every else InvitationStatus.PENDING,
            limit=limit,
        )
    _table(
        f"Invitations ({page.total})",
        ["n°", "structure", "siren", "organisation", "adhésion", "statut"],
        [_invitation_row(i) for i in page.items],
    )


@app.command("accept", epilog="Exemple : grappe registry --as u@gamma.fr accept 1")
def accept_command(
    invitation: Annotated[
        int, typer.Argument(metavar="INVITATION", help="N° de l'invitation (ex. : 1).")
    ],
) -> None:
    """Accepter une invitation (pour l'organisation invitée) : l'adhésion est ouverte."""
    with _unit() as (session, actor):
        out = invitations.accept(session, actor, invitation)
    console.print(f"Invitation n° {out.id} acceptée : adhésion n° {out.membership_id} à {out.cluster}")


@app.command("decline", epilog="Exemple : grappe registry --as u@gamma.fr decline 1")
def decline_command(
    invitation: Annotated[
        int, typer.Argument(metavar="INVITATION", help="N° de l'invitation (ex. : 1).")
    ],
) -> None:
    """Refuser une invitation (pour l'organisation invitée)."""
    with _unit() as (session, actor):
        out = invitations.decline(session, actor, invitation)
    console.print(f"Invitation n° {out.id} refusée")


@app.command(
    "user-add",
    epilog="Exemple : grappe registry user-add chargee@meca.fr --role manager --cluster 1 --token",
)
def user_add(
    email: Annotated[
        str,
        typer.Argument(metavar="E-MAIL", help="Adresse de l'utilisateur (ex. : chargee@meca.fr)."),
    ],
    # The choices go in the help, not in the type column, where Rich would cut them mid-word.
    role: Annotated[
        str, typer.Option("--role", metavar="RÔLE", help=f"Rôle : {', '.join(ROLES)}.")
    ],
    funder: Annotated[
        str | None,
        typer.Option("--funder", help="Financeur représenté, pour le rôle funder (ex. : Région "
                     "Auvergne-Rhône-Alpes)."),
    ] = None,
    organisation: Annotated[
        int | None,
        typer.Option("--organisation", help="N° de l'organisation, pour le rôle member (ex. : 7)."),
    ] = None,
    clusters: Annotated[
        list[int] | None,
        typer.Option("--cluster", help="N° d'une structure animée, pour le rôle manager "
                     "(ex. : 1) ; répétable."),
    ] = None,
    token: Annotated[
        bool,
        typer.Option("--token", help="Émettre aussi un jeton d'API, affiché une seule fois sur la "
                     "dernière ligne."),
    ] = False,
) -> None:
    """Créer un utilisateur (administrateur), avec un jeton d'API si demandé."""
    choice("--role", role, ROLES)
    with _unit() as (session, actor):
        user = accounts.create_user(
            session,
            actor,
            _build(
                UserCreate,
                email=email,
                role=role,
                funder=funder,
                organisation_id=organisation,
                clusters=clusters or [],
            ),
        )
        secret = accounts.issue_token(session, actor, user.id).token if token else None
    console.print(f"Utilisateur n° {user.id} {user.email} ({user.role.value})")
    if secret:
        # Alone on the last line, so that a script takes it with `tail -n 1` (CONTRACTS).
        console.print("Jeton d'API, affiché une seule fois :")
        typer.echo(secret)


@app.command("set-password", epilog="Exemple : grappe registry set-password gestion@meca.fr")
def set_password(
    email: Annotated[
        str, typer.Argument(metavar="E-MAIL", help="E-mail de l'utilisateur (ex. : gestion@meca.fr).")
    ],
) -> None:
    """Définir le mot de passe de connexion à l'application web (demandé deux fois, masqué)."""
    password = typer.prompt("Mot de passe", hide_input=True, confirmation_prompt="Confirmez le mot de passe")
    with _unit() as (session, actor):
        user_id = accounts.actor_for(session, email).user_id
        if user_id is None:
            raise InputError(f"{email!r} : indiquez l'e-mail d'un utilisateur")
        signin.set_password(session, actor, user_id, password)
    console.print(f"Mot de passe enregistré pour {email.strip().lower()}", highlight=False)


@app.command("audit", epilog="Exemple : grappe registry audit --cluster 1 --limit 20")
def audit(
    cluster: Annotated[
        int | None,
        typer.Option("--cluster", help="N° de la structure (ex. : 1 ; défaut : toutes)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="Nombre d'entrées affichées, les plus récentes.")
    ] = 50,
) -> None:
    """Journal d'audit (administrateur)."""
    with _unit(write=False) as (session, actor):
        rows = accounts.audit_log(session, actor, cluster_id=cluster, limit=limit)
    _table(
        "Journal",
        ["n°", "quand", "qui", "action", "objet", "après"],
        [
            [
                e.id,
                e.at.isoformat(timespec="seconds"),
                e.actor,
                e.action,
                f"{e.entity} {e.entity_id}",
                json.dumps(e.after, ensure_ascii=False)[:80],
            ]
            for e in rows
        ],
    )
