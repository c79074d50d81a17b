"""What users do with cluster organisations: create, read, change, label, fund, govern, list publicly.

Every function takes the session of the caller's unit of work and the acting user first;
roles are checked through :mod:`grappe.registry.policy`, the SQL is in
:mod:`grappe.registry.clusters.repository`, and nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy.orm import Session

from grappe.errors import InputError, NotFoundError
from grappe.kit.repository import MAX_PAGE, check_page
from grappe.refdata import naf, territories
from grappe.registry import policy, refs
from grappe.registry.clusters.repository import (
    DIRECTORY_SORTS,
    ClusterRepository,
    DirectoryShape,
    LabelRepository,
    SeatHolderRepository,
)
from grappe.registry.clusters.schemas import (
    BodyIn,
    BodyOut,
    ClusterCreate,
    ClusterOut,
    ClusterPage,
    ClusterProfile,
    ClusterSummary,
    ClusterUpdate,
    DirectoryPage,
    DirectoryPlace,
    FundingIn,
    FundingOut,
    LabelIn,
    LabelOut,
    NamedCode,
    PlatformFigures,
    PublicLabel,
    SeatHolderIn,
    SeatHolderOut,
    TerritoryOut,
    TerritoryRef,
)
from grappe.registry.models import (
    BodyKind,
    Cluster,
    ClusterFunding,
    ClusterLabel,
    ClusterSector,
    ClusterTerritory,
    Funder,
    FundingSource,
    GovernanceBody,
    LabelKind,
    Role,
    SeatHolder,
)
from grappe.registry.organisations import service as organisations
from grappe.registry.policy import Access, Actor

#: Directory size classes by number of current members (documented in the CLI help).
#: The most seats a governance body has (as BodyIn's bound).
MAX_SEATS = 1000
SIZE_CLASSES: dict[str, tuple[int, int | None]] = {
    "petit": (0, 50),
    "moyen": (50, 200),
    "grand": (200, None),
}


def _territories(refs_in: list[TerritoryRef]) -> list[ClusterTerritory]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for ref in refs_in:
        code, region = refs.normalize_territory(ref.level.value, ref.code)
        if (ref.level.value, code) in seen:
            continue
        seen.add((ref.level.value, code))
        rows.append(ClusterTerritory(level=ref.level.value, code=code, region=region))
    return rows


def _sectors(codes: list[str]) -> list[ClusterSector]:
    seen: dict[str, str] = {}
    for code in codes:
        canonical, section = refs.normalize_sector(code)
        seen.setdefault(canonical, section)
    return [ClusterSector(naf=c, section=s) for c, s in seen.items()]


def _label_out(label: ClusterLabel) -> LabelOut:
    return LabelOut(
        id=label.id,
        kind=LabelKind(label.kind),
        name=label.name,
        funder=label.funder.name if label.funder else None,
        phase=label.phase,
        start=label.start,
        end=label.end_date,
    )


def _identity(cluster: Cluster) -> dict[str, Any]:
    """The fields the private and the public view of a cluster share (ClusterIdentity)."""
    return {
        key: getattr(cluster, key)
        for key in ("id", "name", "acronym", "legal_form", "founded", "website", "description")
    }


def _cluster_out(cluster: Cluster) -> ClusterOut:
    return ClusterOut(
        **_identity(cluster),
        territories=[TerritoryOut(level=t.level, code=t.code) for t in cluster.territories],  # type: ignore[arg-type]
        sectors=[s.naf for s in cluster.sectors],
        sector_group=cluster.sector_group,
        public=cluster.public,
        member_count=cluster.member_count,
        labels=[_label_out(label) for label in cluster.labels],
        bodies=[_body_out(body) for body in cluster.bodies],
        fundings=[
            FundingOut(
                id=f.id,
                year=f.year,
                source=FundingSource(f.source),
                amount_eur=f.amount_eur,
                funder=f.funder.name if f.funder else None,
            )
            for f in cluster.fundings
        ],
        version=cluster.version,
    )


def _body_out(body: GovernanceBody) -> BodyOut:
    return BodyOut(
        kind=body.kind,  # type: ignore[arg-type]
        seats=body.seats,
        holders=[
            SeatHolderOut(
                id=h.id,
                person=h.person,
                office=h.office,
                organisation_id=h.organisation_id,
                start=h.start,
                end=h.end_date,
            )
            for h in body.holders
        ],
    )


def funder_named(session: Session, name: str | None) -> Funder | None:
    """The funder of a name, created when new (None for no name)."""
    if name is None or not name.strip():
        return None
    name = name.strip()
    repository = ClusterRepository(session)
    funder = repository.funder(name)
    if funder is None:
        funder = Funder(name=name)
        session.add(funder)
    return funder


def create_cluster(session: Session, actor: Actor, data: ClusterCreate) -> ClusterOut:
    """Create a cluster organisation (platform administrators only).

    Territory codes are checked against the COG, sector codes against NAF rév. 2.
    """
    policy.require_admin(actor, "créer une structure")
    if data.sector_group and not data.sectors:
        raise InputError("sector_group donné sans codes NAF : la filière doit lister ses codes")
    repository = ClusterRepository(session)
    cluster = repository.add(
        Cluster(
            name=data.name.strip(),
            acronym=data.acronym,
            legal_form=data.legal_form,
            founded=data.founded,
            website=data.website,
            description=data.description,
            sector_group=data.sector_group,
            public=data.public,
            member_count=0,
            territories=_territories(data.territories),
            sectors=_sectors(data.sectors),
        )
    )
    repository.flush()
    return _cluster_out(cluster)


def load_cluster(session: Session, cluster_id: int) -> Cluster:
    """A cluster organisation with its territories, sectors, labels, bodies and funding.

    No role is checked: for services that checked it already.
    """
    return ClusterRepository(session).load(cluster_id)


def get_cluster(session: Session, actor: Actor, cluster_id: int) -> ClusterOut:
    """A cluster organisation in full (administrators, its managers and its funders)."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "consulter la fiche complète")
    return _cluster_out(load_cluster(session, cluster_id))


