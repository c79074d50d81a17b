"""`grappe partners profile` and `grappe partners posting`: partner profiles, interclustering, the
partner search on the registry, and calls for partners (recherche de partenaires).

Each command runs as one transaction on the registry database, as the user given by
``grappe partners --as TOKEN_OR_EMAIL ...`` (default: the local administrator). Mail goes out
once the transaction has committed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from grappe.cli import _operational as operational
from grappe.cli._analysis import choice
from grappe.cli._batch import say, warn
from grappe.errors import InputError

if TYPE_CHECKING:
    from grappe.partners.postings.schemas import PostingOut
    from grappe.partners.profiles.schemas import ProfileOut
    from grappe.registry.clusters import service as cluster_service
    from grappe.registry.organisations import service as organisation_service
else:
    cluster_service = operational.Lazy("grappe.registry.clusters.service")
    organisation_service = operational.Lazy("grappe.registry.organisations.service")

#: Values of the coded options, written here so that `--help` loads no model
#: (tests/partners/test_profiles_cli.py checks they agree with the models' enums).
VISIBILITIES = ("public", "cluster", "manager")
FIELDS = ("capabilities", "products", "technologies", "equipment", "needs", "markets", "keywords", "tags")
TAGS = (
    "research", "design", "machining", "manufacturing", "assembly", "testing", "materials", "software",
    "automation", "energy", "environment", "logistics", "maintenance", "training", "consulting",
    "export", "distribution", "subcontracting",
)  # fmt: skip
SCOPES = ("cluster", "clusters", "all")
FIELD_NAMES = {
    "capabilities": "Savoir-faire",
    "products": "Produits",
    "technologies": "Technologies",
    "equipment": "Équipements",
    "needs": "Besoins",
    "markets": "Marchés",
    "keywords": "Mots-clés",
    "tags": "Étiquettes",
}
LEVEL_NAMES = {"public": "public", "cluster": "grappe", "manager": "gestionnaires"}

profile_app = typer.Typer(
    help="Profils de partenaires : offres, besoins, marchés, visibilité par champ, consentement ; "
    "partage entre grappes (interclustering) ; recherche de partenaires expliquée.",
    epilog='Exemple : grappe partners --as u@dupont.fr profile edit 12 --needs "anodisation" --consent',
    no_args_is_help=True,
)
posting_app = typer.Typer(
    help="Recherches de partenaires : publier, lister les recherches ouvertes, manifester son "
    "intérêt avant la date limite, clore.",
    epilog="Exemple : grappe partners --as u@dupont.fr posting list",
    no_args_is_help=True,
)

OrganisationArgument = Annotated[
    str, typer.Argument(metavar="ORGANISATION", help="N° ou SIREN de l'organisation (ex. : 12).")
]
ClusterArgument = operational.ClusterArgument
PostingArgument = Annotated[int, typer.Argument(metavar="RECHERCHE", help="N° de la recherche (ex. : 3).")]
Limit = Annotated[int, typer.Option("--limit", min=1, max=500, help="Lignes au plus (défaut : 100).")]


def _text(label: str) -> object:
    return typer.Option(
        f"--{label}", help=f"{FIELD_NAMES[label]} (texte libre en français ; vide : effacer)."
    )


def _split(option: str, raw: str | None, allowed: tuple[str, ...] | None = None) -> list[str] | None:
    if raw is None:
        return None
    values = [v.strip() for v in raw.split(",") if v.strip()]
    for value in values:
        if allowed is not None:
            choice(option, value, allowed)
    return values


def _visibility(raw: str | None) -> dict[str, str] | None:
    if raw is None:
        return None
    found: dict[str, str] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        field, sep, level = part.partition("=")
        if not sep:
            raise InputError(f"--visibility {part!r} : attendu champ=niveau (ex. : needs=manager)")
        choice("--visibility (champ)", field.strip(), FIELDS)
        choice("--visibility (niveau)", level.strip(), VISIBILITIES)
        found[field.strip()] = level.strip()
    return found


def _show_profile(profile: ProfileOut) -> None:
    say(f"Profil de {profile.organisation_name} (organisation {profile.organisation_id})")
    if profile.consent is not None:
        say(f"Consentement : {'oui' if profile.consent else 'non (visible des seuls gestionnaires)'}")
    rows: list[list[object]] = []
    for field in FIELDS:
        value = getattr(profile, field)
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else value
        level = LEVEL_NAMES[profile.visibility[field]] if profile.visibility else ""  # type: ignore[index]
        if value is not None or profile.visibility:
            rows.append([FIELD_NAMES[field], shown, level])
    operational.table("Champs", ["champ", "valeur", "visible de"], rows)
    e = profile.enrichment
    say(
        f"Activité : {e.naf or '—'} {e.naf_label or ''} ; taille : {e.size_category or '—'} ; "
        f"commune : {e.town or e.commune or '—'} ; projets : {e.projects}, partenaires de projet : "
        f"{e.project_partners}, liens : {e.links}, événements suivis : {e.events}"
    )


@profile_app.command("show", epilog="Exemple : grappe partners --as u@dupont.fr profile show 12")
def show(organisation: OrganisationArgument) -> None:
    """Lire un profil : les champs que votre rôle peut lire, et ce que grappe sait déjà."""
    from grappe.partners.profiles import service

    with operational.unit(write=False) as (session, actor):
        profile = service.get_profile(
            session, actor, organisation_service.resolve_organisation(session, organisation)
        )
    _show_profile(profile)


@profile_app.command(
    "edit",
    epilog='Exemple : grappe partners --as u@dupont.fr profile edit 12 --capabilities "Usinage 5 axes" '
    "--tags machining,subcontracting --visibility capabilities=public,needs=manager --consent",
)
def edit(
    organisation: OrganisationArgument,
    capabilities: Annotated[str | None, _text("capabilities")] = None,
    products: Annotated[str | None, _text("products")] = None,
    technologies: Annotated[str | None, _text("technologies")] = None,
    equipment: Annotated[str | None, _text("equipment")] = None,
    needs: Annotated[str | None, _text("needs")] = None,
    markets: Annotated[str | None, _text("markets")] = None,
    keywords: Annotated[str | None, _text("keywords")] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help=f"Étiquettes, séparées par des virgules : {', '.join(TAGS)}.")
    ] = None,
    visibility: Annotated[
        str | None,
        typer.Option(
            "--visibility",
            help="Visibilité par champ : champ=niveau, séparés par des virgules ; niveaux public (autres "
            "grappes qui partagent, financeurs), cluster (adhérents de la grappe), manager (gestionnaires).",
        ),
    ] = None,
    consent: Annotated[
        bool | None,
        typer.Option(
            "--consent/--no-consent",
            help="Consentement de l'organisation à montrer son profil au-delà des gestionnaires "
            "(l'adhérent seul le donne).",
        ),
    ] = None,
) -> None:
    """Remplir ou modifier un profil : seuls les champs donnés changent."""
    from grappe.partners.profiles import service
    from grappe.partners.profiles.schemas import ProfileIn

    values: dict[str, object] = {
        name: value
        for name, value in (
            ("capabilities", capabilities),
            ("products", products),
            ("technologies", technologies),
            ("equipment", equipment),
            ("needs", needs),
            ("markets", markets),
            ("keywords", keywords),
            ("tags", _split("--tags", tags, TAGS)),
            ("visibility", _visibility(visibility)),
            ("consent", consent),
        )
        if value is not None
    }
    if not values:
        raise InputError("rien à changer : donnez au moins un champ (voir --help)")
    data = operational.build(ProfileIn, **values)
    with operational.unit() as (session, actor):
        profile = service.update_profile(
            session, actor, organisation_service.resolve_organisation(session, organisation), data
        )
    _show_profile(profile)


@profile_app.command("enrich", epilog="Exemple : grappe partners profile enrich 12 --store magasin")
def enrich(
    organisation: OrganisationArgument,
    store: Annotated[
        Path | None, typer.Option("--store", help="Magasin du tissu productif (défaut : celui des réglages).")
    ] = None,
) -> None:
    """Enrichir un profil de ce que le tissu productif sait de l'organisation (NAF, commune, taille)."""
    from grappe.partners.profiles import service

    with operational.unit() as (session, actor):
        profile = service.enrich_from_fabric(
            session, actor, organisation_service.resolve_organisation(session, organisation), store=store
        )
    _show_profile(profile)


