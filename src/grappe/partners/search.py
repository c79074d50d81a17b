"""Partner search: a French BM25 index over organisations, ranked with sector, proximity and network.

The core is pure (no database): :class:`PartnerIndex` is built from :class:`Organisation`
documents and cooperation ties, and :meth:`PartnerIndex.search` answers a :class:`Need`
(free French text with filters, or an organisation) with :class:`Suggestion` objects whose
``reasons`` say in French why each candidate is proposed.

Every component of the score lies in [0, 1] and :data:`WEIGHTS` sum to 1, so a score is in
[0, 1] too:

* ``text``: BM25 relevance of the candidate's document (name, NAF label, profile, titles,
  acronyms and keywords of its projects) to the need, over the best candidate's;
* ``sector``: complementarity of the two NAF sectors: co-location relatedness from
  :mod:`grappe.detection.relatedness` when a fabric gives one, else 1 for a supplier–customer
  pair of NAF divisions seen in the stored links and :data:`SAME_DIVISION` for one division;
* ``proximity``: ``exp(-d / PROXIMITY_KM)`` of the distance between the two communes, or
  :data:`SAME_DEPARTEMENT` in one département when a position is missing;
* ``network``: Adamic–Adar of shared partners (over the best candidate's), the strength of the
  ties already there (``1 - 2^-n`` for ``n`` shared projects, links or deals) and the
  candidate's activity in the network (log of its partners' count over the largest).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from grappe.errors import InputError


@dataclass(frozen=True)
class Weights:
    """Weights of the score's components; they sum to 1."""

    text: float
    sector: float
    proximity: float
    shared_partners: float
    worked_together: float
    activity: float

    def __post_init__(self) -> None:
        values = (self.text, self.sector, self.proximity, self.shared_partners,
                  self.worked_together, self.activity)
        if min(values) < 0 or not math.isclose(sum(values), 1.0):
            raise InputError(f"poids {values} : positifs et de somme 1 attendus")


WEIGHTS: Final = Weights(
    text=0.10, sector=0.10, proximity=0.10, shared_partners=0.0, worked_together=0.30, activity=0.40
)
"""Default weights, chosen on a validation split of the ANR projects before 2017 (editions up to
2010 indexed, 2011–2016 asked): ``python bench/bench_link_prediction.py --tune``."""

PROXIMITY_KM: Final = 30.0
"""Distance (km) at which proximity falls to 1/e: a day trip between partners stays easy."""
SAME_DEPARTEMENT: Final = 0.5
"""Proximity of two organisations of one département when a commune position is missing."""
SAME_DIVISION: Final = 0.5
"""Sector score of one NAF division (similar trades) against 1 for a supplier–customer pair."""
NEAR_KM: Final = 100.0
"""Beyond this distance a suggestion's reasons do not mention it."""
SHOWN_PARTNERS: Final = 3
"""Shared partners named in a reason (the others are counted)."""
SHOWN_WORDS: Final = 5
"""Matched words named in a reason."""

_WORD = re.compile(r"[^\W_]+")
_NOMINAL_AGE = "ag"
"""Snowball French keeps the nominal suffix -age (usinage -> usinag, usiner -> usin); dropping it
after stemming joins the noun of an action to its verb, as a searcher expects."""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class FrenchAnalyzer:
    """Words of a French text as index terms: lower case, stop words out, Snowball stems, no accents.

    English stop words go too: imported project titles are often in English.

    Examples
    --------
    >>> analyzer = FrenchAnalyzer()
    >>> analyzer.terms("L'usinage de pièces aéronautiques") == analyzer.terms("usiner piece aeronautique")
    True
    """

    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

        self._stemmer = Stemmer.Stemmer("french")
        self._stop = frozenset(_fold(word) for word in (*STOPWORDS_FRENCH, *STOPWORDS_EN))
        # A corpus repeats a small vocabulary: each distinct word is analysed once.
        self._known: dict[str, str | None] = {}

    def term(self, word: str) -> str | None:
        """The index term of one lower-case word; None for a stop word, a number or a letter alone."""
        if word in self._known:
            return self._known[word]
        term: str | None = None
        # Numbers and ordinals (2015, 4e, 10eme) say nothing of a trade.
        if len(word) > 1 and not word[0].isdigit() and _fold(word) not in self._stop:
            term = _fold(self._stemmer.stemWord(word))
            if term.endswith(_NOMINAL_AGE) and len(term) > len(_NOMINAL_AGE) + 2:
                term = term[: -len(_NOMINAL_AGE)]
        self._known[word] = term
        return term

    def pairs(self, text: str) -> list[tuple[str, str]]:
        """(word as written in lower case, its term) for each meaningful word, in order."""
        pairs = []
        for word in _WORD.findall(text.lower()):
            term = self.term(word)
            if term is not None:
                pairs.append((word, term))
        return pairs

    def terms(self, text: str) -> list[str]:
        """The index terms of a text."""
        return [term for _, term in self.pairs(text)]


