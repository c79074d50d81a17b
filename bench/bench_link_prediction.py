"""Benchmark: partner search as link prediction on the real ANR projects, and its query time.

Run: ``python bench/bench_link_prediction.py [--data DIR] [--organisations 100000] [--tune]``
(``DIR`` defaults to ``$GRAPPE_SHARED_DATA/real/anr``).

1. Link prediction. The two ANR workbooks are imported through the cooperation importer into
   a fresh SQLite registry. The partner index is built from the projects of editions up to
   :data:`LEARN_UNTIL` only (texts, ties, organisations: ``build_index(until_edition=...)``);
   the co-partner graph of the baselines from the same projects. For every partner of a
   project of editions :data:`TEST_EDITIONS` already known before, its co-partners in that
   project that were known too are the targets; recall@10 is the share of targets found in
   its top 10 (over all targets). In the same run: popularity (the most connected
   organisations) and Adamic–Adar on the co-partner graph (networkx; ties broken by
   popularity, which only helps it). ``--tune`` picks the weights on a validation split
   inside the learning years (index up to :data:`TUNE_UNTIL`, asked on the editions after
   it up to :data:`LEARN_UNTIL`): the test years are never looked at.
2. Query time. A synthetic index of ``--organisations`` organisations (NAF labels as text,
   communes of the reference data, a random co-partner network, seeded) answers the same
   free-text needs and organisation queries; the time of a full search (top 10 with reasons)
   is compared with the bare BM25 query of the same text (the need's words and the asker's
   document: ``bm25s`` scores and top 10) on the same index.
   Goal (issue 18): at most 5 x.

Figures go to ``bench/results/link_prediction.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np

if TYPE_CHECKING:
    from grappe.partners.search import PartnerIndex, Weights
    from grappe.partners.service import StoredIndex

REPO = Path(__file__).resolve().parents[1]
PROJECTS = "anr-dgpie-projets-finances-2006-2018-projets.xlsx"
PARTNERS = "anr-dgpie-projets-finances-2006-2018-partenaires.xlsx"
LEARN_UNTIL = 2016
TEST_EDITIONS = (2017, 2018)
TUNE_UNTIL = 2010
K = 10
TIME_TARGET = 5.0
SEED = 18


@dataclass(frozen=True)
class Case:
    """One partner of an asked project and the co-partners it should find."""

    organisation: int
    targets: frozenset[int]


def import_anr(folder: Path, database: Path) -> str:
    """Import the two workbooks into a fresh registry; its URL."""
    from grappe.cooperation.projects_io import ImportFormat, import_projects
    from grappe.registry import LOCAL_ADMIN, migrate
    from grappe.storage.sql import make_engine, session_scope

    url = f"sqlite:///{database}"
    engine = make_engine(url, pool=False)
    migrate.upgrade(engine)
    with session_scope(engine) as session:
        import_projects(session, LOCAL_ADMIN, folder / PROJECTS, folder / PARTNERS, fmt=ImportFormat.ANR)
    engine.dispose()
    return url


def project_partners(url: str) -> dict[tuple[int, int | None], list[int]]:
    """Named partners of every project, keyed by (project, edition)."""
    from grappe.partners import repository
    from grappe.storage.sql import make_engine, session_scope

    engine = make_engine(url, pool=False)
    found: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    with session_scope(engine, write=False) as session:
        for part in repository.participations(session):
            found[(part.project_id, part.edition)].append(part.organisation_id)
    engine.dispose()
    return found


def split(
    projects: dict[tuple[int, int | None], list[int]], learn_until: int, asked: Iterable[int]
) -> tuple[nx.Graph, list[Case]]:
    """The co-partner graph of the learning editions, and the cases of the asked editions."""
    graph = nx.Graph()
    for (_, edition), partners in projects.items():
        if edition is not None and edition <= learn_until:
            graph.add_nodes_from(partners)
            graph.add_edges_from(itertools.combinations(sorted(set(partners)), 2))
    wanted = set(asked)
    cases = []
    for (_, edition), partners in sorted(projects.items(), key=lambda item: item[0][0]):
        if edition not in wanted:
            continue
        known = sorted(set(partners) & set(graph.nodes))
        for organisation in known:
            targets = frozenset(known) - {organisation}
            if targets:
                cases.append(Case(organisation, targets))
    return graph, cases


def recall(cases: list[Case], rank: Callable[[int], list[int]]) -> float:
    """Share of all targets found in the top K of their case."""
    hits = total = 0
    for case in cases:
        hits += len(case.targets & set(rank(case.organisation)[:K]))
        total += len(case.targets)
    return hits / total if total else 0.0


def popularity_ranker(graph: nx.Graph) -> Callable[[int], list[int]]:
    order = sorted(graph.nodes, key=lambda n: (-graph.degree[n], n))

    def rank(organisation: int) -> list[int]:
        return [n for n in order[: K + 1] if n != organisation][:K]

    return rank


def adamic_adar_ranker(graph: nx.Graph) -> Callable[[int], list[int]]:
    popular = popularity_ranker(graph)

    def rank(organisation: int) -> list[int]:
        # Only organisations two steps away share a partner; the others score 0.
        reach = {m for n in graph[organisation] for m in graph[n]} - {organisation}
        scores = dict.fromkeys(reach, 0.0)
        for _, other, score in nx.adamic_adar_index(graph, [(organisation, m) for m in reach]):
            scores[other] = score
        best = sorted(scores, key=lambda n: (-scores[n], -graph.degree[n], n))[:K]
        return best + [n for n in popular(organisation) if n not in scores][: K - len(best)]

    return rank


def search_index(url: str, until: int) -> StoredIndex:
    from grappe.partners.service import build_index
    from grappe.storage.sql import make_engine, session_scope

    engine = make_engine(url, pool=False)
    with session_scope(engine, write=False) as session:
        stored = build_index(session, until_edition=until)
    engine.dispose()
    return stored


def search_ranker(stored: StoredIndex) -> Callable[[int], list[int]]:
    from grappe.partners.search import Need

    index = stored.index

    def rank(organisation: int) -> list[int]:
        return [s.organisation for s in index.search(Need(organisation=organisation), K)]

    return rank


def tune(url: str, projects: dict[tuple[int, int | None], list[int]]) -> tuple[Weights | None, float]:
    """The grid's best weights on the validation split (learning years only)."""
    from grappe.partners.search import Need, Weights

    stored = search_index(url, TUNE_UNTIL)
    graph, cases = split(projects, TUNE_UNTIL, range(TUNE_UNTIL + 1, LEARN_UNTIL + 1))
    index = stored.index
    parts = {c.organisation: index.components(Need(organisation=c.organisation)) for c in cases}
    allowed = {c.organisation: index.allowed(Need(organisation=c.organisation)) for c in cases}
    ids = np.array([o.id for o in index.organisations])
    grid = np.arange(0.0, 0.55, 0.1)
    best: tuple[float, Weights | None] = (-1.0, None)
    sector = 0.10  # no NAF in the ANR files: the share is kept for the fabric's organisations
    for text, proximity, shared, together in itertools.product(grid, grid, grid, grid):
        activity = 1.0 - sector - text - proximity - shared - together
        if activity < -1e-9:
            continue
        weights = Weights(float(text), sector, float(proximity), float(shared), float(together),
                          max(0.0, float(activity)))
        hits = total = 0
        for case in cases:
            scores = np.where(allowed[case.organisation], parts[case.organisation].combined(weights), -np.inf)
            top = ids[np.lexsort((ids, -scores))[:K]]
            hits += len(case.targets & set(top.tolist()))
            total += len(case.targets)
        if hits / total > best[0]:
            best = (hits / total, weights)
    print(f"validation (index <= {TUNE_UNTIL}, asked {TUNE_UNTIL + 1}-{LEARN_UNTIL}, "
          f"{len(cases)} cases): popularity {recall(cases, popularity_ranker(graph)):.3f}, "
          f"Adamic-Adar {recall(cases, adamic_adar_ranker(graph)):.3f}, best search {best[0]:.3f}")
    return best[1], best[0]


