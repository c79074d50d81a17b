"""What users do with cooperation records: links, projects, deals, and the network they form.

Every operation checks the actor's rights through :mod:`grappe.cooperation.policy`; the SQL
lives in :mod:`grappe.cooperation.repository`; the caller's unit of work commits.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

import pandas as pd
from sqlalchemy.orm import Session

from grappe.cooperation import network, policy, repository
from grappe.cooperation.actions import service as actions
from grappe.cooperation.models import (
    KIND_OF_CATEGORY,
    NOT_GIVEN,
    BusinessDeal,
    CooperationLink,
    DealKind,
    LinkKind,
    LinkOrientation,
    LinkSource,
    LinkState,
    Orientation,
    PartnerCategory,
    Programme,
    Project,
    ProjectFunding,
    ProjectKind,
    ProjectLabel,
    ProjectPartner,
    ProjectStatus,
    ProjectTransition,
)
from grappe.cooperation.repository import Layer
from grappe.cooperation.schemas import (
    NETWORK_ORDERS,
    BusinessVolume,
    BusinessYear,
    Change,
    CooperationFigures,
    DealIn,
    DealOut,
    DealPage,
    DependenceOut,
    FundingOut,
    LinkAnswer,
    LinkEnd,
    LinkIn,
    LinkOut,
    LinkPage,
    MeasureOut,
    NetworkChangeOut,
    NetworkPage,
    NetworkSummaryOut,
    PartnerIn,
    PartnerOut,
    ProjectIn,
    ProjectOut,
    ProjectPage,
    ProjectSummary,
    StatusIn,
    TransitionOut,
)
from grappe.errors import ConflictError, InputError
from grappe.kit import present
from grappe.kit.repository import check_page, not_found
from grappe.kit.unit import flush
from grappe.registry.identifiers import name_key, normalize_siren
from grappe.registry.models import Organisation, OrganisationKind, Role
from grappe.registry.policy import (
    Access,
    Actor,
    cluster_access,
    member_cluster_ids,
    require_admin,
    require_cluster,
    require_organisation,
)

#: The pipeline: from each status, the statuses a project may move to. A refused project may
#: be prepared again; finished and abandoned projects stay so.
NEXT_STATUSES: Final[dict[ProjectStatus, frozenset[ProjectStatus]]] = {
    ProjectStatus.IDEA: frozenset({ProjectStatus.DRAFTING, ProjectStatus.ABANDONED}),
    ProjectStatus.DRAFTING: frozenset(
        {ProjectStatus.LABELLED, ProjectStatus.SUBMITTED, ProjectStatus.ABANDONED}
    ),
    ProjectStatus.LABELLED: frozenset({ProjectStatus.SUBMITTED, ProjectStatus.ABANDONED}),
    ProjectStatus.SUBMITTED: frozenset(
        {ProjectStatus.FUNDED, ProjectStatus.REJECTED, ProjectStatus.ABANDONED}
    ),
    ProjectStatus.FUNDED: frozenset({ProjectStatus.RUNNING, ProjectStatus.ABANDONED}),
    ProjectStatus.REJECTED: frozenset({ProjectStatus.DRAFTING, ProjectStatus.ABANDONED}),
    ProjectStatus.RUNNING: frozenset({ProjectStatus.COMPLETED, ProjectStatus.ABANDONED}),
    ProjectStatus.COMPLETED: frozenset(),
    ProjectStatus.ABANDONED: frozenset(),
}

def _status(status: ProjectStatus) -> str:
    return present.label("project_status", status.value)


def _period(start: dt.date | None, end: dt.date | None) -> None:
    if start is not None and end is not None and end < start:
        raise InputError(f"fin ({end.isoformat()}) avant le début ({start.isoformat()})")


# --- links -------------------------------------------------------------------------------------


def _link_out(session: Session, link: CooperationLink) -> LinkOut:
    names = repository.organisation_names(session, (link.organisation_a_id, link.organisation_b_id))
    return LinkOut(
        id=link.id,
        cluster_id=link.cluster_id,
        organisation_a=link.organisation_a_id,
        organisation_a_name=names.get(link.organisation_a_id, ""),
        organisation_b=link.organisation_b_id,
        organisation_b_name=names.get(link.organisation_b_id, ""),
        kind=LinkKind(link.kind),
        orientations=[Orientation(o.orientation) for o in link.orientations],
        start=link.start,
        end=link.end_date,
        intensity=link.intensity,
        amount_eur=link.amount_eur,
        source=LinkSource(link.source),
        state=LinkState(link.state),
        declared_by=link.declared_by_id,
        note=link.note,
    )


def declare_link(session: Session, actor: Actor, cluster_id: int, data: LinkIn) -> LinkOut:
    """Record a link in a cluster's books: confirmed when the manager records it, pending when
    a member declares it (the other side then confirms it).

    Raises
    ------
    InputError
        A link of an organisation to itself, or a period ending before it starts.
    """
    if data.organisation_a == data.organisation_b:
        raise InputError(
            "lien refusé : une organisation ne coopère pas avec elle-même "
            f"(organisation {data.organisation_a})"
        )
    _period(data.start, data.end)
    by_manager = policy.require_declare(
        session, actor, cluster_id, (data.organisation_a, data.organisation_b), "déclarer un lien"
    )
    link = CooperationLink(
        cluster_id=cluster_id,
        organisation_a_id=data.organisation_a,
        organisation_b_id=data.organisation_b,
        kind=data.kind.value,
        start=data.start,
        end_date=data.end,
        intensity=data.intensity,
        amount_eur=data.amount_eur,
        source=(LinkSource.MANAGER if by_manager else LinkSource.MEMBER).value,
        state=(LinkState.CONFIRMED if by_manager else LinkState.PENDING).value,
        declared_by_id=None if by_manager else actor.organisation_id,
        note=data.note,
        orientations=[LinkOrientation(orientation=o.value) for o in dict.fromkeys(data.orientations)],
    )
    links = repository.LinkRepository(session)
    links.add(link)
    links.flush()
    return _link_out(session, link)


def answer_link(session: Session, actor: Actor, link_id: int, answer: LinkAnswer) -> LinkOut:
    """The other side confirms (or declines) a link a member declared."""
    links = repository.LinkRepository(session)
    link = links.get(link_id)
    policy.require_answer(session, actor, link)
    if link.state != LinkState.PENDING.value:
        raise ConflictError(f"lien {link_id} déjà traité (état : {link.state})")
    link.state = (LinkState.CONFIRMED if answer.accept else LinkState.DECLINED).value
    links.flush()
    return _link_out(session, link)


def end_link(session: Session, actor: Actor, link_id: int, data: LinkEnd) -> LinkOut:
    """End a link on a day (default today): the managers of the cluster whose books hold it.

    Raises
    ------
    InputError
        An end before the link's start.
    ConflictError
        The link has already ended.
    """
    links = repository.LinkRepository(session)
    link = links.get(link_id)
    policy.require_record(session, actor, link, Access.MANAGE, "mettre fin à un lien")
    if link.end_date is not None:
        raise ConflictError(f"lien {link_id} déjà terminé (le {present.date(link.end_date)})")
    end = data.end or dt.date.today()
    _period(link.start, end)
    link.end_date = end
    links.flush()
    return _link_out(session, link)


def list_links(
    session: Session, actor: Actor, cluster_id: int, *, limit: int = 100, offset: int = 0
) -> LinkPage:
    """Links of a cluster's books: all for its managers, a member's own for a member user."""
    organisation_id = policy.records_filter(session, actor, cluster_id, "lister les liens de coopération")
    total, links = repository.LinkRepository(session).of_cluster(
        cluster_id, organisation_id=organisation_id, limit=limit, offset=offset
    )
    return LinkPage(total=total, items=[_link_out(session, link) for link in links])


# --- projects ----------------------------------------------------------------------------------


def _partner_out(partner: ProjectPartner) -> PartnerOut:
    return PartnerOut(
        id=partner.id,
        organisation_id=partner.organisation_id,
        name=partner.organisation.name if partner.organisation is not None else None,
        category=PartnerCategory(partner.category) if partner.category else None,
        source_category=partner.source_category,
        coordinator=partner.coordinator,
        town=partner.town,
        country=partner.country,
        budget_eur=partner.budget_eur,
    )


def _project_out(session: Session, project: Project) -> ProjectOut:
    return ProjectOut(
        id=project.id,
        cluster_id=project.cluster_id,
        code=project.code,
        acronym=project.acronym,
        title=project.title,
        summary=project.summary,
        kind=ProjectKind(project.kind),
        status=ProjectStatus(project.status),
        call=project.call,
        edition=project.edition,
        start=project.start,
        end=project.end_date,
        confidential=project.confidential,
        inter_cluster=len(repository.partner_clusters(session, project.id)) > 1,
        labelled_by=sorted(label.cluster_id for label in project.labels),
        partners=[_partner_out(p) for p in project.partners],
        fundings=[
            FundingOut(funder=f.funder, programme=Programme(f.programme), amount_eur=f.amount_eur)
            for f in project.fundings
        ],
        transitions=[TransitionOut(status=ProjectStatus(t.status), on=t.on) for t in project.transitions],
        patents=project.patents,
        products=project.products,
        jobs=project.jobs,
        turnover_eur=project.turnover_eur,
    )


def _project(session: Session, actor: Actor, project_id: int, need: Access, action: str) -> Project:
    project = repository.ProjectRepository(session).load(project_id)
    policy.require_project(session, actor, project, need, action)
    return project


def _partner(session: Session, actor: Actor, data: PartnerIn) -> ProjectPartner:
    """A partner row; its organisation found (id, SIREN, name key and kind) or created."""
    organisation_id = data.organisation_id
    name = data.name.strip() if data.name else ""
    if organisation_id is not None:
        policy.require_existing(session, (organisation_id,))
        require_organisation(session, actor, organisation_id, Access.READ, "ajouter un partenaire")
    elif name_key(name) not in NOT_GIVEN:
        kind = (
            KIND_OF_CATEGORY.get(data.category, OrganisationKind.OTHER)
            if data.category
            else OrganisationKind.OTHER
        )
        siren = normalize_siren(data.siren) if data.siren else None
        found = repository.organisations_by_siren(session, [siren]).get(siren) if siren else None
        ref = repository.organisations_by_name_key(session, [name_key(name)]).get(
            (name_key(name), kind.value)
        )
        if found is not None:
            organisation_id = found
        elif ref is not None and repository.same_organisation(ref, siren):
            organisation_id = ref.id
            if siren is not None:
                repository.set_sirens(session, {ref.id: siren})
        else:
            organisation = Organisation(
                name=name, kind=kind.value, siren=siren, town=data.town, country=data.country
            )
            session.add(organisation)
            flush(session)  # its id, for the partner row
            organisation_id = organisation.id
    return ProjectPartner(
        organisation_id=organisation_id,
        coordinator=data.coordinator,
        category=data.category.value if data.category else None,
        town=data.town,
        country=data.country,
        budget_eur=data.budget_eur,
    )


def create_project(session: Session, actor: Actor, cluster_id: int, data: ProjectIn) -> ProjectOut:
    """Record a collaborative project in a cluster's books (its managers only)."""
    require_cluster(session, actor, cluster_id, Access.MANAGE, "créer un projet")
    _period(data.start, data.end)
    if data.code is not None and repository.project_ids_by_code(session, [data.code]):
        raise ConflictError(f"projet de code {data.code!r} déjà enregistré")
    for label in dict.fromkeys(data.labelled_by):
        require_cluster(session, actor, label, Access.SEE, "indiquer la structure qui a labellisé le projet")
    project = Project(
        cluster_id=cluster_id,
        code=data.code,
        acronym=data.acronym,
        title=data.title,
        summary=data.summary,
        kind=data.kind.value,
        status=data.status.value,
        start=data.start,
        end_date=data.end,
        confidential=data.confidential,
        patents=data.patents,
        products=data.products,
        jobs=data.jobs,
        turnover_eur=data.turnover_eur,
        partners=[_partner(session, actor, p) for p in data.partners],
        fundings=[
            ProjectFunding(funder=f.funder, programme=f.programme.value, amount_eur=f.amount_eur)
            for f in data.fundings
        ],
        transitions=[ProjectTransition(status=data.status.value, on=dt.date.today())],
        labels=[ProjectLabel(cluster_id=c) for c in dict.fromkeys(data.labelled_by)],
    )
    projects = repository.ProjectRepository(session)
    projects.add(project)
    projects.flush()
    return _project_out(session, project)


