"""Synthetic SIRENE establishment files: a realistic French productive fabric with planted clusters.

The file has the layout of INSEE's ``StockEtablissement`` (the current column set, in INSEE's
order, every value a string, empty where not simulated), as ``,``-separated UTF-8 CSV with a
header or as Parquet, chosen by the extension of the output path. It is written chunk by
chunk (``CHUNK_ROWS`` rows, vectorised NumPy and Arrow per chunk), so 15 million rows fit in
a bounded memory. The chunk size is a constant and every chunk draws from its own generator
seeded by ``(seed, chunk index)``: the same arguments give the same bytes.

What is simulated, and on which assumptions
-------------------------------------------
- **Identifiers.** Legal units (SIREN) are a bijection of a running firm number onto
  ``360000000..999999999`` (so never La Poste's ``356000000``, the one SIRET whose key
  follows another rule), with a valid Luhn key. Establishments number 1..k inside their
  firm after a random offset; the NIC is that 4-digit number plus the key that makes the
  SIRET Luhn-valid, which is how INSEE builds NICs. About 6 % of firms have several
  establishments (1 + a Zipf(2.2) count capped at 200): a fifth of the rows.
- **Communes.** Real current communes (``grappe.refdata.territories``) drawn in proportion
  to their population (plus 30 inhabitants, so that no commune is impossible); the
  collectivités d'outre-mer outside SIRENE (TAAF, Wallis-et-Futuna, Polynésie,
  Nouvelle-Calédonie, Clipperton) are left out. Paris, Lyon and Marseille get their
  arrondissement codes (75101-75120, 69381-69389, 13201-13216, in equal shares) as SIRENE
  does. ``region`` restricts the draw to one région.
- **Activities.** The 732 NAF rév. 2 sous-classes. Section shares (``SECTION_SHARES``) are
  rounded orders of magnitude of INSEE's published breakdown of the active establishments
  of the Sirene stock by section (commerce, real estate, specialised and support services,
  construction and health dominate; the SCI of 68.20B and the photovoltaic producers of
  35.11Z weigh heavily). A few large or telling sous-classes get a fixed share
  (``FIXED_SHARES``, same kind of source and rounding); inside each section the rest is
  spread over the remaining sous-classes by a deterministic skewed law: the sous-classes
  are ranked by a BLAKE2b hash of their code and weighted ``1 / (rank + 1) ** 0.6``. These
  are assumptions that give a plausible shape, not published figures.
  Secondary establishments keep their firm's activity 70 % of the time.
- **Size bands.** ``BAND_SHARES`` gives the shares of ``trancheEffectifsEtablissement``
  over all establishments (most are ``NN``, ``00`` or ``01``; very few above 250); each
  section tilts them by ``(1 + central headcount) ** SECTION_TILT`` (industry most), the
  planted clusters by ``PLANTED_TILT``. 85 % of closed establishments, and all those
  closed before 2001, carry ``NN``.
- **Dates.** Creations from 1950 to the stock date (2025-01-01) with a 3.5 % yearly growth;
  lifetimes from a piecewise constant hazard (10 % a year over the first five years, which
  gives INSEE's order of 60 % five-year survival, then 4.5 %). An establishment whose
  lifetime ends before the stock date is closed (``etatAdministratifEtablissement`` F)
  with ``dateDebut`` = the closure date; 30 % of active ones have a later period start.
- **Places.** Lambert-93 coordinates scattered around the commune centroid with a standard
  deviation growing with the population (400 m to 5 km); none overseas (SIRENE gives local
  projections there). Street numbers, street types and names from short lists; postal
  codes and BAN identifiers are not simulated (left empty).
- **Names.** 30 % of establishments have an ``enseigne1Etablissement`` made of a word of
  their section (or of their cluster's trade) and a common French surname.
- **Planted clusters** (``PLANTED_CLUSTERS``): extra establishments of one sous-class in
  real places, spread evenly through the file, always active, with a strong size tilt.
  Their number is ``strength * min(max(minimum, per_million * rows / 1e6), rows / 200)``:
  at 15 M rows and strength 1, hundreds of establishments as in reality (the Arve valley
  holds most French décolletage); at 200 k rows still a dozen or more where the
  background expects well under one.
- **Defects** (``invalid_rate``): that share of the rows (rounded per chunk, never a planted
  row) gets exactly one realistic defect among ``DEFECTS``; ``SynthReport.invalid_rows``
  counts them so tests can check that an import quarantines exactly those rows.
"""

from __future__ import annotations

import hashlib
import os
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from grappe.errors import InputError, UnknownCodeError
from grappe.progress import SILENT, Reporter
from grappe.refdata import sizes, territories
from grappe.refdata.naf import sous_classes

