"""`grappe partners meeting`: stored B2B meetings (rendez-vous d'affaires) on the registry database.

The organiser creates the event, registers participants and wishes (or members do it for
themselves with ``--as``), schedules it with the solver, publishes it and prints the agendas
and the table plan. Domain modules are imported inside the commands so that `--help` stays light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._analysis import choice
from grappe.cli._batch import StrictOption, input_option, report_issues
from grappe.cli._console import console, handle_errors, number
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.partners.meetings import service
    from grappe.registry.clusters import service as cluster_service
else:
    service = operational.Lazy("grappe.partners.meetings.service")
    cluster_service = operational.Lazy("grappe.registry.clusters.service")

MOMENT_HELP = "AAAA-MM-JJ HH:MM, heure de Paris"
#: The files of `agenda` and `plan`, by suffix.
AGENDA_SUFFIXES = (".pdf", ".ics")
PLAN_SUFFIXES = (".pdf", ".csv")
#: Values of --method, written here so that `--help` loads no model (a test checks they agree).
METHODS = ("optimal", "greedy")
#: French names of the wishes' states.
WISH_STATES = {"pending": "en attente", "accepted": "accepté", "refused": "refusé"}

app = typer.Typer(
    help="Rendez-vous d'affaires enregistrés : inscriptions, souhaits, planning optimisé, agendas "
    "et plan de tables.",
    epilog="Exemple : grappe partners meeting schedule 2, puis grappe partners meeting plan 2 --out plan.pdf",
    no_args_is_help=True,
)

MeetingArgument = Annotated[
    int, typer.Argument(metavar="RENDEZ-VOUS", help="N° du rendez-vous d'affaires (ex. : 2).")
]
OrganisationOption = Annotated[
    int | None,
    typer.Option("--organisation", help="N° de l'organisation (organisateur ; un adhérent : la sienne)."),
]


def _slots(text: str | None) -> list[int]:
    """Slot numbers written ``"1 4 5"`` (or with commas)."""
    if not text:
        return []
    words = text.replace(",", " ").split()
    wrong = [w for w in words if not w.isdigit()]
    if wrong:
        raise InputError(f'--unavailable {text!r} : {wrong[0]!r} n\'est pas un n° de créneau (ex. : "1 4")')
    return [int(w) for w in words]


def _suffix(out: Path, allowed: tuple[str, ...]) -> str:
    suffix = out.suffix.lower()
    if suffix not in allowed:
        raise InputError(
            f"--out {out} : extension {suffix or '?'} non prise en charge ({' ou '.join(allowed)})"
        )
    return suffix[1:]


def _write(out: Path, content: bytes) -> None:
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise InputError(f"--out {out} : écriture impossible ({exc.strerror})") from exc


@app.command(
    "create",
    epilog='Exemple : grappe partners meeting create MECA --title "Rencontres usinage" '
    '--at "2026-12-10 09:00" --slots 12 --tables 20 --max-meetings 6',
)
def create(
    cluster: operational.ClusterArgument,
    title: Annotated[str, typer.Option("--title", help="Intitulé.")],
    at: Annotated[str, typer.Option("--at", help=f"Début du premier créneau ({MOMENT_HELP}).")],
    slots: Annotated[int, typer.Option("--slots", help="Nombre de créneaux (ex. : 12).")],
    tables: Annotated[int, typer.Option("--tables", help="Tables par créneau (ex. : 20).")],
    max_meetings: Annotated[int, typer.Option("--max-meetings", help="Rendez-vous au plus par participant.")],
    slot_minutes: Annotated[int, typer.Option("--slot-minutes", help="Durée d'un créneau en minutes.")] = 20,
    place: Annotated[str | None, typer.Option("--place", help="Lieu.")] = None,
    event: Annotated[
        int | None, typer.Option("--event", help="N° de l'événement de la structure dont il fait partie.")
    ] = None,
) -> None:
    """Organiser des rendez-vous d'affaires : créneaux consécutifs, tables, plafond par participant."""
    from grappe.partners.meetings.schemas import B2BEventIn

    with handle_errors():
        data = operational.build(
            B2BEventIn,
            title=title,
            starts_at=at,
            slots=slots,
            tables=tables,
            max_meetings=max_meetings,
            slot_minutes=slot_minutes,
            place=place,
            event_id=event,
        )
        with operational.unit() as (session, actor):
            created = service.create_event(
                session, actor, cluster_service.resolve_cluster(session, cluster), data
            )
    console.print(f"Rendez-vous d'affaires {created.id} : {created.title}, {created.slots} créneaux")