def get_project(session: Session, actor: Actor, project_id: int) -> ProjectOut:
    """A project, for those who may read it."""
    return _project_out(session, _project(session, actor, project_id, Access.READ, "lire un projet"))


def change_status(session: Session, actor: Actor, project_id: int, data: StatusIn) -> ProjectOut:
    """Move a project along its pipeline (:data:`NEXT_STATUSES`), dated (default today).

    Raises
    ------
    InputError
        A step the pipeline does not allow, or dated before the previous step.
    """
    project = _project(session, actor, project_id, Access.MANAGE, "changer le statut d'un projet")
    current, wanted = ProjectStatus(project.status), data.status
    if wanted not in NEXT_STATUSES[current]:
        allowed = ", ".join(_status(s) for s in NEXT_STATUSES[current]) or "aucun (statut final)"
        raise InputError(
            f"projet {project_id} : passage de « {_status(current)} » à « {_status(wanted)} » "
            f"impossible ; statuts suivants possibles : {allowed}"
        )
    on = data.on or dt.date.today()
    last = max((t.on for t in project.transitions if t.on is not None), default=None)
    if last is not None and on < last:
        raise InputError(
            f"projet {project_id} : date {on.isoformat()} antérieure à l'étape précédente "
            f"({last.isoformat()})"
        )
    project.status = wanted.value
    project.transitions.append(ProjectTransition(status=wanted.value, on=on))
    flush(session)
    return _project_out(session, project)


