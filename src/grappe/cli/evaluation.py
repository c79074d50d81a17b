"""`grappe evaluation` commands: indicators, declarations, contracts, scorecards, benchmarks, reports.

Every command runs as one transaction on the registry database, as the user given by
``grappe evaluation --as TOKEN_OR_EMAIL ...`` (default: the local administrator).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._console import console, err_console
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.evaluation import files, reports, service
    from grappe.evaluation import schemas as evaluation_schemas
    from grappe.kit import export
    from grappe.registry.clusters import service as cluster_service
else:
    service = operational.Lazy("grappe.evaluation.service")
    files = operational.Lazy("grappe.evaluation.files")
    reports = operational.Lazy("grappe.evaluation.reports")
    evaluation_schemas = operational.Lazy("grappe.evaluation.schemas")
    export = operational.Lazy("grappe.kit.export")
    cluster_service = operational.Lazy("grappe.registry.clusters.service")

#: The self-assessment areas (``grappe.evaluation.models.Area``), written here so `--help` loads no model.
AREAS = ("structure", "governance", "financing", "services", "interaction", "achievements")
#: What makes two clusters peers (``grappe.evaluation.service.PEER_CRITERIA``).
PEER_CRITERIA = ("label", "sector", "size")
COLOUR_NAMES = {"green": "vert", "amber": "orange", "red": "rouge", "none": "n/d"}

app = typer.Typer(
    help="Évaluation : indicateurs, contrats d'objectifs, tableaux de bord, comparaisons, rapports.",
    epilog="Exemple : grappe evaluation scorecard MECA --year 2025",
    no_args_is_help=True,
)
contract_app = typer.Typer(
    help="Contrats d'objectifs : cibles annuelles et financement au résultat.",
    epilog="Exemple : grappe evaluation contract list",
    no_args_is_help=True,
)
app.add_typer(contract_app, name="contract")

YearOption = Annotated[int, typer.Option("--year", help="Année évaluée (ex. : 2025).", min=1990, max=2100)]
PeersOption = Annotated[
    str | None,
    typer.Option(
        "--peers",
        help="Critères des pairs, séparés par des virgules parmi label, sector, size "
        "(défaut : les trois ; « none » : toutes les structures).",
    ),
]
EvidenceOption = Annotated[
    Path | None,
    typer.Option("--evidence", help="Pièce justificative (PDF, image, tableur, texte ; 10 Mo au plus)."),
]


@app.callback()
def _options(acting: operational.ActingOption = None) -> None:
    operational.act_as(acting)


def _criteria(text: str | None) -> list[str] | None:
    if text is None:
        return None
    if text.strip() == "none":
        return []
    chosen = [c.strip() for c in text.split(",") if c.strip()]
    for c in chosen:
        if c not in PEER_CRITERIA:
            raise InputError(
                f"--peers {c!r} : valeur inconnue ; attendu : {', '.join(PEER_CRITERIA)} ou none"
            )
    return chosen


def _evidence(path: Path | None) -> service.Evidence | None:
    if path is None:
        return None
    if not path.is_file():
        raise InputError(f"--evidence {path} : fichier introuvable")
    return service.Evidence(path.name, path.read_bytes())


def _shown(code: str, value: float | None) -> str:
    return reports.value_text(code, value)


# --- indicators ---------------------------------------------------------------------------------


@app.command(
    "indicators",
    epilog="Exemple : grappe evaluation indicators (le catalogue) ; "
    "grappe evaluation indicators --cluster MECA --year 2025 ; "
    "grappe evaluation indicators --all --year 2025 --out indicateurs.csv",
)
def indicators(
    cluster: Annotated[str | None, typer.Option("--cluster", help="Structure (n°, sigle ou nom).")] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Toutes les structures visibles, dans un fichier.")
    ] = False,
    year: Annotated[int | None, typer.Option("--year", help="Année évaluée.", min=1990, max=2100)] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Fichier écrit (.csv ou .xlsx).")] = None,
    fmt: operational.FileFormatOption = None,
) -> None:
    """Le catalogue des indicateurs, ou leurs valeurs pour une structure ou toutes."""
    if cluster is None and not every:
        operational.table(
            "Indicateurs d'évaluation",
            ["code", "nom", "définition", "source", "seuils vert / orange"],
            [
                [
                    d.code,
                    d.name,
                    d.definition,
                    d.source,
                    f"{d.green} / {d.amber}" + ("" if d.higher_is_better else " (moins est mieux)"),
                ]
                for d in service.catalogue()
            ],
        )
        return
    if year is None:
        raise InputError("--year : précisez l'année évaluée")
    if every:
        if out is None:
            raise InputError("--all : précisez le fichier écrit (--out)")
        with operational.unit(write=False) as (db, actor):
            columns, rows = service.indicator_table(db, actor, year)
        export.write(out, rows, format=fmt, columns=columns)
        err_console.print(f"{len(rows)} structure(s) écrite(s) dans {out}")
        return
    assert cluster is not None
    with operational.unit(write=False) as (db, actor):
        values = service.cluster_indicators(db, actor, cluster_service.resolve_cluster(db, cluster), year)
    if out is not None:
        export.write(
            out,
            [[i.indicator, i.value, i.declared] for i in values.items],
            format=fmt,
            columns=["indicator", "value", "declared"],
        )
        return
    operational.table(
        f"{values.cluster_name} — indicateurs {year}",
        ["indicateur", "valeur", "origine"],
        [
            [i.name, _shown(i.indicator, i.value), "déclaré" if i.declared else "calculé"]
            for i in values.items
        ],
    )


@app.command(
    "declare",
    epilog="Exemple : grappe evaluation declare MECA services_revenue 42000 --year 2025 --evidence bilan.pdf",
)
def declare(
    cluster: operational.ClusterArgument,
    indicator: Annotated[
        str, typer.Argument(metavar="INDICATEUR", help="Code de l'indicateur (voir indicators).")
    ],
    value: Annotated[str, typer.Argument(metavar="VALEUR", help="Valeur (ex. : 42000 ou 0,75).")],
    year: YearOption,
    evidence: EvidenceOption = None,
) -> None:
    """Déclarer la valeur d'un indicateur pour une année, avec sa pièce justificative."""
    from grappe.kit.tables import parse_decimal

    try:
        number = float(parse_decimal(value))
    except (InputError, ValueError):
        raise InputError(f"VALEUR {value!r} : nombre attendu (ex. : 42000 ou 0,75)") from None
    proof = _evidence(evidence)
    with operational.unit() as (db, actor):
        data = operational.build(evaluation_schemas.DeclareIn, indicator=indicator, year=year, value=number)
        out = service.declare_value(db, actor, cluster_service.resolve_cluster(db, cluster), data, proof)
    console.print(f"{out.name} {year} : {_shown(out.indicator, out.value)} déclaré")