@profile_app.command(
    "search",
    epilog='Exemple : grappe partners --as u@dupont.fr profile search "traitement de surface" '
    "--scope clusters",
)
def search(
    text: Annotated[
        str, typer.Argument(metavar="BESOIN", help="Le besoin en français (peut être vide).")
    ] = "",
    organisation: Annotated[
        str | None,
        typer.Option(
            "--organisation", help="Chercher des partenaires pour cette organisation (n° ou SIREN)."
        ),
    ] = None,
    scope: Annotated[
        str,
        typer.Option(
            "--scope",
            help="Parmi qui : cluster (adhérents de vos grappes), clusters (et ceux des grappes qui "
            "partagent leurs profils avec elles) ou all (et les organisations des projets publics).",
        ),
    ] = "clusters",
    top: Annotated[
        int, typer.Option("--top", min=1, max=100, help="Suggestions au plus (défaut : 10).")
    ] = 10,
    naf: Annotated[
        str | None, typer.Option("--naf", help="Codes NAF (préfixes), séparés par des virgules.")
    ] = None,
    department: Annotated[
        str | None, typer.Option("--department", help="Départements, séparés par des virgules (ex. : 69,38).")
    ] = None,
    size: Annotated[
        str | None, typer.Option("--size", help="Catégories de taille : TPE, PME, ETI, GE.")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Natures d'organisation (ex. : firm).")] = None,
) -> None:
    """Rechercher des partenaires, avec les raisons de chaque suggestion."""
    choice("--scope", scope, SCOPES)
    from grappe.partners.profiles import service
    from grappe.partners.profiles.schemas import SearchIn

    with operational.unit(write=False) as (session, actor):
        data = operational.build(
            SearchIn,
            text=text,
            organisation_id=None
            if organisation is None
            else organisation_service.resolve_organisation(session, organisation),
            scope=scope,
            top=top,
            sectors=_split("--naf", naf) or [],
            territories=_split("--department", department) or [],
            sizes=_split("--size", size) or [],
            kinds=_split("--kind", kind) or [],
        )
        found = service.search(session, actor, data)
    if not found.items:
        warn("Aucun partenaire trouvé dans ce périmètre.")
    operational.table(
        f"Partenaires suggérés ({found.total})",
        ["rang", "n°", "organisation", "score", "raisons"],
        [
            [s.rank, s.organisation_id, s.name, f"{s.score:.3f}".replace(".", ","), " ; ".join(s.reasons)]
            for s in found.items
        ],
    )


@profile_app.command(
    "share", epilog="Exemple : grappe partners --as m@meca.fr profile share MECA --with GRAN,AERO"
)
def share(
    cluster: ClusterArgument,
    with_: Annotated[
        str | None,
        typer.Option(
            "--with", help="Structures avec qui partager (n°, sigle ou nom, séparés par des virgules)."
        ),
    ] = None,
    everyone: Annotated[bool, typer.Option("--all", help="Partager avec toutes les structures.")] = False,
    nobody: Annotated[bool, typer.Option("--nobody", help="Ne plus partager avec personne.")] = False,
) -> None:
    """Partager les profils publics des adhérents (et les recherches de partenaires) avec d'autres grappes."""
    from grappe.partners.profiles import service
    from grappe.partners.profiles.schemas import SharingIn

    if sum((with_ is not None, everyone, nobody)) != 1:
        raise InputError("précisez exactement un choix : --with, --all ou --nobody")
    with operational.unit() as (session, actor):
        partners = [cluster_service.resolve_cluster(session, ref) for ref in _split("--with", with_) or []]
        data = operational.build(SharingIn, all_clusters=everyone, clusters=partners)
        out = service.set_sharing(session, actor, cluster_service.resolve_cluster(session, cluster), data)
    _show_sharing(out.all_clusters, out.clusters, out.shared_with_us)


def _show_sharing(everyone: bool, clusters: list[int], with_us: list[int]) -> None:
    shared = "toutes les structures" if everyone else (", ".join(map(str, clusters)) or "personne")
    say(f"Profils publics partagés avec : {shared}")
    say(f"Structures qui partagent avec celle-ci : {', '.join(map(str, with_us)) or 'aucune'}")


@profile_app.command("sharing", epilog="Exemple : grappe partners profile sharing MECA")
def sharing(cluster: ClusterArgument) -> None:
    """Avec qui une grappe partage les profils de ses adhérents, et qui partage avec elle."""
    from grappe.partners.profiles import service

    with operational.unit(write=False) as (session, actor):
        out = service.get_sharing(session, actor, cluster_service.resolve_cluster(session, cluster))
    _show_sharing(out.all_clusters, out.clusters, out.shared_with_us)


@profile_app.command("intercluster", epilog="Exemple : grappe partners profile intercluster MECA --year 2025")
def intercluster(
    cluster: ClusterArgument,
    year: Annotated[
        int, typer.Option("--year", min=1900, max=2200, help="Année (défaut : l'année en cours).")
    ] = dt.date.today().year,
) -> None:
    """Projets inter-grappes d'une année : projets dont des partenaires adhèrent à plusieurs grappes."""
    from grappe.partners.profiles import service

    with operational.unit(write=False) as (session, actor):
        out = service.cluster_intercluster(
            session, actor, cluster_service.resolve_cluster(session, cluster), year
        )
    say(f"Projets inter-grappes en {out.year} : {out.projects}")
    say(f"Grappes partenaires : {', '.join(map(str, out.partner_clusters)) or 'aucune'}")


# --- calls for partners ---------------------------------------------------------------------------


def _show_posting(posting: PostingOut) -> None:
    state = "ouverte" if posting.open else ("close" if posting.status == "closed" else "date limite passée")
    say(
        f"Recherche {posting.id} ({state}) : {posting.title} — {posting.organisation_name}, "
        f"{posting.cluster_name}, jusqu'au {posting.deadline.strftime('%d/%m/%Y')}, "
        f"{posting.interests} intérêt(s)"
    )


def _notify(mails: tuple[object, ...]) -> None:
    from grappe.partners.postings.service import notify

    problem = notify(mails)  # type: ignore[arg-type]
    if problem is not None:
        warn(problem)


@posting_app.command(
    "create",
    epilog='Exemple : grappe partners --as u@dupont.fr posting create MECA --title "Anodisation" '
    '--description "Cherche un traiteur de surface" --deadline 2026-12-31',
)
def create(
    cluster: ClusterArgument,
    title: Annotated[str, typer.Option("--title", help="Ce que vous cherchez, en une ligne.")],
    description: Annotated[str, typer.Option("--description", help="Le besoin en détail.")],
    deadline: Annotated[
        str,
        typer.Option(
            "--deadline", help="Dernier jour pour manifester son intérêt (AAAA-MM-JJ ou JJ/MM/AAAA)."
        ),
    ],
    organisation: Annotated[
        str | None,
        typer.Option(
            "--organisation", help="Organisation qui cherche (gestionnaire ; un adhérent : la sienne)."
        ),
    ] = None,
) -> None:
    """Publier une recherche de partenaires ; les gestionnaires sont prévenus par courriel."""
    from grappe.kit.dates import option_date
    from grappe.partners.postings import service
    from grappe.partners.postings.schemas import PostingIn

    with operational.unit() as (session, actor):
        data = operational.build(
            PostingIn,
            title=title,
            description=description,
            deadline=option_date("--deadline", deadline),
            organisation_id=None
            if organisation is None
            else organisation_service.resolve_organisation(session, organisation),
        )
        done = service.create_posting(session, actor, cluster_service.resolve_cluster(session, cluster), data)
    _show_posting(done.result)
    _notify(done.mails)


@posting_app.command("list", epilog="Exemple : grappe partners --as u@dupont.fr posting list")
def list_(
    cluster: Annotated[
        str | None, typer.Option("--cluster", help="Une seule structure (n°, sigle ou nom).")
    ] = None,
    closed: Annotated[
        bool, typer.Option("--closed", help="Inclure les recherches closes ou échues.")
    ] = False,
    limit: Limit = 100,
) -> None:
    """Recherches ouvertes de vos grappes et des grappes qui partagent avec elles."""
    from grappe.partners.postings import service

    with operational.unit(write=False) as (session, actor):
        page = service.list_postings(
            session,
            actor,
            cluster_id=None if cluster is None else cluster_service.resolve_cluster(session, cluster),
            include_closed=closed,
            limit=limit,
        )
    operational.table(
        f"Recherches de partenaires ({page.total})",
        ["n°", "intitulé", "organisation", "structure", "date limite", "ouverte", "intérêts"],
        [
            [
                p.id,
                p.title,
                p.organisation_name,
                p.cluster_name,
                p.deadline.strftime("%d/%m/%Y"),
                "oui" if p.open else "non",
                p.interests,
            ]
            for p in page.items
        ],
    )


@posting_app.command("show", epilog="Exemple : grappe partners posting show 3")
def show_posting(posting: PostingArgument) -> None:
    """Lire une recherche de partenaires et les intérêts que vous pouvez lire."""
    from grappe.partners.postings import service

    with operational.unit(write=False) as (session, actor):
        out = service.get_posting(session, actor, posting)
        interests = service.list_interests(session, actor, posting)
    _show_posting(out)
    say(out.description)
    operational.table(
        f"Intérêts ({interests.total})",
        ["n°", "organisation", "message"],
        [[i.id, i.organisation_name, i.message] for i in interests.items],
    )


@posting_app.command(
    "interest",
    epilog='Exemple : grappe partners --as u@legoff.fr posting interest 3 --message "Nous anodisons"',
)
def interest(
    posting: PostingArgument,
    organisation: Annotated[
        str | None,
        typer.Option(
            "--organisation", help="Organisation intéressée (gestionnaire ; un adhérent : la sienne)."
        ),
    ] = None,
    message: Annotated[
        str | None, typer.Option("--message", help="Un mot pour l'organisation qui cherche.")
    ] = None,
) -> None:
    """Manifester son intérêt avant la date limite ; l'auteur et les gestionnaires sont prévenus."""
    from grappe.partners.postings import service
    from grappe.partners.postings.schemas import InterestIn

    with operational.unit() as (session, actor):
        data = operational.build(
            InterestIn,
            organisation_id=None
            if organisation is None
            else organisation_service.resolve_organisation(session, organisation),
            message=message,
        )
        done = service.express_interest(session, actor, posting, data)
    say(f"Intérêt {done.result.id} enregistré : {done.result.organisation_name}, recherche {posting}")
    _notify(done.mails)


@posting_app.command("close", epilog="Exemple : grappe partners --as u@dupont.fr posting close 3")
def close(posting: PostingArgument) -> None:
    """Clore une recherche : elle ne reçoit plus d'intérêt."""
    from grappe.partners.postings import service

    with operational.unit() as (session, actor):
        out = service.close_posting(session, actor, posting)
    _show_posting(out)
