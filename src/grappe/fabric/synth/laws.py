"""The assumptions of the synthetic fabric: file layout, shares, hazards, words, planted clusters."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa

SIRENE_COLUMNS: Final[tuple[str, ...]] = (
    "siren",
    "nic",
    "siret",
    "statutDiffusionEtablissement",
    "dateCreationEtablissement",
    "trancheEffectifsEtablissement",
    "anneeEffectifsEtablissement",
    "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement",
    "etablissementSiege",
    "nombrePeriodesEtablissement",
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
    "complementAdresse2Etablissement",
    "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement",
    "typeVoie2Etablissement",
    "libelleVoie2Etablissement",
    "codePostal2Etablissement",
    "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement",
    "codeCedex2Etablissement",
    "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement",
    "libellePaysEtranger2Etablissement",
    "dateDebut",
    "etatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "denominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
    "activitePrincipaleNAF25Etablissement",
)
"""The columns of INSEE's current StockEtablissement file, in INSEE's order (the NAF 2025
activity, added by INSEE in 2025, is left empty: the generator works in NAF rév. 2)."""

CHUNK_ROWS: Final[int] = 250_000
"""Rows generated and written at a time; fixed, because the bytes depend on it."""

MAX_ROWS: Final[int] = 60_000_000
"""Most rows of a file: enough for the whole SIRENE stock (~40 M), fewer than the SIRENs
the generator can give (64 M legal units)."""

STOCK_DATE: Final[np.datetime64] = np.datetime64("2025-01-01", "D")
"""The date the synthetic stock is taken at: no creation nor closure on or after it."""

FIRST_CREATION: Final[np.datetime64] = np.datetime64("1950-01-01", "D")

SECTION_SHARES: Final[dict[str, float]] = {
    "A": 5.5, "B": 0.05, "C": 5.0, "D": 2.0, "E": 0.3, "F": 9.0, "G": 14.0,
    "H": 3.5, "I": 5.0, "J": 3.5, "K": 3.5, "L": 10.0, "M": 11.0, "N": 6.0,
    "O": 1.2, "P": 3.5, "Q": 8.5, "R": 3.0, "S": 4.5, "T": 0.3, "U": 0.01,
}  # fmt: skip
"""Share (per cent, before normalisation) of establishments by NAF section (see module doc)."""

FIXED_SHARES: Final[dict[str, float]] = {
    # very large sous-classes of the Sirene stock
    "68.20B": 6.0, "68.20A": 1.5, "64.20Z": 1.5, "70.22Z": 2.5, "70.10Z": 1.0,
    "35.11Z": 1.8, "56.10A": 1.5, "56.10C": 1.2, "47.91B": 0.8, "49.32Z": 0.8,
    "53.20Z": 0.8, "86.21Z": 0.8, "86.90D": 1.0, "86.90E": 0.8, "96.02A": 0.9,
    "96.09Z": 1.0, "43.99C": 0.9, "41.20A": 0.4, "43.21A": 0.8, "43.22A": 0.4,
    "43.22B": 0.3, "43.32A": 0.5, "43.34Z": 0.6, "01.11Z": 1.0, "01.21Z": 0.7,
    "01.41Z": 0.4, "62.01Z": 0.7, "62.02A": 0.5, "74.10Z": 0.6, "90.01Z": 0.6,
    "90.03A": 0.5, "85.59A": 0.5, "85.59B": 0.4, "47.73Z": 0.15, "45.20A": 0.6,
    "47.71Z": 0.5,
    # the background of the planted sous-classes, so that clusters stand out as in reality
    "25.62A": 0.02, "22.29A": 0.03, "30.30Z": 0.01, "23.13Z": 0.002, "26.52Z": 0.005,
}  # fmt: skip
"""Share (per cent of all establishments) of sous-classes fixed by hand (see module doc)."""

WITHIN_SECTION_EXPONENT: Final[float] = 0.6

BAND_SHARES: Final[dict[str, float]] = {
    "NN": 0.62, "00": 0.17, "01": 0.095, "02": 0.045, "03": 0.025, "11": 0.018,
    "12": 0.012, "21": 0.0045, "22": 0.0022, "31": 0.0006, "32": 0.0007, "41": 0.0003,
    "42": 0.00012, "51": 0.00005, "52": 0.00001, "53": 0.000004,
}  # fmt: skip
"""Share of each ``trancheEffectifsEtablissement`` code before the section tilt."""

SECTION_TILT: Final[dict[str, float]] = {
    "B": 0.45, "C": 0.45, "E": 0.45, "O": 0.25, "P": 0.25, "Q": 0.25,
    "H": 0.12, "J": 0.12, "K": 0.12, "N": 0.12,
}  # fmt: skip
"""Exponent of ``1 + central headcount`` tilting the size bands of a section (0 if absent)."""

PLANTED_TILT: Final[float] = 0.8

EMPLOYER_BANDS: Final[frozenset[str]] = frozenset(BAND_SHARES) - {"NN", "00"}

MULTI_ESTABLISHMENT_SHARE: Final[float] = 0.06
"""Share of firms with more than one establishment."""

GROWTH: Final[float] = 0.035  # yearly growth of creations
HAZARD_YOUNG: Final[float] = 0.10  # yearly closure hazard over the first five years
HAZARD_OLD: Final[float] = 0.045
YOUNG_YEARS: Final[float] = 5.0
DAYS_PER_YEAR: Final[float] = 365.25
SIREN_LOW: Final[int] = 36_000_000  # 8-digit bases, so SIRENs 360000000..999999999
SIREN_SPAN: Final[int] = 64_000_000
SIREN_STEP: Final[int] = 40_499_287  # odd and not a multiple of 5: coprime with the span
LEFT_OUT_DEPARTEMENTS: Final[frozenset[str]] = frozenset({"984", "986", "987", "988", "989"})
ARRONDISSEMENTS: Final[dict[str, tuple[str, str, int]]] = {
    # commune -> (first arrondissement code, label stem, count)
    "75056": ("75101", "PARIS", 20),
    "69123": ("69381", "LYON", 9),
    "13055": ("13201", "MARSEILLE", 16),
}

DEFECTS: Final[tuple[str, ...]] = (
    "siret_luhn",
    "siret_nic_mismatch",
    "naf_unknown",
    "commune_unknown",
    "size_band_unknown",
    "date_impossible",
    "closure_before_creation",
)
"""The kinds of defects mixed in by ``invalid_rate`` (one per defective row):