def update_cluster(session: Session, actor: Actor, cluster_id: int, data: ClusterUpdate) -> ClusterOut:
    """Change a cluster organisation (administrators and its managers; optimistic locking)."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "modifier la structure")
    repository = ClusterRepository(session)
    cluster = repository.load(cluster_id)
    repository.check_version(cluster, data.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version", "territories", "sectors"})
    for key, value in changes.items():
        if key == "name" and value is None:
            raise InputError("name ne peut pas être vide")
        setattr(cluster, key, value)
    if data.territories is not None:
        wanted = {(t.level, t.code): t for t in _territories(data.territories)}
        cluster.territories = [t for t in cluster.territories if (t.level, t.code) in wanted] + [
            t for key, t in wanted.items() if key not in {(x.level, x.code) for x in cluster.territories}
        ]
    if data.sectors is not None:
        wanted_s = {s.naf: s for s in _sectors(data.sectors)}
        current = {s.naf for s in cluster.sectors}
        cluster.sectors = [s for s in cluster.sectors if s.naf in wanted_s] + [
            s for code, s in wanted_s.items() if code not in current
        ]
    if data.territories is not None or data.sectors is not None:
        cluster.updated_at = dt.datetime.now(dt.UTC)  # bumps the version with child changes
    repository.flush()
    return _cluster_out(cluster)


def list_clusters(
    session: Session, actor: Actor, *, limit: int = 100, offset: int = 0
) -> ClusterPage:
    """Cluster organisations whose private data the actor may read, by name."""
    check_page(limit, offset)
    scope = policy.readable_cluster_ids(session, actor)
    total, rows = ClusterRepository(session).summaries(scope, limit, offset)
    return ClusterPage(total=total, items=[ClusterSummary.model_validate(c) for c in rows])


def managed_clusters(session: Session, actor: Actor) -> list[ClusterSummary]:
    """The cluster organisations the actor runs (its managed ones; every one for administrators)."""
    policy.require_manager(actor, "gérer une structure")
    return list_clusters(session, actor, limit=MAX_PAGE).items


def funded_clusters(session: Session, actor: Actor) -> list[ClusterSummary]:
    """The cluster organisations a funder user's funder funds (a label it grants, a funding line), by name."""
    if actor.role is not Role.FUNDER or actor.funder_id is None:
        raise policy.deny(actor, "consulter les structures d'un financeur")
    ids = policy.funded_cluster_ids(session, actor.funder_id)
    _, rows = ClusterRepository(session).summaries(ids, MAX_PAGE, 0)
    return [ClusterSummary.model_validate(c) for c in rows]


