"""`grappe calls call|application|reviewer|review|selection`: the stored calls for projects.

Each command runs as one transaction on the registry database, as the user given by
``--as`` (default: the local administrator), like ``grappe registry`` and ``grappe cooperation``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from grappe.cli import _operational as operational
from grappe.cli._console import console, handle_errors
from grappe.cli._operational import ActingOption, Lazy, build, table, unit
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.calls import schemas, service
    from grappe.kit import mail
else:
    service, schemas = Lazy("grappe.calls.service"), Lazy("grappe.calls.schemas")
    mail = Lazy("grappe.kit.mail")

CallOption = Annotated[int, typer.Option("--call", min=1, help="N° de l'appel à projets (ex. : 3).")]
SpecOption = Annotated[
    Path,
    typer.Option(
        "--spec", exists=True, dir_okay=False, help="Fichier JSON décrivant l'objet (voir la documentation)."
    ),
]


def _acting(acting: ActingOption = None) -> None:
    operational.act_as(acting)


def _group(help_text: str, example: str) -> typer.Typer:
    group = typer.Typer(help=help_text, epilog=f"Exemple : {example}", no_args_is_help=True)
    group.callback()(_acting)
    return group


calls_app = _group("Appels à projets enregistrés : créer, publier, consulter.", "grappe calls call list")
applications_app = _group(
    "Candidatures : brouillon, budget par partenaire, pièces jointes, dépôt.",
    "grappe calls application submit 12 --as chargee@meca.fr",
)
reviewers_app = _group("Vivier d'évaluateurs : expertise et plafond.", "grappe calls reviewer list")
reviews_app = _group(
    "Évaluation : affectation optimale, notes par critère, conflits d'intérêts.",
    "grappe calls review assign --call 3",
)
selection_app = _group(
    "Sélection : classement, sélection exacte dans le budget, décision du comité, lettres.",
    "grappe calls selection propose --call 3",
)


def _spec(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path.name} : JSON illisible ({exc})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path.name} : un objet JSON est attendu")
    return data


def _show(model: Any) -> None:
    console.print_json(model.model_dump_json())


@calls_app.command(
    "create", epilog="Exemple : grappe calls call create --spec appel.json --as f@datar.gouv.fr"
)
def call_create(spec: SpecOption) -> None:
    """Créer un appel : budget, dates, règles d'éligibilité, grille de notation (poids de somme 1)."""
    with handle_errors(), unit() as (db, actor):
        out = service.create_call(db, actor, build(schemas.CallIn, **_spec(spec)))
    console.print(f"Appel à projets n° {out.id} créé : {out.title}")


@calls_app.command("publish", epilog="Exemple : grappe calls call publish 3")
def call_publish(call_id: Annotated[int, typer.Argument(min=1, help="N° de l'appel.")]) -> None:
    """Publier un appel : les candidats peuvent le trouver et candidater."""
    with handle_errors(), unit() as (db, actor):
        out = service.publish_call(db, actor, call_id)
    console.print(f"Appel à projets n° {out.id} publié")


@calls_app.command("list", epilog="Exemple : grappe calls call list")
def call_list() -> None:
    """Lister les appels publiés (et les brouillons de son financeur)."""
    with handle_errors(), unit(write=False) as (db, actor):
        page = service.list_calls(db, actor, limit=500)
    table(
        "Appels à projets",
        ["N°", "Titre", "Financeur", "Budget (€)", "Clôture", "Publié"],
        [
            [c.id, c.title, c.funder, c.budget_eur, c.closes_at.isoformat(), "oui" if c.published else "non"]
            for c in page.items
        ],
    )


@calls_app.command("show", epilog="Exemple : grappe calls call show 3")
def call_show(call_id: Annotated[int, typer.Argument(min=1, help="N° de l'appel.")]) -> None:
    """Afficher un appel (JSON)."""
    with handle_errors(), unit(write=False) as (db, actor):
        _show(service.get_call(db, actor, call_id))


