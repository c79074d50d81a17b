"""Registry services: cluster organisations, organisations and memberships (roles checked here).

Every function takes the SQLAlchemy session and the acting user first; none commits (the
caller's ``session_scope`` does), so a CLI command or an API request is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Date,
    Integer,
    Select,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.registry import policy, refs
from grappe.registry.identifiers import normalize_siren, normalize_siret
from grappe.registry.models import (
    Cluster,
    ClusterFunding,
    ClusterLabel,
    ClusterSector,
    ClusterTerritory,
    Contact,
    Establishment,
    Funder,
    FundingSource,
    GovernanceBody,
    LabelKind,
    Membership,
    Organisation,
    OrganisationKind,
    OrganisationOwner,
    Role,
    SeatHolder,
)
from grappe.registry.policy import Access, Actor
from grappe.registry.schemas import (
    BodyIn,
    BodyOut,
    ClusterCreate,
    ClusterOut,
    ClusterSummary,
    ClusterUpdate,
    ContactIn,
    ContactOut,
    DirectoryContact,
    DirectoryMember,
    DirectoryPage,
    FundingIn,
    FundingOut,
    LabelIn,
    LabelOut,
    MemberOut,
    MemberPage,
    MembershipCreate,
    MembershipEnd,
    OrganisationCreate,
    OrganisationOut,
    OrganisationUpdate,
    SeatHolderOut,
    TerritoryOut,
    TerritoryRef,
)

T = TypeVar("T")

#: Directory size classes by number of current members (documented in the CLI help).
SIZE_CLASSES: dict[str, tuple[int, int | None]] = {
    "petit": (0, 50),
    "moyen": (50, 200),
    "grand": (200, None),
}
MAX_PAGE = 500


# --- helpers ---------------------------------------------------------------------------------


@contextmanager
def write_guard() -> Iterator[None]:
    """Turn the database's refusals (stale version, uniqueness, overlap) into ConflictError."""
    try:
        yield
    except StaleDataError as exc:
        raise ConflictError(
            "l'enregistrement a été modifié par quelqu'un d'autre entre-temps : relisez-le"
        ) from exc
    except IntegrityError as exc:
        message = str(exc.orig)
        if "overlap" in message or "ex_memberships_no_overlap" in message:
            raise ConflictError("périodes d'adhésion qui se chevauchent") from exc
        raise ConflictError(f"écriture refusée par la base : {message.splitlines()[0]}") from exc


def flush(session: Session) -> None:
    """Flush pending writes, mapping database refusals to ConflictError."""
    with write_guard():
        session.flush()


def check_version(kind: str, object_id: int, read: int, current: int) -> None:
    """Optimistic locking for clients: the version they read must still be the current one."""
    if read != current:
        raise ConflictError(
            f"{kind} {object_id} modifié(e) entre-temps (version lue {read}, "
            f"version actuelle {current}) : relisez puis recommencez"
        )


def get_object(session: Session, model: type[T], object_id: int, what: str) -> T:
    obj = session.get(model, object_id)
    if obj is None:
        raise NotFoundError(f"{what} {object_id} introuvable")
    return obj


def funder_named(session: Session, name: str | None) -> Funder | None:
    if name is None or not name.strip():
        return None
    name = name.strip()
    funder = session.scalar(select(Funder).where(Funder.name == name))
    if funder is None:
        funder = Funder(name=name)
        session.add(funder)
    return funder


def _page(limit: int, offset: int) -> tuple[int, int]:
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"limit={limit} : attendu entre 1 et {MAX_PAGE}")
    if offset < 0:
        raise InputError(f"offset={offset} : attendu positif ou nul")
    return limit, offset


# --- cluster organisations -------------------------------------------------------------------


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


def _cluster_out(cluster: Cluster) -> ClusterOut:
    return ClusterOut(
        id=cluster.id,
        name=cluster.name,
        acronym=cluster.acronym,
        legal_form=cluster.legal_form,
        founded=cluster.founded,
        website=cluster.website,
        description=cluster.description,
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
                person=h.person,
                office=h.office,
                organisation_id=h.organisation_id,
                start=h.start,
                end=h.end_date,
            )
            for h in body.holders
        ],
    )