def link_prediction(folder: Path, do_tune: bool) -> dict[str, object]:
    from grappe.partners.search import WEIGHTS

    with tempfile.TemporaryDirectory() as tmp:
        url = import_anr(folder, Path(tmp) / "registry.db")
        projects = project_partners(url)
        result: dict[str, object] = {}
        if do_tune:
            weights, score = tune(url, projects)
            print(f"best weights on validation: {weights}")
            result["tuned"] = {"weights": str(weights), "validation_recall": score}
        graph, cases = split(projects, LEARN_UNTIL, TEST_EDITIONS)
        stored = search_index(url, LEARN_UNTIL)
        # Known before the test years = took part in a learning project: the same set for all.
        assert {o.id for o in stored.index.organisations} == set(graph.nodes)
        figures = {
            "popularity": recall(cases, popularity_ranker(graph)),
            "adamic_adar": recall(cases, adamic_adar_ranker(graph)),
            "search": recall(cases, search_ranker(stored)),
        }
    result |= {
        "cases": len(cases),
        "targets": sum(len(c.targets) for c in cases),
        "recall_at_10": figures,
        "weights": str(WEIGHTS),
        "search_over_popularity": figures["search"] / figures["popularity"],
        "search_over_adamic_adar": figures["search"] / figures["adamic_adar"],
    }
    print(f"link prediction (index <= {LEARN_UNTIL}, asked {TEST_EDITIONS}): {len(cases)} cases, "
          f"{result['targets']} targets")
    for name, value in figures.items():
        print(f"  recall@{K} {name:12s} {value:.3f}")
    print(f"  search / popularity  {result['search_over_popularity']:.2f} x")
    print(f"  search / Adamic-Adar {result['search_over_adamic_adar']:.2f} x")
    return result