__all__ = [
    "CHUNK_ROWS",
    "DEFECTS",
    "MAX_ROWS",
    "PLANTED_CLUSTERS",
    "SIRENE_COLUMNS",
    "ClusterSite",
    "PlantedCluster",
    "SynthReport",
    "luhn_valid",
    "naf_shares",
    "write_synthetic",
]

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

_GROWTH: Final[float] = 0.035  # yearly growth of creations
_HAZARD_YOUNG: Final[float] = 0.10  # yearly closure hazard over the first five years
_HAZARD_OLD: Final[float] = 0.045
_YOUNG_YEARS: Final[float] = 5.0
_DAYS_PER_YEAR: Final[float] = 365.25
_SIREN_LOW: Final[int] = 36_000_000  # 8-digit bases, so SIRENs 360000000..999999999
_SIREN_SPAN: Final[int] = 64_000_000
_SIREN_STEP: Final[int] = 40_499_287  # odd and not a multiple of 5: coprime with the span
_LEFT_OUT_DEPARTEMENTS: Final[frozenset[str]] = frozenset({"984", "986", "987", "988", "989"})
_ARRONDISSEMENTS: Final[dict[str, tuple[str, str, int]]] = {
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
_POSTAL_CODES: Final[tuple[str, ...]] = ("75000", "69000", "13000", "31000", "44000")
_POSTAL_LABELS: Final[tuple[str, ...]] = ("PARIS", "LYON", "MARSEILLE", "TOULOUSE", "NANTES")
_IMPOSSIBLE_DATES: Final[tuple[str, ...]] = (
    "2019-13-45", "2021-02-30", "2018-04-31", "2023-00-12",
)  # fmt: skip

_SECTION_WORDS: Final[dict[str, str]] = {
    "A": "EARL", "B": "CARRIERES", "C": "ATELIERS", "D": "ENERGIES", "E": "ENVIRONNEMENT",
    "F": "BATIMENT", "G": "COMMERCE", "H": "TRANSPORTS", "I": "AUBERGE", "J": "DIGITAL",
    "K": "FINANCES", "L": "SCI", "M": "CONSEIL", "N": "SERVICES", "O": "SERVICE PUBLIC",
    "P": "ECOLE", "Q": "CABINET", "R": "ASSOCIATION", "S": "SALON", "T": "MENAGE",
    "U": "REPRESENTATION",
}  # fmt: skip
_SURNAMES: Final[tuple[str, ...]] = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS",
    "MOREAU", "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND",
    "MOREL", "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU",
    "VINCENT", "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER",
    "GARNIER", "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN",
    "CLEMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON",
)  # fmt: skip
_STREET_TYPES: Final[tuple[str, ...]] = (
    "RUE", "AV", "BD", "PL", "CHE", "RTE", "ALL", "IMP", "ZI", "ZA",
)  # fmt: skip
_STREET_TYPE_WEIGHTS: Final[tuple[float, ...]] = (50, 14, 6, 4, 8, 8, 3, 3, 2, 2)
_STREET_NAMES: Final[tuple[str, ...]] = (
    "DE LA REPUBLIQUE", "DU GENERAL DE GAULLE", "JEAN JAURES", "DE LA GARE", "VICTOR HUGO",
    "PASTEUR", "DES ECOLES", "DE L EGLISE", "DU MOULIN", "NATIONALE", "DE LA MAIRIE",
    "DU STADE", "DES TILLEULS", "DE LA PAIX", "GAMBETTA", "JULES FERRY", "DU CHATEAU",
    "DES ACACIAS", "DE LA LIBERATION", "DU 8 MAI 1945", "DE PARIS", "DES LILAS",
    "DU COMMERCE", "DE L INDUSTRIE", "DES ARTISANS", "CARNOT", "DE VERDUN", "FOCH",
    "DU PONT", "DES VIGNES", "DU LAVOIR", "DE LA FONTAINE", "ANATOLE FRANCE", "PIERRE CURIE",
    "DES PRES", "DU CENTRE", "LECLERC", "DE LA POSTE", "DES CHAMPS", "DU PORT",
)  # fmt: skip
_COMPLEMENTS: Final[tuple[str, ...]] = (
    "ZONE INDUSTRIELLE", "ZONE ARTISANALE", "BATIMENT A", "LIEU DIT LES GRANGES",
    "PARC D ACTIVITES", "CENTRE COMMERCIAL",
)


_SCHEMA: Final[pa.Schema] = pa.schema([(name, pa.string()) for name in SIRENE_COLUMNS])
_SURNAME_ARRAY: Final[pa.Array] = pa.array(_SURNAMES, pa.string())
_COMPLEMENT_ARRAY: Final[pa.Array] = pa.array(_COMPLEMENTS, pa.string())
_STREET_TYPE_ARRAY: Final[pa.Array] = pa.array(_STREET_TYPES, pa.string())
_STREET_NAME_ARRAY: Final[pa.Array] = pa.array(_STREET_NAMES, pa.string())


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