@dataclass(frozen=True)
class Organisation:
    """One searchable organisation; ``position`` is Lambert-93 metres, ``naf`` a NAF rév. 2 code."""

    id: int
    name: str
    kind: str
    text: str = ""
    naf: str | None = None
    naf_label: str | None = None
    departement: str | None = None
    position: tuple[float, float] | None = None
    size: str | None = None
    clusters: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Tie:
    """Cooperation between two organisations (one shared project, link or deal counts ``weight``)."""

    organisation_a: int
    organisation_b: int
    weight: float = 1.0


@dataclass(frozen=True)
class SectorRelatedness:
    """Relatedness between sectors (codes of one NAF level, a symmetric matrix in [0, 1])."""

    sectors: Sequence[str]
    matrix: npt.NDArray[np.float64]


@dataclass(frozen=True)
class Need:
    """What a search answers: a French text, an organisation (by id), or both; optional filters.

    ``sectors`` are NAF code prefixes (``"25"``, ``"25.62"``), ``territories`` département
    codes, ``sizes`` size categories, ``kinds`` organisation kinds, ``among`` the candidate ids
    a scope allows (None: every organisation). With a text, only organisations whose document
    has at least one of its words are candidates.
    """

    text: str = ""
    organisation: int | None = None
    sectors: tuple[str, ...] = ()
    territories: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    among: frozenset[int] | None = None


@dataclass(frozen=True)
class Suggestion:
    """One suggested partner, its score in [0, 1] and its French reasons."""

    organisation: int
    name: str
    score: float
    reasons: tuple[str, ...]


@dataclass
class Components:
    """The score's components for one need, one value in [0, 1] per organisation of the index."""

    text: npt.NDArray[np.float64]
    sector: npt.NDArray[np.float64]
    proximity: npt.NDArray[np.float64]
    distance_km: npt.NDArray[np.float64]
    shared: npt.NDArray[np.float64]
    together: npt.NDArray[np.float64]
    activity: npt.NDArray[np.float64]
    sector_kind: npt.NDArray[np.int8]

    def combined(self, weights: Weights) -> npt.NDArray[np.float64]:
        """The weighted sum of the components."""
        return (
            weights.text * self.text
            + weights.sector * self.sector
            + weights.proximity * self.proximity
            + weights.shared_partners * self.shared
            + weights.worked_together * self.together
            + weights.activity * self.activity
        )


_RELATED, _CHAIN, _DIVISION = 1, 2, 3


class _Coded:
    """A categorical column as integer codes over its distinct values."""

    def __init__(self, values: Sequence[str]) -> None:
        self.values = list(values)
        self.levels, codes = np.unique(np.array(self.values, dtype=str), return_inverse=True)
        self.codes = codes.astype(np.int32)
        self._where = {level: i for i, level in enumerate(self.levels.tolist())}

    def among(self, wanted: Iterable[str]) -> npt.NDArray[np.bool_]:
        """Whether each row's value is one of ``wanted``."""
        codes = [self._where[w] for w in wanted if w in self._where]
        return np.isin(self.codes, codes)


def _division(naf: str | None) -> str | None:
    return naf[:2] if naf and naf[:2].isdigit() else None


def _french(value: float, pattern: str) -> str:
    """A number as French readers write it (Babel's fr_FR: decimal comma)."""
    from babel.numbers import format_decimal

    return format_decimal(value, format=pattern, locale="fr_FR")


