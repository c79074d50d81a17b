"""What users do with calls for projects: calls, applications, review, selection and decisions.

Every operation checks the actor's right on the object through :mod:`grappe.calls.policy`; the
SQL lives in :mod:`grappe.calls.repository`; the solvers are :mod:`grappe.calls.assignment` and
:mod:`grappe.calls.selection`; the caller's unit of work commits. Mail is built here and sent
by the interface once its unit has committed (:func:`decision_mails`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session

from grappe.calls import documents, eligibility, policy, repository, review
from grappe.calls.eligibility import ApplicantFacts, PartnerFacts
from grappe.calls.letters import DecisionLetter
from grappe.calls.models import (
    ApplicantKind,
    Application,
    ApplicationDocument,
    ApplicationStatus,
    BudgetLine,
    Call,
    CallCriterion,
    DeclaredConflict,
    ReviewAssignment,
    ReviewerProfile,
    ReviewScore,
)
from grappe.calls.repository import (
    ApplicationRepository,
    AssignmentRepository,
    CallRepository,
    ReviewerRepository,
)
from grappe.calls.schemas import (
    ApplicationIn,
    ApplicationOut,
    ApplicationPage,
    AssignmentOut,
    AssignmentRow,
    BudgetLineIn,
    BudgetLineOut,
    CallIn,
    CallOut,
    CallPage,
    ConflictIn,
    CriterionOut,
    DecisionIn,
    DecisionOut,
    DocumentOut,
    MarkOut,
    ReviewerIn,
    ReviewerOut,
    ReviewerPage,
    ReviewIn,
    ReviewOut,
    ReviewPage,
    ScoreBoard,
    ScoreRow,
    SelectedRow,
    SelectionIn,
    SelectionOut,
    Verdict,
)
from grappe.config import get_settings
from grappe.errors import ConflictError, GrappeError, InputError
from grappe.kit import present
from grappe.kit.mail import Attachment, Mail, Wording, by_language
from grappe.kit.present import Formatter
from grappe.kit.repository import check_page, not_found
from grappe.refdata.sizes import category_of_band, firm_category
from grappe.registry.clusters import service as clusters
from grappe.registry.models import OrganisationKind, Role, utcnow
from grappe.registry.policy import Access, Actor, deny, require_cluster, require_organisation
from grappe.registry.refs import normalize_territory

CENT = Decimal("0.01")
WEIGHT_TOLERANCE = Decimal("0.0001")
"""How far from 1 a grid's weights may sum (four decimals are stored)."""


# --- calls ------------------------------------------------------------------------------------


def _call_out(session: Session, call: Call) -> CallOut:
    return CallOut(
        id=call.id,
        funder_id=call.funder_id,
        funder=CallRepository(session).funder_name(call.funder_id),
        title=call.title,
        description=call.description,
        budget_eur=call.budget_eur,
        max_request_eur=call.max_request_eur,
        opens_on=call.opens_on,
        closes_at=call.closes_at,
        applicant_kind=ApplicantKind(call.applicant_kind),
        rules=call.rules,
        criteria=[CriterionOut.model_validate(c) for c in call.criteria],
        scale_max=call.scale_max,
        reviewers_per_application=call.reviewers_per_application,
        disagreement_threshold=call.disagreement_threshold,
        required_documents=call.required_documents,
        published=call.published,
        decided_at=call.decided_at,
        decision_note=call.decision_note,
    )


def check_grid(data: CallIn) -> None:
    """Refuse a scoring grid whose weights do not sum to 1, or with a criterion twice."""
    total = sum((c.weight for c in data.criteria), Decimal(0))
    if abs(total - 1) > WEIGHT_TOLERANCE:
        shown = ", ".join(f"{c.name} {c.weight}" for c in data.criteria)
        raise InputError(f"grille de notation : les poids font {total} au lieu de 1 ({shown})")
    names = [c.name.strip().casefold() for c in data.criteria]
    if len(set(names)) != len(names):
        raise InputError("grille de notation : deux critères portent le même nom")


def create_call(session: Session, actor: Actor, data: CallIn) -> CallOut:
    """Create a call for projects (a funder for itself; the administrator names the funder)."""
    policy.require_funder(actor, "créer un appel à projets")
    check_grid(data)
    if data.closes_at.tzinfo is None:
        raise InputError(
            "closes_at : précisez le fuseau horaire de la clôture (ex. : 2027-03-31T17:00+02:00)"
        )
    if data.closes_at.date() < data.opens_on:
        raise InputError(f"l'appel clôt ({data.closes_at.date()}) avant d'ouvrir ({data.opens_on})")
    if data.max_request_eur is not None and data.max_request_eur > data.budget_eur:
        raise InputError("max_request_eur : le plafond par candidature dépasse le budget de l'appel")
    rules = eligibility.parse_rules([r.as_rule() for r in data.rules], data.applicant_kind.value)
    doc_types = [d.strip() for d in data.required_documents]
    if len(set(doc_types)) != len(doc_types):
        raise InputError("required_documents : un type de document apparaît deux fois")
    if actor.role is Role.FUNDER:
        funder_id = actor.funder_id
    else:
        funder = clusters.funder_named(session, data.funder)
        if funder is None:
            raise InputError("funder : l'administrateur indique le financeur de l'appel")
        session.flush()
        funder_id = funder.id
    assert funder_id is not None  # a funder user always has its funder (database CHECK)
    calls = CallRepository(session)
    call = calls.add(
        Call(
            funder_id=funder_id,
            title=data.title.strip(),
            description=data.description,
            budget_eur=data.budget_eur,
            max_request_eur=data.max_request_eur,
            opens_on=data.opens_on,
            closes_at=data.closes_at,
            applicant_kind=data.applicant_kind.value,
            rules=rules,
            required_documents=doc_types,
            reviewers_per_application=data.reviewers_per_application,
            scale_max=data.scale_max,
            disagreement_threshold=data.disagreement_threshold,
            published=data.published,
            criteria=[
                CallCriterion(position=i, name=c.name.strip(), weight=c.weight, guidance=c.guidance)
                for i, c in enumerate(data.criteria, start=1)
            ],
        )
    )
    calls.flush()
    return _call_out(session, call)