def synthetic_index(size: int, seed: int) -> PartnerIndex:
    """``size`` organisations: NAF sub-class labels as text, real communes, a random network."""
    from grappe.partners.search import Organisation, PartnerIndex, Tie
    from grappe.refdata import naf, territories

    rng = np.random.default_rng(seed)
    classes = naf.sous_classes().to_pylist()
    communes = territories.communes().select(["departement", "x", "y"]).to_pylist()
    sector = rng.integers(len(classes), size=size)
    place = rng.integers(len(communes), size=size)
    organisations = []
    for i in range(size):
        code = classes[sector[i]]
        where = communes[place[i]]
        organisations.append(Organisation(
            id=i + 1, name=f"Organisation {i + 1}", kind="firm", naf=code["code"],
            naf_label=code["label"], departement=where["departement"], position=(where["x"], where["y"]),
        ))
    # About five partners each: a sparse network like a cluster's.
    pairs = rng.integers(1, size + 1, size=(size * 5 // 2, 2))
    return PartnerIndex(organisations, [Tie(int(a), int(b)) for a, b in pairs])


def query_time(size: int, repeat: int = 20) -> dict[str, object]:
    from grappe.partners.search import Need

    index = synthetic_index(size, SEED)
    needs = ["usinage de pièces mécaniques", "fabrication de produits laitiers",
             "conseil en systèmes informatiques", "transport routier de marchandises",
             "recherche en biotechnologie"]
    rng = np.random.default_rng(SEED)
    askers = rng.integers(1, size + 1, size=len(needs)).tolist()

    def bare() -> None:
        for text, asker in zip(needs, askers, strict=True):
            scores = index.text_scores(index.query_text(Need(text=text, organisation=asker)))
            np.argpartition(-scores, K)[:K]

    def full() -> None:
        for text, asker in zip(needs, askers, strict=True):
            index.search(Need(text=text, organisation=asker), K)

    times: dict[str, list[float]] = {"bare": [], "search": []}
    for _ in range(repeat):  # alternating, the best of each: the machine is shared
        for name, run in (("bare", bare), ("search", full)):
            start = time.perf_counter()
            run()
            times[name].append((time.perf_counter() - start) / len(needs))
    bare_s, search_s = min(times["bare"]), min(times["search"])
    ratio = search_s / bare_s
    print(f"query time over {size:,} organisations: bare BM25 {bare_s * 1000:.1f} ms, "
          f"search {search_s * 1000:.1f} ms, ratio {ratio:.2f} x (goal <= {TIME_TARGET:g} x)")
    return {"organisations": size, "bare_bm25_s": bare_s, "search_s": search_s, "ratio": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("GRAPPE_SHARED_DATA", REPO.parent / "shared" / "data")) / "real" / "anr",
    )
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--tune", action="store_true")
    args = parser.parse_args()
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "link_prediction": link_prediction(args.data, args.tune),
        "query_time": query_time(args.organisations),
    }
    out = REPO / "bench" / "results" / "link_prediction.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"figures: {out}")


if __name__ == "__main__":
    main()
