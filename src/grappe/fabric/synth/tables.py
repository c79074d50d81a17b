"""Reference data as sampling arrays, and where the planted establishments of one file go."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from grappe.errors import InputError, UnknownCodeError
from grappe.fabric.synth.laws import (
    ARRONDISSEMENTS,
    BAND_SHARES,
    EMPLOYER_BANDS,
    LEFT_OUT_DEPARTEMENTS,
    PLANTED_CLUSTERS,
    PLANTED_TILT,
    SECTION_SHARES,
    SECTION_TILT,
    SECTION_WORDS,
    ClusterSite,
    naf_shares,
)
from grappe.refdata import sizes, territories
from grappe.refdata.naf import sous_classes


@dataclass(frozen=True)
class Tables:
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
class Plan:
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


def load_tables(region: str | None) -> Tables:
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

    keep = np.array([d not in LEFT_OUT_DEPARTEMENTS for d in departement])
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
    for city, (first, stem, count) in ARRONDISSEMENTS.items():
        parent = index.get(city)
        if parent is None:
            continue
        for k in range(count):
            extra_code.append(str(int(first) + k))
            extra_label.append(f"{stem} {k + 1}")
            extra_parent.append(parent)
    parents = np.asarray(extra_parent, dtype=np.int64)
    counts = np.array([ARRONDISSEMENTS[code[p]][2] for p in extra_parent], dtype=np.float64)
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
    return Tables(
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
        section_word=pa.array([SECTION_WORDS[s] for s in section_order], pa.string()),
    )


def _dotted(code: str) -> str:
    """A sous-classe code in INSEE's stock form ``25.62A``."""
    code = code.strip().upper()
    return code if "." in code else f"{code[:2]}.{code[2:]}"


def _planted_count(site: ClusterSite, rows: int, strength: float) -> int:
    """Establishments of one site planted in a file of ``rows`` rows (module docstring)."""
    base = min(max(float(site.minimum), site.per_million * rows / 1e6), rows / 200.0)
    return round(strength * base)


def plan_planted(tables: Tables, rows: int, seed: int, strength: float) -> Plan:
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
        communes.append(idx[draw(np.cumsum(weight / weight.sum()), rng.random(count))])
        sites.append(site)
        site_communes.append(inside)
    naf = np.array([tables.naf_index[site.naf] for site in sites], dtype=np.int64)
    trade = pa.array([site.trade for site in sites] or [""], pa.string())
    if not sites:
        empty = np.zeros(0, dtype=np.int64)
        return Plan(empty, empty, empty, (), (), naf, trade)
    cluster = np.concatenate(clusters)
    commune = np.concatenate(communes)
    order = rng.permutation(cluster.size)
    total = cluster.size  # at most 5 * rows / 200, so fewer than rows
    # One planted row per equal slice of the file, at a random place in its slice.
    position = np.floor((np.arange(total) + rng.random(total)) * rows / total).astype(np.int64)
    return Plan(position, cluster[order], commune[order], tuple(sites), tuple(site_communes),
                 naf, trade)


def draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF sampling: the index of the first cumulative share above each ``u``."""
    return np.searchsorted(cdf, u, side="right").clip(0, cdf.size - 1)


