"""The catalogue of evaluation indicators: what each measures, how, from which data.

Every indicator is computed per cluster organisation and year (the calendar year; "at the
end of the year" is 31 December) from the registry, cooperation and the fabric, for all
clusters at once (:func:`grappe.evaluation.repository.computed_values`), or declared by the
cluster with evidence when grappe holds no data for it (a declared value replaces the
computed one). The catalogue is the one place the documentation, the pages, the CLI and the
reports read names and definitions from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Unit(StrEnum):
    """How an indicator's value reads."""

    COUNT = "count"
    SHARE = "share"  # 0..1, shown as a percentage
    EUROS = "euros"
    YEARS = "years"
    KM = "km"
    RATIO = "ratio"


@dataclass(frozen=True)
class Indicator:
    """One documented indicator.

    Attributes
    ----------
    code
        Its identifier in files, the API and contracts (English snake_case).
    name
        Its French name.
    definition
        What it measures and how, in French.
    source
        Where the data comes from, in French.
    unit
        How its value reads.
    higher_is_better
        The direction of the red/amber/green reading and of percentile ranks.
    green, amber
        Default thresholds: green at or beyond ``green``, amber at or beyond ``amber``
        (beyond meaning above when higher is better, below otherwise), red otherwise.
    """

    code: str
    name: str
    definition: str
    source: str
    unit: Unit
    higher_is_better: bool
    green: float
    amber: float


def _i(
    code: str,
    name: str,
    definition: str,
    source: str,
    unit: Unit,
    green: float,
    amber: float,
    *,
    higher: bool = True,
) -> Indicator:
    return Indicator(code, name, definition, source, unit, higher, green, amber)