def _call(session: Session, actor: Actor, call_id: int, need: Access, action: str) -> Call:
    call = CallRepository(session).get(call_id)
    policy.require_call(actor, call, need, action)
    return call


def get_call(session: Session, actor: Actor, call_id: int) -> CallOut:
    """A call (published ones for everybody, drafts for their funder)."""
    return _call_out(session, _call(session, actor, call_id, Access.READ, "consulter l'appel"))


def publish_call(session: Session, actor: Actor, call_id: int) -> CallOut:
    """Publish a call: applicants may then find it and apply."""
    call = _call(session, actor, call_id, Access.MANAGE, "publier l'appel")
    call.published = True
    CallRepository(session).flush()
    return _call_out(session, call)


def list_calls(session: Session, actor: Actor, *, limit: int = 100, offset: int = 0) -> CallPage:
    """Published calls, and the actor's funder's drafts (the administrator: every call)."""
    if actor.role is Role.ADMIN:
        total, rows = CallRepository(session).listing(None, False, limit, offset)
    else:
        funder = actor.funder_id if actor.role is Role.FUNDER else None
        total, rows = CallRepository(session).listing(funder, True, limit, offset)
    return CallPage(total=total, items=[_call_out(session, c) for c in rows])


# --- applications -----------------------------------------------------------------------------


def _requested(application: Application) -> Decimal:
    return sum((line.amount_eur for line in application.budget), Decimal(0))


def _applicant_name(session: Session, application: Application) -> str:
    if application.cluster_id is not None:
        return (
            repository.cluster_name(session, application.cluster_id) or f"structure {application.cluster_id}"
        )
    assert application.organisation_id is not None
    row = repository.organisations(session, [application.organisation_id]).get(application.organisation_id)
    return row.name if row else f"organisation {application.organisation_id}"


def _application_out(session: Session, application: Application) -> ApplicationOut:
    names = repository.organisations(session, [line.organisation_id for line in application.budget])
    return ApplicationOut(
        id=application.id,
        call_id=application.call_id,
        title=application.title,
        summary=application.summary,
        cluster_id=application.cluster_id,
        organisation_id=application.organisation_id,
        applicant=_applicant_name(session, application),
        territory=application.territory,
        theme=application.theme,
        tags=application.tags,
        keywords=application.keywords,
        status=ApplicationStatus(application.status),
        requested_eur=_requested(application),
        budget=[
            BudgetLineOut(
                organisation_id=line.organisation_id,
                organisation=names[line.organisation_id].name if line.organisation_id in names else "",
                amount_eur=line.amount_eur,
                purpose=line.purpose,
            )
            for line in application.budget
        ],
        documents=[DocumentOut.model_validate(d) for d in application.documents],
        eligible=application.eligible,
        eligibility=[Verdict.model_validate(v) for v in application.eligibility],
        submitted_at=application.submitted_at,
        funded_eur=application.funded_eur,
        decision_reason=application.decision_reason,
        version=application.version,
    )


def _require_partner(session: Session, actor: Actor, application: Application, organisation_id: int) -> None:
    """A partner is an organisation the applicant may name: one it reads, or, for a consortium's
    member user, its own firm or a current member of a cluster its firm belongs to."""
    from grappe.registry.organisations import service as organisations

    organisations.check_exists(session, organisation_id)
    if actor.role is Role.MEMBER and actor.organisation_id is not None:
        if organisation_id == actor.organisation_id:
            return
        today = dt.date.today()
        if organisation_id in repository.shared_clusters(
            session, actor.organisation_id, [organisation_id], today
        ):
            return
        raise not_found("organisation", organisation_id)
    require_organisation(session, actor, organisation_id, Access.READ, "nommer un partenaire")


def _check_open(call: Call, now: dt.datetime, action: str) -> None:
    if now.date() < call.opens_on:
        raise InputError(f"{action} refusé(e) : l'appel n'ouvre que le {present.date(call.opens_on)}")
    if now > call.closes_at:
        closed = call.closes_at.astimezone(dt.UTC)
        raise InputError(
            f"{action} refusé(e) : l'appel a clos le {present.date(closed.date())} à "
            f"{closed:%H:%M} (UTC) ; aucun dépôt après la date limite"
        )


def _set_budget(session: Session, actor: Actor, application: Application, lines: list[BudgetLineIn]) -> None:
    seen: set[int] = set()
    for number, line in enumerate(lines, 1):
        try:
            if line.organisation_id in seen:
                raise InputError(f"budget : l'organisation {line.organisation_id} a deux lignes")
            seen.add(line.organisation_id)
            _require_partner(session, actor, application, line.organisation_id)
        except GrappeError as exc:
            exc.line = number
            raise
    # Lines are updated in place: replacing them would insert the new ones before deleting the
    # old ones in one flush, against the one-line-per-partner constraint.
    held = {line.organisation_id: line for line in application.budget}
    kept = []
    for line in lines:
        row = held.get(line.organisation_id) or BudgetLine(organisation_id=line.organisation_id)
        row.amount_eur, row.purpose = line.amount_eur, line.purpose
        kept.append(row)
    application.budget = kept


