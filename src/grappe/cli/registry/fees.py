"""`grappe registry` commands of fees: schedules, calls, payments, dunning, key figures."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Annotated

import typer

from grappe.cli._console import console, err_console
from grappe.cli._operational import ClusterArgument, FileFormatOption, build, table, unit
from grappe.cli.registry._base import PaymentIn, app, clusters, fees, figures, letters, schedule_files
from grappe.errors import InputError
from grappe.kit import present
from grappe.kit.dates import option_date
from grappe.kit.tables import parse_decimal


@app.command("fee-schedule", epilog="Exemple : grappe registry fee-schedule MECA bareme-2025.xlsx")
def fee_schedule(
    cluster: ClusterArgument,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FICHIER",
            help="Barème .json, .toml ou .xlsx (modèle : grappe registry fee-schedule-template ; "
            "ex. : bareme-2025.xlsx).",
        ),
    ],
) -> None:
    """Fixer le barème des cotisations d'une année depuis un fichier JSON, TOML ou XLSX."""
    data = schedule_files.read_schedule(file)
    with unit() as (session, actor):
        out = fees.set_schedule(session, actor, clusters.resolve_cluster(session, cluster), data)
    console.print(f"Barème {out.year} enregistré : {present.number(len(out.rules))} règle(s)")


@app.command("fee-schedule-template", epilog="Exemple : grappe registry fee-schedule-template bareme.xlsx")
def fee_schedule_template(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FICHIER", help="Fichier à écrire, .xlsx, .toml ou .json (ex. : bareme.xlsx)."
        ),
    ],
) -> None:
    """Écrire un barème d'exemple à compléter (disposition décrite dans le README)."""
    schedule_files.write_example(file)
    console.print(f"Modèle de barème écrit : {file}")


@app.command("fee-calls", epilog="Exemple : grappe registry fee-calls MECA 2025 --issue")
def fee_calls(
    cluster: ClusterArgument,
    year: Annotated[int, typer.Argument(metavar="ANNÉE", help="Année des cotisations (ex. : 2025).")],
    issue: Annotated[
        bool, typer.Option("--issue", help="Émettre d'abord les appels manquants de l'année.")
    ] = False,
) -> None:
    """Lister (et émettre avec --issue) les appels de cotisation d'une année."""
    with unit(write=issue) as (session, actor):
        cid = clusters.resolve_cluster(session, cluster)
        if issue:
            done = fees.issue_calls(session, actor, cid, year)
            console.print(
                f"{present.number(done.issued)} appel(s) émis ({present.money(done.total_eur)}), "
                f"{present.number(done.already)} déjà émis",
                highlight=False,
            )
        calls = fees.list_calls(session, actor, cid, year=year)
    table(
        f"Appels de cotisation {year}",
        ["n°", "organisation", "montant", "payé", "échéance", "statut"],
        [
            [
                c.id,
                c.organisation,
                present.money(c.amount_eur),
                present.money(c.paid_eur),
                present.date(c.due_on),
                present.label("fee_status", c.status),
            ]
            for c in calls
        ],
    )