CATALOGUE: Final[tuple[Indicator, ...]] = (
    _i(
        "members",
        "Adhérents",
        "Organisations adhérentes au 31 décembre de l'année (périodes d'adhésion ouvertes).",
        "registre : adhésions",
        Unit.COUNT,
        50,
        20,
    ),
    _i(
        "sme_share",
        "Part de PME",
        "Part des adhérents de taille connue qui sont des TPE ou PME (catégorie, effectif déclaré "
        "ou tranche d'effectif : moins de 250 salariés).",
        "registre : organisations",
        Unit.SHARE,
        0.7,
        0.5,
    ),
    _i(
        "retention",
        "Fidélisation",
        "Part des adhérents du 1er janvier encore adhérents au 31 décembre.",
        "registre : adhésions",
        Unit.SHARE,
        0.9,
        0.75,
    ),
    _i(
        "seniority",
        "Ancienneté moyenne",
        "Ancienneté moyenne d'adhésion des adhérents au 31 décembre, en années.",
        "registre : adhésions",
        Unit.YEARS,
        3,
        1.5,
    ),
    _i("entries", "Entrées", "Adhésions commencées dans l'année.", "registre : adhésions", Unit.COUNT, 5, 1),
    _i(
        "exits",
        "Sorties",
        "Adhésions terminées dans l'année.",
        "registre : adhésions",
        Unit.COUNT,
        2,
        5,
        higher=False,
    ),
    _i(
        "fee_income",
        "Cotisations encaissées",
        "Paiements de cotisations reçus dans l'année, en euros.",
        "registre : paiements",
        Unit.EUROS,
        50_000,
        15_000,
    ),
    _i(
        "fee_payment_rate",
        "Taux de paiement des cotisations",
        "Part des appels de cotisation de l'année payés (ou soldés) ; les exonérés ne comptent pas.",
        "registre : appels de cotisation",
        Unit.SHARE,
        0.9,
        0.7,
    ),
    _i(
        "services_revenue",
        "Recettes de services",
        "Financement de l'année déclaré au titre de la vente de services, en euros.",
        "registre : financements (source « services »)",
        Unit.EUROS,
        30_000,
        5_000,
    ),
    _i(
        "self_financing",
        "Taux d'autofinancement",
        "Cotisations et services sur l'ensemble des financements déclarés de l'année.",
        "registre : financements",
        Unit.SHARE,
        0.5,
        0.3,
    ),
    _i(
        "projects_submitted",
        "Projets déposés",
        "Projets au portefeuille de la structure (portés ou labellisés) déposés dans l'année "
        "(transition « déposé » datée de l'année, ou édition de l'année à un statut au-delà).",
        "coopération : projets",
        Unit.COUNT,
        5,
        2,
    ),
    _i(
        "projects_funded",
        "Projets financés",
        "Projets au portefeuille financés dans l'année (même règle que les projets déposés).",
        "coopération : projets",
        Unit.COUNT,
        3,
        1,
    ),
    _i(
        "inter_cluster_projects",
        "Projets inter-clusters",
        "Projets au portefeuille dont les partenaires adhèrent à au moins deux structures au 31 décembre.",
        "coopération : partenaires ; registre : adhésions",
        Unit.COUNT,
        2,
        1,
    ),
    _i(
        "inter_cluster_meetings",
        "Rendez-vous d'affaires inter-clusters",
        "Rendez-vous tenus aux rendez-vous d'affaires publiés de la structure dans l'année entre deux "
        "organisations sans structure commune le jour de l'événement.",
        "partenaires : rendez-vous d'affaires ; registre : adhésions",
        Unit.COUNT,
        10,
        1,
    ),
    _i(
        "business_between_members",
        "Affaires entre adhérents",
        "Montant des affaires déclarées entre adhérents pour l'année, en euros.",
        "coopération : affaires",
        Unit.EUROS,
        1_000_000,
        100_000,
    ),
    _i(
        "network_density",
        "Densité du réseau",
        "Paires d'adhérents reliées par un lien de coopération confirmé, sur toutes les paires "
        "possibles d'adhérents au 31 décembre.",
        "coopération : liens",
        Unit.SHARE,
        0.1,
        0.03,
    ),
    _i(
        "orientations",
        "Orientations de coopération",
        "Nombre d'orientations (moyens, produits/marchés, club de travail) couvertes par les liens "
        "confirmés de la structure (0 à 3).",
        "coopération : liens",
        Unit.COUNT,
        3,
        2,
    ),
    _i(
        "event_attendance",
        "Participation aux événements",
        "Participations effectives d'organisations aux événements de l'année, par adhérent.",
        "coopération : événements",
        Unit.RATIO,
        1.0,
        0.3,
    ),
    _i(
        "sector_share",
        "Activité dominante",
        "Part des adhérents dont le code NAF relève du périmètre sectoriel de la structure.",
        "registre : organisations et secteurs de la structure",
        Unit.SHARE,
        0.6,
        0.4,
    ),
    _i(
        "territory_share",
        "Ancrage territorial",
        "Part des adhérents de commune connue situés dans le territoire de la structure.",
        "registre ; référentiel des territoires (COG)",
        Unit.SHARE,
        0.7,
        0.5,
    ),
    _i(
        "member_distance_km",
        "Distance entre adhérents",
        "Distance moyenne des adhérents au barycentre des adhérents (centroïdes des communes, "
        "Lambert-93), en kilomètres.",
        "registre ; référentiel des territoires (COG)",
        Unit.KM,
        30,
        80,
        higher=False,
    ),
    _i(
        "territory_coverage",
        "Couverture du tissu",
        "Part des établissements ouverts au 31 décembre dans le territoire × secteurs de la "
        "structure (tissu productif) qui appartiennent à un adhérent.",
        "tissu productif (fabric.lookup) ; registre : établissements",
        Unit.SHARE,
        0.1,
        0.03,
    ),
    _i(
        "detection_evidence",
        "Preuve de détection",
        "Meilleur score (0 à 1) des clusters potentiels détectés dans le territoire × secteurs de la "
        "structure, lu dans la dernière analyse sauvegardée de l'observatoire ; n/d sans analyse.",
        "détection : analyses sauvegardées (grappe detect --save)",
        Unit.RATIO,
        0.6,
        0.3,
    ),
)
"""Every indicator, in the order pages and files list them."""

BY_CODE: Final = {indicator.code: indicator for indicator in CATALOGUE}


def indicator(code: str) -> Indicator:
    """The indicator of a code; an InputError naming the allowed codes otherwise."""
    from grappe.errors import InputError

    try:
        return BY_CODE[code]
    except KeyError:
        raise InputError(f"indicateur « {code} » inconnu : attendu l'un de {', '.join(BY_CODE)}") from None


class Mark(StrEnum):
    """The marks of a cluster in the source documents (seeds 000 and 001)."""

    SME_NETWORK = "sme_network"
    DOMINANT_ACTIVITY = "dominant_activity"
    PROXIMITY = "proximity"
    COOPERATION = "cooperation"
    TERRITORY_TIES = "territory_ties"
    CRITICAL_MASS = "critical_mass"
    COMMON_INTEREST = "common_interest"
    VOLUNTARY_COMMITMENT = "voluntary_commitment"
    COLLABORATIONS = "collaborations"
    DURABILITY = "durability"
    COMPETITIVENESS = "competitiveness"
    REGIONAL_VALUE = "regional_value"