def add_partner(session: Session, actor: Actor, project_id: int, data: PartnerIn) -> ProjectOut:
    """Add a partner (an organisation, or an unnamed partner row) to a project."""
    project = _project(session, actor, project_id, Access.MANAGE, "ajouter un partenaire")
    project.partners.append(_partner(session, actor, data))
    flush(session)
    return _project_out(session, project)


def remove_partner(session: Session, actor: Actor, project_id: int, partner_id: int) -> ProjectOut:
    """Remove a partner row from a project (its managers); NotFoundError for a row of another project."""
    project = _project(session, actor, project_id, Access.MANAGE, "retirer un partenaire")
    partner = next((p for p in project.partners if p.id == partner_id), None)
    if partner is None:
        raise not_found("partenaire", partner_id)
    project.partners.remove(partner)
    flush(session)
    return _project_out(session, project)


def list_projects(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None = None,
    status: ProjectStatus | None = None,
    limit: int = 100,
    offset: int = 0,
) -> ProjectPage:
    """Projects the actor may read (open data included), optionally of one cluster's books."""
    if cluster_id is not None and cluster_access(session, actor, cluster_id) is Access.NONE:
        raise not_found("structure", cluster_id)
    visibility = repository.ProjectVisibility(
        everything=actor.role is Role.ADMIN,
        managed=frozenset(actor.managed) if actor.role is Role.MANAGER else frozenset(),
        organisation_id=actor.organisation_id if actor.role is Role.MEMBER else None,
        member_of=frozenset(member_cluster_ids(session, actor.organisation_id))
        if actor.role is Role.MEMBER and actor.organisation_id is not None
        else frozenset(),
    )
    total, projects = repository.ProjectRepository(session).visible(
        visibility,
        cluster_id=cluster_id,
        status=status.value if status else None,
        limit=limit,
        offset=offset,
    )
    return ProjectPage(total=total, items=[ProjectSummary.model_validate(p) for p in projects])


