"""Reviewer assignment on a call built from the real ANR projects (../shared/data/real/anr).

The call: the projects of the 2017 and 2018 editions are the applications; the scientific leads
of the editions up to 2016 are the reviewers. A reviewer is in conflict with an application when
one of their organisations is a partner of it (issue 19's rule) or when they lead a partner of it
themself. The affinity is the number of projects the reviewer led in the same programme (the ANR
action), so that the best-placed reviewers are the programme's regulars. Three reviewers
each, two applications at most per reviewer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest
from review_check import check_assignment

from grappe.calls.assignment import ReviewProblem, greedy_assignment, optimal_assignment
from grappe.kit.tables import cells

MISSING = "Non renseigné"


def _table(path: Path) -> list[dict[str, str]]:
    lines = cells(path)
    header = next(lines)
    return [dict(zip(header, line, strict=False)) for line in lines]


@pytest.fixture(scope="module")
def anr_call(real_data: Path) -> ReviewProblem:
    projects = _table(real_data / "anr" / "anr-dgpie-projets-finances-2006-2018-projets.xlsx")
    partners = _table(real_data / "anr" / "anr-dgpie-projets-finances-2006-2018-partenaires.xlsx")
    action = {p["Projet.Code_Decision_ANR"]: p["Action.Titre.Francais"] for p in projects}
    applications = sorted(p["Projet.Code_Decision_ANR"] for p in projects
                          if int(p["Action.Edition"]) >= 2017)
    organisations: dict[str, set[str]] = defaultdict(set)
    led: dict[str, Counter[str]] = defaultdict(Counter)
    partner_organisations: dict[str, set[str]] = defaultdict(set)
    partner_leads: dict[str, set[str]] = defaultdict(set)
    for row in partners:
        project, organisation = row["Projet.Code_Decision_ANR"], row["Projet.Partenaire.Nom_organisme"]
        last = row["Projet.Partenaire.Responsable_scientifique.Nom"]
        first = row["Projet.Partenaire.Responsable_scientifique.Prenom"]
        person = f"{last} {first}" if MISSING not in (last, first) and last and first else None
        if organisation and organisation != MISSING:
            partner_organisations[project].add(organisation)
        if person is None:
            continue
        partner_leads[project].add(person)
        if int(row["Action.Edition"]) <= 2016:
            led[person][action.get(project, "")] += 1
            if organisation and organisation != MISSING:
                organisations[person].add(organisation)
    reviewers = sorted(led)
    conflicts = frozenset(
        (r, a) for a in applications for r in reviewers
        if organisations[r] & partner_organisations[a] or r in partner_leads[a]
    )
    affinity = {(r, a): float(led[r][action[a]]) for r in reviewers for a in applications
                if led[r][action[a]]}
    return ReviewProblem(tuple(reviewers), dict.fromkeys(reviewers, 2), tuple(applications),
                         affinity, conflicts, 3)


def test_the_real_call_is_assigned_without_conflict_and_beats_greedy(anr_call: ReviewProblem) -> None:
    assert len(anr_call.applications) == 168
    assert len(anr_call.conflicts) > 1000  # the large research bodies are partners everywhere
    exact, greedy = optimal_assignment(anr_call), greedy_assignment(anr_call)
    total = check_assignment(dict(anr_call.caps), list(anr_call.applications), dict(anr_call.affinity),
                             set(anr_call.conflicts), 3, list(exact.rows))
    assert total == pytest.approx(exact.total)
    assert exact.missing == 0
    assert exact.total >= greedy.total
