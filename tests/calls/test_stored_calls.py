"""Stored calls for projects: the chain call → application → review → selection → decision, per role,
on SQLite and PostgreSQL, with the refusals users read in French."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from grappe.calls import service
from grappe.calls.schemas import (
    ApplicationIn,
    BudgetLineIn,
    CallIn,
    ConflictIn,
    CriterionIn,
    DecisionIn,
    MarkIn,
    ReviewerIn,
    ReviewIn,
    SelectionIn,
)
from grappe.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from grappe.kit.mail import send_all
from grappe.kit.present import Language
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import LanguageChange, UserCreate
from grappe.registry.models import Role

UTC = dt.UTC
OPEN = dt.datetime(2026, 6, 1, 12, tzinfo=UTC)
CLOSES = dt.datetime(2026, 9, 30, 17, tzinfo=UTC)
AFTER = dt.datetime(2026, 10, 15, 9, tzinfo=UTC)
PDF = b"%PDF-1.4\n% test\n"


def call_in(**changes: Any) -> CallIn:
    values: dict[str, Any] = {
        "title": "Grappes 2026",
        "budget_eur": Decimal("300000"),
        "max_request_eur": Decimal("200000"),
        "opens_on": dt.date(2026, 5, 1),
        "closes_at": CLOSES,
        "applicant_kind": "cluster",
        "rules": [{"rule": "min_members", "min": 1}, {"rule": "region", "code": "84"}],
        "criteria": [
            CriterionIn(name="Stratégie", weight=Decimal("0.6"), guidance="Plan d'action"),
            CriterionIn(name="Services", weight=Decimal("0.4")),
        ],
        "scale_max": 20,
        "reviewers_per_application": 1,
        "disagreement_threshold": Decimal(4),
        "required_documents": ["plan"],
        "published": True,
    }
    values.update(changes)
    return CallIn(**values)


def reviewer(db: Session, world: Any, email: str, organisation_id: int | None, **profile: Any) -> Any:
    user = accounts.create_user(
        db,
        world.actors["admin"],
        UserCreate(email=email, role=Role.REVIEWER, organisation_id=organisation_id),
    )
    service.save_reviewer(db, world.actors["admin"], ReviewerIn(user_id=user.id, **profile))
    return accounts.actor_for(db, email)


def draft(db: Session, world: Any, call_id: int, home: Path) -> int:
    manager = world.actors["manager"]
    application = service.create_application(
        db,
        manager,
        call_id,
        ApplicationIn(
            title="Mutualiser les achats",
            cluster_id=world.a,
            tags=["25.62A"],
            keywords=["décolletage"],
            budget=[BudgetLineIn(organisation_id=world.org_a, amount_eur=Decimal("120000"))],
        ),
        now=OPEN,
    )
    service.attach_document(
        db, manager, application.id, "plan", "../../etc/plan.pdf", PDF, home=home, now=OPEN
    )
    return application.id


def test_grid_weights_must_sum_to_one(db: Session, world: Any) -> None:
    bad = call_in(
        criteria=[CriterionIn(name="A", weight=Decimal("0.5")), CriterionIn(name="B", weight=Decimal("0.3"))]
    )
    with pytest.raises(InputError, match=r"les poids font 0\.8 au lieu de 1"):
        service.create_call(db, world.actors["funder"], bad)


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([{"rule": "taille"}], "règle 'taille' inconnue"),
        ([{"rule": "min_members", "min": 0}], "entier ≥ 1"),
        ([{"rule": "min_firms", "min": 2}], "ne s'applique pas aux candidatures de type cluster"),
        ([{"rule": "region", "code": "99"}], "règle 1 \\(region\\)"),
        ([{"rule": "min_sme_share", "min": 1.5}], "entre 0 et 1"),
    ],
)
def test_bad_rules_are_refused_with_their_position(
    db: Session, world: Any, rules: list[Any], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        service.create_call(db, world.actors["funder"], call_in(rules=rules))


def test_only_funders_create_calls_and_drafts_stay_theirs(db: Session, world: Any) -> None:
    for role in ("manager", "member", "public"):
        with pytest.raises(PermissionDeniedError):
            service.create_call(db, world.actors[role], call_in())
    hidden = service.create_call(db, world.actors["funder"], call_in(published=False))
    for role in ("manager", "member", "public", "funder_other"):
        with pytest.raises(NotFoundError):
            service.get_call(db, world.actors[role], hidden.id)
        assert hidden.id not in {c.id for c in service.list_calls(db, world.actors[role]).items}
    assert service.get_call(db, world.actors["funder"], hidden.id).funder == "DATAR"


def test_application_lifecycle_and_refusals(db: Session, world: Any, tmp_path: Path) -> None:
    call = service.create_call(db, world.actors["funder"], call_in())
    manager = world.actors["manager"]
    application = service.create_application(
        db, manager, call.id, ApplicationIn(title="Projet", cluster_id=world.a), now=OPEN
    )
    # other tenants and the funder do not see a draft
    for role in ("manager_other", "member_other", "funder", "funder_other", "public"):
        with pytest.raises(NotFoundError):
            service.get_application(db, world.actors[role], application.id)
    # another cluster's manager cannot apply for A (public: refused); another tenant's partner is
    # "introuvable"
    with pytest.raises(PermissionDeniedError):
        service.create_application(
            db, world.actors["manager_other"], call.id, ApplicationIn(title="X", cluster_id=world.a), now=OPEN
        )
    with pytest.raises(NotFoundError) as hidden:
        service.update_budget(
            db,
            manager,
            application.id,
            [
                BudgetLineIn(organisation_id=world.org_a, amount_eur=Decimal(1)),
                BudgetLineIn(organisation_id=world.org_b, amount_eur=Decimal(1)),
            ],
            now=OPEN,
        )
    assert hidden.value.line == 2  # the form shows the refusal on the line at fault
    with pytest.raises(InputError, match="a deux lignes") as twice:
        service.update_budget(
            db,
            manager,
            application.id,
            [BudgetLineIn(organisation_id=world.org_a, amount_eur=Decimal(n)) for n in (1, 2)],
            now=OPEN,
        )
    assert twice.value.line == 2
    with pytest.raises(InputError, match="document\\(s\\) manquant\\(s\\) : plan"):
        service.submit_application(db, manager, application.id, now=OPEN)
    with pytest.raises(InputError, match=r"le contenu n'est pas un fichier \.pdf"):
        service.attach_document(
            db, manager, application.id, "plan", "faux.pdf", b"MZ\x90", home=tmp_path, now=OPEN
        )
    with pytest.raises(InputError, match=r"type \.exe refusé"):
        service.attach_document(db, manager, application.id, "plan", "a.exe", PDF, home=tmp_path, now=OPEN)
    with pytest.raises(InputError, match="non demandé"):
        service.attach_document(db, manager, application.id, "cv", "cv.pdf", PDF, home=tmp_path, now=OPEN)
    service.attach_document(
        db, manager, application.id, "plan", "C:\\Users\\x\\plan.pdf", PDF, home=tmp_path, now=OPEN
    )
    service.update_budget(
        db,
        manager,
        application.id,
        [BudgetLineIn(organisation_id=world.org_a, amount_eur=Decimal("250000"))],
        now=OPEN,
    )
    with pytest.raises(InputError, match="au-delà du plafond"):
        service.submit_application(db, manager, application.id, now=OPEN)
    service.update_budget(
        db,
        manager,
        application.id,
        [BudgetLineIn(organisation_id=world.org_a, amount_eur=Decimal("150000"))],
        now=OPEN,
    )
    with pytest.raises(InputError, match="aucun dépôt après la date limite"):
        service.submit_application(db, manager, application.id, now=AFTER)
    done = service.submit_application(db, manager, application.id, now=OPEN)
    assert done.status == "submitted"
    assert done.requested_eur == Decimal("150000.00")
    assert done.eligible is True
    assert [v.rule for v in done.eligibility] == ["min_members", "region"]
    assert "1 adhérent(s)" in done.eligibility[0].reason
    document = done.documents[0]
    assert document.filename == "plan.pdf"
    stored = tmp_path / "calls" / "documents" / document.sha256[:2] / document.sha256
    assert stored.read_bytes() == PDF
    with pytest.raises(ConflictError, match="déjà déposée"):
        service.update_budget(db, manager, application.id, [], now=OPEN)
    # the funder reads it once submitted, the other funder still does not
    assert service.get_application(db, world.actors["funder"], application.id).status == "submitted"
    with pytest.raises(NotFoundError):
        service.get_application(db, world.actors["funder_other"], application.id)
    assert service.list_applications(db, world.actors["funder"], call.id).total == 1
    assert service.list_applications(db, world.actors["manager_other"], call.id).total == 0


def test_ineligible_cluster_gets_its_reasons(db: Session, world: Any) -> None:
    call = service.create_call(
        db,
        world.actors["funder"],
        call_in(rules=[{"rule": "min_members", "min": 5}, {"rule": "region", "code": "53"}]),
    )
    out = service.create_application(
        db, world.actors["manager"], call.id, ApplicationIn(title="P", cluster_id=world.a), now=OPEN
    )
    assert out.eligible is False
    assert out.eligibility[0].reason == "la structure compte 1 adhérent(s) ; minimum requis : 5"
    assert out.eligibility[1].reason == "région(s) des territoires de la structure : 84 ; requise : 53"


def test_consortium_rules(db: Session, world: Any) -> None:
    call = service.create_call(
        db,
        world.actors["funder"],
        call_in(
            applicant_kind="consortium",
            rules=[{"rule": "min_firms", "min": 2}, {"rule": "min_smes", "min": 1}],
        ),
    )
    member = world.actors["member"]
    out = service.create_application(
        db, member, call.id, ApplicationIn(title="Consortium", organisation_id=world.org_a), now=OPEN
    )
    assert out.eligible is False
    assert out.eligibility[0].reason == "le consortium compte 1 entreprise(s) ; minimum requis : 2"
    assert out.eligibility[1].ok  # 12 declared staff: a TPE
    with pytest.raises(NotFoundError):  # not a member of a cluster Dupont belongs to
        service.update_budget(
            db, member, out.id, [BudgetLineIn(organisation_id=world.org_b, amount_eur=Decimal(1))], now=OPEN
        )
    with pytest.raises(NotFoundError):
        service.create_application(
            db,
            world.actors["member_other"],
            call.id,
            ApplicationIn(title="X", organisation_id=world.org_a),
            now=OPEN,
        )


def test_review_selection_decision_and_notifications(
    db: Session, world: Any, tmp_path: Path, smtp_server: Any
) -> None:
    funder = world.actors["funder"]
    call = service.create_call(db, funder, call_in())
    application_id = draft(db, world, call.id, tmp_path)
    service.submit_application(db, world.actors["manager"], application_id, now=OPEN)
    # a reviewer of Dupont (member of the applicant cluster) is in conflict; another is free
    conflicted = reviewer(db, world, "r1@eval.fr", world.org_a, tags=["25"], keywords=["Décolletage"])
    free = reviewer(db, world, "r2@eval.fr", world.org_b, tags=["08"], keywords=[])
    with pytest.raises(PermissionDeniedError):
        service.assign_reviewers(db, world.actors["manager"], call.id)
    out = service.assign_reviewers(db, funder, call.id)
    assert out.conflicts == 1
    mine = service.my_reviews(db, free)
    assert mine.total == 1
    assert [(r.application_id, r.reviewer_id) for r in out.rows] == [
        (application_id, mine.items[0].reviewer_id)
    ]
    assert service.my_reviews(db, conflicted).total == 0
    # the conflicted reviewer never sees it; the assigned one does
    with pytest.raises(NotFoundError):
        service.get_application(db, conflicted, application_id)
    assert service.list_applications(db, conflicted, call.id).total == 0
    assert service.get_application(db, free, application_id).title == "Mutualiser les achats"
    criteria = [c.id for c in service.get_call(db, funder, call.id).criteria]
    with pytest.raises(InputError, match="hors de l'échelle 0 à 20"):
        service.submit_review(
            db,
            free,
            application_id,
            ReviewIn(
                marks=[
                    MarkIn(criterion_id=criteria[0], value=Decimal(21)),
                    MarkIn(criterion_id=criteria[1], value=Decimal(3)),
                ]
            ),
        )
    with pytest.raises(InputError, match="critère\\(s\\) non noté\\(s\\) : Services"):
        service.submit_review(
            db, free, application_id, ReviewIn(marks=[MarkIn(criterion_id=criteria[0], value=Decimal(15))])
        )
    given = service.submit_review(
        db,
        free,
        application_id,
        ReviewIn(
            marks=[
                MarkIn(criterion_id=criteria[0], value=Decimal(15), comment="Solide"),
                MarkIn(criterion_id=criteria[1], value=Decimal(10)),
            ]
        ),
    )
    assert given.total == pytest.approx(0.6 * 15 + 0.4 * 10)
    with pytest.raises(ConflictError, match="déjà saisies"):
        service.assign_reviewers(db, funder, call.id)
    with pytest.raises(NotFoundError):
        service.application_reviews(db, world.actors["funder_other"], application_id)
    with pytest.raises(PermissionDeniedError):
        service.scoreboard(db, world.actors["funder_other"], call.id)
    board = service.scoreboard(db, funder, call.id)
    assert board.items[0].score == pytest.approx(13.0)
    assert board.items[0].rank == 1
    proposal = service.propose_selection(db, funder, call.id, SelectionIn())
    assert proposal.optimal
    assert [r.application_id for r in proposal.items] == [application_id]
    with pytest.raises(InputError, match="pas encore clos"):
        service.decide(db, funder, call.id, DecisionIn(justification="Comité du 1er octobre"), now=OPEN)
    decision = service.decide(
        db, funder, call.id, DecisionIn(justification="Comité du 15 octobre"), now=AFTER
    )
    assert decision.funded == 1
    assert decision.spent_eur == Decimal("120000.00")
    assert decision.items[0].status == "funded"
    assert "note 13,00, rang 1" in (
        decision.items[0].decision_reason or ""
    )
    pdf = service.decision_letters(db, funder, call.id)
    assert pdf.startswith(b"%PDF")
    with pytest.raises(PermissionDeniedError):
        service.decision_letters(db, world.actors["funder_other"], call.id)
    mails = service.decision_mails(db, funder, call.id)
    assert send_all(mails) == 1
    (message,) = smtp_server.messages
    assert message["To"] == "m@meca.fr"
    assert "retenue" in message["Subject"]
    assert any(
        part.get_filename() == f"decision-{application_id:06d}.pdf" for part in message.iter_attachments()
    )
    # the applicant's user chose English: the same decision, told in English
    manager = world.actors["manager"]
    accounts.set_language(db, manager, manager.user_id, LanguageChange(language=Language.EN))
    assert send_all(service.decision_mails(db, funder, call.id)) == 1
    english = smtp_server.wait_for(2)[1]
    assert english["Subject"].endswith(": application selected")
    assert "is selected for €120,000.00." in english.get_body(("plain",)).get_content()
    attached = [part.get_filename() for part in english.iter_attachments()]
    assert attached == [f"decision-{application_id:06d}.pdf"]


def test_declared_conflict_removes_the_assignment(db: Session, world: Any, tmp_path: Path) -> None:
    funder = world.actors["funder"]
    call = service.create_call(db, funder, call_in())
    application_id = draft(db, world, call.id, tmp_path)
    service.submit_application(db, world.actors["manager"], application_id, now=OPEN)
    only = reviewer(db, world, "r3@eval.fr", None, tags=["25"])
    service.assign_reviewers(db, funder, call.id)
    service.declare_conflict(db, only, application_id, ConflictIn(reason="ancien salarié"))
    with pytest.raises(NotFoundError):
        service.get_application(db, only, application_id)
    with pytest.raises(InputError, match="moins de 1 évaluateurs sans conflit"):
        service.assign_reviewers(db, funder, call.id)


def test_a_load_cap_holds_across_the_open_calls(db: Session, world: Any, tmp_path: Path) -> None:
    funder = world.actors["funder"]
    first = service.create_call(db, funder, call_in())
    second = service.create_call(db, funder, call_in(title="Grappes 2026, second appel"))
    applications = []
    for call in (first, second):
        application_id = draft(db, world, call.id, tmp_path)
        service.submit_application(db, world.actors["manager"], application_id, now=OPEN)
        applications.append(application_id)
    only = reviewer(db, world, "r9@eval.fr", None, tags=["25"], load_cap=1)
    service.assign_reviewers(db, funder, first.id)
    # its one review of the first call, still to give, fills its cap: none left for the second
    with pytest.raises(InputError, match="moins de 1 évaluateurs sans conflit ni plafond nul"):
        service.assign_reviewers(db, funder, second.id)
    criteria = [c.id for c in service.get_call(db, funder, first.id).criteria]
    service.submit_review(
        db,
        only,
        applications[0],
        ReviewIn(marks=[MarkIn(criterion_id=c, value=Decimal(12)) for c in criteria]),
    )
    out = service.assign_reviewers(db, funder, second.id)  # given, it no longer counts
    assert [r.application_id for r in out.rows] == [applications[1]]


def test_over_budget_decision_is_refused(db: Session, world: Any, tmp_path: Path) -> None:
    funder = world.actors["funder"]
    call = service.create_call(db, funder, call_in(budget_eur=Decimal("200000")))
    application_id = draft(db, world, call.id, tmp_path)
    service.submit_application(db, world.actors["manager"], application_id, now=OPEN)
    with pytest.raises(InputError, match="hors de"):
        service.decide(
            db,
            funder,
            call.id,
            DecisionIn(
                justification="x", funded=[{"application_id": application_id, "amount_eur": "130000"}]
            ),
            now=AFTER,
        )