@applications_app.command(
    "create",
    epilog="Exemple : grappe calls application create --call 3 --spec candidature.json --as m@meca.fr",
)
def application_create(call: CallOption, spec: SpecOption) -> None:
    """Créer un brouillon de candidature (structure : cluster_id ; consortium : organisation_id)."""
    with handle_errors(), unit() as (db, actor):
        out = service.create_application(db, actor, call, build(schemas.ApplicationIn, **_spec(spec)))
    verdict = "éligible" if out.eligible else "non éligible"
    console.print(f"Candidature n° {out.id} créée (brouillon, {verdict})")
    for v in out.eligibility:
        console.print(f"  {'✓' if v.ok else '✗'} {v.reason}")


@applications_app.command(
    "attach", epilog="Exemple : grappe calls application attach 12 --kind plan --file plan.pdf"
)
def application_attach(
    application_id: Annotated[int, typer.Argument(min=1, help="N° de la candidature.")],
    kind: Annotated[str, typer.Option("--kind", help="Type de document demandé par l'appel (ex. : plan).")],
    file: Annotated[
        Path, typer.Option("--file", exists=True, dir_okay=False, help="Fichier à joindre (PDF, ODT…).")
    ],
) -> None:
    """Joindre un document (type et taille vérifiés, rangé par empreinte SHA-256)."""
    with handle_errors(), unit() as (db, actor):
        out = service.attach_document(db, actor, application_id, kind, file.name, file.read_bytes())
    console.print(f"Document « {kind} » joint à la candidature n° {out.id}")


@applications_app.command("submit", epilog="Exemple : grappe calls application submit 12")
def application_submit(
    application_id: Annotated[int, typer.Argument(min=1, help="N° de la candidature.")],
) -> None:
    """Déposer une candidature avant la date limite (pièces et plafond vérifiés)."""
    with handle_errors(), unit() as (db, actor):
        out = service.submit_application(db, actor, application_id)
    console.print(f"Candidature n° {out.id} déposée ; {'éligible' if out.eligible else 'non éligible'}")
    for v in out.eligibility:
        console.print(f"  {'✓' if v.ok else '✗'} {v.reason}")


@applications_app.command("show", epilog="Exemple : grappe calls application show 12")
def application_show(
    application_id: Annotated[int, typer.Argument(min=1, help="N° de la candidature.")],
) -> None:
    """Afficher une candidature (JSON)."""
    with handle_errors(), unit(write=False) as (db, actor):
        _show(service.get_application(db, actor, application_id))


@applications_app.command("list", epilog="Exemple : grappe calls application list --call 3")
def application_list(call: CallOption) -> None:
    """Lister les candidatures lisibles d'un appel."""
    with handle_errors(), unit(write=False) as (db, actor):
        page = service.list_applications(db, actor, call, limit=500)
    table(
        "Candidatures",
        ["N°", "Titre", "Candidat", "Statut", "Demandé (€)", "Éligible"],
        [
            [a.id, a.title, a.applicant, a.status.value, a.requested_eur, "oui" if a.eligible else "non"]
            for a in page.items
        ],
    )


@reviewers_app.command(
    "add", epilog="Exemple : grappe calls reviewer add --user 9 --load-cap 12 --tags 25,28 --keywords usinage"
)
def reviewer_add(
    user: Annotated[int, typer.Option("--user", min=1, help="N° de l'utilisateur (rôle reviewer).")],
    load_cap: Annotated[int, typer.Option("--load-cap", min=0, help="Candidatures au plus par appel.")] = 12,
    tags: Annotated[
        str, typer.Option("--tags", help="Secteurs d'expertise (codes NAF), séparés par des virgules.")
    ] = "",
    keywords: Annotated[
        str, typer.Option("--keywords", help="Mots-clés d'expertise, séparés par des virgules.")
    ] = "",
) -> None:
    """Ajouter un évaluateur au vivier (ou mettre à jour son expertise)."""
    split = lambda text: [t.strip() for t in text.split(",") if t.strip()]  # noqa: E731
    with handle_errors(), unit() as (db, actor):
        out = service.save_reviewer(
            db,
            actor,
            build(
                schemas.ReviewerIn,
                user_id=user,
                load_cap=load_cap,
                tags=split(tags),
                keywords=split(keywords),
            ),
        )
    console.print(f"Évaluateur n° {out.id} ({out.email}) enregistré")


