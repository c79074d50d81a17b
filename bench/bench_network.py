"""Benchmark: network analysis of 100,000 organisations and 1,000,000 ties, grappe vs igraph alone.

Run: ``python bench/bench_network.py [--organisations 100000] [--ties 1000000] [--samples 64]``.
It draws a seeded cooperation network (organisations in groups of about 500, most ties inside
a group, heavy-tailed activity, several ties per pair across four layers and ten years), then
times, in the same run:

- the baseline: igraph alone on the same tie arrays: the graph built and its parallel ties
  merged (``simplify(combine_edges="sum")``), degree, strength, betweenness from the same
  ``--samples`` sources, eigenvector centrality, Leiden communities (same seed), coreness and
  articulation points;
- grappe: ``build_graph`` from the node and tie tables (validation, scope, layers) then
  ``analyse`` (the same measures in networkx's conventions, plus the summary: whom to involve,
  SME share of the core, dependence on the five most connected);

and prints both times and their ratio (target: at most 3×), writing them to
``bench/results/network.json``. Betweenness is estimated from ``--samples`` sources in both
(exact betweenness is quadratic: days at this size).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import igraph as ig
import numpy as np
import pandas as pd

from grappe.cooperation import network

REPO = Path(__file__).resolve().parents[1]
GROUP_SIZE = 500
INSIDE_GROUP = 0.8  # share of ties drawn inside the organisation's group


def draw_network(organisations: int, ties: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and tie tables of a seeded clustered network with heavy-tailed activity."""
    rng = np.random.default_rng(seed)
    activity = rng.pareto(2.0, organisations) + 1.0
    chance = activity / activity.sum()
    a = rng.choice(organisations, size=ties, p=chance)
    inside = rng.random(ties) < INSIDE_GROUP
    group_start = (a // GROUP_SIZE) * GROUP_SIZE
    group_end = np.minimum(group_start + GROUP_SIZE, organisations)
    b = np.where(
        inside,
        group_start + (rng.random(ties) * (group_end - group_start)).astype(np.int64),
        rng.choice(organisations, size=ties, p=chance),
    )
    kinds = np.array(["firm", "research_lab", "training_body", "public_body", "association"])
    sizes = np.array(["TPE", "PME", "ETI", "GE", None], dtype=object)
    nodes = pd.DataFrame({
        "id": np.arange(organisations) + 1_000_000,
        "name": [f"Organisation {i}" for i in range(organisations)],
        "kind": kinds[rng.choice(len(kinds), organisations, p=[0.7, 0.1, 0.05, 0.1, 0.05])],
        "size_category": sizes[rng.choice(len(sizes), organisations, p=[0.5, 0.3, 0.08, 0.02, 0.1])],
        "member": rng.random(organisations) < 0.6,
    })
    first = dt.date(2015, 1, 1)
    table = pd.DataFrame({
        "a": a + 1_000_000,
        "b": b + 1_000_000,
        "weight": rng.integers(1, 4, ties).astype(float),
        "layer": np.array(network.LAYERS)[rng.integers(0, len(network.LAYERS), ties)],
        "date": pd.to_datetime(first) + pd.to_timedelta(rng.integers(0, 3650, ties), unit="D"),
    })
    return nodes, table


def baseline(nodes: pd.DataFrame, ties: pd.DataFrame, samples: int, seed: int) -> None:
    """The same measures called directly on igraph (parallel ties merged the igraph way)."""
    n = len(nodes)
    a = ties["a"].to_numpy() - 1_000_000
    b = ties["b"].to_numpy() - 1_000_000
    keep = a != b
    graph = ig.Graph(n=n, edges=np.column_stack([a[keep], b[keep]]), directed=False,
                     edge_attrs={"weight": ties["weight"].to_numpy()[keep]})
    graph.simplify(combine_edges="sum")
    graph.degree()
    graph.strength(weights="weight")
    graph.betweenness(directed=False, sources=network.betweenness_sources(n, samples, seed=seed).tolist())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "not connected": what grappe handles
        graph.eigenvector_centrality(weights="weight")
    ig.set_random_number_generator(random.Random(seed))
    graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    ig.set_random_number_generator(random)
    graph.coreness()
    graph.articulation_points()


def ours(nodes: pd.DataFrame, ties: pd.DataFrame, samples: int, seed: int) -> None:
    graph = network.build_graph(nodes, ties)
    analysis = network.analyse(graph, seed=seed, betweenness_samples=samples)
    assert len(analysis.measures) == len(nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--organisations", type=int, default=100_000)
    parser.add_argument("--ties", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=64, help="betweenness sources (both sides)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    nodes, ties = draw_network(args.organisations, args.ties, args.seed)
    drawn = time.perf_counter() - started
    runs: dict[str, Callable[[pd.DataFrame, pd.DataFrame, int, int], None]] = {
        "igraph_baseline_s": baseline,
        "grappe_s": ours,
    }
    figures: dict[str, float | int | str] = {}
    for name, run in runs.items():
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            run(nodes, ties, args.samples, args.seed)
            times.append(time.perf_counter() - started)
        figures[name] = min(times)
    figures["ratio"] = float(figures["grappe_s"]) / float(figures["igraph_baseline_s"])
    graph = network.build_graph(nodes, ties)
    figures |= {
        "organisations": args.organisations,
        "tie_rows": args.ties,
        "edges_after_merge": graph.ecount(),
        "betweenness_samples": args.samples,
        "drawing_s": drawn,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "igraph": ig.__version__,
        "cpus": os.cpu_count() or 0,
        "load_average_1min": os.getloadavg()[0],
    }
    print(json.dumps(figures, indent=2))
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "network.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
