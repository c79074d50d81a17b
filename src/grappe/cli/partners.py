"""`grappe partners` commands: batch partner suggestions and the B2B schedule of an event."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli import meetings, profiles
from grappe.cli._analysis import choice
from grappe.cli._batch import (
    OutOption,
    StrictOption,
    gain,
    input_option,
    nothing_left,
    percent,
    report_issues,
    require_search,
    say,
    warn,
)
from grappe.cli._console import handle_errors, number
from grappe.errors import InputError

SCHEDULE_EXAMPLE = (
    "Exemple : grappe partners schedule --participants participants.csv --wishes souhaits.csv "
    "--slots 20 --tables 60 --max-meetings 8 --out planning.csv"
)

SUGGEST_EXAMPLE = (
    "Exemple : grappe partners suggest --for demandes.csv --top 10 --scope all --out suggestions.csv"
)
#: Values of --scope, written here so that `--help` loads no model (a test checks they agree).
SCOPES = ("cluster", "clusters", "all")

app = typer.Typer(
    help="Partenaires : suggestions de partenaires expliquées, profils et recherches de partenaires, "
    "rendez-vous d'affaires (B2B) planifiés par un solveur.",
    epilog=f"{SUGGEST_EXAMPLE}\n\n{SCHEDULE_EXAMPLE}",
    no_args_is_help=True,
)


app.add_typer(meetings.app, name="meeting")
app.add_typer(profiles.profile_app, name="profile")
app.add_typer(profiles.posting_app, name="posting")


@app.callback()
def _options(acting: operational.ActingOption = None) -> None:
    # the acting user of `suggest` (the registry's unit of work reads it): reset on every call
    operational.act_as(acting)


@app.command("suggest", epilog=SUGGEST_EXAMPLE)
def suggest_command(
    queries: Annotated[Path, input_option(
        "--for",
        "Demandes en CSV ou XLSX : colonne organisation (nom enregistré, sans égard à la casse ni "
        "aux espaces répétés, ou n° de l'organisation).",
    )],
    top: Annotated[int, typer.Option("--top", min=1, help="Suggestions par demande (ex. : 10).")],
    out: OutOption,
    scope: Annotated[str, typer.Option(
        "--scope", help="Parmi qui chercher : cluster (membres des grappes de l'organisation), "
        "clusters (et membres consentants des grappes qui partagent leurs profils avec elles) "
        "ou all (toute organisation enregistrée ou vue dans un projet importé).",
    )] = "all",
    store: Annotated[Path | None, typer.Option(
        "--store", help="Dossier d'un magasin du tissu productif (facultatif) : la co-localisation "
        "des divisions NAF dans ses zones d'emploi mesure la complémentarité des secteurs, au lieu "
        "de la règle « même division ».",
    )] = None,
    strict: StrictOption = False,
) -> None:
    """Suggérer des partenaires à chaque organisation d'une liste, avec leurs raisons.

    Le score combine la pertinence du texte (BM25 en français sur le nom, le secteur et les
    projets), la complémentarité des secteurs, la proximité et le réseau de coopération
    (partenaires communs, projets déjà faits ensemble) ; les poids sont dans le README. Une
    demande qui ne désigne aucune organisation est signalée et ignorée.
    """
    from grappe.cli import _operational

    with handle_errors():
        choice("--scope", scope, SCOPES)
        require_search("partners suggest")
        from grappe.kit.tables import read_rows
        from grappe.partners.service import (
            QUERY_COLUMN,
            SearchScope,
            sector_relatedness,
            suggest_batch,
            write_suggestions,
        )

        rows = read_rows(queries, (QUERY_COLUMN,))
        if store is not None and not store.is_dir():
            raise InputError(f"--store {store} : magasin introuvable (importez d'abord un fichier "
                             "avec `grappe fabric import`)")
        related = None if store is None else sector_relatedness(store)
        with _operational.unit(write=False) as (session, actor):
            suggestions, issues = suggest_batch(
                session, actor, queries, rows, top=top, scope=SearchScope(scope), relatedness=related
            )
        report_issues(issues, strict)
        if not rows:
            raise nothing_left(queries, "aucune demande")
        write_suggestions(out, suggestions)
    answered = len({s.query for s in suggestions})
    if not suggestions:
        warn("Aucune suggestion : aucune demande n'a trouvé de candidat (le fichier ne contient que "
             "l'en-tête)")
    say(f"Suggestions écrites : {out} — {number(len(suggestions))} suggestions pour "
        f"{number(answered)} demande(s) sur {number(len(rows))}")


@app.command("schedule", epilog=SCHEDULE_EXAMPLE)
def schedule_command(
    participants: Annotated[Path, input_option(
        "--participants",
        "Participants en CSV ou XLSX : colonnes participant, unavailable_slots (créneaux exclus, "
        "numérotés depuis 1, séparés par des espaces).",
    )],
    wishes: Annotated[Path, input_option(
        "--wishes",
        "Souhaits en CSV ou XLSX : colonnes from, to, priority (entier, plus haut = plus souhaité).",
    )],
    slots: Annotated[int, typer.Option("--slots", min=1, help="Nombre de créneaux (ex. : 20).")],
    tables: Annotated[int, typer.Option("--tables", min=1, help="Tables par créneau (ex. : 60).")],
    max_meetings: Annotated[int, typer.Option(
        "--max-meetings", min=1, help="Rendez-vous au plus par participant (ex. : 8)."
    )],
    out: OutOption,
    time_limit: Annotated[float, typer.Option(
        "--time-limit", min=1, help="Secondes accordées au solveur ; au-delà, le meilleur planning "
        "trouvé est écrit avec l'écart prouvé.",
    )] = 60.0,
    strict: StrictOption = False,
) -> None:
    """Planifier les rendez-vous d'affaires : somme des priorités satisfaites maximale.

    Un rendez-vous satisfait les souhaits des deux sens ; une paire se rencontre une fois ; un
    participant a au plus un rendez-vous par créneau, aucun dans un créneau exclu, au plus
    --max-meetings en tout ; seules les paires avec un souhait se rencontrent. Le planning du
    solveur (HiGHS) est comparé au planning glouton et à la borne de la relaxation LP.
    """
    with handle_errors():
        from grappe.partners.schedule import gap, greedy_schedule, lp_bound, optimal_schedule
        from grappe.partners.schedule_files import read_event, write_schedule

        event, issues = read_event(
            participants, wishes, slots=slots, tables=tables, max_meetings=max_meetings
        )
        report_issues(issues, strict)
        if not event.participants:
            raise nothing_left(participants, "aucun participant valable")
        if not event.wishes:
            raise nothing_left(wishes, "aucun souhait valable")
        greedy = greedy_schedule(event)
        bound = lp_bound(event)
        solved = optimal_schedule(event, time_limit=time_limit)
        write_schedule(out, solved.meetings)
    if not solved.meetings:
        warn("Planning vide : aucune paire avec un souhait n'a de créneau commun "
             "(le fichier ne contient que l'en-tête)")
    # HiGHS's dual bound only tightens the LP's; it is missing when the time ran out at once.
    proven = bound if solved.bound is None else min(bound, solved.bound)
    say(f"Planning écrit : {out} — {number(len(solved.meetings))} rendez-vous, "
        f"{number(len(event.participants))} participants, {number(len(event.wishes))} souhaits")
    say(f"Priorités satisfaites : {number(solved.satisfied)} (glouton : "
        f"{number(greedy.satisfied)}, {gain(solved.satisfied, greedy.satisfied)})")
    say(
        f"Borne de la relaxation LP : {number(bound)} ; écart : {percent(gap(solved.satisfied, bound))}"
        + (" ; optimal prouvé" if solved.optimal else
           f" ; écart prouvé : {percent(gap(solved.satisfied, proven))} (limite de temps atteinte)")
    )
    say(f"Durée du solveur : {solved.seconds:.1f} s".replace(".", ","))
