"""Review without SQL: conflicts of interest, expertise affinity, weighted marks, disagreement, normalisation.

**Conflicts** (:func:`conflicts`): a reviewer whose organisation is the applicant (a consortium's
coordinator), one of its partners, a current member of the applicant cluster, shares a SIREN
with one of them (the organisation's own or its establishments'), or was a partner of one of
them in a recent collaborative project (:data:`RECENT_YEARS`), may not review the application;
neither may a reviewer who declared a conflict.

**Affinity** (:func:`affinity`): how well a reviewer's expertise covers an application, from 0 to
1: the application's sector tags matched by a reviewer tag (a tag matches the codes it
prefixes: ``25`` matches ``25.62A``) count 1 each, its keywords found among the reviewer's
(ignoring case and accents) count 1/2 each, over what a full match would count.

**Marks**: a review's total is the weighted sum of its criteria's marks (weights sum to 1, so
the total is on the call's scale). An application's score is the mean of its reviews' totals;
the reviews *disagree* when their totals span more than the call's threshold, and the
application is then flagged for moderation.

**Normalisation** (optional, :func:`normalise`): reviewers mark more or less severely. With it,
each review total becomes ``m + s × (x − m_r) / s_r``: its z-score among the reviewer's own
totals in the call (mean ``m_r``, population standard deviation ``s_r``), put back on the scale
of all the call's totals (mean ``m``, deviation ``s``), clipped to the scale. A reviewer with
fewer than two reviews, or who gave every application the same total, keeps raw totals: there is
no severity to correct.
"""

from __future__ import annotations

import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Final

RECENT_YEARS: Final = 3
"""A collaborative project is recent when it ended less than this many years ago (or runs)."""

KEYWORD_WEIGHT: Final = 0.5
"""A keyword counts half a sector tag in the affinity."""


@dataclass(frozen=True)
class ApplicantSide:
    """The organisations on an application's side, for conflict detection."""

    application_id: int
    organisations: frozenset[int]  # coordinator and partners
    cluster_members: frozenset[int] = frozenset()  # current members of the applicant cluster
    sirens: frozenset[str] = frozenset()  # of the organisations above
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewerSide:
    """A reviewer as conflicts and affinity see it."""

    reviewer_id: int
    organisation_id: int | None
    sirens: frozenset[str] = frozenset()
    co_partners: frozenset[int] = frozenset()  # organisations met in recent projects
    declared: frozenset[int] = frozenset()  # applications with a declared conflict
    tags: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


def conflict_reason(reviewer: ReviewerSide, application: ApplicantSide) -> str | None:
    """Why the reviewer may not review the application (French), or None."""
    if application.application_id in reviewer.declared:
        return "conflit déclaré"
    org = reviewer.organisation_id
    if org is not None:
        if org in application.organisations:
            return "l'organisation de l'évaluateur est la candidate ou un partenaire"
        if org in application.cluster_members:
            return "l'organisation de l'évaluateur est adhérente de la structure candidate"
        if reviewer.co_partners & application.organisations:
            return "l'organisation de l'évaluateur a été partenaire d'un projet récent avec la candidature"
    if reviewer.sirens & application.sirens:
        return "même SIREN qu'une organisation de la candidature"
    return None


def conflicts(
    reviewers: Sequence[ReviewerSide], applications: Sequence[ApplicantSide]
) -> dict[tuple[int, int], str]:
    """Every conflicting ``(reviewer_id, application_id)`` with its reason."""
    found: dict[tuple[int, int], str] = {}
    for reviewer in reviewers:
        for application in applications:
            reason = conflict_reason(reviewer, application)
            if reason is not None:
                found[(reviewer.reviewer_id, application.application_id)] = reason
    return found


@lru_cache(maxsize=65536)
def keyword_key(word: str) -> str:
    """A keyword compared ignoring case, accents and surrounding spaces."""
    decomposed = unicodedata.normalize("NFKD", word.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def _tag_keys(tags: tuple[str, ...]) -> frozenset[str]:
    return frozenset(t.strip().upper().replace(".", "") for t in tags if t.strip())


@lru_cache(maxsize=65536)
def _tag_prefixes(tags: tuple[str, ...]) -> tuple[frozenset[str], ...]:
    """For each distinct tag, its prefixes: a reviewer tag matches a tag it prefixes."""
    return tuple(frozenset(tag[:n] for n in range(1, len(tag) + 1)) for tag in sorted(_tag_keys(tags)))


@lru_cache(maxsize=65536)
def _word_keys(words: tuple[str, ...]) -> frozenset[str]:
    return frozenset(keyword_key(k) for k in words if k.strip())


def affinity(reviewer: ReviewerSide, application: ApplicantSide) -> float:
    """The expertise affinity of a reviewer for an application, from 0 to 1 (module docstring).

    The keys of a side's tags and keywords are computed once per distinct list (cached): an
    assignment evaluates every reviewer x application pair.
    """
    prefixes, words = _tag_prefixes(application.tags), _word_keys(application.keywords)
    full = len(prefixes) + KEYWORD_WEIGHT * len(words)
    if not full:
        return 0.0
    mine = _tag_keys(reviewer.tags)
    matched = sum(1 for tag in prefixes if not tag.isdisjoint(mine))
    return (matched + KEYWORD_WEIGHT * len(words & _word_keys(reviewer.keywords))) / full


def weighted_total(marks: Mapping[int, float], weights: Mapping[int, float]) -> float:
    """A review's total: the weighted sum of its marks by criterion id."""
    return sum(weights[c] * marks[c] for c in weights)


@dataclass(frozen=True)
class ApplicationMarks:
    """The marks an application received and what they say."""

    application_id: int
    totals: dict[int, float] = field(default_factory=dict)  # reviewer id -> review total
    score: float | None = None  # mean of the totals (None: no review yet)
    spread: float = 0.0  # highest total minus lowest
    flagged: bool = False  # spread above the threshold: to moderate


def normalise(totals: Mapping[tuple[int, int], float], scale_max: float) -> dict[tuple[int, int], float]:
    """Per-reviewer z-score normalisation of ``(reviewer, application) -> total`` (module docstring)."""
    values = list(totals.values())
    if len(values) < 2:
        return dict(totals)
    mean, spread = statistics.fmean(values), statistics.pstdev(values)
    by_reviewer: dict[int, list[float]] = defaultdict(list)
    for (reviewer, _), value in totals.items():
        by_reviewer[reviewer].append(value)
    out: dict[tuple[int, int], float] = {}
    for key, value in totals.items():
        own = by_reviewer[key[0]]
        own_spread = statistics.pstdev(own) if len(own) >= 2 else 0.0
        if own_spread == 0.0 or spread == 0.0:
            out[key] = value
            continue
        z = (value - statistics.fmean(own)) / own_spread
        out[key] = min(max(mean + spread * z, 0.0), scale_max)
    return out


def summarise(
    totals: Mapping[tuple[int, int], float], applications: Iterable[int], threshold: float
) -> dict[int, ApplicationMarks]:
    """Each application's score, spread and moderation flag from its reviews' totals."""
    by_application: dict[int, dict[int, float]] = {a: {} for a in applications}
    for (reviewer, application), value in totals.items():
        by_application.setdefault(application, {})[reviewer] = value
    out: dict[int, ApplicationMarks] = {}
    for application, given in by_application.items():
        if not given:
            out[application] = ApplicationMarks(application)
            continue
        spread = max(given.values()) - min(given.values())
        out[application] = ApplicationMarks(
            application, given, statistics.fmean(given.values()), spread, spread > threshold
        )
    return out