- ``siret_luhn``: the NIC's key digit (and so the SIRET's last digit) is wrong;
- ``siret_nic_mismatch``: the ``nic`` column is another valid NIC than the SIRET's;
- ``naf_unknown``: activity ``99.99Z``;
- ``commune_unknown``: a postal code written as the commune (``75000``, ``69000``...);
- ``size_band_unknown``: size band ``7X``;
- ``date_impossible``: a creation date such as ``2019-13-45`` or ``2021-02-30``;
- ``closure_before_creation``: closed (F) with ``dateDebut`` before the creation date.
"""

# Postal codes of big cities, a frequent mistake for their COG code; none is a COG code.
POSTAL_CODES: Final[tuple[str, ...]] = ("75000", "69000", "13000", "31000", "44000")
POSTAL_LABELS: Final[tuple[str, ...]] = ("PARIS", "LYON", "MARSEILLE", "TOULOUSE", "NANTES")
IMPOSSIBLE_DATES: Final[tuple[str, ...]] = (
    "2019-13-45", "2021-02-30", "2018-04-31", "2023-00-12",
)  # fmt: skip

SECTION_WORDS: Final[dict[str, str]] = {
    "A": "EARL", "B": "CARRIERES", "C": "ATELIERS", "D": "ENERGIES", "E": "ENVIRONNEMENT",
    "F": "BATIMENT", "G": "COMMERCE", "H": "TRANSPORTS", "I": "AUBERGE", "J": "DIGITAL",
    "K": "FINANCES", "L": "SCI", "M": "CONSEIL", "N": "SERVICES", "O": "SERVICE PUBLIC",
    "P": "ECOLE", "Q": "CABINET", "R": "ASSOCIATION", "S": "SALON", "T": "MENAGE",
    "U": "REPRESENTATION",
}  # fmt: skip
SURNAMES: Final[tuple[str, ...]] = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS",
    "MOREAU", "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND",
    "MOREL", "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU",
    "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER",
    "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN",
    "CLEMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
)  # fmt: skip
STREET_TYPES: Final[tuple[str, ...]] = (
    "RUE", "AV", "BD", "PL", "CHE", "RTE", "ALL", "IMP", "ZI", "ZA",
)  # fmt: skip
STREET_TYPE_WEIGHTS: Final[tuple[float, ...]] = (50, 14, 6, 4, 8, 8, 3, 3, 2, 2)
STREET_NAMES: Final[tuple[str, ...]] = (
    "DE LA REPUBLIQUE", "DU GENERAL DE GAULLE", "JEAN JAURES", "DE LA GARE", "VICTOR HUGO",
    "PASTEUR", "DES ECOLES", "DE L EGLISE", "DU MOULIN", "NATIONALE", "DE LA MAIRIE",
    "DU STADE", "DES TILLEULS", "DE LA PAIX", "GAMBETTA", "JULES FERRY", "DU CHATEAU",
    "DES ACACIAS", "DE LA LIBERATION", "DU 8 MAI 1945", "DE PARIS", "DES LILAS",
    "DU COMMERCE", "DE L INDUSTRIE", "DES ARTISANS", "CARNOT", "DE VERDUN", "FOCH",
    "DU PONT", "DES VIGNES", "DU LAVOIR", "DE LA FONTAINE", "ANATOLE FRANCE", "PIERRE CURIE",
    "DES PRES", "DU CENTRE", "LECLERC", "DE LA POSTE", "DES CHAMPS", "DU PORT",
)  # fmt: skip
COMPLEMENTS: Final[tuple[str, ...]] = (
    "ZONE INDUSTRIELLE", "ZONE ARTISANALE", "BATIMENT A", "LIEU DIT LES GRANGES",
    "PARC D ACTIVITES", "CENTRE COMMERCIAL",
)


SCHEMA: Final[pa.Schema] = pa.schema([(name, pa.string()) for name in SIRENE_COLUMNS])
SURNAME_ARRAY: Final[pa.Array] = pa.array(SURNAMES, pa.string())
COMPLEMENT_ARRAY: Final[pa.Array] = pa.array(COMPLEMENTS, pa.string())
STREET_TYPE_ARRAY: Final[pa.Array] = pa.array(STREET_TYPES, pa.string())
STREET_NAME_ARRAY: Final[pa.Array] = pa.array(STREET_NAMES, pa.string())


@dataclass(frozen=True)
class ClusterSite:
    """The definition of a cluster planted in the synthetic fabric.

    Attributes
    ----------
    name
        French name of the cluster, as users read it.
    naf
        The NAF rév. 2 sous-classe planted (``25.62A`` form).
    communes
        COG codes of the communes where it is planted (shares grow with the square root of
        their population).
    per_million
        Establishments planted per million rows at strength 1.
    minimum
        Establishments planted at strength 1 however small the file (capped at rows / 200).
    trade
        Word used in the names of the planted establishments.
    """

    name: str
    naf: str
    communes: tuple[str, ...]
    per_million: float
    minimum: int
    trade: str


PLANTED_CLUSTERS: Final[tuple[ClusterSite, ...]] = (
    ClusterSite(
        name="Décolletage de la vallée de l'Arve",
        naf="25.62A",
        # Cluses, Scionzier, Marnaz, Thyez, Marignier, Magland, Sallanches, Bonneville,
        # Vougy, Saint-Sigismond, Nancy-sur-Cluses, Ayse, Passy (74)
        communes=("74081", "74264", "74169", "74278", "74164", "74159", "74256", "74042",
                  "74312", "74252", "74196", "74024", "74208"),
        per_million=40.0,
        minimum=25,
        trade="DECOLLETAGE",
    ),
    ClusterSite(
        name="Plasturgie d'Oyonnax (Plastics Vallée)",
        naf="22.29A",
        # Oyonnax, Bellignat, Arbent, Groissiat, Martignat, Dortan, Izernore,
        # Montréal-la-Cluse, Nantua (01)
        communes=("01283", "01031", "01014", "01181", "01237", "01148", "01192", "01265",
                  "01269"),
        per_million=25.0,
        minimum=20,
        trade="PLASTURGIE",
    ),
    ClusterSite(
        name="Construction aéronautique toulousaine",
        naf="30.30Z",
        # Toulouse, Blagnac, Colomiers, Cornebarrieu, Beauzelle (31)
        communes=("31555", "31069", "31149", "31150", "31056"),
        per_million=12.0,
        minimum=15,
        trade="AERO",
    ),
    ClusterSite(
        name="Verre creux de la vallée de la Bresle (Glass Vallée)",
        naf="23.13Z",
        # Eu, Le Tréport, Blangy-sur-Bresle, Aumale, Incheville, Ponts-et-Marais (76);
        # Gamaches, Mers-les-Bains, Beauchamps, Bouttencourt, Feuquières-en-Vimeu,
        # Senarpont (80)
        communes=("76255", "76711", "76101", "76035", "76374", "76507", "80373", "80533",
                  "80063", "80126", "80308", "80732"),
        per_million=5.0,
        minimum=12,
        trade="VERRERIE",
    ),
    ClusterSite(
        name="Horlogerie du Haut-Doubs (Morteau, Pontarlier)",
        naf="26.52Z",
        # Morteau, Villers-le-Lac, Les Fins, Montlebon, Grand'Combe-Châteleu, Pontarlier,
        # Maîche, Charquemont, Damprichard, Le Russey (25)
        communes=("25411", "25321", "25240", "25403", "25285", "25462", "25356", "25127",
                  "25193", "25512"),
        per_million=8.0,
        minimum=12,
        trade="HORLOGERIE",
    ),
)
"""The clusters planted by ``write_synthetic`` (detection tests check their recall)."""


@dataclass(frozen=True)
class PlantedCluster:
    """A cluster planted in one synthetic file.

    Attributes
    ----------
    name, naf
        As in the ``ClusterSite`` definition.
    communes
        The commune codes where it was planted (those of the requested région).
    establishments
        Establishments planted, all valid and active, on top of the background.
    """

    name: str
    naf: str
    communes: list[str]
    establishments: int


def _within_section_law(codes: list[str]) -> np.ndarray:
    """Deterministic skewed weights: rank by a hash of the code, weight 1/(rank+1)^s."""
    keys = [hashlib.blake2b(code.encode(), digest_size=8).digest() for code in codes]
    order = sorted(range(len(codes)), key=lambda i: keys[i])
    rank = np.empty(len(codes), dtype=np.float64)
    rank[order] = np.arange(len(codes), dtype=np.float64)
    return 1.0 / (rank + 1.0) ** WITHIN_SECTION_EXPONENT


def naf_shares(codes: list[str], sections: list[str]) -> np.ndarray:
    """The share of establishments of each sous-classe in the synthetic fabric.

    Parameters
    ----------
    codes
        Sous-classe codes (``25.62A`` form).
    sections
        Their NAF sections (``A`` .. ``U``), in the same order.

    Returns
    -------
    numpy.ndarray
        Shares summing to 1: ``SECTION_SHARES`` split between ``FIXED_SHARES`` and the
        skewed law of the module docstring.
    """
    shares = np.zeros(len(codes), dtype=np.float64)
    section_arr = np.asarray(sections)
    for section, section_share in SECTION_SHARES.items():
        members = np.flatnonzero(section_arr == section)
        if members.size == 0:
            continue
        fixed = np.array([FIXED_SHARES.get(codes[i], 0.0) for i in members])
        free = members[fixed == 0.0]
        rest = section_share - fixed.sum()
        if rest <= 0 or free.size == 0:
            raise RuntimeError(
                f"FIXED_SHARES dépasse la part de la section {section} (SECTION_SHARES)"
            )
        shares[members] = fixed
        law = _within_section_law([codes[i] for i in free])
        shares[free] = rest * law / law.sum()
    return shares / shares.sum()