MARKS: Final[tuple[tuple[Mark, str, str, tuple[str, ...]], ...]] = (
    (Mark.SME_NETWORK, "PME en réseau", "000", ("sme_share", "network_density")),
    (Mark.DOMINANT_ACTIVITY, "Activité dominante", "000", ("sector_share", "detection_evidence")),
    (Mark.PROXIMITY, "Territoire de proximité", "000", ("territory_share", "member_distance_km")),
    (
        Mark.COOPERATION,
        "Coopérations",
        "000",
        ("network_density", "business_between_members", "orientations"),
    ),
    (
        Mark.TERRITORY_TIES,
        "Liens avec le territoire",
        "000",
        ("territory_coverage", "territory_share", "detection_evidence"),
    ),
    (Mark.CRITICAL_MASS, "Masse critique", "001", ("members", "territory_coverage")),
    (Mark.COMMON_INTEREST, "Intérêt commun", "001", ("event_attendance", "fee_payment_rate")),
    (Mark.VOLUNTARY_COMMITMENT, "Engagement volontaire", "001", ("retention", "fee_payment_rate")),
    (Mark.COLLABORATIONS, "Collaborations", "001", ("orientations", "projects_submitted", "network_density")),
    (Mark.DURABILITY, "Pérennité", "001", ("retention", "seniority", "entries", "exits")),
    (Mark.COMPETITIVENESS, "Compétitivité", "001", ("projects_funded", "inter_cluster_projects")),
    (
        Mark.REGIONAL_VALUE,
        "Valeur ajoutée régionale",
        "001",
        ("territory_coverage", "business_between_members", "self_financing"),
    ),
)
"""Each mark: its code, French name, the seed that names it, the indicators that measure it."""

AREAS: Final[tuple[tuple[str, str, tuple[str, ...]], ...]] = (
    ("structure", "Structure du cluster", ("members", "sme_share", "sector_share")),
    ("governance", "Gouvernance", ("retention", "fee_payment_rate")),
    ("financing", "Financement", ("self_financing", "fee_income", "services_revenue")),
    ("services", "Services aux adhérents", ("event_attendance", "services_revenue")),
    ("interaction", "Interaction au sein du cluster", ("network_density", "business_between_members")),
    (
        "achievements",
        "Réalisations et reconnaissance",
        ("projects_funded", "inter_cluster_projects", "inter_cluster_meetings"),
    ),
)
"""The six areas of the management self-assessment, inspired by ESCA's cluster management
benchmarking (not its label, nor its 36 indicators, unavailable offline): each area's French
name and the indicators grappe derives for it."""

#: English names of every indicator, mark and area (their French names are above): what a page
#: in English shows. ``tests/evaluation`` checks that each code has one.
ENGLISH: Final[dict[str, str]] = {
    # indicators
    "members": "Members",
    "sme_share": "Share of SMEs",
    "retention": "Member retention",
    "seniority": "Average membership seniority",
    "entries": "New members",
    "exits": "Departures",
    "fee_income": "Fees received",
    "fee_payment_rate": "Fee payment rate",
    "services_revenue": "Services revenue",
    "self_financing": "Self-financing rate",
    "projects_submitted": "Projects submitted",
    "projects_funded": "Projects funded",
    "inter_cluster_projects": "Inter-cluster projects",
    "inter_cluster_meetings": "Inter-cluster B2B meetings",
    "business_between_members": "Business between members",
    "network_density": "Network density",
    "orientations": "Cooperation orientations",
    "event_attendance": "Event attendance",
    "sector_share": "Dominant activity",
    "territory_share": "Territorial anchoring",
    "member_distance_km": "Distance between members",
    "territory_coverage": "Coverage of the productive fabric",
    "detection_evidence": "Detection evidence",
    # marks of the source documents
    "sme_network": "Networked SMEs",
    "dominant_activity": "Dominant activity",
    "proximity": "Local territory",
    "cooperation": "Cooperation",
    "territory_ties": "Ties with the territory",
    "critical_mass": "Critical mass",
    "common_interest": "Common interest",
    "voluntary_commitment": "Voluntary commitment",
    "collaborations": "Collaborations",
    "durability": "Durability",
    "competitiveness": "Competitiveness",
    "regional_value": "Regional added value",
    # areas of the self-assessment
    "structure": "Cluster structure",
    "governance": "Governance",
    "financing": "Financing",
    "services": "Services to members",
    "interaction": "Interaction within the cluster",
    "achievements": "Achievements and recognition",
}

#: French names of every indicator, mark and area, by code.
FRENCH: Final[dict[str, str]] = {
    **{i.code: i.name for i in CATALOGUE},
    **{mark.value: name for mark, name, _, _ in MARKS},
    **{code: name for code, name, _ in AREAS},
}


def named(code: str, language: str = "fr") -> str:
    """The name of an indicator, a mark or a self-assessment area in a language (``fr``, ``en``);
    an unknown code is returned as it is."""
    names = ENGLISH if language == "en" else FRENCH
    return names.get(code, code)