def create_application(
    session: Session, actor: Actor, call_id: int, data: ApplicationIn, *, now: dt.datetime | None = None
) -> ApplicationOut:
    """Start a draft application to a published call (a cluster's manager, or the member user of a
    consortium's coordinator firm)."""
    call = _call(session, actor, call_id, Access.READ, "candidater")
    _check_open(call, now or utcnow(), "la création de candidature")
    kind = ApplicantKind(call.applicant_kind)
    if kind is ApplicantKind.CLUSTER:
        if data.cluster_id is None or data.organisation_id is not None:
            raise InputError("cet appel s'adresse aux structures d'animation : indiquez cluster_id seulement")
        require_cluster(session, actor, data.cluster_id, Access.MANAGE, "candidater au nom de la structure")
    else:
        if data.organisation_id is None or data.cluster_id is not None:
            raise InputError(
                "cet appel s'adresse aux consortiums : indiquez l'entreprise chef de file (organisation_id)"
            )
        if actor.role is Role.MEMBER:
            if actor.organisation_id != data.organisation_id:
                raise not_found("organisation", data.organisation_id)
        elif actor.role is not Role.ADMIN:
            raise deny(actor, f"candidater (appel à projets {call.id} : le chef de file candidate)")
        row = repository.organisations(session, [data.organisation_id]).get(data.organisation_id)
        if row is None:
            raise not_found("organisation", data.organisation_id)
        if row.kind != OrganisationKind.FIRM.value:
            raise InputError(
                f"le chef de file d'un consortium est une entreprise ({row.name} n'en est pas une)"
            )
    if data.territory:
        normalize_territory("region", data.territory)
    applications = ApplicationRepository(session)
    application = applications.add(
        Application(
            call_id=call.id,
            title=data.title.strip(),
            summary=data.summary,
            cluster_id=data.cluster_id,
            organisation_id=data.organisation_id,
            created_by_id=actor.user_id,
            territory=data.territory,
            theme=data.theme,
            tags=[t.strip() for t in data.tags],
            keywords=[k.strip() for k in data.keywords],
            status=ApplicationStatus.DRAFT.value,
            eligibility=[],
        )
    )
    _set_budget(session, actor, application, data.budget)
    applications.flush()
    _assess(session, call, application)
    applications.flush()
    return _application_out(session, application)


def _application(
    session: Session, actor: Actor, application_id: int, need: Access, action: str
) -> tuple[Application, Call]:
    application = ApplicationRepository(session).get(application_id)
    call = CallRepository(session).get(application.call_id)
    policy.require_application(session, actor, application, call, need, action)
    return application, call


def _editable(application: Application, call: Call, now: dt.datetime, action: str) -> None:
    if application.status != ApplicationStatus.DRAFT.value:
        raise ConflictError(f"candidature {application.id} déjà déposée : elle ne se modifie plus")
    _check_open(call, now, action)


def get_application(session: Session, actor: Actor, application_id: int) -> ApplicationOut:
    """An application (its applicant, the call's funder once submitted, its assigned reviewers)."""
    application, _ = _application(session, actor, application_id, Access.READ, "consulter la candidature")
    return _application_out(session, application)


def list_applications(
    session: Session, actor: Actor, call_id: int, *, limit: int = 100, offset: int = 0
) -> ApplicationPage:
    """A call's applications the actor may read: all submitted ones for its funder, its own for
    an applicant, those assigned for a reviewer."""
    call = _call(session, actor, call_id, Access.READ, "lister les candidatures")
    seen = None
    if actor.role is Role.ADMIN:
        seen = None
    elif policy.owns_call(actor, call):
        seen = repository.submitted()
    elif actor.role is Role.MANAGER:
        seen = repository.applicant_filter(actor.managed, None)
    elif actor.role is Role.MEMBER:
        seen = repository.applicant_filter((), actor.organisation_id)
    else:
        profile = policy.reviewer_of(session, actor)
        if profile is None:
            raise deny(actor, f"lister les candidatures (appel à projets {call.id})")
        seen = repository.assigned_to(profile.id)
    total, rows = ApplicationRepository(session).listing(call.id, seen, limit, offset)
    return ApplicationPage(total=total, items=[_application_out(session, a) for a in rows])


def update_budget(
    session: Session,
    actor: Actor,
    application_id: int,
    lines: list[BudgetLineIn],
    *,
    now: dt.datetime | None = None,
) -> ApplicationOut:
    """Replace the budget table of a draft (one line per partner, partners from the registry)."""
    application, call = _application(session, actor, application_id, Access.MANAGE, "modifier le budget")
    _editable(application, call, now or utcnow(), "la modification du budget")
    _set_budget(session, actor, application, lines)
    ApplicationRepository(session).flush()
    _assess(session, call, application)
    ApplicationRepository(session).flush()
    return _application_out(session, application)


def attach_document(
    session: Session,
    actor: Actor,
    application_id: int,
    doc_type: str,
    filename: str,
    content: bytes,
    *,
    home: Path | None = None,
    now: dt.datetime | None = None,
) -> ApplicationOut:
    """Join a document of a type the call asks for to a draft (type and size checked)."""
    application, call = _application(session, actor, application_id, Access.MANAGE, "joindre un document")
    _editable(application, call, now or utcnow(), "l'ajout de document")
    doc_type = doc_type.strip()
    if doc_type not in call.required_documents:
        asked = ", ".join(call.required_documents) or "aucun"
        raise InputError(f"type de document {doc_type!r} non demandé par l'appel ; types demandés : {asked}")
    if any(d.doc_type == doc_type for d in application.documents):
        raise ConflictError(f"un document « {doc_type} » est déjà joint : retirez-le d'abord")
    stored = documents.store(home or get_settings().home, content, filename)
    application.documents.append(
        ApplicationDocument(
            doc_type=doc_type,
            filename=stored.filename,
            media_type=stored.media_type,
            size_bytes=stored.size_bytes,
            sha256=stored.sha256,
        )
    )
    ApplicationRepository(session).flush()
    return _application_out(session, application)


def remove_document(
    session: Session, actor: Actor, application_id: int, doc_type: str, *, now: dt.datetime | None = None
) -> ApplicationOut:
    """Remove a document of a draft."""
    application, call = _application(session, actor, application_id, Access.MANAGE, "retirer un document")
    _editable(application, call, now or utcnow(), "le retrait de document")
    kept = [d for d in application.documents if d.doc_type != doc_type.strip()]
    if len(kept) == len(application.documents):
        raise not_found("document", doc_type)
    application.documents = kept
    ApplicationRepository(session).flush()
    return _application_out(session, application)


