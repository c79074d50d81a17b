"""Benchmark: the stored call's reviewer assignment, through the service, on a SQLite registry.

A seeded call of 1,000 submitted applications from 50 cluster organisations and 300 reviewers
(3 reviewers each, load cap 12), each with sector tags among 40 NAF divisions and keywords; one
reviewer in five belongs to a member organisation of one of the clusters, so every application
of that cluster is a conflict of interest the service detects. The run times
``calls.service.assign_reviewers`` (conflict detection, affinities, the min-cost flow, the
greedy baseline, the stored rows), prints both total affinities, and checks the stored
assignment with an independent validator (K distinct reviewers each, caps, no conflict by the
membership and partner rules recomputed here from the registry).

Run: ``python3 bench/bench_calls_stored.py`` (``--reviewers 60 --applications 200`` for a quick look).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import tempfile
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, select

from grappe.calls import service
from grappe.calls.models import Application, ReviewAssignment, ReviewerProfile
from grappe.calls.schemas import ApplicationIn, BudgetLineIn, CallIn, CriterionIn, ReviewerIn
from grappe.registry import LOCAL_ADMIN, migrate
from grappe.registry.accounts import service as accounts
from grappe.registry.accounts.schemas import UserCreate
from grappe.registry.clusters import service as clusters
from grappe.registry.clusters.schemas import ClusterCreate, TerritoryRef
from grappe.registry.memberships import service as memberships
from grappe.registry.memberships.schemas import MembershipCreate
from grappe.registry.models import Membership, Role, User
from grappe.registry.organisations import service as organisations
from grappe.registry.organisations.schemas import OrganisationCreate
from grappe.storage.sql import session_scope

DIVISIONS = [f"{d:02d}" for d in range(10, 50)]
WORDS = ["usinage", "décolletage", "export", "formation", "recrutement", "achats", "énergie", "numérique"]


def populate(engine: object, reviewers: int, applications: int, seed: int) -> int:
    """Fill the registry; the call's id."""
    rng = random.Random(seed)
    with session_scope(engine, actor=LOCAL_ADMIN) as session:  # type: ignore[arg-type]
        cluster_ids, firms = [], []
        for n in range(50):
            cid = clusters.create_cluster(
                session,
                LOCAL_ADMIN,
                ClusterCreate(
                    name=f"Grappe {n:02d}", territories=[TerritoryRef(level="commune", code="69123")]
                ),
            ).id
            firm = organisations.create_organisation(
                session, LOCAL_ADMIN, OrganisationCreate(name=f"Entreprise {n:02d}")
            ).id
            memberships.add_membership(
                session, LOCAL_ADMIN, cid, MembershipCreate(organisation_id=firm, joined=dt.date(2020, 1, 1))
            )
            cluster_ids.append(cid)
            firms.append(firm)
        call = service.create_call(
            session,
            LOCAL_ADMIN,
            CallIn(
                title="Banc d'essai",
                funder="Banc",
                budget_eur=Decimal(100_000_000),
                opens_on=dt.date(2020, 1, 1),
                closes_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
                applicant_kind="cluster",
                criteria=[CriterionIn(name="Qualité", weight=Decimal(1))],
                reviewers_per_application=3,
            ),
        )
        for n in range(applications):
            c = n % 50
            made = service.create_application(
                session,
                LOCAL_ADMIN,
                call.id,
                ApplicationIn(
                    title=f"Projet {n:04d}",
                    cluster_id=cluster_ids[c],
                    tags=rng.sample(DIVISIONS, 2),
                    keywords=rng.sample(WORDS, 2),
                    budget=[
                        BudgetLineIn(
                            organisation_id=firms[c], amount_eur=Decimal(rng.randint(10, 200) * 1000)
                        )
                    ],
                ),
            )
            service.submit_application(session, LOCAL_ADMIN, made.id)
        for n in range(reviewers):
            org = firms[rng.randrange(50)] if n % 5 == 0 else None
            user = accounts.create_user(
                session,
                LOCAL_ADMIN,
                UserCreate(email=f"r{n:03d}@banc.fr", role=Role.REVIEWER, organisation_id=org),
            )
            service.save_reviewer(
                session,
                LOCAL_ADMIN,
                ReviewerIn(
                    user_id=user.id, load_cap=12, tags=rng.sample(DIVISIONS, 6), keywords=rng.sample(WORDS, 3)
                ),
            )
        return call.id


def validate(engine: object, call_id: int, k: int) -> int:
    """Check the stored assignment independently; the number of rows."""
    with session_scope(engine, actor=LOCAL_ADMIN) as session:  # type: ignore[arg-type]
        rows = session.execute(
            select(
                ReviewAssignment.application_id,
                ReviewAssignment.reviewer_id,
                ReviewerProfile.load_cap,
                User.organisation_id,
                Application.cluster_id,
            )
            .join(ReviewerProfile, ReviewerProfile.id == ReviewAssignment.reviewer_id)
            .join(User, User.id == ReviewerProfile.user_id)
            .join(Application, Application.id == ReviewAssignment.application_id)
            .where(Application.call_id == call_id)
        ).all()
        members: dict[int, set[int]] = defaultdict(set)
        for cluster_id, org in session.execute(select(Membership.cluster_id, Membership.organisation_id)):
            members[cluster_id].add(org)
        applications = session.scalars(select(Application.id).where(Application.call_id == call_id)).all()
    per_application = Counter(a for a, *_ in rows)
    load = Counter(r for _, r, *_ in rows)
    caps = {r: cap for _, r, cap, *_ in rows}
    assert len({(a, r) for a, r, *_ in rows}) == len(rows), "a pair twice"
    assert all(per_application[a] == k for a in applications), "an application without exactly K reviewers"
    assert all(load[r] <= caps[r] for r in load), "a load cap exceeded"
    assert not any(org is not None and org in members[c] for _, _, _, org, c in rows), "a conflict kept"
    return len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=300)
    parser.add_argument("--applications", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'banc.sqlite3'}")
        migrate.upgrade(engine)
        started = time.perf_counter()
        call_id = populate(engine, args.reviewers, args.applications, args.seed)
        filled = time.perf_counter() - started
        started = time.perf_counter()
        with session_scope(engine, actor=LOCAL_ADMIN) as session:
            out = service.assign_reviewers(session, LOCAL_ADMIN, call_id)
        total = time.perf_counter() - started
        rows = validate(engine, call_id, 3)
        engine.dispose()
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"registry filled: {args.applications} applications, {args.reviewers} reviewers in {filled:.1f} s")
    print(f"conflicts detected: {out.conflicts}")
    print(
        f"assignment through the service: {total:.2f} s (solver {out.seconds:.2f} s), {rows} rows validated"
    )
    print(
        f"total affinity: exact {out.total_affinity:.3f}, greedy {out.greedy_affinity:.3f} "
        f"(ratio {out.total_affinity / out.greedy_affinity:.4f}, greedy leaves {out.greedy_missing} missing)"
    )


if __name__ == "__main__":
    main()