@dataclass(frozen=True)
class SynthReport:
    """What ``write_synthetic`` wrote.

    Attributes
    ----------
    path
        The file written.
    rows
        Establishment rows (the header excluded).
    invalid_rows
        Rows carrying one defect each (see ``DEFECTS``).
    planted
        The clusters planted, with their establishment counts.
    seconds
        Wall time of the generation.
    invalid_by_defect
        ``invalid_rows`` broken down by kind of defect.
    """

    path: Path
    rows: int
    invalid_rows: int
    planted: list[PlantedCluster]
    seconds: float
    invalid_by_defect: dict[str, int] = field(default_factory=dict)


def luhn_valid(numbers: np.ndarray, digits: int) -> np.ndarray:
    """Whether each number passes the Luhn check (as SIREN and SIRET keys must).

    Parameters
    ----------
    numbers
        Non-negative integers (``int64``), e.g. SIRENs or SIRETs as numbers.
    digits
        How many digits the identifiers have (9 for a SIREN, 14 for a SIRET); leading
        zeros count.

    Returns
    -------
    numpy.ndarray
        Booleans, one per number.

    Examples
    --------
    >>> luhn_valid(np.array([732829320, 732829321]), 9).tolist()
    [True, False]
    """
    return _luhn_sum(np.asarray(numbers, dtype=np.int64), digits, double_first=False) % 10 == 0


def _luhn_sum(numbers: np.ndarray, digits: int, *, double_first: bool) -> np.ndarray:
    """Luhn digit sum, counting from the rightmost digit (doubled when ``double_first``)."""
    rest = numbers.copy()
    total = np.zeros_like(rest)
    for position in range(digits):  # a loop over digit positions, not over rows
        digit = rest % 10
        rest //= 10
        if (position % 2 == 0) == double_first:
            digit = digit * 2
            digit -= 9 * (digit > 9)
        total += digit
    return total


def _luhn_key(payload: np.ndarray, digits: int) -> np.ndarray:
    """The check digit that makes ``payload * 10 + key`` Luhn-valid."""
    return (10 - _luhn_sum(payload, digits, double_first=True) % 10) % 10


@dataclass(frozen=True)
class _Tables:
    """The reference data turned into sampling arrays, built once per file."""

    commune_code: pa.Array
    commune_label: pa.Array
    commune_x: np.ndarray
    commune_y: np.ndarray
    commune_sigma: np.ndarray
    commune_cdf: np.ndarray
    commune_index: dict[str, int]
    commune_eligible: np.ndarray
    commune_population: np.ndarray
    naf_code: pa.Array
    naf_section: np.ndarray
    naf_cdf: np.ndarray
    naf_index: dict[str, int]
    band_code: pa.Array
    band_employer: np.ndarray
    band_cdf: np.ndarray  # one row per section, then one for the planted clusters
    band_nn: int
    section_word: pa.Array


@dataclass(frozen=True)
class _Plan:
    """Where the planted establishments go (global row positions), decided once per file."""

    position: np.ndarray  # sorted global row numbers
    cluster: np.ndarray  # index into ``sites``, per planted row
    commune: np.ndarray  # index into the commune tables, per planted row
    sites: tuple[ClusterSite, ...]
    site_communes: tuple[list[str], ...]  # the communes of each site inside the région
    naf: np.ndarray  # index into the NAF tables, per site
    trade: pa.Array  # name word, per site


def _ascii_upper(names: list[str]) -> list[str]:
    """Commune labels as SIRENE writes them: upper case, no accents, no apostrophes."""
    out = []
    for name in names:
        plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
        out.append(plain.upper().replace("'", " ").replace("’", " "))
    return out


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
            raise RuntimeError(f"FIXED_SHARES exceed the share of section {section}")
        shares[members] = fixed
        law = _within_section_law([codes[i] for i in free])
        shares[free] = rest * law / law.sum()
    return shares / shares.sum()