# --- business ----------------------------------------------------------------------------------


def _deal_out(session: Session, deal: BusinessDeal) -> DealOut:
    names = repository.organisation_names(session, (deal.buyer_id, deal.seller_id))
    return DealOut(
        id=deal.id,
        cluster_id=deal.cluster_id,
        buyer=deal.buyer_id,
        buyer_name=names.get(deal.buyer_id, ""),
        seller=deal.seller_id,
        seller_name=names.get(deal.seller_id, ""),
        year=deal.year,
        amount_eur=deal.amount_eur,
        kind=DealKind(deal.kind),
        brokered=deal.brokered,
        declared_by=deal.declared_by_id,
        note=deal.note,
    )


def declare_deal(session: Session, actor: Actor, cluster_id: int, data: DealIn) -> DealOut:
    """Record business between two organisations in a cluster's books.

    Raises
    ------
    InputError
        The same organisation on both sides.
    """
    if data.buyer == data.seller:
        raise InputError(
            f"affaire refusée : acheteur et vendeur sont la même organisation (organisation {data.buyer})"
        )
    by_manager = policy.require_declare(
        session, actor, cluster_id, (data.buyer, data.seller), "déclarer une affaire"
    )
    deal = BusinessDeal(
        cluster_id=cluster_id,
        buyer_id=data.buyer,
        seller_id=data.seller,
        year=data.year,
        amount_eur=data.amount_eur,
        kind=data.kind.value,
        brokered=data.brokered,
        declared_by_id=None if by_manager else actor.organisation_id,
        note=data.note,
    )
    deals = repository.DealRepository(session)
    deals.add(deal)
    deals.flush()
    return _deal_out(session, deal)