@app.command(
    "self-assess",
    epilog="Exemple : grappe evaluation self-assess MECA governance 4 --year 2025 "
    '--comment "Bureau renouvelé"',
)
def self_assess(
    cluster: operational.ClusterArgument,
    area: Annotated[str, typer.Argument(metavar="DOMAINE", help=f"Domaine : {', '.join(AREAS)}.")],
    score: Annotated[int, typer.Argument(metavar="NOTE", help="Note de 1 à 5.")],
    year: YearOption,
    comment: Annotated[
        str | None, typer.Option("--comment", help="Commentaire (2000 caractères au plus).")
    ] = None,
    evidence: EvidenceOption = None,
) -> None:
    """Auto-évaluation de l'animation (domaines inspirés de l'ESCA), avec pièce justificative."""
    if area not in AREAS:
        raise InputError(f"DOMAINE {area!r} : valeur inconnue ; attendu : {', '.join(AREAS)}")
    proof = _evidence(evidence)
    with operational.unit() as (db, actor):
        data = operational.build(
            evaluation_schemas.SelfAssessmentIn, area=area, year=year, score=score, comment=comment
        )
        out = service.self_assess(db, actor, cluster_service.resolve_cluster(db, cluster), data, proof)
    console.print(f"{out.name} {year} : note {out.score} enregistrée")


# --- contracts ------------------------------------------------------------------------------------