def _load_tables(region: str | None) -> _Tables:
    """Read the reference data (communes, NAF, size bands) into sampling arrays."""
    communes = territories.communes()
    code = communes.column("code").to_pylist()
    name = communes.column("name").to_pylist()
    departement = communes.column("departement").to_pylist()
    commune_region = communes.column("region").to_pylist()
    population = np.asarray(communes.column("population").fill_null(0).to_numpy(), dtype=np.float64)
    x = np.asarray(communes.column("x").to_numpy(zero_copy_only=False), dtype=np.float64)
    y = np.asarray(communes.column("y").to_numpy(zero_copy_only=False), dtype=np.float64)
    overseas = np.array([d is None or d.startswith("97") for d in departement])
    x[overseas] = np.nan
    y[overseas] = np.nan

    keep = np.array([d not in _LEFT_OUT_DEPARTEMENTS for d in departement])
    if region is not None:
        known = sorted({r for r, k in zip(commune_region, keep, strict=True) if k and r})
        if region not in known:
            raise UnknownCodeError(
                f"région inconnue : {region!r} (codes connus : {', '.join(known)})"
            )
        keep &= np.array([r == region for r in commune_region])

    labels = _ascii_upper(name)
    # Paris, Lyon and Marseille are split into their arrondissements, as SIRENE codes them.
    extra_code: list[str] = []
    extra_label: list[str] = []
    extra_parent: list[int] = []
    index = {c: i for i, c in enumerate(code)}
    for city, (first, stem, count) in _ARRONDISSEMENTS.items():
        parent = index.get(city)
        if parent is None:
            continue
        for k in range(count):
            extra_code.append(str(int(first) + k))
            extra_label.append(f"{stem} {k + 1}")
            extra_parent.append(parent)
    parents = np.asarray(extra_parent, dtype=np.int64)
    counts = np.array([_ARRONDISSEMENTS[code[p]][2] for p in extra_parent], dtype=np.float64)
    weight = np.concatenate([np.where(keep, population + 30.0, 0.0),
                             np.where(keep[parents], (population[parents] + 30.0) / counts, 0.0)])
    weight[parents] = 0.0  # the city itself is drawn through its arrondissements
    all_x = np.concatenate([x, x[parents]])
    all_y = np.concatenate([y, y[parents]])
    all_population = np.concatenate([population, population[parents]])
    sigma = np.clip(700.0 * (np.maximum(all_population, 1.0) / 1000.0) ** 0.25, 400.0, 5000.0)
    if weight.sum() <= 0:
        raise InputError(f"aucune commune habitée dans la région {region!r}")

    naf_table = sous_classes()
    naf_codes = [_dotted(c) for c in naf_table.column("code").to_pylist()]
    naf_sections = naf_table.column("section").to_pylist()
    section_order = sorted(SECTION_SHARES)
    section_of = {s: i for i, s in enumerate(section_order)}
    naf_section = np.array([section_of[s] for s in naf_sections], dtype=np.int64)

    bands = sizes.size_bands()
    central_of = dict(
        zip(bands.column("code").to_pylist(), bands.column("central").to_pylist(), strict=True)
    )
    band_codes = list(BAND_SHARES)
    missing = [b for b in band_codes if b not in central_of]
    if missing:
        raise RuntimeError(f"size bands unknown to grappe.refdata.sizes: {missing}")
    base = np.array([BAND_SHARES[b] for b in band_codes])
    central = np.array([float(central_of[b] or 0.0) for b in band_codes])
    tilts = [SECTION_TILT.get(s, 0.0) for s in section_order] + [PLANTED_TILT]
    band_cdf = np.empty((len(tilts), len(band_codes)))
    for row, tilt in enumerate(tilts):
        p = base * (1.0 + central) ** tilt
        band_cdf[row] = np.cumsum(p / p.sum())
    band_cdf[:, -1] = 1.0

    naf_cdf = np.cumsum(naf_shares(naf_codes, naf_sections))
    naf_cdf[-1] = 1.0
    commune_cdf = np.cumsum(weight / weight.sum())
    commune_cdf[-1] = 1.0
    all_codes = code + extra_code
    return _Tables(
        commune_code=pa.array(all_codes, pa.string()),
        commune_label=pa.array(labels + extra_label, pa.string()),
        commune_x=all_x,
        commune_y=all_y,
        commune_sigma=sigma,
        commune_cdf=commune_cdf,
        commune_index={c: i for i, c in enumerate(all_codes)},
        commune_eligible=np.concatenate([keep, keep[parents]]),
        commune_population=all_population,
        naf_code=pa.array(naf_codes, pa.string()),
        naf_section=naf_section,
        naf_cdf=naf_cdf,
        naf_index={c: i for i, c in enumerate(naf_codes)},
        band_code=pa.array(band_codes, pa.string()),
        band_employer=np.array([b in EMPLOYER_BANDS for b in band_codes]),
        band_cdf=band_cdf,
        band_nn=band_codes.index("NN"),
        section_word=pa.array([_SECTION_WORDS[s] for s in section_order], pa.string()),
    )


def _dotted(code: str) -> str:
    """A sous-classe code in INSEE's stock form ``25.62A``."""
    code = code.strip().upper()
    return code if "." in code else f"{code[:2]}.{code[2:]}"


def _planted_count(site: ClusterSite, rows: int, strength: float) -> int:
    """Establishments of one site planted in a file of ``rows`` rows (module docstring)."""
    base = min(max(float(site.minimum), site.per_million * rows / 1e6), rows / 200.0)
    return round(strength * base)