def list_deals(
    session: Session,
    actor: Actor,
    cluster_id: int,
    *,
    year: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> DealPage:
    """Deals of a cluster's books: all for its managers, a member's own for a member user."""
    organisation_id = policy.records_filter(session, actor, cluster_id, "lister les affaires")
    total, deals = repository.DealRepository(session).of_cluster(
        cluster_id, organisation_id=organisation_id, year=year, limit=limit, offset=offset
    )
    return DealPage(total=total, items=[_deal_out(session, deal) for deal in deals])


def business_volume(session: Session, actor: Actor, cluster_id: int) -> BusinessVolume:
    """The yearly volume of business in a cluster's books and its breakdown (managers, funders)."""
    policy.require_figures(session, actor, cluster_id)
    return _business(session, cluster_id)


def cooperation_figures(session: Session, actor: Actor, cluster_id: int) -> CooperationFigures:
    """A cluster's cooperation in figures (:class:`CooperationFigures`): what its managers and the
    funders of the cluster read — counts and sums, never a record or a name."""
    policy.require_figures(session, actor, cluster_id)
    events, services = actions.figures(session, actor, cluster_id)
    funding = repository.funding_by_programme(session, cluster_id)
    return CooperationFigures(
        cluster_id=cluster_id,
        projects_by_status=repository.projects_by_status(session, cluster_id),
        project_funding_eur=sum(funding.values(), Decimal(0)),
        funding_by_programme=funding,
        inter_cluster_projects=repository.inter_cluster_projects(session, cluster_id, dt.date.today()),
        links_by_state=repository.links_by_state(session, cluster_id),
        business=_business(session, cluster_id).years,
        events=events,
        services=services.years,
    )


def _business(session: Session, cluster_id: int) -> BusinessVolume:
    years: dict[int, BusinessYear] = {}
    by_kind: dict[int, dict[str, Decimal]] = defaultdict(dict)
    for year, kind, brokered, deals, amount in repository.business_by_year(session, cluster_id):
        total = Decimal(amount or 0)
        entry = years.setdefault(
            year, BusinessYear(year=year, deals=0, amount_eur=Decimal(0), brokered_eur=Decimal(0), by_kind={})
        )
        entry.deals += deals
        entry.amount_eur += total
        if brokered:
            entry.brokered_eur += total
        by_kind[year][kind] = by_kind[year].get(kind, Decimal(0)) + total
    for year, entry in years.items():
        entry.by_kind = by_kind[year]
    return BusinessVolume(cluster_id=cluster_id, years=list(years.values()))


# --- organisations known by name ------------------------------------------------------------------


def merge_organisation(session: Session, actor: Actor, source_id: int, target_id: int) -> int:
    """Merge an organisation known by name only into another one (its SIREN's, once known).

    Its project partners, links and deals move to the target; the source is deleted. The
    platform administrator's operation: it rewrites several clusters' records.

    Raises
    ------
    InputError
        The same organisation twice, or a source with records outside cooperation
        (memberships, contacts, users…) that a merge would lose.
    """
    require_admin(actor, "fusionner des organisations")
    if source_id == target_id:
        raise InputError(f"fusion refusée : l'organisation {source_id} est la même des deux côtés")
    policy.require_existing(session, (source_id, target_id))
    elsewhere = repository.other_references(session, source_id)
    if elsewhere:
        raise InputError(
            f"fusion refusée : l'organisation {source_id} a d'autres données ({', '.join(elsewhere)}) ; "
            "fusionnez dans l'autre sens ou retirez-les d'abord"
        )
    return repository.merge_organisation(session, source_id, target_id)


# --- the network ------------------------------------------------------------------------------------

# The measures name organisations and reveal who works with whom, which a member sees only for
# its own records: a cluster's network is read by its managers (and the platform administrator),
# the network of every stored organisation by the administrator alone. A layer grappe does not
# record yet (``events``) is accepted and empty.

def analyse_network(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None,
    layers: Sequence[str] = network.LAYERS,
    start: dt.date | None = None,
    end: dt.date | None = None,
    seed: int = 0,
) -> network.NetworkAnalysis:
    """The network of a cluster (its members and the organisations they are tied to) or of all.

    Parameters
    ----------
    cluster_id
        The cluster organisation; None for every stored organisation (administrator only).
    layers
        Names among :data:`network.LAYERS`.
    start, end
        The period: a record counts when its own period meets it; without bounds every record
        counts, undated ones included (CONTRACTS, "network measures").

    Raises
    ------
    InputError
        An unknown layer, a period that ends before it starts.
    NotFoundError, PermissionDeniedError
        The cluster does not exist for the actor, or the actor does not manage it.
    """
    if cluster_id is None:
        require_admin(actor, "analyser le réseau de toutes les organisations")
    else:
        require_cluster(session, actor, cluster_id, Access.MANAGE, "analyser le réseau")
    chosen = network.chosen_layers(layers)
    network.check_period(start, end)
    scope = repository.Scope(cluster_id, start, end)
    ties = repository.network_ties(session, scope, [Layer(n) for n in chosen])
    nodes = repository.network_nodes(session, scope, ties)
    # the repository applied the period (a link counts when its own period meets it): the
    # graph takes every tie it returned
    graph = network.build_graph(
        pd.DataFrame(nodes, columns=list(network.NODE_COLUMNS)),
        pd.DataFrame(ties, columns=list(network.TIE_COLUMNS)),
        layers=chosen,
    )
    return network.analyse(graph, seed=seed)


def year_period(year: int) -> tuple[dt.date, dt.date]:
    """The calendar year as a period, both days included."""
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def network_change(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None,
    before: tuple[dt.date | None, dt.date | None],
    after: tuple[dt.date | None, dt.date | None],
    layers: Sequence[str] = network.LAYERS,
    seed: int = 0,
) -> tuple[network.NetworkAnalysis, network.NetworkChange]:
    """The network of the period ``after`` and its change since the period ``before`` (e.g. the
    previous year): density, components, core size, SMEs in the core, dependence on the most
    connected, organisations that joined or left, ties new, kept and ended.

    Raises
    ------
    InputError
        A period without its two bounds (a change between two open periods would compare a
        network with itself), or one of :func:`analyse_network`'s.
    """
    for name, (start, end) in (("comparée", before), ("analysée", after)):
        if start is None or end is None:
            raise InputError(f"évolution du réseau : la période {name} doit avoir un début et une fin")
    old = analyse_network(session, actor, cluster_id=cluster_id, layers=layers, start=before[0],
                          end=before[1], seed=seed)
    new = analyse_network(session, actor, cluster_id=cluster_id, layers=layers, start=after[0],
                          end=after[1], seed=seed)
    return new, network.compare(old, new)


def network_page(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None,
    layers: Sequence[str] = network.LAYERS,
    start: dt.date | None = None,
    end: dt.date | None = None,
    compare_to: int | None = None,
    order: str = "degree",
    ascending: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    seed: int = 0,
) -> NetworkPage:
    """A page of a network's measures (ordered by ``order``: measures descending and names
    ascending unless ``ascending`` says otherwise; ties by name), its summary and, with
    ``compare_to`` (a year), its change since that calendar year.

    Raises
    ------
    InputError
        An unknown ``order`` (the allowed ones named), a page out of bounds, or the errors of
        :func:`analyse_network` and :func:`network_change`.
    """
    if order not in NETWORK_ORDERS:
        raise InputError(f"ordre « {order} » inconnu ; attendu : {', '.join(NETWORK_ORDERS)}")
    check_page(limit, offset)
    chosen = network.chosen_layers(layers)
    change: NetworkChangeOut | None = None
    if compare_to is None:
        analysis = analyse_network(
            session, actor, cluster_id=cluster_id, layers=chosen, start=start, end=end, seed=seed
        )
    else:
        before = year_period(compare_to)
        analysis, moved = network_change(
            session, actor, cluster_id=cluster_id, layers=chosen, before=before, after=(start, end), seed=seed
        )
        change = _change_out(moved, before)
    table = analysis.measures
    if ascending is None:
        ascending = order == "organisation"
    ordered = table.sort_values([order, "organisation"], ascending=[ascending, True], kind="stable")
    rows = ordered.iloc[offset: offset + limit]
    return NetworkPage(
        total=len(table),
        items=[MeasureOut.model_validate(_plain_row(row)) for row in rows.to_dict("records")],
        layers=list(chosen),
        start=start,
        end=end,
        betweenness_samples=analysis.betweenness_samples,
        summary=_summary_out(analysis.summary),
        change=change,
    )


def _ids(values: Sequence[object]) -> list[int]:
    return [int(v) for v in values]  # type: ignore[call-overload]


def _plain_row(row: dict[str, object]) -> dict[str, object]:
    """A measures row with NumPy scalars made Python ones and missing values None."""
    plain = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in plain.items()}