def document_content(
    session: Session, actor: Actor, application_id: int, doc_type: str, *, home: Path | None = None
) -> tuple[DocumentOut, bytes]:
    """A document of an application and its bytes (who reads the application)."""
    application, _ = _application(session, actor, application_id, Access.READ, "lire un document")
    found = next((d for d in application.documents if d.doc_type == doc_type.strip()), None)
    if found is None:
        raise not_found("document", doc_type)
    return DocumentOut.model_validate(found), documents.load(home or get_settings().home, found.sha256)


def _sme(row: repository.OrganisationRow) -> bool | None:
    if row.size_category:
        return row.size_category in eligibility.SME_CATEGORIES
    if row.declared_headcount is not None:
        return firm_category(row.declared_headcount) in eligibility.SME_CATEGORIES
    if row.size_band:
        try:
            return category_of_band(row.size_band) in eligibility.SME_CATEGORIES
        except (InputError, KeyError, ValueError):
            return None
    return None


def _region(commune: str | None) -> str | None:
    if not commune:
        return None
    try:
        return normalize_territory("commune", commune)[1]
    except (InputError, KeyError):
        return None


def _facts(row: repository.OrganisationRow) -> PartnerFacts:
    return PartnerFacts(
        row.id, row.name, row.kind == OrganisationKind.FIRM.value, _sme(row), _region(row.commune)
    )


def applicant_facts(session: Session, application: Application) -> ApplicantFacts:
    """What the eligibility rules read of an application's applicant (no role checked)."""
    if application.cluster_id is not None:
        members = repository.current_members(session, [application.cluster_id], dt.date.today())[
            application.cluster_id
        ]
        rows = repository.organisations(session, members)
        return ApplicantFacts(
            kind=ApplicantKind.CLUSTER.value,
            name=_applicant_name(session, application),
            members=tuple(_facts(rows[o]) for o in sorted(rows)),
            regions=frozenset(repository.cluster_regions(session, application.cluster_id)),
        )
    assert application.organisation_id is not None
    ids = [application.organisation_id] + [
        line.organisation_id
        for line in application.budget
        if line.organisation_id != application.organisation_id
    ]
    rows = repository.organisations(session, ids)
    return ApplicantFacts(
        kind=ApplicantKind.CONSORTIUM.value,
        name=_applicant_name(session, application),
        partners=tuple(_facts(rows[o]) for o in ids if o in rows),
    )


def _assess(session: Session, call: Call, application: Application) -> None:
    verdicts = eligibility.evaluate(call.rules, applicant_facts(session, application))
    application.eligibility = [v.as_dict() for v in verdicts]
    application.eligible = all(v.ok for v in verdicts)


def check_application(session: Session, actor: Actor, application_id: int) -> ApplicationOut:
    """Evaluate the call's eligibility rules on a draft again (the registry may have changed)."""
    application, call = _application(session, actor, application_id, Access.MANAGE, "vérifier l'éligibilité")
    if application.status == ApplicationStatus.DRAFT.value:
        _assess(session, call, application)
        ApplicationRepository(session).flush()
    return _application_out(session, application)


def submit_application(
    session: Session, actor: Actor, application_id: int, *, now: dt.datetime | None = None
) -> ApplicationOut:
    """Submit a draft before the deadline: the documents the call asks for are joined, the request
    fits the call's ceiling; eligibility is evaluated and kept with its reasons."""
    application, call = _application(session, actor, application_id, Access.MANAGE, "déposer la candidature")
    moment = now or utcnow()
    _editable(application, call, moment, "le dépôt")
    missing = [d for d in call.required_documents if d not in {x.doc_type for x in application.documents}]
    if missing:
        raise InputError(f"dépôt refusé : document(s) manquant(s) : {', '.join(missing)}")
    requested = _requested(application)
    if requested <= 0:
        raise InputError("dépôt refusé : le budget par partenaire est vide (montant demandé nul)")
    ceiling = min(call.budget_eur, call.max_request_eur or call.budget_eur)
    if requested > ceiling:
        raise InputError(
            f"dépôt refusé : montant demandé {present.money(requested)} au-delà du plafond de l'appel "
            f"({present.money(ceiling)})"
        )
    _assess(session, call, application)
    application.status = ApplicationStatus.SUBMITTED.value
    application.submitted_at = moment
    ApplicationRepository(session).flush()
    return _application_out(session, application)


# --- reviewers, conflicts, assignment ---------------------------------------------------------


def _reviewer_out(profile: ReviewerProfile, email: str, organisation_id: int | None) -> ReviewerOut:
    return ReviewerOut(
        id=profile.id,
        user_id=profile.user_id,
        email=email,
        organisation_id=organisation_id,
        load_cap=profile.load_cap,
        tags=profile.tags,
        keywords=profile.keywords,
    )


def save_reviewer(session: Session, actor: Actor, data: ReviewerIn) -> ReviewerOut:
    """Add a reviewer user to the pool or update its expertise (administrator, funders; a reviewer
    for itself)."""
    if not (actor.role is Role.REVIEWER and actor.user_id == data.user_id):
        policy.require_funder(actor, "tenir le vivier d'évaluateurs")
    reviewers = ReviewerRepository(session)
    user = reviewers.user(data.user_id)
    if user is None:
        raise not_found("utilisateur", data.user_id)
    if user.role != Role.REVIEWER.value:
        raise InputError(f"l'utilisateur {user.email} n'a pas le rôle reviewer (évaluateur)")
    profile = reviewers.of_user(user.id)
    if profile is None:
        profile = reviewers.add(
            ReviewerProfile(user_id=user.id, load_cap=data.load_cap, tags=[], keywords=[])
        )
    profile.load_cap = data.load_cap
    profile.tags = [t.strip() for t in data.tags]
    profile.keywords = [k.strip() for k in data.keywords]
    reviewers.flush()
    return _reviewer_out(profile, user.email, user.organisation_id)