@contract_app.command(
    "add",
    epilog='Exemple : grappe evaluation contract add MECA --title "Contrat 2025-2027" --from 2025 --to 2027 '
    "--amount 600000 --share 0,3 --targets cibles.csv (colonnes indicator, year, target, baseline, weight)",
)
def contract_add(
    cluster: operational.ClusterArgument,
    title: Annotated[str, typer.Option("--title", help="Intitulé du contrat.")],
    start: Annotated[int, typer.Option("--from", help="Première année du contrat.", min=1990, max=2100)],
    end: Annotated[int, typer.Option("--to", help="Dernière année du contrat.", min=1990, max=2100)],
    amount: Annotated[str, typer.Option("--amount", help="Financement total du contrat, en euros.")],
    targets: Annotated[
        Path,
        typer.Option(
            "--targets",
            help="Tableau des cibles (.csv ou .xlsx) : indicator, year, target, baseline, weight.",
        ),
    ],
    share: Annotated[
        str | None, typer.Option("--share", help="Part du financement au résultat, 0 à 1 (défaut : 0,2).")
    ] = None,
    funder: Annotated[
        str | None, typer.Option("--funder", help="N° du financeur (administrateur seulement).")
    ] = None,
    call: Annotated[
        int | None, typer.Option("--call", help="N° de l'appel à projets d'origine.", min=1)
    ] = None,
) -> None:
    """Établir un contrat d'objectifs (le financeur, ou l'administrateur)."""
    from grappe.kit.tables import parse_decimal

    rows = files.read_targets(targets)
    values: dict[str, object] = {
        "title": title,
        "start_year": start,
        "end_year": end,
        "amount_eur": _decimal("--amount", amount, parse_decimal),
        "indicators": rows,
        "call_id": call,
    }
    if share is not None:
        values["share_at_stake"] = _decimal("--share", share, parse_decimal)
    if funder is not None:
        if not funder.isdigit():
            raise InputError(f"--funder {funder!r} : numéro de financeur attendu")
        values["funder_id"] = int(funder)
    with operational.unit() as (db, actor):
        values["cluster_id"] = cluster_service.resolve_cluster(db, cluster)
        out = service.create_contract(db, actor, operational.build(evaluation_schemas.ContractIn, **values))
    console.print(f"contrat {out.id} établi : {out.title} ({out.cluster_name}, {out.funder_name})")


def _decimal(option: str, text: str, parse: object) -> object:
    try:
        return parse(text)  # type: ignore[operator]
    except (InputError, ValueError):
        raise InputError(f"{option} {text!r} : nombre attendu (ex. : 600000 ou 0,3)") from None