def _summary_out(summary: network.NetworkSummary) -> NetworkSummaryOut:
    dependence = summary.dependence
    return NetworkSummaryOut(
        organisations=summary.organisations,
        ties=summary.ties,
        density=summary.density,
        components=summary.components,
        core_k=summary.core_k,
        core_size=summary.core_size,
        sme_share_in_core=summary.sme_share_in_core,
        isolated_members=_ids(summary.isolated_members),
        peripheral_members=_ids(summary.peripheral_members),
        brokers=_ids(summary.brokers),
        dependence=DependenceOut(
            top=dependence.top,
            removed=_ids(dependence.removed),
            ties_lost_share=dependence.ties_lost_share,
            largest_component_before=dependence.largest_component_before,
            largest_component_after=dependence.largest_component_after,
            components_after=dependence.components_after,
        ),
    )


def _change_out(change: network.NetworkChange, before: tuple[dt.date, dt.date]) -> NetworkChangeOut:
    def pair(values: tuple[float | None, float | None]) -> Change:
        return Change(before=values[0], after=values[1])

    return NetworkChangeOut(
        before_start=before[0],
        before_end=before[1],
        joined=_ids(change.joined),
        left=_ids(change.left),
        ties_new=change.ties_new,
        ties_kept=change.ties_kept,
        ties_ended=change.ties_ended,
        organisations=pair(change.organisations),
        ties=pair(change.ties),
        density=pair(change.density),
        components=pair(change.components),
        core_size=pair(change.core_size),
        sme_share_in_core=pair(change.sme_share_in_core),
        dependence=pair(change.dependence),
        largest_component_without_top=pair(change.largest_component_without_top),
    )


def network_file(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None,
    file_format: str,
    layers: Sequence[str] = network.LAYERS,
    start: dt.date | None = None,
    end: dt.date | None = None,
    seed: int = 0,
) -> tuple[bytes, str, str]:
    """A network file to download: ``(content, media type, file name)``; ``file_format`` among
    :data:`grappe.cooperation.network_export.FILE_FORMATS` (GraphML, GEXF, PNG, SVG)."""
    from grappe.cooperation import network_export

    if file_format not in network_export.FILE_FORMATS:
        raise InputError(
            f"format « {file_format} » inconnu ; attendu : {', '.join(network_export.FILE_FORMATS)}"
        )
    analysis = analyse_network(
        session, actor, cluster_id=cluster_id, layers=layers, start=start, end=end, seed=seed
    )
    suffix, media_type = network_export.FILE_FORMATS[file_format]
    name = f"reseau-{cluster_id if cluster_id is not None else 'tous'}{suffix}"
    return network_export.render(analysis, file_format, seed=seed), media_type, name