def list_reviewers(session: Session, actor: Actor, *, limit: int = 100, offset: int = 0) -> ReviewerPage:
    """The reviewer pool (administrator, funders)."""
    policy.require_funder(actor, "consulter le vivier d'évaluateurs")
    check_page(limit, offset)
    pool = ReviewerRepository(session).pool()
    items = [_reviewer_out(p, e, o) for p, e, o in pool[offset : offset + limit]]
    return ReviewerPage(total=len(pool), items=items)


def declare_conflict(
    session: Session, actor: Actor, application_id: int, data: ConflictIn
) -> ReviewOut | None:
    """Declare a conflict of interest: a reviewer on an application assigned to it, or the call's
    funder for any reviewer. The assignment (and its marks) goes: the application is no longer
    the reviewer's to read."""
    application = ApplicationRepository(session).get(application_id)
    call = CallRepository(session).get(application.call_id)
    reviewers = ReviewerRepository(session)
    if actor.role is Role.REVIEWER:
        policy.require_application(session, actor, application, call, Access.READ, "déclarer un conflit")
        profile = policy.require_reviewer(session, actor)
    else:
        policy.require_application(session, actor, application, call, Access.READ, "déclarer un conflit")
        if not policy.owns_call(actor, call):
            raise deny(actor, f"déclarer un conflit (candidature {application.id})")
        if data.reviewer_id is None:
            raise InputError("reviewer_id : indiquez l'évaluateur en conflit")
        profile = reviewers.get(data.reviewer_id)
    if reviewers.declared_on(profile.id, application.id) is None:
        session.add(
            DeclaredConflict(reviewer_id=profile.id, application_id=application.id, reason=data.reason)
        )
    assignments = AssignmentRepository(session)
    held = assignments.of_pair(application.id, profile.id)
    if held is not None:
        session.delete(held)
    assignments.flush()
    return None


def _sides(
    session: Session,
    call: Call,
    applications: list[Application],
    pool: list[tuple[ReviewerProfile, str, int | None]],
) -> tuple[list[review.ReviewerSide], list[review.ApplicantSide]]:
    today = dt.date.today()
    cluster_ids = [a.cluster_id for a in applications if a.cluster_id is not None]
    members = repository.current_members(session, cluster_ids, today)
    side_ids = {
        a.id: {a.organisation_id, *(line.organisation_id for line in a.budget)} - {None} for a in applications
    }
    reviewer_orgs = {o for _, _, o in pool if o is not None}
    every = set().union(*side_ids.values(), reviewer_orgs) if side_ids else set(reviewer_orgs)
    rows = repository.organisations(session, [o for o in every if o is not None])

    def sirens(ids: set[int]) -> frozenset[str]:
        found: set[str] = set()
        for o in ids:
            row = rows.get(o)
            if row is not None:
                found |= set(row.establishment_sirens) | ({row.siren} if row.siren else set())
        return frozenset(found)

    apps = [
        review.ApplicantSide(
            application_id=a.id,
            organisations=frozenset(o for o in side_ids[a.id] if o is not None),
            cluster_members=frozenset(members.get(a.cluster_id, set()))
            if a.cluster_id is not None
            else frozenset(),
            sirens=sirens({o for o in side_ids[a.id] if o is not None}),
            tags=tuple(a.tags),
            keywords=tuple(a.keywords),
        )
        for a in applications
    ]
    since = today - dt.timedelta(days=round(365.25 * review.RECENT_YEARS))
    co = repository.recent_co_partners(session, reviewer_orgs, since)
    declared: dict[int, set[int]] = {}
    for conflict in ReviewerRepository(session).declared([a.id for a in applications]):
        declared.setdefault(conflict.reviewer_id, set()).add(conflict.application_id)
    revs = [
        review.ReviewerSide(
            reviewer_id=p.id,
            organisation_id=o,
            sirens=sirens({o}) if o is not None else frozenset(),
            co_partners=frozenset(co.get(o, set())) if o is not None else frozenset(),
            declared=frozenset(declared.get(p.id, set())),
            tags=tuple(p.tags),
            keywords=tuple(p.keywords),
        )
        for p, _, o in pool
    ]
    return revs, apps


def assign_reviewers(session: Session, actor: Actor, call_id: int) -> AssignmentOut:
    """Assign the call's reviewers per application to its submitted eligible applications: the
    greatest total expertise affinity, no conflict, no load cap exceeded (min-cost flow), compared
    with the greedy assignment. A reviewer's load cap bounds the reviews it holds at once, across
    the calls: the reviews still to submit on other undecided calls take their share of it.
    Refused once marks were given; an impossible assignment names the constraint that fails."""
    from grappe.calls.assignment import ReviewProblem, greedy_assignment, optimal_assignment

    call = _call(session, actor, call_id, Access.MANAGE, "affecter les évaluateurs")
    if call.decided_at is not None:
        raise ConflictError(f"appel à projets {call.id} déjà décidé : l'affectation est close")
    assignments = AssignmentRepository(session)
    existing = assignments.of_call(call.id)
    if any(a.scores for a in existing):
        raise ConflictError("des évaluations sont déjà saisies : l'affectation ne peut plus être refaite")
    applications = [
        a
        for a in ApplicationRepository(session).of_call(call.id, [ApplicationStatus.SUBMITTED])
        if a.eligible
    ]
    if not applications:
        raise InputError(f"appel à projets {call.id} : aucune candidature déposée et éligible à affecter")
    pool = ReviewerRepository(session).pool()
    if not pool:
        raise InputError("le vivier d'évaluateurs est vide : ajoutez des évaluateurs (rôle reviewer)")
    revs, apps = _sides(session, call, applications, pool)
    found = review.conflicts(revs, apps)
    busy = assignments.outstanding_elsewhere(call.id)
    problem = ReviewProblem(
        reviewers=tuple(str(r.reviewer_id) for r in revs),
        caps={str(p.id): max(0, p.load_cap - busy.get(p.id, 0)) for p, _, _ in pool},
        applications=tuple(str(a.application_id) for a in apps),
        affinity={
            (str(r.reviewer_id), str(a.application_id)): review.affinity(r, a)
            for r in revs
            for a in apps
            if (r.reviewer_id, a.application_id) not in found
        },
        conflicts=frozenset((str(r), str(a)) for r, a in found),
        per_application=call.reviewers_per_application,
    )
    exact = optimal_assignment(problem)
    greedy = greedy_assignment(problem)
    assignments.clear_call(call.id)
    assignments.flush()
    for application, reviewer, value in exact.rows:
        assignments.add(
            ReviewAssignment(application_id=int(application), reviewer_id=int(reviewer), affinity=value)
        )
    assignments.flush()
    return AssignmentOut(
        call_id=call.id,
        rows=[AssignmentRow(application_id=int(a), reviewer_id=int(r), affinity=v) for a, r, v in exact.rows],
        total_affinity=exact.total,
        greedy_affinity=greedy.total,
        greedy_missing=greedy.missing,
        conflicts=len(found),
        seconds=exact.seconds,
    )