def create_cluster(session: Session, actor: Actor, data: ClusterCreate) -> ClusterOut:
    """Create a cluster organisation (platform administrators only).

    Territory codes are checked against the COG, sector codes against NAF rév. 2.
    """
    policy.require_admin(actor, "créer une structure")
    if data.sector_group and not data.sectors:
        raise InputError("sector_group donné sans codes NAF : la filière doit lister ses codes")
    cluster = Cluster(
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
    session.add(cluster)
    flush(session)
    return _cluster_out(cluster)


def load_cluster(session: Session, cluster_id: int) -> Cluster:
    cluster = session.scalar(
        select(Cluster)
        .where(Cluster.id == cluster_id)
        .options(
            selectinload(Cluster.territories),
            selectinload(Cluster.sectors),
            selectinload(Cluster.labels).selectinload(ClusterLabel.funder),
            selectinload(Cluster.bodies).selectinload(GovernanceBody.holders),
            selectinload(Cluster.fundings).selectinload(ClusterFunding.funder),
        )
    )
    if cluster is None:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    return cluster


def get_cluster(session: Session, actor: Actor, cluster_id: int) -> ClusterOut:
    """A cluster organisation in full (administrators, its managers and its funders)."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "consulter la fiche complète")
    return _cluster_out(load_cluster(session, cluster_id))


def update_cluster(session: Session, actor: Actor, cluster_id: int, data: ClusterUpdate) -> ClusterOut:
    """Change a cluster organisation (administrators and its managers; optimistic locking)."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "modifier la structure")
    cluster = load_cluster(session, cluster_id)
    check_version("structure", cluster_id, data.version, cluster.version)
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
    flush(session)
    return _cluster_out(cluster)


def list_clusters(
    session: Session, actor: Actor, *, limit: int = 100, offset: int = 0
) -> list[ClusterSummary]:
    """Cluster organisations whose private data the actor may read, by name."""
    limit, offset = _page(limit, offset)
    scope = policy.readable_cluster_ids(session, actor)
    query = select(Cluster).order_by(Cluster.name, Cluster.id).limit(limit).offset(offset)
    if scope is not None:
        query = query.where(Cluster.id.in_(scope))
    return [ClusterSummary.model_validate(c) for c in session.scalars(query)]


def resolve_cluster(session: Session, ref: str) -> int:
    """A cluster organisation id from an id, an acronym or an exact name (CLI arguments)."""
    text = ref.strip()
    if text.isdigit():
        if session.get(Cluster, int(text)) is None:
            raise NotFoundError(f"structure {text} introuvable")
        return int(text)
    ids = list(
        session.scalars(
            select(Cluster.id).where(
                or_(
                    func.lower(Cluster.acronym) == text.lower(),
                    func.lower(Cluster.name) == text.lower(),
                )
            )
        )
    )
    if not ids:
        raise NotFoundError(f"structure {ref!r} introuvable (ni identifiant, ni sigle, ni nom)")
    if len(ids) > 1:
        raise InputError(f"{ref!r} désigne plusieurs structures ({ids}) : donnez l'identifiant")
    return ids[0]


def add_label(session: Session, actor: Actor, cluster_id: int, data: LabelIn) -> LabelOut:
    """Record a label period of a cluster organisation (administrators and its managers)."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "ajouter un label")
    cluster = get_object(session, Cluster, cluster_id, "structure")
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
    flush(session)
    return _label_out(label)


def set_funding(session: Session, actor: Actor, cluster_id: int, data: FundingIn) -> FundingOut:
    """Set the funding of a year from a source (and funder), replacing the previous amount."""
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "déclarer un financement")
    funder = funder_named(session, data.funder)
    flush(session)
    line = session.scalar(
        select(ClusterFunding).where(
            ClusterFunding.cluster_id == cluster_id,
            ClusterFunding.year == data.year,
            ClusterFunding.source == data.source.value,
            ClusterFunding.funder_id.is_(None) if funder is None else ClusterFunding.funder_id == funder.id,
        )
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
    flush(session)
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
            _load_org(session, actor, holder.organisation_id, Access.READ, "désigner au conseil")
    body = session.scalar(
        select(GovernanceBody).where(
            GovernanceBody.cluster_id == cluster_id, GovernanceBody.kind == data.kind.value
        )
    )
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
    flush(session)
    return _body_out(body)


# --- public directory ------------------------------------------------------------------------


#: The directory's filters and order as one statement shape: (label filter, région, sector,
#: size bounds, sort key).
DirectoryShape = tuple[str | None, bool, str | None, str | None, str]

#: Orders of the directory (a leading ``-`` reverses one); ties broken by id for stable pages.
DIRECTORY_SORTS: dict[str, tuple[Any, ...]] = {
    "name": (Cluster.name, Cluster.id),
    "-name": (Cluster.name.desc(), Cluster.id.desc()),
    "members": (Cluster.member_count, Cluster.name, Cluster.id),
    "-members": (Cluster.member_count.desc(), Cluster.name, Cluster.id),
}


def _active_label(day: ColumnElement[dt.date]) -> ColumnElement[bool]:
    return (ClusterLabel.start <= day) & (ClusterLabel.end_date.is_(None) | (ClusterLabel.end_date >= day))


@lru_cache(maxsize=512)
def _directory_statements(shape: DirectoryShape) -> tuple[Select[*tuple[Any, ...]], Select[int]]:
    """The page statement (with its window total) and the count statement of a filter shape.

    Values are bound at run time; the statements are built once per shape (at most 288), so
    a directory page costs the database work, not the building of SQLAlchemy constructs.
    """
    label, region, sector, size, sort = shape
    day = bindparam("day", type_=Date())
    where: list[ColumnElement[bool]] = [Cluster.public.is_(True)]
    if label == "none":
        held = select(ClusterLabel.cluster_id).where(_active_label(day), ClusterLabel.kind != "none")
        where.append(Cluster.id.not_in(held))
    elif label is not None:
        match = (
            ClusterLabel.kind == bindparam("label")
            if label == "kind"
            else func.lower(ClusterLabel.name) == bindparam("label")
        )
        where.append(Cluster.id.in_(select(ClusterLabel.cluster_id).where(_active_label(day), match)))
    if region:
        # IN (subquery) rather than EXISTS: evaluated once, not once per cluster organisation
        where.append(
            Cluster.id.in_(
                select(ClusterTerritory.cluster_id).where(ClusterTerritory.region == bindparam("region"))
            )
        )
    if sector is not None:
        within = (
            ClusterSector.section == bindparam("sector")
            if sector == "section"
            else ClusterSector.naf.like(bindparam("sector_prefix"))
        )
        chain = ClusterSector.naf.in_(bindparam("chain", expanding=True))
        where.append(Cluster.id.in_(select(ClusterSector.cluster_id).where(or_(chain, within))))
    if size is not None:
        where.append(Cluster.member_count >= bindparam("low", type_=Integer()))
        if size == "bounded":
            where.append(Cluster.member_count < bindparam("high", type_=Integer()))
    page = (
        select(
            Cluster.id,
            Cluster.name,
            Cluster.acronym,
            Cluster.website,
            Cluster.description,
            Cluster.member_count,
            func.count().over().label("total"),
        )
        .where(*where)
        .order_by(*DIRECTORY_SORTS[sort])
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )
    count = select(func.count()).select_from(Cluster).where(*where)
    return page, count


_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
#: Labels held, régions and sectors of the clusters of a page, in one round trip.
_DIRECTORY_DETAILS: CompoundSelect[*tuple[Any, ...]] = union_all(
    select(
        literal("label").label("what"),
        ClusterLabel.cluster_id,
        func.coalesce(ClusterLabel.name, ClusterLabel.kind).label("value"),
        literal(0).label("rank"),
    ).where(
        ClusterLabel.cluster_id.in_(_IDS),
        ClusterLabel.kind != "none",
        _active_label(bindparam("day", type_=Date())),
    ),
    select(
        literal("region"), ClusterTerritory.cluster_id, ClusterTerritory.region, literal(0)
    ).where(ClusterTerritory.cluster_id.in_(_IDS), ClusterTerritory.region.is_not(None)),
    select(literal("sector"), ClusterSector.cluster_id, ClusterSector.naf, ClusterSector.id).where(
        ClusterSector.cluster_id.in_(_IDS)
    ),
)


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
    limit, offset = _page(limit, offset)
    if sort not in DIRECTORY_SORTS:
        raise InputError(f"tri {sort!r} inconnu : attendu {', '.join(DIRECTORY_SORTS)}")
    params: dict[str, Any] = {"day": on or dt.date.today(), "limit": limit, "offset": offset}
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
    page_statement, count_statement = _directory_statements(
        (label_shape, bool(region), sector_shape, size_shape, sort)
    )
    # Plain column reads on the session's connection, no ORM objects: the directory is the
    # busiest public read. The window count gives the total in the same statement as the page.
    connection = session.connection()
    page = connection.execute(page_statement, params).all()
    if not page:
        total = connection.execute(count_statement, params).scalar_one() if offset else 0
        return DirectoryPage(total=total, items=[])
    ids = [row.id for row in page]
    labels: dict[int, set[str]] = {cid: set() for cid in ids}
    regions: dict[int, set[str]] = {cid: set() for cid in ids}
    sectors: dict[int, list[tuple[int, str]]] = {cid: [] for cid in ids}
    for what, cid, value, rank in connection.execute(_DIRECTORY_DETAILS, {"ids": ids, "day": params["day"]}):
        if what == "label":
            labels[cid].add(value)
        elif what == "region":
            regions[cid].add(value)
        else:
            sectors[cid].append((rank, value))
    return DirectoryPage.model_validate(
        {
            "total": page[0].total,
            "items": [
                {
                    "id": row.id,
                    "name": row.name,
                    "acronym": row.acronym,
                    "website": row.website,
                    "description": row.description,
                    "labels": sorted(labels[row.id]),
                    "regions": sorted(regions[row.id]),
                    "sectors": [naf for _, naf in sorted(sectors[row.id])],
                    "member_count": row.member_count,
                }
                for row in page
            ],
        }
    )


# --- organisations ---------------------------------------------------------------------------


def _org_out(org: Organisation) -> OrganisationOut:
    return OrganisationOut.model_validate(
        {
            **{
                k: getattr(org, k)
                for k in (
                    "id",
                    "siren",
                    "name",
                    "kind",
                    "naf",
                    "commune",
                    "size_band",
                    "declared_headcount",
                    "declared_turnover_eur",
                    "size_category",
                    "in_fabric",
                    "website",
                    "version",
                )
            },
            "establishments": list(org.establishments),
            "contacts": list(org.contacts),
        }
    )


def refresh_size(org: Organisation) -> None:
    """Recompute the size category (declared headcount/turnover first, else the SIRENE band)."""
    turnover = float(org.declared_turnover_eur) if org.declared_turnover_eur is not None else None
    org.size_category = refs.size_category(org.size_band, org.declared_headcount, turnover)


def _require_manager(actor: Actor, action: str) -> None:
    if actor.role not in {Role.ADMIN, Role.MANAGER}:
        raise policy.deny(actor, action)


def _owner_for(session: Session, actor: Actor, cluster_id: int | None) -> int | None:
    """The cluster that will own an organisation the actor creates (None: no owner).

    A manager's organisations belong to one of its clusters: the one named, or its only one.
    An administrator's have an owner only when it names one.
    """
    if cluster_id is None and actor.role is Role.MANAGER:
        if len(actor.managed) != 1:
            raise InputError(
                "vous gérez plusieurs structures : précisez celle qui crée l'organisation "
                "(POST /clusters/{id}/organisations)"
            )
        (cluster_id,) = actor.managed
    if cluster_id is not None:
        policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "créer une organisation")
    return cluster_id


def create_organisation(
    session: Session,
    actor: Actor,
    data: OrganisationCreate,
    fabric: Callable[[list[str], list[str]], dict[str, dict[str, object]]] | None = None,
    *,
    cluster_id: int | None = None,
) -> OrganisationOut:
    """Create an organisation (administrators and cluster managers).

    ``fabric`` looks SIRETs and SIRENs up in the productive fabric (see
    :func:`grappe.registry.fabric_link.lookup`); what it finds fills the blanks.
    ``cluster_id`` is the cluster organisation that owns the new record (default: a
    manager's only cluster; none for an administrator), so that it is nobody else's to read.
    An organisation already on the platform is not created twice: invite it
    (:func:`grappe.registry.invitations.invite`).
    """
    owner = _owner_for(session, actor, cluster_id)  # first: a hidden cluster is "introuvable"
    _require_manager(actor, "créer une organisation")
    sirets = [normalize_siret(s) for s in data.sirets]
    siren = normalize_siren(data.siren) if data.siren else (sirets[0][:9] if sirets else None)
    for siret in sirets:
        if siren and siret[:9] != siren:
            raise InputError(f"SIRET {siret} n'appartient pas au SIREN {siren}")
    if siren and session.scalar(select(Organisation.id).where(Organisation.siren == siren)):
        raise ConflictError(
            f"une organisation de SIREN {siren} existe déjà sur la plateforme : "
            "invitez-la dans votre structure (invitation)"
        )
    found = fabric(sirets, [siren] if siren else []) if fabric else {}
    unit = found.get(siren or "", {})
    org = Organisation(
        siren=siren,
        name=data.name.strip(),
        kind=data.kind.value,
        naf=refs.normalize_sector(data.naf)[0] if data.naf else unit.get("naf"),
        commune=refs.normalize_territory("commune", data.commune)[0] if data.commune else unit.get("commune"),
        size_band=refs.check_size_band(data.size_band) if data.size_band else unit.get("size_band"),
        declared_headcount=data.declared_headcount,
        declared_turnover_eur=data.declared_turnover_eur,
        website=data.website,
        in_fabric=bool(unit),
    )
    for siret in sirets:
        info = found.get(siret, {})
        org.establishments.append(
            Establishment(
                siret=siret,
                name=info.get("name"),
                naf=info.get("naf"),
                commune=info.get("commune"),
                size_band=info.get("size_band"),
                in_fabric=bool(info),
            )
        )
    refresh_size(org)
    session.add(org)
    flush(session)
    if owner is not None:
        session.add(OrganisationOwner(organisation_id=org.id, cluster_id=owner))
        flush(session)
    return _org_out(org)


def _load_org(
    session: Session, actor: Actor, organisation_id: int, need: Access, action: str
) -> Organisation:
    """An organisation the actor has ``need`` on (else "introuvable" or "refusé", see policy)."""
    org = session.scalar(
        select(Organisation)
        .where(Organisation.id == organisation_id)
        .options(selectinload(Organisation.establishments), selectinload(Organisation.contacts))
    )
    if org is None:
        raise NotFoundError(f"organisation {organisation_id} introuvable")
    policy.require_organisation(session, actor, organisation_id, need, action)
    return org


def get_organisation(session: Session, actor: Actor, organisation_id: int) -> OrganisationOut:
    """An organisation (administrators; its own member users; managers and funders of a cluster
    it belongs or belonged to; managers of the cluster that owns it)."""
    return _org_out(_load_org(session, actor, organisation_id, Access.READ, "consulter"))


def update_organisation(
    session: Session, actor: Actor, organisation_id: int, data: OrganisationUpdate
) -> OrganisationOut:
    """Change an organisation (administrators, managers of a cluster it belongs to or that owns it)."""
    org = _load_org(session, actor, organisation_id, Access.MANAGE, "modifier")
    check_version("organisation", organisation_id, data.version, org.version)
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    if "name" in changes and not changes["name"]:
        raise InputError("name ne peut pas être vide")
    if changes.get("naf"):
        changes["naf"] = refs.normalize_sector(changes["naf"])[0]
    if changes.get("commune"):
        changes["commune"] = refs.normalize_territory("commune", changes["commune"])[0]
    if "kind" in changes and changes["kind"] is not None:
        changes["kind"] = changes["kind"].value
    for key, value in changes.items():
        setattr(org, key, value)
    refresh_size(org)
    flush(session)
    return _org_out(org)


def add_contact(session: Session, actor: Actor, organisation_id: int, data: ContactIn) -> ContactOut:
    """Add a contact person to an organisation (administrators, managers of its clusters)."""
    org = _load_org(session, actor, organisation_id, Access.MANAGE, "ajouter un contact")
    contact = Contact(
        organisation=org,
        full_name=data.full_name,
        role=data.role,
        email=data.email,
        phone=data.phone,
        directory_consent=data.directory_consent,
        consent_date=dt.date.today() if data.directory_consent else None,
    )
    session.add(contact)
    flush(session)
    return ContactOut.model_validate(contact)


# --- memberships -----------------------------------------------------------------------------


def overlapping(
    session: Session,
    *,
    cluster_id: int,
    organisation_id: int,
    joined: dt.date,
    left: dt.date | None,
    exclude: int | None = None,
) -> Membership | None:
    """An existing period of this organisation in this cluster overlapping [joined, left)."""
    query = select(Membership).where(
        Membership.cluster_id == cluster_id,
        Membership.organisation_id == organisation_id,
        or_(Membership.left_on.is_(None), Membership.left_on > joined),
    )
    if left is not None:
        query = query.where(Membership.joined < left)
    if exclude is not None:
        query = query.where(Membership.id != exclude)
    return session.scalars(query.limit(1)).first()


def refresh_member_count(session: Session, cluster_id: int) -> None:
    """Store the number of open memberships on the cluster (read by the directory).

    A Core UPDATE on purpose: a derived counter must not bump the cluster's version and
    make a concurrent edit of its profile fail.
    """
    count = (
        select(func.count())
        .select_from(Membership)
        .where(Membership.cluster_id == cluster_id, Membership.left_on.is_(None))
        .scalar_subquery()
    )
    session.execute(update(Cluster).where(Cluster.id == cluster_id).values(member_count=count))


def _member_out(m: Membership) -> MemberOut:
    org = m.organisation
    return MemberOut(
        membership_id=m.id,
        organisation_id=org.id,
        siren=org.siren,
        siret=m.establishment.siret if m.establishment else None,
        name=org.name,
        kind=org.kind,  # type: ignore[arg-type]
        size_category=org.size_category,  # type: ignore[arg-type]
        commune=(m.establishment.commune if m.establishment and m.establishment.commune else org.commune),
        membership_type=m.membership_type,
        joined=m.joined,
        left=m.left_on,
        leaving_reason=m.leaving_reason,
        version=m.version,
    )


def check_period(joined: dt.date, left: dt.date | None) -> None:
    """A membership period ends after it starts."""
    if left is not None and left <= joined:
        raise InputError(f"date de départ {left} pas après l'adhésion {joined}")


def open_membership(
    session: Session, cluster_id: int, org: Organisation, data: MembershipCreate
) -> Membership:
    """Open a membership period once the rights are checked (a direct one or an invitation).

    Raises
    ------
    InputError
        The period is empty, overlaps another period of the same organisation in this
        cluster, or names a SIRET that is not one of the organisation's establishments.
    """
    check_period(data.joined, data.left)
    other = overlapping(
        session, cluster_id=cluster_id, organisation_id=org.id, joined=data.joined, left=data.left
    )
    if other is not None:
        raise InputError(
            f"{org.name} : la période du {data.joined} chevauche l'adhésion du {other.joined}"
            + (f" au {other.left_on}" if other.left_on else " (en cours)")
        )
    establishment = None
    if data.siret:
        siret = normalize_siret(data.siret)
        establishment = next((e for e in org.establishments if e.siret == siret), None)
        if establishment is None:
            raise InputError(f"SIRET {siret} n'est pas un établissement de {org.name}")
    membership = Membership(
        cluster_id=cluster_id,
        organisation=org,
        establishment=establishment,
        membership_type=data.membership_type.strip(),
        joined=data.joined,
        left_on=data.left,
    )
    session.add(membership)
    flush(session)
    refresh_member_count(session, cluster_id)
    return membership


def add_membership(session: Session, actor: Actor, cluster_id: int, data: MembershipCreate) -> MemberOut:
    """Open a membership period (administrators and the cluster's managers).

    The organisation must be one the actor already reads (see :mod:`grappe.registry.policy`):
    another tenant's organisation is "introuvable" here and is reached by an invitation.
    """
    policy.require_cluster(session, actor, cluster_id, Access.MANAGE, "ajouter un adhérent")
    org = _load_org(session, actor, data.organisation_id, policy.ATTACH, "rattacher")
    return _member_out(open_membership(session, cluster_id, org, data))


def end_membership(session: Session, actor: Actor, membership_id: int, data: MembershipEnd) -> MemberOut:
    """Close a membership period with a date and a reason (administrators, the managers)."""
    m = get_object(session, Membership, membership_id, "adhésion")
    policy.require_cluster_object(
        session, actor, m.cluster_id, Access.MANAGE, f"adhésion {membership_id}", "clore"
    )
    check_version("adhésion", membership_id, data.version, m.version)
    if data.left <= m.joined:
        raise InputError(f"date de départ {data.left} pas après l'adhésion {m.joined}")
    m.left_on = data.left
    m.leaving_reason = data.reason
    flush(session)
    refresh_member_count(session, m.cluster_id)
    return _member_out(m)


def _members_query(cluster_id: int, on: dt.date | None, include_former: bool):  # type: ignore[no-untyped-def]
    query = select(Membership).where(Membership.cluster_id == cluster_id)
    if not include_former:
        query = query.where(*_current(on))
    return query


def _current(on: dt.date | None) -> list[ColumnElement[bool]]:
    """Conditions of a membership open on a date (default today)."""
    day = on or dt.date.today()
    return [Membership.joined <= day, or_(Membership.left_on.is_(None), Membership.left_on > day)]


def _member_page_statement(current: bool) -> Select[*tuple[Any, ...]]:
    """The member-list page (columns only, with the window total); values are bound at run.

    Built once per variant at import: a statement built anew per request costs more Python
    time (construction, cache key) than the database spends answering it.
    """
    where = [Membership.cluster_id == bindparam("cluster_id")]
    if current:
        day = bindparam("day", type_=Date())
        where += [Membership.joined <= day, or_(Membership.left_on.is_(None), Membership.left_on > day)]
    return (
        select(
            Membership.id.label("membership_id"),
            Organisation.id.label("organisation_id"),
            Organisation.siren,
            Establishment.siret,
            Organisation.name,
            Organisation.kind,
            Organisation.size_category,
            func.coalesce(Establishment.commune, Organisation.commune).label("commune"),
            Membership.membership_type,
            Membership.joined,
            Membership.left_on.label("left"),
            Membership.leaving_reason,
            Membership.version,
            func.count().over().label("total"),
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Establishment, Establishment.id == Membership.establishment_id)
        .where(*where)
        .order_by(Organisation.name, Membership.joined, Membership.id)
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )


_MEMBER_PAGE = {current: _member_page_statement(current) for current in (True, False)}
_MEMBER_COUNT = {
    current: select(func.count()).select_from(
        _member_page_statement(current).limit(None).offset(None).order_by(None).subquery()
    )
    for current in (True, False)
}
_MEMBER_FIELDS = [c.key for c in _MEMBER_PAGE[True].selected_columns if c.key != "total"]


def list_members(
    session: Session,
    actor: Actor,
    cluster_id: int,
    *,
    on: dt.date | None = None,
    include_former: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> MemberPage:
    """Members of a cluster on a date, or every period (administrators, managers, funders).

    One statement for the page and its total (window count), reading columns only: no ORM
    object is built, the rows go straight into the output schema. The cluster's existence is
    looked up only when the page is empty (a page with rows proves it): one round trip less
    per request on a database server. The rows are read before the role check but returned
    only after it.
    """
    connection = session.connection()
    limit, offset = _page(limit, offset)
    current = not include_former
    params: dict[str, Any] = {"cluster_id": cluster_id, "limit": limit, "offset": offset}
    if current:
        params["day"] = on or dt.date.today()
    rows = connection.execute(_MEMBER_PAGE[current], params).all()
    policy.require_cluster(
        session, actor, cluster_id, Access.READ, "consulter la liste des adhérents", exists=bool(rows)
    )
    if rows:
        total = rows[0].total
    elif offset:
        total = connection.execute(_MEMBER_COUNT[current], params).scalar() or 0
    else:
        total = 0
    return MemberPage.model_validate(
        {"total": total, "items": [dict(zip(_MEMBER_FIELDS, row, strict=False)) for row in rows]}
    )


def all_members(
    session: Session, actor: Actor, cluster_id: int, *, include_former: bool = True
) -> list[MemberOut]:
    """Every membership of a cluster (exports), ordered by name."""
    policy.require_cluster(session, actor, cluster_id, Access.READ, "exporter les adhérents")
    rows = session.scalars(
        _members_query(cluster_id, None, include_former)
        .join(Membership.organisation)
        .options(selectinload(Membership.organisation), selectinload(Membership.establishment))
        .order_by(Organisation.name, Membership.joined, Membership.id)
    ).all()
    return [_member_out(m) for m in rows]


def member_directory(session: Session, actor: Actor, cluster_id: int) -> list[DirectoryMember]:
    """Current members with their consenting contacts, as the cluster's members see them."""
    policy.require_cluster(
        session, actor, cluster_id, Access.DIRECTORY, "consulter l'annuaire des adhérents"
    )
    rows = session.scalars(
        _members_query(cluster_id, None, False)
        .join(Membership.organisation)
        .options(selectinload(Membership.organisation).selectinload(Organisation.contacts))
        .order_by(Organisation.name)
    ).all()
    seen: set[int] = set()
    result = []
    for m in rows:
        org = m.organisation
        if org.id in seen:
            continue
        seen.add(org.id)
        result.append(
            DirectoryMember(
                organisation_id=org.id,
                name=org.name,
                kind=OrganisationKind(org.kind),
                commune=org.commune,
                contacts=[
                    DirectoryContact(full_name=c.full_name, role=c.role, email=c.email, phone=c.phone)
                    for c in org.contacts
                    if c.directory_consent
                ],
            )
        )
    return result