@contract_app.command("list", epilog="Exemple : grappe evaluation contract list --cluster MECA")
def contract_list(
    cluster: Annotated[str | None, typer.Option("--cluster", help="Structure (n°, sigle ou nom).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="Nombre de lignes au plus (1 à 500).")] = 100,
) -> None:
    """Les contrats d'objectifs visibles."""
    with operational.unit(write=False) as (db, actor):
        cid = None if cluster is None else cluster_service.resolve_cluster(db, cluster)
        page = service.list_contracts(db, actor, cluster_id=cid, limit=limit)
    operational.table(
        f"Contrats d'objectifs ({page.total})",
        ["n°", "structure", "financeur", "intitulé", "période", "montant", "part au résultat"],
        [
            [
                c.id,
                c.cluster_name,
                c.funder_name,
                c.title,
                f"{c.start_year}–{c.end_year}",
                reports.present.money(c.amount_eur),
                reports.present.percent(c.share_at_stake),
            ]
            for c in page.items
        ],
    )


@contract_app.command("show", epilog="Exemple : grappe evaluation contract show 3 --year 2025")
def contract_show(
    contract_id: Annotated[int, typer.Argument(metavar="CONTRAT", help="N° du contrat.", min=1)],
    year: YearOption,
) -> None:
    """Les résultats d'une année du contrat et son financement au résultat."""
    with operational.unit(write=False) as (db, actor):
        out = service.contract_year(db, actor, contract_id, year)
    operational.table(
        f"Contrat {contract_id} — {year}",
        ["indicateur", "référence", "cible", "réalisé", "atteinte", "poids"],
        [
            [
                r.name,
                _shown(r.indicator, r.baseline),
                _shown(r.indicator, r.target),
                _shown(r.indicator, r.actual) + (" (déclaré)" if r.declared else ""),
                reports.present.percent(r.achievement),
                r.weight,
            ]
            for r in out.indicators
        ],
    )
    money = reports.present.money
    console.print(
        f"atteinte pondérée {reports.present.percent(out.achievement)} : versement {money(out.paid_eur)} "
        f"sur {money(out.yearly_amount_eur)} (dont {money(out.at_stake_eur)} au résultat)"
    )


@contract_app.command("delete", epilog="Exemple : grappe evaluation contract delete 3")
def contract_delete(
    contract_id: Annotated[int, typer.Argument(metavar="CONTRAT", help="N° du contrat.", min=1)],
) -> None:
    """Retirer un contrat d'objectifs (le financeur signataire, ou l'administrateur)."""
    with operational.unit() as (db, actor):
        service.delete_contract(db, actor, contract_id)
    console.print(f"contrat {contract_id} retiré")


# --- scorecards, benchmarks, reports -------------------------------------------------------------


@app.command(
    "scorecard", epilog="Exemple : grappe evaluation scorecard MECA --year 2025 --thresholds seuils.csv"
)
def scorecard(
    cluster: operational.ClusterArgument,
    year: YearOption,
    thresholds: Annotated[
        Path | None,
        typer.Option(
            "--thresholds", help="Seuils remplaçant les défauts (.csv ou .xlsx) : indicator, green, amber."
        ),
    ] = None,
    peers: PeersOption = None,
) -> None:
    """Le tableau de bord : marques (fiches 000 et 001) en vert / orange / rouge, rang parmi les pairs."""
    overrides = None if thresholds is None else files.read_thresholds(thresholds)
    with operational.unit(write=False) as (db, actor):
        card = service.scorecard(
            db,
            actor,
            cluster_service.resolve_cluster(db, cluster),
            year,
            overrides=overrides,
            criteria=_criteria(peers),
        )
    rows: list[list[object]] = []
    for mark in card.marks:
        for index, r in enumerate(mark.items):
            rows.append(
                [
                    f"{mark.name} ({COLOUR_NAMES[mark.colour]})" if index == 0 else "",
                    r.name,
                    _shown(r.indicator, r.value),
                    COLOUR_NAMES[r.colour],
                    "" if r.percentile is None else reports.present.decimal(r.percentile, 0),
                ]
            )
    operational.table(
        f"{card.cluster_name} — tableau de bord {year} ({card.peers.count} pair(s))",
        ["marque", "indicateur", "valeur", "lecture", "centile"],
        rows,
    )
    operational.table(
        "Auto-évaluation de l'animation (domaines inspirés de l'ESCA)",
        ["domaine", "note", "indicateurs dérivés"],
        [
            [
                a.name,
                "n/d" if a.score is None else a.score,
                " ; ".join(f"{r.name} {_shown(r.indicator, r.value)}" for r in a.items),
            ]
            for a in card.areas
        ],
    )


@app.command(
    "benchmark", epilog="Exemple : grappe evaluation benchmark MECA members --year 2025 --peers label,size"
)
def benchmark(
    cluster: operational.ClusterArgument,
    indicator: Annotated[
        str, typer.Argument(metavar="INDICATEUR", help="Code de l'indicateur (voir indicators).")
    ],
    year: YearOption,
    peers: PeersOption = None,
) -> None:
    """Un indicateur comparé aux pairs : rang centile et distribution (pairs anonymes sauf droits)."""
    with operational.unit(write=False) as (db, actor):
        out = service.benchmark(
            db,
            actor,
            cluster_service.resolve_cluster(db, cluster),
            indicator,
            year,
            criteria=_criteria(peers),
        )
    operational.table(
        f"{out.name} {year} — {out.cluster_name} parmi {out.peers.count} structure(s)",
        ["structure", "valeur", "centile"],
        [
            [
                ("▶ " if p.is_self else "") + p.name,
                _shown(indicator, p.value),
                "" if p.percentile is None else reports.present.decimal(p.percentile, 0),
            ]
            for p in out.items
        ],
    )
    d = out.distribution
    console.print(
        f"médiane {_shown(indicator, d.median)}, quartiles {_shown(indicator, d.q1)} – "
        f"{_shown(indicator, d.q3)}, {d.count} valeur(s)"
    )


@app.command(
    "report",
    epilog="Exemple : grappe evaluation report MECA --year 2025 --out rapport.pdf ; "
    "grappe evaluation report --funder 2 --year 2025 --out portefeuille.html",
)
def report(
    year: YearOption,
    out: Annotated[Path, typer.Option("--out", help="Fichier écrit : .html ou .pdf.")],
    cluster: Annotated[
        str | None, typer.Argument(metavar="STRUCTURE", help="Structure (rapport d'activité).")
    ] = None,
    funder: Annotated[
        str | None,
        typer.Option("--funder", help="N° du financeur (évaluation de portefeuille ; défaut : le vôtre)."),
    ] = None,
) -> None:
    """Le rapport d'activité annuel d'une structure, ou l'évaluation du portefeuille d'un financeur."""
    suffix = out.suffix.lower()
    if suffix not in {".html", ".pdf"}:
        raise InputError(f"--out {out} : extension .html ou .pdf attendue")
    if funder is not None and not funder.isdigit():
        raise InputError(f"--funder {funder!r} : numéro de financeur attendu")
    with operational.unit(write=False) as (db, actor):
        if cluster is not None:
            document = reports.activity_html(
                service.activity_report(db, actor, cluster_service.resolve_cluster(db, cluster), year)
            )
        else:
            document = reports.portfolio_html(
                service.portfolio(db, actor, year, None if funder is None else int(funder))
            )
    if suffix == ".pdf":
        out.write_bytes(reports.pdf(document))
    else:
        out.write_text(document.html, encoding="utf-8")
    err_console.print(f"rapport écrit dans {out}")