def member_clusters(session: Session, actor: Actor) -> list[ClusterSummary]:
    """The cluster organisations a member user's organisation belongs to today, by name."""
    if actor.role is not Role.MEMBER or actor.organisation_id is None:
        raise policy.deny(actor, "consulter les structures d'un adhérent")
    ids = policy.member_cluster_ids(session, actor.organisation_id)
    _, rows = ClusterRepository(session).summaries(ids, MAX_PAGE, 0)
    return [ClusterSummary.model_validate(c) for c in rows]


def managed_cluster(session: Session, actor: Actor, cluster_id: int) -> ClusterOut:
    """A cluster organisation the actor runs (administrators and its managers)."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "gérer la structure")
    return _cluster_out(load_cluster(session, cluster_id))


def resolve_cluster(session: Session, ref: str) -> int:
    """A cluster organisation id from an id, an acronym or an exact name (CLI arguments)."""
    repository = ClusterRepository(session)
    text = ref.strip()
    if text.isdigit():
        return repository.get(int(text)).id
    ids = repository.ids_named(text)
    if not ids:
        raise NotFoundError(f"structure {ref!r} introuvable (ni identifiant, ni sigle, ni nom)")
    if len(ids) > 1:
        raise InputError(f"{ref!r} désigne plusieurs structures ({ids}) : donnez l'identifiant")
    return ids[0]


def add_label(session: Session, actor: Actor, cluster_id: int, data: LabelIn) -> LabelOut:
    """Record a label period of a cluster organisation (administrators and its managers)."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "ajouter un label")
    repository = ClusterRepository(session)
    cluster = repository.get(cluster_id)
    if data.end is not None and data.end < data.start:
        raise InputError(f"label : fin {data.end} avant le début {data.start}")
    label = ClusterLabel(
        cluster=cluster,
        kind=data.kind.value,
        name=data.name,
        funder=funder_named(session, data.funder),
        phase=data.phase,
        start=data.start,
        end_date=data.end,
    )
    session.add(label)
    repository.flush()
    return _label_out(label)


def set_funding(session: Session, actor: Actor, cluster_id: int, data: FundingIn) -> FundingOut:
    """Set the funding of a year from a source (and funder), replacing the previous amount."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "déclarer un financement")
    repository = ClusterRepository(session)
    funder = funder_named(session, data.funder)
    repository.flush()
    line = repository.funding_line(
        cluster_id, data.year, data.source.value, None if funder is None else funder.id
    )
    if line is None:
        line = ClusterFunding(
            cluster_id=cluster_id,
            year=data.year,
            source=data.source.value,
            funder=funder,
            amount_eur=data.amount_eur,
        )
        session.add(line)
    else:
        line.amount_eur = data.amount_eur
    repository.flush()
    return FundingOut(
        id=line.id,
        year=line.year,
        source=data.source,
        funder=data.funder,
        amount_eur=Decimal(line.amount_eur),
    )


def set_body(session: Session, actor: Actor, cluster_id: int, data: BodyIn) -> BodyOut:
    """Set a governance body (board, bureau) and its seat holders, replacing the previous ones."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "modifier la gouvernance")
    if len(data.holders) > data.seats:
        raise InputError(f"{data.kind.value} : {len(data.holders)} titulaires pour {data.seats} sièges")
    for holder in data.holders:
        if holder.organisation_id is not None:
            # a seat names an organisation the cluster knows, never one of another tenant
            organisations.load_for(session, actor, holder.organisation_id, Access.READ, "désigner au conseil")
    repository = ClusterRepository(session)
    body = repository.body(cluster_id, data.kind.value)
    if body is None:
        body = GovernanceBody(cluster_id=cluster_id, kind=data.kind.value, seats=data.seats)
        session.add(body)
    body.seats = data.seats
    body.holders = [
        SeatHolder(
            person=h.person,
            office=h.office,
            organisation_id=h.organisation_id,
            start=h.start,
            end_date=h.end,
        )
        for h in data.holders
    ]
    repository.flush()
    return _body_out(body)


