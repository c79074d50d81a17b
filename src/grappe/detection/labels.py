"""French headers and Excel number formats of the detection outputs (XLSX and French CSV).

The files for programs keep the English snake_case column names (CONTRACTS, "Files"); the
files for people (``xlsx``, ``csv-excel``) carry these French headers, and XLSX these
number formats. One table for candidates and indicators: a column means the same in both.
Columns derived by suffix (``_low``, ``_high``, ``_establishments``, ``_employment``) take
the label of their base column with the suffix spelled out, so that a new indicator needs
one entry here.
"""

from __future__ import annotations

from collections.abc import Iterable

#: French header of each base column.
BASE_LABELS: dict[str, str] = {
    "rank": "Rang",
    "territory_level": "Niveau territorial",
    "territory_code": "Code territoire",
    "territory_name": "Territoire",
    "sector_level": "Niveau sectoriel",
    "sector": "Code secteur",
    "sector_name": "Secteur",
    "basis": "Base du classement",
    "reference": "Référence du QL",
    "traded": "Activité exposée",
    "establishments": "Établissements",
    "employer_establishments": "Établissements employeurs",
    "employment": "Emploi estimé",
    "sme_share": "Part de PME",
    "measure": "Mesure",
    "lq": "Quotient de localisation",
    "lq_credible": "Quotient de localisation crédible",
    "rca": "Avantage comparatif révélé",
    "mcp": "Spécialisé (RCA ≥ 1)",
    "size": "Taille (part nationale du secteur)",
    "focus": "Focus (part du territoire)",
    "strong": "Grappe forte",
    "size_star": "Étoile taille",
    "specialisation_star": "Étoile spécialisation",
    "focus_star": "Étoile focus",
    "stars": "Étoiles",
    "hotspot": "Point chaud (territoire du test)",
    "gi_z": "Gi* z",
    "p_value": "p",
    "p_adjusted": "p ajustée",
    "significant": "Significatif",
    "creation_rate": "Taux de création",
    "closure_rate": "Taux de fermeture",
    "net_growth": "Croissance nette",
    "employment_growth": "Croissance de l'emploi",
    "survival_rate": "Taux de survie",
    "sector_creation_rate": "Taux de création du secteur",
    "score_size": "Score : taille",
    "score_specialisation": "Score : spécialisation",
    "score_significance": "Score : significativité",
    "score_dynamism": "Score : dynamisme",
    "score": "Score",
    "sector_rank": "Rang dans le secteur",
    "sector_candidates": "Candidats du secteur",
    "reasons": "Raisons",
    "sectors_present": "Secteurs présents",
    "territories_present": "Territoires présents",
    "krugman": "Indice de Krugman",
    "hachman": "Indice de Hachman",
    "herfindahl": "Herfindahl",
    "gini": "Gini locational",
    "hoover": "Hoover",
    "eg_gamma": "Ellison-Glaeser γ",
    "plant_herfindahl": "Herfindahl des établissements",
}

_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_low", " (bas)"),
    ("_high", " (haut)"),
    ("_establishments", " (établissements)"),
    ("_employment", " (emploi)"),
)

_INTEGER = "#,##0"  # Excel shows the grouping of the reader's locale (a space in French)
_DECIMAL = "0.00"
_FINE = "0.0000"
_PERCENT = "0.0%"
_FORMATS: dict[str, str] = {
    **dict.fromkeys(("rank", "establishments", "employer_establishments", "sectors_present",
                     "territories_present", "stars", "sector_rank", "sector_candidates"),
                    "0"),
    "employment": _INTEGER,
    **dict.fromkeys(("lq", "lq_credible", "rca", "gi_z", "krugman", "hachman"), _DECIMAL),
    **dict.fromkeys(("size", "focus", "herfindahl", "gini", "hoover", "eg_gamma",
                     "plant_herfindahl", "score", "score_size", "score_specialisation",
                     "score_significance", "score_dynamism", "p_value", "p_adjusted"), _FINE),
    **dict.fromkeys(("sme_share", "creation_rate", "closure_rate", "net_growth",
                     "employment_growth", "survival_rate", "sector_creation_rate"), _PERCENT),
}


def _split(column: str) -> tuple[str, str]:
    """The base column and the French spelling of its suffixes (``lq_credible_low``...)."""
    spelled = ""
    base = column
    changed = True
    while changed and base not in BASE_LABELS:
        changed = False
        for suffix, words in _SUFFIXES:
            if base.endswith(suffix) and len(base) > len(suffix):
                base, spelled, changed = base[: -len(suffix)], words + spelled, True
                break
    return base, spelled


def label(column: str) -> str:
    """The French header of a column (the column name itself when unknown).

    Examples
    --------
    >>> label("lq_low"), label("krugman_establishments")
    ('Quotient de localisation (bas)', 'Indice de Krugman (établissements)')
    """
    base, spelled = _split(column)
    return BASE_LABELS[base] + spelled if base in BASE_LABELS else column


def labels(columns: Iterable[str]) -> dict[str, str]:
    """French headers by column name."""
    return {str(c): label(str(c)) for c in columns}


def number_formats(columns: Iterable[str]) -> dict[str, str]:
    """Excel number formats by column name (integers, ratios, shares in %)."""
    found: dict[str, str] = {}
    for column in columns:
        base, _ = _split(str(column))
        if base in _FORMATS:
            found[str(column)] = _FORMATS[base]
    return found