def _plan(tables: _Tables, rows: int, seed: int, strength: float) -> _Plan:
    """Decide the rows, clusters and communes of the planted establishments."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    sites: list[ClusterSite] = []
    site_communes: list[list[str]] = []
    clusters: list[np.ndarray] = []
    communes: list[np.ndarray] = []
    for site in PLANTED_CLUSTERS:
        inside = [c for c in site.communes if tables.commune_eligible[tables.commune_index[c]]]
        count = _planted_count(site, rows, strength)
        if not inside or count == 0:
            continue
        idx = np.array([tables.commune_index[c] for c in inside], dtype=np.int64)
        weight = np.sqrt(tables.commune_population[idx])
        clusters.append(np.full(count, len(sites), dtype=np.int64))
        communes.append(idx[_draw(np.cumsum(weight / weight.sum()), rng.random(count))])
        sites.append(site)
        site_communes.append(inside)
    naf = np.array([tables.naf_index[site.naf] for site in sites], dtype=np.int64)
    trade = pa.array([site.trade for site in sites] or [""], pa.string())
    if not sites:
        empty = np.zeros(0, dtype=np.int64)
        return _Plan(empty, empty, empty, (), (), naf, trade)
    cluster = np.concatenate(clusters)
    commune = np.concatenate(communes)
    order = rng.permutation(cluster.size)
    total = cluster.size  # at most 5 * rows / 200, so fewer than rows
    # One planted row per equal slice of the file, at a random place in its slice.
    position = np.floor((np.arange(total) + rng.random(total)) * rows / total).astype(np.int64)
    return _Plan(position, cluster[order], commune[order], tuple(sites), tuple(site_communes),
                 naf, trade)


def _draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: the index of the first cumulative share above each ``u``."""
    return np.searchsorted(cdf, u, side="right").clip(0, cdf.size - 1)


def _as_string(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as strings, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(values, pa.int64()), pa.string())
    return pc.utf8_lpad(text, width, "0") if width else text


def _dates(days: np.ndarray) -> pa.Array:
    """Days since 1970-01-01 as ``YYYY-MM-DD`` strings."""
    return pc.cast(pa.array(days.astype(np.int32), pa.date32()), pa.string())


def _generate(
    tables: _Tables, plan: _Plan, seed: int, rows: int, invalid_rate: float
) -> Iterator[tuple[pa.Table, dict[str, int]]]:
    """The chunks of the file, in order, with their defect counts."""
    firms_before = 0  # legal units of the previous chunks, so that SIRENs never repeat
    for chunk, start in enumerate(range(0, rows, CHUNK_ROWS)):
        table, counts, firms = _chunk(
            tables, plan, seed=seed, chunk=chunk, start=start,
            n=min(CHUNK_ROWS, rows - start), firms_before=firms_before,
            invalid_rate=invalid_rate,
        )
        firms_before += firms
        yield table, counts