# --- reviews ----------------------------------------------------------------------------------


def _weights(call: Call) -> dict[int, float]:
    return {c.id: float(c.weight) for c in call.criteria}


def _review_out(call: Call, assignment: ReviewAssignment) -> ReviewOut:
    names = {c.id: c.name for c in call.criteria}
    marks = {s.criterion_id: float(s.value) for s in assignment.scores}
    complete = assignment.submitted_at is not None and set(marks) >= set(names)
    return ReviewOut(
        application_id=assignment.application_id,
        reviewer_id=assignment.reviewer_id,
        affinity=assignment.affinity,
        submitted_at=assignment.submitted_at,
        total=review.weighted_total(marks, _weights(call)) if complete else None,
        marks=[
            MarkOut(
                criterion_id=s.criterion_id,
                criterion=names.get(s.criterion_id, ""),
                value=s.value,
                comment=s.comment,
            )
            for s in assignment.scores
        ],
    )


def my_reviews(session: Session, actor: Actor, *, limit: int = 100, offset: int = 0) -> ReviewPage:
    """The acting reviewer's assignments and its marks."""
    profile = policy.require_reviewer(session, actor)
    check_page(limit, offset)
    calls = CallRepository(session)
    held = AssignmentRepository(session).of_reviewer(profile.id)
    items = [_review_out(calls.get(app.call_id), a) for a, app in held[offset : offset + limit]]
    return ReviewPage(total=len(held), items=items)


def submit_review(
    session: Session, actor: Actor, application_id: int, data: ReviewIn, *, now: dt.datetime | None = None
) -> ReviewOut:
    """Give a mark (0 to the call's scale) and a comment on every criterion of an assigned application."""
    application, call = _application(session, actor, application_id, Access.READ, "évaluer la candidature")
    profile = policy.require_reviewer(session, actor)
    assignment = AssignmentRepository(session).of_pair(application.id, profile.id)
    if assignment is None:
        raise not_found("candidature", application.id)
    if call.decided_at is not None:
        raise ConflictError(f"appel à projets {call.id} déjà décidé : les évaluations sont closes")
    criteria = {c.id: c for c in call.criteria}
    given: dict[int, ReviewScore] = {}
    for mark in data.marks:
        criterion = criteria.get(mark.criterion_id)
        if criterion is None:
            raise InputError(
                f"critère {mark.criterion_id} : n'appartient pas à la grille de l'appel {call.id}"
            )
        if mark.criterion_id in given:
            raise InputError(f"critère « {criterion.name} » noté deux fois")
        if not 0 <= mark.value <= call.scale_max:
            raise InputError(
                f"critère « {criterion.name} » : note {mark.value} hors de l'échelle 0 à {call.scale_max}"
            )
        given[mark.criterion_id] = ReviewScore(
            criterion_id=mark.criterion_id, value=mark.value, comment=mark.comment
        )
    missing = [c.name for cid, c in criteria.items() if cid not in given]
    if missing:
        raise InputError(f"évaluation incomplète : critère(s) non noté(s) : {', '.join(missing)}")
    assignment.scores = list(given.values())
    assignment.submitted_at = now or utcnow()
    AssignmentRepository(session).flush()
    return _review_out(call, assignment)


def application_reviews(
    session: Session, actor: Actor, application_id: int, *, limit: int = 100, offset: int = 0
) -> ReviewPage:
    """Every review of an application (the call's funder and the administrator)."""
    application, call = _application(session, actor, application_id, Access.READ, "lire les évaluations")
    if not policy.owns_call(actor, call):
        raise deny(actor, f"lire les évaluations (candidature {application.id})")
    check_page(limit, offset)
    held = [a for a in AssignmentRepository(session).of_call(call.id) if a.application_id == application.id]
    items = [_review_out(call, a) for a in held[offset : offset + limit]]
    return ReviewPage(total=len(held), items=items)


def _totals(call: Call, assignments: list[ReviewAssignment]) -> dict[tuple[int, int], float]:
    weights = _weights(call)
    totals: dict[tuple[int, int], float] = {}
    for a in assignments:
        marks = {s.criterion_id: float(s.value) for s in a.scores}
        if a.submitted_at is not None and set(marks) >= set(weights):
            totals[(a.reviewer_id, a.application_id)] = review.weighted_total(marks, weights)
    return totals