@app.command("list", epilog="Exemple : grappe partners meeting list MECA")
def list_command(
    cluster: Annotated[
        str | None, typer.Argument(metavar="STRUCTURE", help="N°, sigle ou nom (un adhérent : facultatif).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500, help="Lignes au plus.")] = 100,
) -> None:
    """Rendez-vous d'affaires d'une structure (un adhérent : ceux qui lui sont ouverts)."""
    from grappe.partners.meetings.agendas import clock, day

    with handle_errors(), operational.unit(write=False) as (session, actor):
        cluster_id = None if cluster is None else cluster_service.resolve_cluster(session, cluster)
        page = service.list_events(session, actor, cluster_id, limit=limit)
    operational.table(
        f"Rendez-vous d'affaires ({page.total})",
        ["n°", "intitulé", "date", "début", "créneaux", "tables", "participants", "planning"],
        [
            [
                e.id,
                e.title,
                day(e.starts_at),
                clock(e.starts_at),
                e.slots,
                e.tables,
                e.participants,
                "publié" if e.published else ("planifié" if e.scheduled_at else "à planifier"),
            ]
            for e in page.items
        ],
    )


@app.command("guest", epilog="Exemple : grappe partners meeting guest 2 --cluster GRAN")
def guest(
    meeting: MeetingArgument,
    cluster: Annotated[str, typer.Option("--cluster", help="Structure invitée (n°, sigle ou nom).")],
) -> None:
    """Ouvrir le rendez-vous aux adhérents d'une autre structure (interclustering)."""
    from grappe.partners.meetings.schemas import GuestIn

    with handle_errors(), operational.unit() as (session, actor):
        data = GuestIn(cluster_id=cluster_service.resolve_cluster(session, cluster))
        event = service.add_guest_cluster(session, actor, meeting, data)
    console.print(f"Structures invitées : {', '.join(str(c) for c in event.guest_clusters)}")


@app.command(
    "register", epilog='Exemple : grappe partners meeting --as u@firme.fr register 2 --unavailable "1 2"'
)
def register(
    meeting: MeetingArgument,
    organisation: OrganisationOption = None,
    unavailable: Annotated[
        str | None,
        typer.Option("--unavailable", help='Créneaux où l\'organisation est indisponible (ex. : "1 2").'),
    ] = None,
) -> None:
    """Inscrire une organisation (un adhérent : la sienne), avec ses indisponibilités."""
    from grappe.partners.meetings.schemas import ParticipantIn

    with handle_errors():
        data = operational.build(
            ParticipantIn, organisation_id=organisation, unavailable_slots=_slots(unavailable)
        )
        with operational.unit() as (session, actor):
            participant = service.register(session, actor, meeting, data)
    console.print(f"Inscrite : {participant.organisation_name} (organisation {participant.organisation_id})")


@app.command(
    "unavailable", epilog='Exemple : grappe partners meeting unavailable 2 --organisation 5 --unavailable "3"'
)
def unavailable_command(
    meeting: MeetingArgument,
    organisation: OrganisationOption = None,
    unavailable: Annotated[
        str | None, typer.Option("--unavailable", help="Créneaux indisponibles (remplacent les précédents).")
    ] = None,
) -> None:
    """Déclarer les créneaux où un participant est indisponible."""
    from grappe.partners.meetings.schemas import UnavailableIn

    with handle_errors():
        data = operational.build(UnavailableIn, unavailable_slots=_slots(unavailable))
        with operational.unit() as (session, actor):
            participant = service.set_unavailable(session, actor, meeting, organisation, data)
    console.print(
        f"{participant.organisation_name} : indisponible aux créneaux "
        f"{' '.join(map(str, participant.unavailable_slots or [])) or 'aucun'}"
    )


@app.command(
    "import",
    epilog="Exemple : grappe partners meeting import 2 --participants participants.csv --wishes souhaits.csv",
)
def import_command(
    meeting: MeetingArgument,
    participants: Annotated[
        Path,
        input_option(
            "--participants",
            "Participants en CSV ou XLSX : colonnes participant (nom enregistré ou n° de "
            "l'organisation), unavailable_slots (créneaux exclus, séparés par des espaces).",
        ),
    ],
    wishes: Annotated[
        Path,
        input_option("--wishes", "Souhaits en CSV ou XLSX : colonnes from, to, priority (entier de 1 à 10)."),
    ],
    strict: StrictOption = False,
) -> None:
    """Inscrire les participants et noter les souhaits d'un tableur (l'organisateur).

    Les souhaits notés par l'organisateur sont acceptés d'office ; un participant déjà inscrit
    voit ses indisponibilités remplacées. Une ligne écartée est signalée et les autres sont
    enregistrées (--strict : rien n'est enregistré).
    """
    with handle_errors():
        with operational.unit() as (session, actor):
            report, issues = service.import_files(
                session, actor, meeting, participants, wishes, strict=strict
            )
        report_issues(issues, False)
    console.print(
        f"Rendez-vous {report.b2b_event_id} : {number(report.registered)} participant(s) inscrit(s), "
        f"{number(report.updated)} mis à jour, {number(report.wishes)} souhait(s) noté(s)"
    )


@app.command("participants", epilog="Exemple : grappe partners meeting participants 2")
def participants(meeting: MeetingArgument) -> None:
    """Participants (un participant : les noms et ses propres indisponibilités)."""
    with handle_errors(), operational.unit(write=False) as (session, actor):
        page = service.list_participants(session, actor, meeting, limit=500)
    operational.table(
        f"Participants ({page.total})",
        ["organisation", "nom", "créneaux indisponibles"],
        [
            [
                p.organisation_id,
                p.organisation_name,
                None if p.unavailable_slots is None else " ".join(map(str, p.unavailable_slots)),
            ]
            for p in page.items
        ],
    )


@app.command("wish", epilog="Exemple : grappe partners meeting --as u@firme.fr wish 2 --to 7 --priority 3")
def wish(
    meeting: MeetingArgument,
    to: Annotated[int, typer.Option("--to", help="N° de l'organisation à rencontrer.")],
    priority: Annotated[
        int, typer.Option("--priority", help="Priorité de 1 à 10 (plus haut = plus souhaité).")
    ] = 1,
    organisation: OrganisationOption = None,
) -> None:
    """Souhaiter rencontrer un participant (accepté d'office si réciproque ou noté par l'organisateur)."""
    from grappe.partners.meetings.schemas import WishIn

    with handle_errors():
        data = operational.build(
            WishIn, to_organisation_id=to, priority=priority, from_organisation_id=organisation
        )
        with operational.unit() as (session, actor):
            made = service.add_wish(session, actor, meeting, data)
    console.print(
        f"Souhait {made.id} : {made.from_name} → {made.to_name}, priorité {made.priority}, "
        f"{WISH_STATES[made.status]}"
    )


@app.command("wishes", epilog="Exemple : grappe partners meeting wishes 2")
def wishes(meeting: MeetingArgument) -> None:
    """Souhaits (un participant : ceux qu'il a émis ou reçus)."""
    with handle_errors(), operational.unit(write=False) as (session, actor):
        page = service.list_wishes(session, actor, meeting, limit=500)
    operational.table(
        f"Souhaits ({page.total})",
        ["n°", "de", "à", "priorité", "état"],
        [[w.id, w.from_name, w.to_name, w.priority, WISH_STATES[w.status]] for w in page.items],
    )


@app.command("answer", epilog="Exemple : grappe partners meeting --as u@firme.fr answer 2 14 --decline")
def answer(
    meeting: MeetingArgument,
    wish_id: Annotated[int, typer.Argument(metavar="SOUHAIT", help="N° du souhait reçu.")],
    decline: Annotated[bool, typer.Option("--decline", help="Refuser (défaut : accepter).")] = False,
) -> None:
    """Accepter (ou refuser avec --decline) un souhait reçu."""
    from grappe.partners.meetings.schemas import WishAnswer

    with handle_errors(), operational.unit() as (session, actor):
        answered = service.answer_wish(session, actor, meeting, wish_id, WishAnswer(accept=not decline))
    console.print(f"Souhait {answered.id} de {answered.from_name} : {WISH_STATES[answered.status]}")


@app.command("suggest", epilog="Exemple : grappe partners meeting --as u@firme.fr suggest 2 --top 5")
def suggest(
    meeting: MeetingArgument,
    organisation: OrganisationOption = None,
    top: Annotated[int, typer.Option("--top", min=1, max=50, help="Suggestions au plus.")] = 5,
) -> None:
    """Participants à rencontrer suggérés par la recherche de partenaires, avec leurs raisons."""
    with handle_errors(), operational.unit(write=False) as (session, actor):
        page = service.suggestions(session, actor, meeting, organisation, top=top)
    operational.table(
        f"Suggestions ({page.total})",
        ["organisation", "nom", "score", "raisons"],
        [[s.organisation_id, s.name, number(s.score), " ; ".join(s.reasons)] for s in page.items],
    )


@app.command("schedule", epilog="Exemple : grappe partners meeting schedule 2 --time-limit 60")
def schedule(
    meeting: MeetingArgument,
    method: Annotated[
        str, typer.Option("--method", help="optimal (solveur HiGHS comparé au glouton) ou greedy.")
    ] = "optimal",
    time_limit: Annotated[float, typer.Option("--time-limit", help="Secondes accordées au solveur.")] = 60.0,
) -> None:
    """Planifier les souhaits acceptés et remplacer le planning enregistré (à publier ensuite)."""
    from grappe.partners.meetings.schemas import ScheduleIn

    with handle_errors():
        choice("--method", method, METHODS)
        data = operational.build(ScheduleIn, method=method, time_limit=time_limit)
        with operational.unit() as (session, actor):
            result = service.schedule(session, actor, meeting, data)
    console.print(
        f"Planning enregistré : {number(result.meetings)} rendez-vous ({result.method}), "
        f"priorités satisfaites {number(result.satisfied)} (glouton : {number(result.greedy_satisfied)})"
    )
    if result.bound is not None and result.gap is not None:
        console.print(f"Borne prouvée : {number(result.bound)} ; écart : {number(100 * result.gap)} %")
    if result.pending_wishes:
        console.print(f"{number(result.pending_wishes)} souhait(s) en attente de réponse, non planifié(s)")
    console.print("À publier pour les participants : grappe partners meeting publish " + str(meeting))


@app.command("publish", epilog="Exemple : grappe partners meeting publish 2")
def publish(
    meeting: MeetingArgument,
    withdraw: Annotated[bool, typer.Option("--withdraw", help="Retirer la publication.")] = False,
) -> None:
    """Publier le planning aux participants (ou le retirer)."""
    from grappe.partners.meetings.schemas import PublishIn

    with handle_errors(), operational.unit() as (session, actor):
        event = service.publish(session, actor, meeting, PublishIn(published=not withdraw))
    console.print(f"Planning du rendez-vous {event.id} : {'publié' if event.published else 'non publié'}")


@app.command("agenda", epilog="Exemple : grappe partners meeting --as u@firme.fr agenda 2 --out agenda.ics")
def agenda(
    meeting: MeetingArgument,
    organisation: OrganisationOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Fichier .pdf ou .ics (défaut : affiché).")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Tous les agendas en un PDF (organisateur).")] = False,
) -> None:
    """L'agenda d'un participant : affiché, en PDF ou en ICS ; --all : tous, en PDF."""
    from grappe.partners.meetings.agendas import clock

    with handle_errors():
        if every:
            if out is None or _suffix(out, (".pdf",)) != "pdf":
                raise InputError("--all : précisez --out AGENDAS.pdf")
            with operational.unit(write=False) as (session, actor):
                _write(out, service.all_agendas_pdf(session, actor, meeting))
            console.print(f"Agendas écrits : {out}")
            return
        if out is not None:
            suffix = _suffix(out, AGENDA_SUFFIXES)
            with operational.unit(write=False) as (session, actor):
                make = service.agenda_pdf if suffix == "pdf" else service.agenda_ics
                _write(out, make(session, actor, meeting, organisation))
            console.print(f"Agenda écrit : {out}")
            return
        with operational.unit(write=False) as (session, actor):
            found = service.agenda(session, actor, meeting, organisation)
    operational.table(
        f"Agenda de {found.organisation} — {found.title}",
        ["horaire", "créneau", "table", "rendez-vous avec"],
        [
            [f"{clock(line.starts_at)}–{clock(line.ends_at)}", line.slot, line.table, line.partner]
            for line in found.lines
        ],
    )


@app.command("plan", epilog="Exemple : grappe partners meeting plan 2 --out plan.pdf")
def plan(
    meeting: MeetingArgument,
    out: Annotated[
        Path, typer.Option("--out", help="Fichier .pdf (à imprimer) ou .csv (pour les programmes).")
    ],
) -> None:
    """Le plan de tables de l'organisateur : par créneau, chaque table et sa paire."""
    with handle_errors():
        suffix = _suffix(out, PLAN_SUFFIXES)
        with operational.unit(write=False) as (session, actor):
            _write(out, service.table_plan_file(session, actor, meeting, suffix))
    console.print(f"Plan de tables écrit : {out}")