class PartnerIndex:
    """The searchable organisations, their French text index and their cooperation network.

    Parameters
    ----------
    organisations
        The candidates (ids unique).
    ties
        Cooperation ties between them (ties naming an unknown id are ignored).
    relatedness
        Co-location relatedness between sectors, when a fabric gives one.
    value_chain
        Supplier–customer pairs of NAF divisions (``("24", "25")``: 24 supplies 25), from the
        stored links; read both ways.
    weights
        The score's weights (default :data:`WEIGHTS`).
    """

    def __init__(
        self,
        organisations: Sequence[Organisation],
        ties: Iterable[Tie] = (),
        *,
        relatedness: SectorRelatedness | None = None,
        value_chain: Iterable[tuple[str, str]] = (),
        weights: Weights = WEIGHTS,
    ) -> None:
        import bm25s

        self.organisations = list(organisations)
        self.weights = weights
        self._row = {org.id: i for i, org in enumerate(self.organisations)}
        self._ids = np.array([org.id for org in self.organisations], dtype=np.int64)
        if len(self._row) != len(self.organisations):
            raise InputError("organisations : identifiants en double")
        self.analyzer = FrenchAnalyzer()
        self._terms = [
            self.analyzer.terms(" ".join(filter(None, (o.name, o.naf_label, o.text))))
            for o in self.organisations
        ]
        self._bm25 = bm25s.BM25()
        # An empty document still needs one token for bm25s: the empty string it creates itself.
        self._bm25.index(self._terms, show_progress=False)
        self._frequency = Counter(term for terms in self._terms for term in set(terms))
        n = len(self.organisations)
        # Categories as integer codes: comparing them over 100,000 organisations costs little.
        self._kinds = _Coded([o.kind for o in self.organisations])
        self._sizes = _Coded([o.size or "" for o in self.organisations])
        self._nafs = np.array([o.naf or "" for o in self.organisations], dtype=object)
        self._departements = _Coded([o.departement or "" for o in self.organisations])
        self._divisions = _Coded([_division(o.naf) or "" for o in self.organisations])
        xy = np.array(
            [o.position if o.position else (np.nan, np.nan) for o in self.organisations], dtype=float
        ).reshape(n, 2)
        # Single precision: a tenth of a metre over France, and half the time per query.
        self._x, self._y = xy[:, 0].astype(np.float32), xy[:, 1].astype(np.float32)
        chain: dict[str, set[str]] = {}
        for supplier, customer in value_chain:
            chain.setdefault(supplier, set()).add(customer)
            chain.setdefault(customer, set()).add(supplier)
        self._chain = chain
        self._relatedness = relatedness
        if relatedness is not None:
            where = {code: i for i, code in enumerate(relatedness.sectors)}
            width = len(relatedness.sectors[0]) if relatedness.sectors else 0
            self._sector_row = np.array(
                [where.get((o.naf or "")[:width], -1) for o in self.organisations], dtype=np.int64
            )
        rows: list[int] = []
        cols: list[int] = []
        values: list[float] = []
        for tie in ties:
            a, b = self._row.get(tie.organisation_a, -1), self._row.get(tie.organisation_b, -1)
            if a < 0 or b < 0 or a == b:
                continue
            rows += [a, b]
            cols += [b, a]
            values += [tie.weight, tie.weight]
        self._ties = sp.csr_array((values, (rows, cols)), shape=(n, n))
        self._ties.sum_duplicates()
        self._neighbours = (self._ties > 0).astype(np.float64).tocsr()
        degree = np.asarray(self._neighbours.sum(axis=1)).ravel()
        self.degree = degree
        # Adamic–Adar weighs a shared partner by 1 / log(its degree); a degree-1 partner
        # cannot be shared, so the log is never 0 where it counts.
        adamic = sp.diags_array(np.where(degree > 1, 1.0 / np.log(np.maximum(degree, 2)), 0.0))
        self._adamic = (adamic @ self._neighbours).tocsr()
        top = degree.max() if n else 0.0
        self._activity = np.log1p(degree) / math.log1p(top) if top > 0 else np.zeros(n)

    def __len__(self) -> int:
        return len(self.organisations)

    def row(self, organisation_id: int) -> int:
        """The position of an organisation in the index."""
        try:
            return self._row[organisation_id]
        except KeyError:
            raise InputError(f"organisation {organisation_id} : absente de l'index") from None

    def text_scores(self, text: str) -> npt.NDArray[np.float64]:
        """Bare BM25 scores of every organisation for a French text."""
        terms = self.analyzer.terms(text)
        if not terms:
            return np.zeros(len(self), dtype=np.float64)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float64)

    def query_text(self, need: Need) -> str:
        """The text a need asks for: its own words and, for an organisation, that one's document."""
        if need.organisation is None:
            return need.text
        org = self.organisations[self.row(need.organisation)]
        return " ".join(filter(None, (need.text, org.name, org.naf_label, org.text)))

    def allowed(self, need: Need) -> npt.NDArray[np.bool_]:
        """Which organisations the need's filters and scope let through (never the asker)."""
        allowed = np.ones(len(self), dtype=bool)
        if need.organisation is not None:
            allowed[self.row(need.organisation)] = False
        if need.among is not None:
            inside = np.zeros(len(self), dtype=bool)
            inside[[self._row[i] for i in need.among if i in self._row]] = True
            allowed &= inside
        if need.sectors:
            prefixes = tuple(need.sectors)
            allowed &= np.fromiter((naf.startswith(prefixes) for naf in self._nafs), bool, len(self))
        if need.territories:
            allowed &= self._departements.among(need.territories)
        if need.sizes:
            allowed &= self._sizes.among(need.sizes)
        if need.kinds:
            allowed &= self._kinds.among(need.kinds)
        return allowed

    def components(self, need: Need, terms: list[str] | None = None) -> Components:
        """The score's components of every organisation for a need (before weights and filters).

        ``terms``: the query's index terms when the caller has them already.
        """
        n = len(self)
        if terms is None:
            terms = self.analyzer.terms(self.query_text(need))
        text = np.asarray(self._bm25.get_scores(terms), dtype=np.float64) if terms else np.zeros(n)
        best = text.max() if n else 0.0
        zeros = np.zeros(n)
        parts = Components(
            text=text / best if best > 0 else zeros,
            sector=zeros,
            proximity=zeros,
            distance_km=np.full(n, np.nan),
            shared=zeros,
            together=zeros,
            activity=self._activity,
            sector_kind=np.zeros(n, np.int8),
        )
        if need.organisation is None:
            return parts
        q = self.row(need.organisation)
        self._sector(q, parts)
        self._proximity(q, parts)
        start, end = self._ties.indptr[q], self._ties.indptr[q + 1]
        together = np.zeros(n)
        together[self._ties.indices[start:end]] = 1.0 - np.exp2(-self._ties.data[start:end])
        parts.together = together
        # Adamic–Adar of q with everyone: the sum of its partners' rows of the weighted adjacency.
        rows = [slice(self._adamic.indptr[j], self._adamic.indptr[j + 1]) for j in self._partners(q)]
        shared = np.bincount(
            np.concatenate([self._adamic.indices[r] for r in rows]) if rows else np.zeros(0, np.int64),
            weights=np.concatenate([self._adamic.data[r] for r in rows]) if rows else None,
            minlength=n,
        ).astype(np.float64)
        shared[q] = 0.0
        top = shared.max()
        parts.shared = shared / top if top > 0 else zeros
        return parts

    def _sector(self, q: int, parts: Components) -> None:
        n = len(self)
        division = self._divisions.values[q]
        if self._relatedness is not None and self._sector_row[q] >= 0:
            known = self._sector_row >= 0
            related = np.zeros(n)
            related[known] = self._relatedness.matrix[self._sector_row[q], self._sector_row[known]]
            parts.sector = related
            parts.sector_kind = np.where(related > 0, _RELATED, 0).astype(np.int8)
        elif division:
            chain = self._divisions.among(self._chain.get(division, ()))
            same = self._divisions.codes == self._divisions.codes[q]
            parts.sector = np.where(chain, 1.0, np.where(same, SAME_DIVISION, 0.0))
            parts.sector_kind = np.where(chain, _CHAIN, np.where(same, _DIVISION, 0)).astype(np.int8)

    def _proximity(self, q: int, parts: Components) -> None:
        if not (np.isnan(self._x[q]) or np.isnan(self._y[q])):
            distance = np.hypot(self._x - self._x[q], self._y - self._y[q])
            distance /= 1000.0
            parts.distance_km = distance
            close = np.exp(distance * np.float32(-1.0 / PROXIMITY_KM))
        else:
            close = np.full(len(self), np.nan)
        if self._departements.values[q]:
            same = self._departements.codes == self._departements.codes[q]
            unknown = np.isnan(close)
            close[unknown] = np.where(same[unknown], SAME_DEPARTEMENT, 0.0)
        else:
            np.nan_to_num(close, copy=False, nan=0.0)
        parts.proximity = close

    def _scored(
        self, need: Need, terms: list[str] | None = None
    ) -> tuple[npt.NDArray[np.float64], Components]:
        parts = self.components(need, terms)
        allowed = self.allowed(need)
        if need.text.strip():
            # A need's own words select; the other components rank what they selected.
            own = parts.text if need.organisation is None else self.text_scores(need.text)
            allowed &= own > 0
        return np.where(allowed, parts.combined(self.weights), -np.inf), parts

    def search(self, need: Need, top: int = 10) -> list[Suggestion]:
        """The ``top`` best candidates for a need, best first, each with its French reasons.

        Ties of score are broken by id, so a result is reproducible.
        """
        if top < 1:
            raise InputError(f"top={top} : un entier ≥ 1 est attendu")
        if not need.text.strip() and need.organisation is None:
            raise InputError("recherche vide : un texte ou une organisation est attendu")
        pairs = self.analyzer.pairs(self.query_text(need))
        scores, parts = self._scored(need, [term for _, term in pairs])
        if len(self) > top:
            # argpartition cuts inside a tie; widen to every candidate tied with the last one.
            floor = scores[np.argpartition(-scores, top - 1)[top - 1]]
            kept = np.flatnonzero(scores >= floor)
        else:
            kept = np.arange(len(self))
        kept = kept[np.isfinite(scores[kept])]
        order = kept[np.lexsort((self._ids[kept], -scores[kept]))][:top]
        query_terms: dict[str, str] = {}
        for word, term in pairs:
            query_terms.setdefault(term, word)
        return [
            Suggestion(
                self.organisations[i].id,
                self.organisations[i].name,
                float(scores[i]),
                self._reasons(need, int(i), parts, query_terms),
            )
            for i in order
        ]

    def _reasons(self, need: Need, i: int, parts: Components, words: dict[str, str]) -> tuple[str, ...]:
        reasons: list[str] = []
        org = self.organisations[i]
        if need.organisation is not None:
            q = self.row(need.organisation)
            if parts.together[i] > 0:
                reasons.append(f"a déjà travaillé avec {self.organisations[q].name}")
            common = self._common_partners(q, i)
            if common:
                names = ", ".join(common[:SHOWN_PARTNERS])
                more = len(common) - SHOWN_PARTNERS
                reasons.append(
                    f"{len(common)} partenaire{'s' if len(common) > 1 else ''} en commun : {names}"
                    + (f" et {more} autre{'s' if more > 1 else ''}" if more > 0 else "")
                )
            self._sector_reason(q, i, parts, reasons)
            distance = parts.distance_km[i]
            if not np.isnan(distance) and distance < 1:
                reasons.append("dans la même commune")
            elif not np.isnan(distance) and distance <= NEAR_KM:
                reasons.append(f"à {_french(distance, '#,##0')} km")
            elif np.isnan(distance) and parts.proximity[i] > 0:
                reasons.append(f"même département ({org.departement})")
        # The rarest words first: they say most about what the two share.
        matched = sorted(set(self._terms[i]) & words.keys(), key=lambda t: (self._frequency[t], t))
        if matched and parts.text[i] > 0:
            reasons.append("mots en commun : " + ", ".join(words[t] for t in matched[:SHOWN_WORDS]))
        if self.degree[i] > 0:
            count = int(self.degree[i])
            reasons.append(f"actif dans le réseau : {count} partenaire{'s' if count > 1 else ''}")
        return tuple(reasons)

    def partners(self, organisation_id: int) -> list[int]:
        """Ids of the organisations tied to one (shared project, link or deal), by id."""
        return sorted(int(self._ids[j]) for j in self._partners(self.row(organisation_id)))

    def _partners(self, i: int) -> npt.NDArray[np.int32]:
        start, end = self._ties.indptr[i], self._ties.indptr[i + 1]
        return self._ties.indices[start:end]

    def _common_partners(self, q: int, i: int) -> list[str]:
        mine = set(self._partners(q).tolist()) & set(self._partners(i).tolist())
        # The most connected first: they are the partners a reader knows.
        ranked = sorted(mine, key=lambda j: (-self.degree[j], self.organisations[j].name))
        return [self.organisations[j].name for j in ranked]

    def _sector_reason(self, q: int, i: int, parts: Components, reasons: list[str]) -> None:
        kind = parts.sector_kind[i]
        label = self.organisations[i].naf_label or self.organisations[i].naf or ""
        if kind == _RELATED:
            reasons.append(f"secteur apparenté : {label} (proximité {_french(parts.sector[i], '0.00')})")
        elif kind == _CHAIN:
            mine = self.organisations[q].naf_label or self.organisations[q].naf
            reasons.append(f"même chaîne de valeur : {mine} ↔ {label}")
        elif kind == _DIVISION:
            reasons.append(f"même division NAF : {label}")