def scoreboard(
    session: Session,
    actor: Actor,
    call_id: int,
    *,
    normalised: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> ScoreBoard:
    """Each submitted application's score (mean of its reviews, optionally normalised per
    reviewer), spread and moderation flag, ranked (the call's funder); a page of it when
    ``limit`` is given."""
    call = _call(session, actor, call_id, Access.MANAGE, "consulter les notes")
    applications = ApplicationRepository(session).of_call(
        call.id, [ApplicationStatus.SUBMITTED, ApplicationStatus.FUNDED, ApplicationStatus.REJECTED]
    )
    assignments = AssignmentRepository(session).of_call(call.id)
    raw = _totals(call, assignments)
    ids = [a.id for a in applications]
    plain = review.summarise(raw, ids, float(call.disagreement_threshold))
    fair = review.summarise(review.normalise(raw, call.scale_max), ids, float(call.disagreement_threshold))
    expected = {a.id: 0 for a in applications}
    for a in assignments:
        expected[a.application_id] = expected.get(a.application_id, 0) + 1
    key = (lambda i: fair[i].score) if normalised else (lambda i: plain[i].score)
    ranked = sorted((i for i in ids if key(i) is not None), key=lambda i: (-(key(i) or 0.0), i))
    rank = {i: n for n, i in enumerate(ranked, start=1)}
    items = [
        ScoreRow(
            application_id=a.id,
            title=a.title,
            applicant=_applicant_name(session, a),
            reviews=len(plain[a.id].totals),
            expected=expected.get(a.id, 0),
            score=plain[a.id].score,
            normalised_score=fair[a.id].score,
            spread=plain[a.id].spread,
            flagged=plain[a.id].flagged,
            rank=rank.get(a.id),
        )
        for a in applications
    ]
    items.sort(key=lambda r: (r.rank is None, r.rank or 0, r.application_id))
    total = len(items)
    if limit is not None:
        check_page(limit, offset)
        items = items[offset : offset + limit]
    return ScoreBoard(call_id=call.id, normalised=normalised, total=total, items=items)


# --- selection and decision -------------------------------------------------------------------


def _cents(value: Decimal) -> int:
    return int((value / CENT).to_integral_value())


def propose_selection(session: Session, actor: Actor, call_id: int, options: SelectionIn) -> SelectionOut:
    """The exact selection within the call's budget (HiGHS), beside the greedy order's."""
    from grappe.calls.selection import Candidate, SelectionProblem, greedy_selection, optimal_selection

    call = _call(session, actor, call_id, Access.MANAGE, "sélectionner les candidatures")
    board = scoreboard(session, actor, call.id, normalised=options.normalised)
    applications = {
        a.id: a
        for a in ApplicationRepository(session).of_call(call.id, [ApplicationStatus.SUBMITTED])
        if a.eligible
    }
    scores = {
        r.application_id: (r.normalised_score if options.normalised else r.score)
        for r in board.items
        if r.application_id in applications
    }
    candidates = tuple(
        Candidate(
            str(a.id),
            float(scores[a.id] or 0.0),
            _cents(_requested(a)),
            {"territory": a.territory or "", "theme": a.theme or ""},
        )
        for a in applications.values()
        if scores.get(a.id) is not None and _requested(a) > 0
    )
    if not candidates:
        raise InputError(f"appel à projets {call.id} : aucune candidature éligible notée à sélectionner")
    problem = SelectionProblem(
        candidates, _cents(call.budget_eur), options.min_score, options.partial, options.max_share
    )
    exact = optimal_selection(problem)
    greedy = greedy_selection(problem)
    by_id = {c.application: c for c in candidates}
    return SelectionOut(
        call_id=call.id,
        budget_eur=call.budget_eur,
        spent_eur=Decimal(exact.spent) * CENT,
        total_score=exact.score,
        optimal=exact.optimal,
        greedy_score=greedy.score,
        greedy_spent_eur=Decimal(greedy.spent) * CENT,
        seconds=exact.seconds,
        items=[
            SelectedRow(
                application_id=int(a),
                title=applications[int(a)].title,
                score=by_id[a].score,
                requested_eur=Decimal(by_id[a].amount) * CENT,
                funded_eur=Decimal(cents) * CENT,
            )
            for a, cents in exact.funded
        ],
    )


def decide(
    session: Session, actor: Actor, call_id: int, data: DecisionIn, *, now: dt.datetime | None = None
) -> DecisionOut:
    """Record the committee's decision with its justification: the funded applications (by default
    the exact selection) and their amounts; every other submitted application is rejected."""
    call = _call(session, actor, call_id, Access.MANAGE, "décider")
    if call.decided_at is not None:
        raise ConflictError(f"appel à projets {call.id} : la décision est déjà enregistrée")
    moment = now or utcnow()
    if moment <= call.closes_at:
        raise InputError("décision refusée : l'appel n'est pas encore clos")
    submitted = {
        a.id: a for a in ApplicationRepository(session).of_call(call.id, [ApplicationStatus.SUBMITTED])
    }
    if data.funded is None:
        proposal = propose_selection(session, actor, call.id, data.selection)
        funded = {r.application_id: r.funded_eur for r in proposal.items}
    else:
        funded = {}
        for row in data.funded:
            application = submitted.get(row.application_id)
            if application is None:
                raise InputError(f"candidature {row.application_id} : pas déposée dans l'appel {call.id}")
            if not application.eligible:
                raise InputError(f"candidature {row.application_id} : inéligible, elle ne peut être financée")
            if row.amount_eur > _requested(application) or row.amount_eur <= 0:
                raise InputError(
                    f"candidature {row.application_id} : montant {present.money(row.amount_eur)} hors de "
                    f"]0 ; {present.money(_requested(application))}] (montant demandé)"
                )
            if row.application_id in funded:
                raise InputError(f"candidature {row.application_id} nommée deux fois")
            funded[row.application_id] = row.amount_eur
    spent = sum(funded.values(), Decimal(0))
    if spent > call.budget_eur:
        raise InputError(
            f"décision refusée : {present.money(spent)} accordés au-delà du budget de l'appel "
            f"({present.money(call.budget_eur)})"
        )
    board = {r.application_id: r for r in scoreboard(session, actor, call.id).items}
    for application in submitted.values():
        marked = board.get(application.id)
        score = (
            f"note {present.decimal(marked.score, 2)}, rang {marked.rank}"
            if marked and marked.score is not None
            else "non notée"
        )
        if application.id in funded:
            application.status = ApplicationStatus.FUNDED.value
            application.funded_eur = funded[application.id]
            application.decision_reason = f"Retenue ({score})."
        else:
            application.status = ApplicationStatus.REJECTED.value
            application.funded_eur = Decimal(0)
            why = "inéligible" if not application.eligible else "non retenue dans le budget"
            application.decision_reason = f"Non retenue : {why} ({score})."
    call.decided_at = moment
    call.decision_note = data.justification
    CallRepository(session).flush()
    decided = sorted(submitted.values(), key=lambda a: a.id)
    return DecisionOut(
        call_id=call.id,
        decided_at=moment,
        funded=len(funded),
        rejected=len(decided) - len(funded),
        spent_eur=spent,
        items=[_application_out(session, a) for a in decided],
    )


def _letters(session: Session, call: Call) -> list[tuple[Application, DecisionLetter]]:
    funder = CallRepository(session).funder_name(call.funder_id)
    decided = ApplicationRepository(session).of_call(
        call.id, [ApplicationStatus.FUNDED, ApplicationStatus.REJECTED]
    )
    board = {r.application_id: r for r in _board_unchecked(session, call)}
    dated = present.date((call.decided_at or utcnow()).date())
    out = []
    for a in decided:
        row = board.get(a.id)
        out.append(
            (
                a,
                DecisionLetter(
                    application_id=a.id,
                    funder=funder,
                    call=call.title,
                    title=a.title,
                    recipient=_applicant_name(session, a),
                    dated=dated,
                    funded=a.status == ApplicationStatus.FUNDED.value,
                    requested=present.money(_requested(a)),
                    funded_amount=present.money(a.funded_eur or 0),
                    score=present.decimal(row.score, 2) if row and row.score is not None else "–",
                    reason=a.decision_reason,
                    justification=call.decision_note or "",
                ),
            )
        )
    return out


def _board_unchecked(session: Session, call: Call) -> list[ScoreRow]:
    applications = ApplicationRepository(session).of_call(
        call.id, [ApplicationStatus.FUNDED, ApplicationStatus.REJECTED]
    )
    marks = review.summarise(
        _totals(call, AssignmentRepository(session).of_call(call.id)),
        [a.id for a in applications],
        float(call.disagreement_threshold),
    )
    return [
        ScoreRow(
            application_id=a.id,
            title=a.title,
            applicant="",
            reviews=len(marks[a.id].totals),
            expected=0,
            score=marks[a.id].score,
            normalised_score=None,
            spread=marks[a.id].spread,
            flagged=marks[a.id].flagged,
            rank=None,
        )
        for a in applications
    ]


def _decided(session: Session, actor: Actor, call_id: int, action: str) -> Call:
    call = _call(session, actor, call_id, Access.MANAGE, action)
    if call.decided_at is None:
        raise ConflictError(f"appel à projets {call.id} : aucune décision enregistrée")
    return call


def decision_letters(session: Session, actor: Actor, call_id: int) -> bytes:
    """Every decision letter of a decided call, as one PDF (the call's funder)."""
    from grappe.calls.letters import render_pdf

    call = _decided(session, actor, call_id, "imprimer les lettres de décision")
    return render_pdf([letter for _, letter in _letters(session, call)])


_FUNDED = Wording(fr="retenue", en="selected")
_NOT_FUNDED = Wording(fr="non retenue", en="not selected")
_FOR_AMOUNT = Wording(fr=" pour {amount}", en=" for {amount}")
_DECISION_SUBJECT = Wording(
    fr="Appel à projets « {call} » : candidature {verdict}",
    en="Call for projects “{call}”: application {verdict}",
)
_DECISION_BODY = Wording(
    fr=(
        "Bonjour,\n\nLe comité de sélection de l'appel à projets « {call} » a rendu sa décision : "
        "votre candidature « {title} » est {verdict}{amount}.\n\n{reason}\n\n"
        "La lettre de décision est jointe.\n\n{funder}\n"
    ),
    en=(
        "Hello,\n\nThe selection committee of the call for projects “{call}” has decided: "
        "your application “{title}” is {verdict}{amount}.\n\n{reason}\n\n"
        "The decision letter is attached.\n\n{funder}\n"
    ),
)


def decision_mails(session: Session, actor: Actor, call_id: int) -> list[Mail]:
    """The notification of each decided application to its applicant's users, in each user's
    language (one mail per language), its letter joined (the letter itself is in French).

    The interface sends them (:func:`grappe.kit.mail.send_all`) after the decision's unit of work
    committed; an applicant without an active user gets none.
    """
    from grappe.calls.letters import file_name, render_pdf

    call = _decided(session, actor, call_id, "notifier les décisions")
    mails = []
    for application, letter in _letters(session, call):
        recipients = by_language(repository.applicant_emails(session, application))
        if not recipients:
            continue
        attachment = Attachment(file_name(letter), render_pdf([letter]), "application/pdf")
        for language, to in recipients.items():
            verdict = (_FUNDED if letter.funded else _NOT_FUNDED)(language)
            funded = Formatter(language).money(application.funded_eur or 0)
            amount = _FOR_AMOUNT(language, amount=funded) if letter.funded else ""
            mails.append(
                Mail(
                    to=to,
                    subject=_DECISION_SUBJECT(language, call=call.title, verdict=verdict),
                    body=_DECISION_BODY(
                        language,
                        call=call.title,
                        title=application.title,
                        verdict=verdict,
                        amount=amount,
                        reason=letter.reason or "",
                        funder=letter.funder,
                    ),
                    attachments=[attachment],
                )
            )
    return mails