def end_label(session: Session, actor: Actor, label_id: int, end: dt.date) -> LabelOut:
    """Close a label period on ``end`` (administrators and the cluster's managers).

    Another tenant's label is "introuvable", as the cluster's other private objects.
    """
    label = LabelRepository(session).get(label_id)
    policy.require_cluster_object(
        session, actor, label.cluster_id, Access.MANAGE, f"label {label_id}", "clore le label"
    )
    if end < label.start:
        raise InputError(f"label {label_id} : fin {end.isoformat()} avant le début {label.start.isoformat()}")
    label.end_date = end
    LabelRepository(session).flush()
    return _label_out(label)


def _sitting(holders: list[SeatHolder], day: dt.date) -> int:
    """Seat holders whose term runs on ``day``."""
    return sum(1 for h in holders if h.end_date is None or h.end_date >= day)


def set_seats(session: Session, actor: Actor, cluster_id: int, kind: BodyKind, seats: int) -> BodyOut:
    """Create a governance body or change its number of seats, keeping its holders.

    Refused when fewer seats than holders in office today.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "modifier la gouvernance")
    if not 1 <= seats <= MAX_SEATS:
        raise InputError(f"{kind.value} : {seats} sièges, attendu de 1 à {MAX_SEATS}")
    repository = ClusterRepository(session)
    body = repository.body(cluster_id, kind.value)
    if body is None:
        body = GovernanceBody(cluster_id=cluster_id, kind=kind.value, seats=seats)
        session.add(body)
    elif (sitting := _sitting(body.holders, dt.date.today())) > seats:
        raise InputError(f"{kind.value} : {sitting} titulaires en fonction pour {seats} sièges")
    body.seats = seats
    repository.flush()
    return _body_out(body)


def add_seat_holder(
    session: Session, actor: Actor, cluster_id: int, kind: BodyKind, data: SeatHolderIn
) -> BodyOut:
    """Seat a person in a governance body (administrators and the cluster's managers).

    Refused when the body does not exist yet or every seat is taken today; the organisation a
    seat names must be one the cluster knows (never another tenant's).
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "modifier la gouvernance")
    body = ClusterRepository(session).body(cluster_id, kind.value)
    if body is None:
        raise InputError(f"{kind.value} : instance absente, fixez d'abord son nombre de sièges")
    if data.start is not None and data.end is not None and data.end < data.start:
        raise InputError(f"mandat : fin {data.end.isoformat()} avant le début {data.start.isoformat()}")
    if data.organisation_id is not None:
        organisations.load_for(session, actor, data.organisation_id, Access.READ, "désigner au conseil")
    if _sitting(body.holders, dt.date.today()) >= body.seats:
        raise InputError(f"{kind.value} : les {body.seats} sièges sont occupés")
    body.holders.append(
        SeatHolder(
            person=data.person,
            office=data.office,
            organisation_id=data.organisation_id,
            start=data.start,
            end_date=data.end,
        )
    )
    ClusterRepository(session).flush()
    return _body_out(body)


def end_seat_holder(session: Session, actor: Actor, holder_id: int, end: dt.date) -> BodyOut:
    """End a seat holder's term on ``end`` (administrators and the cluster's managers).

    Another tenant's seat holder is "introuvable".
    """
    holder = SeatHolderRepository(session).get(holder_id)
    body = holder.body
    policy.require_cluster_object(
        session, actor, body.cluster_id, Access.MANAGE, f"mandat {holder_id}", "clore le mandat"
    )
    if holder.start is not None and end < holder.start:
        raise InputError(
            f"mandat {holder_id} : fin {end.isoformat()} avant le début {holder.start.isoformat()}"
        )
    holder.end_date = end
    SeatHolderRepository(session).flush()
    return _body_out(body)


def check_exists(session: Session, cluster_id: int) -> None:
    """Raise NotFoundError unless the cluster organisation exists (no role checked: for other services)."""
    ClusterRepository(session).get(cluster_id)


# --- public directory and profiles -----------------------------------------------------------


def _directory_filter(
    label: str | None,
    region: str | None,
    sector: str | None,
    size: str | None,
    on: dt.date | None,
    sort: str,
) -> tuple[DirectoryShape, dict[str, Any]]:
    """The statement shape and bound values of the directory's filters (see :func:`directory`)."""
    if sort not in DIRECTORY_SORTS:
        raise InputError(f"tri {sort!r} inconnu : attendu {', '.join(DIRECTORY_SORTS)}")
    params: dict[str, Any] = {"day": on or dt.date.today()}
    label_shape = None
    if label:
        if label == "none":
            label_shape = "none"
        elif label in {k.value for k in LabelKind}:
            label_shape, params["label"] = "kind", label
        else:
            label_shape, params["label"] = "name", label.lower()
    if region:
        params["region"] = region.strip()
        refs.normalize_territory("region", params["region"])
    sector_shape = None
    if sector:
        chain = refs.sector_and_ancestors(sector)
        params["chain"] = chain
        if len(chain[0]) == 1:
            sector_shape, params["sector"] = "section", chain[0]
        else:
            sector_shape, params["sector_prefix"] = "prefix", f"{chain[0]}%"
    size_shape = None
    if size:
        if size not in SIZE_CLASSES:
            raise InputError(f"taille {size!r} inconnue : attendu {', '.join(SIZE_CLASSES)}")
        params["low"], high = SIZE_CLASSES[size]
        size_shape = "open" if high is None else "bounded"
        if high is not None:
            params["high"] = high
    return (label_shape, bool(region), sector_shape, size_shape, sort), params


def directory(
    session: Session,
    actor: Actor,
    *,
    label: str | None = None,
    region: str | None = None,
    sector: str | None = None,
    size: str | None = None,
    on: dt.date | None = None,
    sort: str = "name",
    limit: int = 50,
    offset: int = 0,
) -> DirectoryPage:
    """The public directory of cluster organisations (everyone, the public included).

    Parameters
    ----------
    label
        A label kind (``pole``, ``grappe``, ``regional``, ``none``) held on ``on``, or the name
        of a label (e.g. ``PRIDES``).
    region
        A région code (COG): clusters with a territory in it.
    sector
        A NAF code at any level: clusters whose scope contains it, or is contained in it.
    size
        ``petit`` (< 50 current members), ``moyen`` (50 to 199) or ``grand`` (200 and more).
    sort
        ``name`` (default) or ``members``, ``-name`` or ``-members`` for the reverse order.
    """
    del actor  # the directory is public: every role may read it
    check_page(limit, offset)
    shape, params = _directory_filter(label, region, sector, size, on, sort)
    params |= {"limit": limit, "offset": offset}
    repository = ClusterRepository(session)
    total, page = repository.directory_page(shape, params)
    if not page:
        return DirectoryPage(total=total, items=[])
    ids = [row.id for row in page]
    labels: dict[int, set[str]] = {cid: set() for cid in ids}
    regions: dict[int, set[str]] = {cid: set() for cid in ids}
    sectors: dict[int, list[tuple[int, str]]] = {cid: [] for cid in ids}
    for what, cid, value, rank in repository.directory_details(ids, params["day"]):
        if what == "label":
            labels[cid].add(value)
        elif what == "region":
            regions[cid].add(value)
        else:
            sectors[cid].append((rank, value))
    return DirectoryPage.model_validate(
        {
            "total": total,
            "items": [
                {
                    "id": row.id,
                    "name": row.name,
                    "acronym": row.acronym,
                    "website": row.website,
                    "description": row.description,
                    "labels": sorted(labels[row.id]),
                    "regions": sorted(regions[row.id]),
                    "sectors": [code for _, code in sorted(sectors[row.id])],
                    "member_count": row.member_count,
                }
                for row in page
            ],
        }
    )


def directory_places(
    session: Session,
    actor: Actor,
    *,
    label: str | None = None,
    region: str | None = None,
    sector: str | None = None,
    size: str | None = None,
    on: dt.date | None = None,
) -> list[DirectoryPlace]:
    """Every cluster organisation the directory's filters keep, with its territories (the map).

    The filters are those of :func:`directory`, every page at once.
    """
    del actor  # the directory is public: every role may read it
    shape, params = _directory_filter(label, region, sector, size, on, "name")
    rows = ClusterRepository(session).directory_places(shape, params)
    places: dict[int, DirectoryPlace] = {}  # in the directory's order
    for cid, name, acronym, members, level, code in rows:
        place = places.get(cid)
        if place is None:
            place = places[cid] = DirectoryPlace(
                id=cid, name=name, acronym=acronym, member_count=members, territories=[]
            )
        place.territories.append(TerritoryOut(level=level, code=code))  # type: ignore[arg-type]
    return list(places.values())


@lru_cache(maxsize=8)
def _territory_names(level: str) -> dict[str, str]:
    return territories.names(level)


def named_territory(level: str, code: str) -> NamedCode:
    """A territory with its COG name (the code stands in for an unknown one)."""
    return NamedCode(level=level, code=code, name=_territory_names(level).get(code, code))


def named_sector(code: str) -> NamedCode:
    """A NAF code with its level and French label."""
    return NamedCode(level=naf.level(code), code=code, name=naf.label(code))


def cluster_profile(
    session: Session, actor: Actor, cluster_id: int, on: dt.date | None = None
) -> ClusterProfile:
    """The public profile of a cluster organisation.

    A non-public organisation answers "introuvable" to those who may not read it, as an
    unknown id does: its existence is not revealed.
    """
    policy.require_cluster(session, actor, cluster_id, Access.SEE, "voir la fiche")
    cluster = load_cluster(session, cluster_id)
    day = on or dt.date.today()
    return ClusterProfile(
        **_identity(cluster),
        sector_group=cluster.sector_group,
        member_count=cluster.member_count,
        territories=[named_territory(t.level, t.code) for t in cluster.territories],
        sectors=[named_sector(s.naf) for s in cluster.sectors],
        labels=[
            PublicLabel(
                kind=LabelKind(label.kind),
                name=label.name,
                phase=label.phase,
                start=label.start,
                end=label.end_date,
                current=label.held_on(day),
            )
            for label in sorted(cluster.labels, key=lambda item: item.start, reverse=True)
            if label.kind != LabelKind.NONE
        ],
    )


def platform_figures(session: Session, on: dt.date | None = None) -> PlatformFigures:
    """Public cluster organisations, their current members, how many hold a label, régions covered."""
    clusters, members, labelled, regions = ClusterRepository(session).platform_figures(on or dt.date.today())
    return PlatformFigures(clusters=clusters, members=members, labelled=labelled, regions=regions)


def region_names() -> dict[str, str]:
    """Code -> name of the régions (the directory's filter)."""
    return dict(sorted(_territory_names("region").items(), key=lambda item: item[1]))