def _chunk(
    tables: _Tables, plan: _Plan, *, seed: int, chunk: int, start: int, n: int,
    firms_before: int, invalid_rate: float,
) -> tuple[pa.Table, dict[str, int], int]:
    """Rows ``start .. start + n`` of the file (chunk number ``chunk``), defects, firm count."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1, chunk]))
    row = np.arange(n)

    # Legal units: 1 establishment, or 1 + Zipf; the last firm is cut at the chunk's end.
    size = 1 + np.where(rng.random(n) < MULTI_ESTABLISHMENT_SHARE,
                        np.minimum(rng.zipf(2.2, n), 200), 0)
    end = np.cumsum(size)
    n_firms = int(np.searchsorted(end, n)) + 1
    size = size[:n_firms]
    size[-1] -= int(end[n_firms - 1]) - n
    firm = np.repeat(np.arange(n_firms), size)
    rank = row - np.concatenate(([0], np.cumsum(size)[:-1]))[firm]
    firm_number = firms_before + np.arange(n_firms, dtype=np.int64)
    offset = int(np.random.SeedSequence([seed, 2]).generate_state(1)[0]) % _SIREN_SPAN
    base = _SIREN_LOW + (_SIREN_STEP * firm_number + offset) % _SIREN_SPAN
    siren = (base * 10 + _luhn_key(base, 8))[firm]
    seq = (rng.geometric(0.45, n_firms)[firm] + rank).astype(np.int64)
    payload = siren * 10_000 + seq
    nic_key = _luhn_key(payload, 13)

    # Activity (secondary establishments mostly keep their firm's), place, size.
    naf = _draw(tables.naf_cdf, rng.random(n_firms))[firm]
    redraw = (rank > 0) & (rng.random(n) < 0.3)
    naf = np.where(redraw, _draw(tables.naf_cdf, rng.random(n)), naf)
    commune = _draw(tables.commune_cdf, rng.random(n))
    band_u = rng.random(n)

    # Dates, in days since 1970-01-01.
    stock = int(STOCK_DATE.astype(np.int64))
    origin = int(FIRST_CREATION.astype(np.int64))
    span_years = (stock - origin) / _DAYS_PER_YEAR
    years = np.log1p(rng.random(n_firms) * np.expm1(_GROWTH * span_years)) / _GROWTH
    firm_created = (origin + np.floor(years * _DAYS_PER_YEAR).astype(np.int64))[firm]
    later = firm_created + np.floor(rng.random(n) * (stock - firm_created)).astype(np.int64)
    created = np.where(rank == 0, firm_created, later).clip(max=stock - 1)
    hazard = rng.standard_exponential(n)
    young = _HAZARD_YOUNG * _YOUNG_YEARS
    life_years = np.where(hazard < young, hazard / _HAZARD_YOUNG,
                          _YOUNG_YEARS + (hazard - young) / _HAZARD_OLD)
    closure = created + np.maximum(1, np.floor(life_years * _DAYS_PER_YEAR)).astype(np.int64)
    changed = created + np.floor(rng.random(n) * (stock - created)).astype(np.int64)
    debut_active = np.where(rng.random(n) < 0.3, changed, created)
    extra_periods = rng.poisson(0.25, n)
    stale_nn = rng.random(n) < 0.85
    processed_u = rng.random(n)
    processed_second = rng.integers(0, 86_400, n)
    employee_year = np.where(rng.random(n) < 0.75, 2022, 2021)
    has_number = rng.random(n) < 0.85
    number = 1 + np.minimum(np.floor(rng.standard_exponential(n) * 30), 998).astype(np.int64)
    repeat = rng.random(n)
    street_cdf = np.cumsum(np.array(_STREET_TYPE_WEIGHTS) / sum(_STREET_TYPE_WEIGHTS))
    street_type = _draw(street_cdf, rng.random(n))
    street_name = rng.integers(0, len(_STREET_NAMES), n)
    has_complement = rng.random(n) < 0.06
    complement = rng.integers(0, len(_COMPLEMENTS), n)
    has_name = rng.random(n) < 0.3
    surname = rng.integers(0, len(_SURNAMES), n)
    # Truncated at 3 sigma so that no point leaves the Lambert-93 extent of its region.
    scatter = rng.standard_normal((2, n)).clip(-3.0, 3.0)

    # Planted establishments take the place of background rows at their positions.
    lo, hi = np.searchsorted(plan.position, [start, start + n])
    planted_rows = plan.position[lo:hi] - start
    planted_cluster = np.zeros(n, dtype=np.int64)
    planted_cluster[planted_rows] = plan.cluster[lo:hi]
    is_planted = np.zeros(n, dtype=bool)
    is_planted[planted_rows] = True
    naf[planted_rows] = plan.naf[plan.cluster[lo:hi]]
    commune[planted_rows] = plan.commune[lo:hi]
    band_row = np.where(is_planted, tables.band_cdf.shape[0] - 1, tables.naf_section[naf])
    band = (tables.band_cdf[band_row] < band_u[:, None]).sum(axis=1).clip(max=len(BAND_SHARES) - 1)

    closed = (closure < stock) & ~is_planted
    debut = np.where(closed, closure, debut_active)
    debut_year = debut.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    # A closed establishment rarely keeps a headcount band, never one older than 2001.
    band = np.where(closed & (stale_nn | (debut_year < 2001)), tables.band_nn, band)
    band_year = np.where(closed, np.minimum(debut_year - 1, employee_year), employee_year)
    periods = 1 + (debut != created) + extra_periods + closed

    # Defects: an exact share of the rows (rounded on the global row count), never planted.
    n_bad = round(invalid_rate * (start + n)) - round(invalid_rate * start)
    candidates = np.flatnonzero(~is_planted)
    n_bad = min(n_bad, candidates.size)
    bad = np.sort(rng.choice(candidates, n_bad, replace=False)) if n_bad else row[:0]
    kind = rng.integers(0, len(DEFECTS), bad.size)
    impossible = rng.integers(0, len(_IMPOSSIBLE_DATES), bad.size)
    before = 30 + rng.integers(0, 3000, bad.size)
    wrong = 1 + rng.integers(0, 9, bad.size)
    postal = rng.integers(0, len(_POSTAL_CODES), bad.size)
    counts = {name: int((kind == k).sum()) for k, name in enumerate(DEFECTS)}

    def defect(name: str) -> np.ndarray:
        return kind == DEFECTS.index(name)

    nic = seq * 10 + nic_key
    siret = payload * 10 + nic_key
    rows = bad[defect("siret_luhn")]
    wrong_key = (nic_key[rows] + wrong[defect("siret_luhn")]) % 10
    nic[rows] = seq[rows] * 10 + wrong_key
    siret[rows] = payload[rows] * 10 + wrong_key
    rows = bad[defect("siret_nic_mismatch")]
    nic[rows] = (seq[rows] + 1) * 10 + _luhn_key(payload[rows] + 1, 13)
    naf_pick = naf.copy()
    naf_pick[bad[defect("naf_unknown")]] = len(tables.naf_code)
    commune_pick = commune.copy()
    rows = bad[defect("commune_unknown")]
    commune_pick[rows] = len(tables.commune_code) + postal[defect("commune_unknown")]
    band_pick = band.copy()
    band_pick[bad[defect("size_band_unknown")]] = len(BAND_SHARES)
    rows = bad[defect("closure_before_creation")]
    closed[rows] = True
    debut[rows] = created[rows] - before[defect("closure_before_creation")]
    created_text = _dates(created)
    rows = bad[defect("date_impossible")]
    if rows.size:
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        dates = pa.array(np.array(_IMPOSSIBLE_DATES)[impossible[defect("date_impossible")]])
        created_text = pc.replace_with_mask(created_text, pa.array(mask), dates)

    # Strings, column by column, in Arrow.
    midnight = int(np.datetime64("2014-01-01", "D").astype(np.int64))
    processed_lo = np.maximum(debut, midnight)
    processed_day = processed_lo + np.floor(processed_u * (stock - processed_lo)).astype(np.int64)
    processed = pc.strftime(
        pa.array(processed_day * 86_400 + processed_second, pa.timestamp("s")),
        format="%Y-%m-%dT%H:%M:%S",
    )
    x = tables.commune_x[commune] + scatter[0] * tables.commune_sigma[commune]
    y = tables.commune_y[commune] + scatter[1] * tables.commune_sigma[commune]
    has_xy = ~np.isnan(x)
    word = pc.if_else(
        pa.array(is_planted),
        plan.trade.take(pa.array(planted_cluster)),
        tables.section_word.take(pa.array(tables.naf_section[naf])),
    )
    enseigne = pc.binary_join_element_wise(word, _SURNAME_ARRAY.take(pa.array(surname)), " ")
    columns: dict[str, pa.Array] = {
        "siren": _as_string(siren, 9),
        "nic": _as_string(nic, 5),
        "siret": _as_string(siret, 14),
        "statutDiffusionEtablissement": _constant("O", n),
        "dateCreationEtablissement": created_text,
        "trancheEffectifsEtablissement": _pick(tables.band_code, ("7X",), band_pick),
        "anneeEffectifsEtablissement": _masked(_as_string(band_year), band != tables.band_nn),
        "dateDernierTraitementEtablissement": processed,
        "etablissementSiege": _choose(rank == 0, "true", "false"),
        "nombrePeriodesEtablissement": _as_string(periods),
        "complementAdresseEtablissement": _masked(
            _COMPLEMENT_ARRAY.take(pa.array(complement)), has_complement
        ),
        "numeroVoieEtablissement": _masked(_as_string(number), has_number),
        "indiceRepetitionEtablissement": _masked(
            _choose(repeat < 0.03, "B", "T"), has_number & (repeat < 0.04)
        ),
        "typeVoieEtablissement": _STREET_TYPE_ARRAY.take(pa.array(street_type)),
        "libelleVoieEtablissement": _STREET_NAME_ARRAY.take(pa.array(street_name)),
        "libelleCommuneEtablissement": _pick(tables.commune_label, _POSTAL_LABELS, commune_pick),
        "codeCommuneEtablissement": _pick(tables.commune_code, _POSTAL_CODES, commune_pick),
        "coordonneeLambertAbscisseEtablissement": _masked(_decimals(x), has_xy),
        "coordonneeLambertOrdonneeEtablissement": _masked(_decimals(y), has_xy),
        "dateDebut": _dates(debut),
        "etatAdministratifEtablissement": _choose(closed, "F", "A"),
        "enseigne1Etablissement": _masked(enseigne, has_name | is_planted),
        "activitePrincipaleEtablissement": _pick(tables.naf_code, ("99.99Z",), naf_pick),
        "nomenclatureActivitePrincipaleEtablissement": _constant("NAFRev2", n),
        "caractereEmployeurEtablissement": _choose(tables.band_employer[band], "O", "N"),
    }
    empty = pa.nulls(n, pa.string())
    arrays = [columns.get(name, empty) for name in SIRENE_COLUMNS]
    return pa.Table.from_arrays(arrays, schema=_SCHEMA), counts, n_firms


def _constant(value: str, n: int) -> pa.Array:
    """The same string on every row."""
    return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))


def _choose(condition: np.ndarray, yes: str, no: str) -> pa.Array:
    """``yes`` where ``condition`` holds, ``no`` elsewhere."""
    return pa.array([no, yes], pa.string()).take(pa.array(condition.astype(np.int64)))


def _pick(values: pa.Array, defects: tuple[str, ...], index: np.ndarray) -> pa.Array:
    """``values[index]``, where indexes past the end stand for the ``defects`` values."""
    return pa.concat_arrays([values, pa.array(defects, pa.string())]).take(pa.array(index))


def _decimals(values: np.ndarray) -> pa.Array:
    """Coordinates in metres with one decimal, as strings (NaN become 0, masked by callers)."""
    return pc.cast(pa.array(np.round(np.nan_to_num(values), 1)), pa.string())


def _masked(values: pa.Array, keep: np.ndarray) -> pa.Array:
    """``values`` where ``keep`` is true, null (an empty CSV field) elsewhere."""
    return pc.if_else(pa.array(keep), values, pa.scalar(None, values.type))


def write_synthetic(
    out: Path,
    establishments: int,
    seed: int,
    region: str | None = None,
    invalid_rate: float = 0.0,
    strength: float = 1.0,
    reporter: Reporter = SILENT,
) -> SynthReport:
    """Write a synthetic SIRENE StockEtablissement file (CSV or Parquet by extension).

    Parameters
    ----------
    out
        Output path ending in ``.csv`` or ``.parquet``; its folder is created if needed.
        The file appears only once complete (written aside, then renamed).
    establishments
        Number of establishment rows, from 1 to ``MAX_ROWS``.
    seed
        Seed of the random generators (a non-negative integer): the same arguments give
        the same bytes.
    region
        COG code of a région (e.g. ``"84"``) to restrict the communes to; all of France
        when None.
    invalid_rate
        Share of rows, between 0 and 1, that get one realistic defect each (``DEFECTS``).
    strength
        Multiplier of the planted clusters (``PLANTED_CLUSTERS``): 1 makes them clearly
        detectable, 0 plants none.
    reporter
        Receives one step whose total is the number of rows.

    Returns
    -------
    SynthReport
        The path, the row and defect counts and the clusters planted.

    Raises
    ------
    InputError
        When an argument is out of range or the extension is not ``.csv`` / ``.parquet``.
    UnknownCodeError
        When ``region`` is not a région code.
    """
    began = time.perf_counter()
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise InputError(
            f"{out} : extension {out.suffix or '(aucune)'!r} non prise en charge ; "
            "attendu .csv ou .parquet"
        )
    if isinstance(establishments, bool) or not isinstance(establishments, int) \
            or not 1 <= establishments <= MAX_ROWS:
        raise InputError(
            f"establishments = {establishments!r} : attendu un entier entre 1 et {MAX_ROWS}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed = {seed!r} : attendu un entier >= 0")
    if not 0.0 <= invalid_rate <= 1.0:
        raise InputError(f"invalid_rate = {invalid_rate!r} : attendu un taux entre 0 et 1")
    if not 0.0 <= strength <= 100.0:
        raise InputError(f"strength = {strength!r} : attendu une intensité entre 0 et 100")
    if region is not None:
        region = region.strip()

    tables = _load_tables(region)
    plan = _plan(tables, establishments, seed, strength)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    defects = dict.fromkeys(DEFECTS, 0)
    chunks = _generate(tables, plan, seed, establishments, invalid_rate)
    step = reporter.step("Génération du tissu productif synthétique", total=establishments)
    try:
        with step as advance:
            if suffix == ".csv":
                with partial.open("wb") as sink:
                    # INSEE's header is not quoted; pyarrow would quote it.
                    sink.write((",".join(SIRENE_COLUMNS) + "\n").encode("utf-8"))
                    options = pacsv.WriteOptions(include_header=False, quoting_style="none")
                    with pacsv.CSVWriter(sink, _SCHEMA, write_options=options) as writer:
                        for table, counts in chunks:
                            writer.write_table(table)
                            _add(defects, counts)
                            advance(table.num_rows)
            else:
                with pq.ParquetWriter(partial, _SCHEMA, compression="zstd") as parquet:
                    for table, counts in chunks:
                        parquet.write_table(table, row_group_size=CHUNK_ROWS)
                        _add(defects, counts)
                        advance(table.num_rows)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)

    planted_counts = np.bincount(plan.cluster, minlength=len(plan.sites))
    planted = [
        PlantedCluster(
            name=site.name,
            naf=site.naf,
            communes=plan.site_communes[i],
            establishments=int(planted_counts[i]),
        )
        for i, site in enumerate(plan.sites)
    ]
    return SynthReport(
        path=out,
        rows=establishments,
        invalid_rows=sum(defects.values()),
        planted=planted,
        seconds=time.perf_counter() - began,
        invalid_by_defect=defects,
    )


def _add(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] += value