@reviewers_app.command("list", epilog="Exemple : grappe calls reviewer list")
def reviewer_list() -> None:
    """Lister le vivier d'évaluateurs."""
    with handle_errors(), unit(write=False) as (db, actor):
        page = service.list_reviewers(db, actor)
    table(
        "Évaluateurs",
        ["N°", "E-mail", "Organisation", "Plafond", "Secteurs", "Mots-clés"],
        [
            [r.id, r.email, r.organisation_id, r.load_cap, ", ".join(r.tags), ", ".join(r.keywords)]
            for r in page.items
        ],
    )


@reviews_app.command("assign", epilog="Exemple : grappe calls review assign --call 3")
def review_assign(call: CallOption) -> None:
    """Affecter les évaluateurs : affinité maximale exacte, sans conflit ni plafond dépassé."""
    with handle_errors(), unit() as (db, actor):
        out = service.assign_reviewers(db, actor, call)
    console.print(
        f"{len(out.rows)} affectations ; affinité totale {out.total_affinity:.3f} (glouton : "
        f"{out.greedy_affinity:.3f}, {out.greedy_missing} manquante(s)) ; "
        f"{out.conflicts} conflit(s) écarté(s)"
    )


@reviews_app.command(
    "score", epilog='Exemple : grappe calls review score 12 --mark 1=15 --mark 2=12 --comment "Solide"'
)
def review_score(
    application_id: Annotated[int, typer.Argument(min=1, help="N° de la candidature.")],
    mark: Annotated[
        list[str], typer.Option("--mark", help="CRITÈRE=NOTE, une fois par critère (ex. : 1=15).")
    ],
    comment: Annotated[
        str | None, typer.Option("--comment", help="Commentaire, joint à chaque critère.")
    ] = None,
) -> None:
    """Noter une candidature affectée, sur chaque critère de la grille."""
    marks = []
    for given in mark:
        criterion, _, value = given.partition("=")
        marks.append(
            {"criterion_id": criterion.strip(), "value": value.strip().replace(",", "."), "comment": comment}
        )
    with handle_errors(), unit() as (db, actor):
        out = service.submit_review(db, actor, application_id, build(schemas.ReviewIn, marks=marks))
    console.print(f"Évaluation enregistrée : total pondéré {out.total}")


@reviews_app.command("conflict", epilog='Exemple : grappe calls review conflict 12 --reason "ancien salarié"')
def review_conflict(
    application_id: Annotated[int, typer.Argument(min=1, help="N° de la candidature.")],
    reason: Annotated[str, typer.Option("--reason", help="Motif du conflit d'intérêts.")],
    user: Annotated[int | None, typer.Option("--user", min=1, help="Le financeur : n° d'évaluateur.")] = None,
) -> None:
    """Déclarer un conflit d'intérêts : l'affectation est retirée."""
    with handle_errors(), unit() as (db, actor):
        service.declare_conflict(
            db, actor, application_id, build(schemas.ConflictIn, reason=reason, reviewer_id=user)
        )
    console.print(f"Conflit déclaré sur la candidature n° {application_id}")


NormalisedOption = Annotated[
    bool,
    typer.Option("--normalised", help="Notes normalisées par évaluateur (z-score, voir la documentation)."),
]