@app.command("pay", epilog="Exemple : grappe registry pay 12 450,50 --date 2025-03-01 --method virement")
def pay(
    fee_call: Annotated[int, typer.Argument(metavar="APPEL", help="N° de l'appel de cotisation (ex. : 12).")],
    amount: Annotated[
        str,
        typer.Argument(metavar="MONTANT", help="Montant payé en euros (ex. : 450,50 ; 4 000,00 ; 4000.00)."),
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
        value = parse_decimal(amount)
    except ValueError:
        raise InputError(
            f"MONTANT {amount!r} invalide : attendu un nombre d'euros, ex. 450,50 ou 4 000,00"
        ) from None
    with unit() as (session, actor):
        out = fees.record_payment(
            session,
            actor,
            fee_call,
            build(PaymentIn, amount_eur=value, paid_on=paid_on, method=method, reference=reference),
        )
    console.print(
        f"Appel {out.id} : payé {present.money(out.paid_eur)} sur {present.money(out.amount_eur)} — "
        f"{present.label('fee_status', out.status)}",
        highlight=False,
    )


@app.command(
    "dunning",
    epilog="Exemple : grappe registry dunning MECA --at 2025-06-30 --out relances.xlsx",
)
def dunning(
    cluster: ClusterArgument,
    on: Annotated[
        str | None,
        typer.Option("--at", help="Date de la relance, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : aujourd'hui)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Écrire la liste dans un fichier .csv ou .xlsx (ex. : relances.xlsx).",
        ),
    ] = None,
    format: FileFormatOption = None,
) -> None:
    """Liste des relances : cotisations échues et impayées, à l'écran ou dans un fichier."""
    day = option_date("--at", on) if on else None
    with unit(write=False) as (session, actor):
        cid = clusters.resolve_cluster(session, cluster)
        if out is not None:
            count = fees.export_dunning(session, actor, cid, out, on=day, format=format)
            console.print(f"{count} relance(s) écrite(s) dans {out}")
            if not count:
                err_console.print("aucune cotisation échue et impayée : le fichier ne contient que l'en-tête")
            return
        lines = fees.dunning_list(session, actor, cid, on=day)
    table(
        "Relances",
        ["appel", "organisation", "année", "reste dû", "échéance", "jours", "contacts"],
        [
            [
                x.fee_call_id,
                x.organisation,
                x.year,
                present.money(x.outstanding_eur),
                present.date(x.due_on),
                present.number(x.days_late),
                ", ".join(x.contacts),
            ]
            for x in lines
        ],
    )


@app.command(
    "fee-letters",
    epilog="Exemple : grappe registry fee-letters MECA --year 2025 --kind call --out appels-2025.pdf",
)
def fee_letters(
    cluster: ClusterArgument,
    year: Annotated[int, typer.Option("--year", help="Année des cotisations (ex. : 2025).")],
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            help="call : appels de cotisation à régler ; reminder : relances des cotisations échues.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Un fichier .pdf (toutes les lettres) ou un dossier existant (un PDF par appel) "
            "(ex. : appels-2025.pdf).",
        ),
    ],
    on: Annotated[
        str | None,
        typer.Option("--at", help="Date des lettres, AAAA-MM-JJ ou JJ/MM/AAAA (défaut : aujourd'hui)."),
    ] = None,
) -> None:
    """Imprimer les appels de cotisation ou les lettres de relance d'une année (PDF)."""
    if kind not in ("call", "reminder"):
        raise InputError(f"--kind {kind!r} inconnu ; valeurs possibles : call, reminder")
    if not out.is_dir() and (out.suffix.lower() != ".pdf" or not out.parent.is_dir()):
        raise InputError(f"--out {out} : fichier .pdf dans un dossier existant, ou dossier existant, attendu")
    day = option_date("--at", on) if on else None
    with unit(write=False) as (session, actor):
        cid = clusters.resolve_cluster(session, cluster)
        found = letters.letters_of_year(session, actor, cid, year, letters.LetterKind(kind), on=day)
    if out.is_dir():
        for letter in found:
            (out / letters.file_name(letter)).write_bytes(letters.render_pdf([letter]))
        console.print(f"{len(found)} lettre(s) écrite(s) dans {out}, un PDF par appel")
    else:
        out.write_bytes(letters.render_pdf(found))
        console.print(f"{len(found)} lettre(s) écrite(s) dans {out}")


@app.command("figures", epilog="Exemple : grappe registry figures MECA --year 2024 --format json")
def figures_command(
    cluster: ClusterArgument,
    output: Annotated[str, typer.Option("--format", help="Présentation : text ou json.")] = "text",
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=1,
            help="Année : chiffres au 31 décembre, ou à ce jour pour l'année en cours (ex. : 2024).",
        ),
    ] = None,
) -> None:
    """Chiffres clés d'une structure, pour l'année en cours ou une année passée."""
    if output not in ("text", "json"):
        raise InputError(f"--format {output!r} inconnu ; valeurs possibles : text, json")
    today = dt.date.today()
    if year is not None and year > today.year:
        raise InputError(f"--year {year} : année à venir ; attendu {today.year} au plus")
    on = None if year is None or year == today.year else dt.date(year, 12, 31)
    with unit(write=False) as (session, actor):
        key = figures.key_figures(session, actor, clusters.resolve_cluster(session, cluster), on=on)
    if output == "json":
        console.print_json(key.model_dump_json())
        return
    say = functools.partial(console.print, highlight=False)
    say(f"Adhérents au {present.date(key.on)} : {present.number(key.members)}")
    kinds = (f"{present.label('organisation_kind', k)} {present.number(v)}" for k, v in key.by_kind.items())
    say("Par nature : " + ", ".join(kinds))
    say("Par taille : " + ", ".join(f"{k} {present.number(v)}" for k, v in key.by_size.items()))
    say(f"Part TPE/PME : {present.percent(key.tpe_pme_share)}")
    say(
        f"Cotisations encaissées {key.on.year} : {present.money(key.fee_income_eur)} ; "
        f"impayés : {present.money(key.arrears_eur)}"
    )
    departements = (
        f"{present.coded(k, clusters.named_territory('departement', k).name)} : {present.number(v)}"
        for k, v in key.by_departement.items()
    )
    say(f"Communes : {present.number(key.communes)} ; départements : " + ", ".join(departements))
    table(
        "Entrées et sorties",
        ["année", "entrées", "sorties", "adhérents fin", "rétention"],
        [
            [
                f.year,
                present.number(f.entries),
                present.number(f.exits),
                present.number(f.members_at_end),
                present.percent(f.retention),
            ]
            for f in key.flows
        ],
    )