@selection_app.command("board", epilog="Exemple : grappe calls selection board --call 3 --normalised")
def selection_board(call: CallOption, normalised: NormalisedOption = False) -> None:
    """Classement : note moyenne, écart entre évaluateurs, candidatures à modérer."""
    with handle_errors(), unit(write=False) as (db, actor):
        board = service.scoreboard(db, actor, call, normalised=normalised)
    table(
        "Classement",
        ["Rang", "N°", "Titre", "Évaluations", "Note", "Note normalisée", "Écart", "À modérer"],
        [
            [
                r.rank,
                r.application_id,
                r.title,
                f"{r.reviews}/{r.expected}",
                r.score,
                r.normalised_score,
                r.spread,
                "oui" if r.flagged else "non",
            ]
            for r in board.items
        ],
    )


@selection_app.command("propose", epilog="Exemple : grappe calls selection propose --call 3 --min-score 12")
def selection_propose(
    call: CallOption,
    min_score: Annotated[float | None, typer.Option("--min-score", help="Note minimale (ex. : 12).")] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="Financement partiel du dernier projet.")
    ] = False,
    max_share: Annotated[
        float | None, typer.Option("--max-share", help="Quota par territoire et thème.")
    ] = None,
    normalised: NormalisedOption = False,
) -> None:
    """Sélection exacte dans le budget, comparée à l'ordre glouton."""
    with handle_errors(), unit(write=False) as (db, actor):
        out = service.propose_selection(
            db,
            actor,
            call,
            build(
                schemas.SelectionIn,
                min_score=min_score,
                partial=partial,
                max_share=max_share,
                normalised=normalised,
            ),
        )
    table(
        "Sélection proposée",
        ["N°", "Titre", "Note", "Demandé (€)", "Accordé (€)"],
        [[r.application_id, r.title, r.score, r.requested_eur, r.funded_eur] for r in out.items],
    )
    console.print(
        f"Note totale {out.total_score:.2f} ({'optimum prouvé' if out.optimal else 'non prouvé'}) ; "
        f"glouton : {out.greedy_score:.2f} ; dépensé {out.spent_eur} € sur {out.budget_eur} €"
    )


@selection_app.command(
    "decide",
    epilog='Exemple : grappe calls selection decide --call 3 --justification "Comité du 15/10" --notify',
)
def selection_decide(
    call: CallOption,
    justification: Annotated[str, typer.Option("--justification", help="Motivation du comité.")],
    min_score: Annotated[float | None, typer.Option("--min-score", help="Note minimale (ex. : 12).")] = None,
    partial: Annotated[
        bool, typer.Option("--partial", help="Financement partiel du dernier projet.")
    ] = False,
    notify: Annotated[
        bool, typer.Option("--notify", help="Envoyer les lettres de décision par courriel.")
    ] = False,
) -> None:
    """Enregistrer la décision du comité (la sélection exacte) et, au besoin, notifier les candidats."""
    data = build(
        schemas.DecisionIn,
        justification=justification,
        selection={"min_score": min_score, "partial": partial},
    )
    with handle_errors():
        with unit() as (db, actor):
            out = service.decide(db, actor, call, data)
        console.print(
            f"Décision enregistrée : {out.funded} financée(s), {out.rejected} non retenue(s), "
            f"{out.spent_eur} €"
        )
        if notify:
            with unit(write=False) as (db, actor):
                mails = service.decision_mails(db, actor, call)
            console.print(f"{mail.send_all(mails)} courriel(s) envoyé(s)")


@selection_app.command(
    "letters", epilog="Exemple : grappe calls selection letters --call 3 --out decisions.pdf"
)
def selection_letters(
    call: CallOption,
    out: Annotated[Path, typer.Option("--out", dir_okay=False, help="Fichier PDF à écrire.")],
) -> None:
    """Écrire les lettres de décision d'un appel décidé (PDF)."""
    with handle_errors():
        with unit(write=False) as (db, actor):
            pdf = service.decision_letters(db, actor, call)
        out.write_bytes(pdf)
    console.print(f"Lettres écrites : {out}")
