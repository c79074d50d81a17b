"""Benchmark: `grappe detect ... --format F --out FILE` beside the `detect()` call it makes.

CONTRACTS bounds the whole command, from process start to file written, to 1.5x the
``detect()`` library call (CSV and JSON; XLSX measured and reported). Both run on the same
synthetic store (``bench_detect.prepare``: generated, imported, kernels compiled, not timed),
each in a fresh interpreter, interleaved, so that a loaded machine slows both alike:

- ``library``: a child process times ``detect(store, "ze", "sous-classe")`` alone (after its
  imports), then ``Candidates.write`` to CSV, JSON and XLSX, each timed;
- ``command FORMAT``: ``python -m grappe detect --store S --level ze --format FORMAT --out F``
  timed by the parent from spawn to exit.

The script prints the median of the repeats of each, the ratio command / library call (the
bound), the ratio command / library script (a process that imports the library, calls
``detect()`` and writes the file: the command's own cost beyond the library's), and whether the
CSV and JSON of the command are byte-identical to the library's ``write``. It also prints
the CPU time (user + system, every thread) of the ``detect()`` call and of each command, and
their ratio: on a machine shared with other work, wall times wait for the other processes,
CPU times much less.

    python bench/bench_detect_command.py [--rows N] [--repeat N] [--cache DIR]

The default store is the issue's: 4,000,000 establishments. The command's own cost is about
constant (interpreter, the imports ``detect()`` needs, writing), so a smaller store (``--rows
1000000``) shows a larger ratio and a larger one a smaller ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_detect import DEFAULT_ZE, prepare

BOUND = 1.5
FORMATS = ("csv", "json", "xlsx")
BOUNDED = ("csv", "json")


def library(store: Path, out: Path, permutations: int, seed: int) -> dict[str, Any]:
    """The child task: the detect() call, then each format written, timed apart."""
    figures: dict[str, Any] = {"start": time.time()}
    started = time.perf_counter()
    from grappe.detection.candidates import detect

    imports = time.perf_counter() - started
    started = time.perf_counter()
    cpu = time.process_time()
    found = detect(store, level="ze", sectors="sous-classe", permutations=permutations,
                   seed=seed)
    figures.update({"imports": imports, "detect": time.perf_counter() - started,
                    "detect_cpu": time.process_time() - cpu, "candidates": len(found)})
    for fmt in FORMATS:
        started = time.perf_counter()
        found.write(out / f"library.{fmt}", fmt)
        figures[f"write_{fmt}"] = time.perf_counter() - started
    return figures


def command(store: Path, out: Path, fmt: str, permutations: int, seed: int,
            env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system, all threads) seconds of one `grappe detect` process,
    from spawn to exit."""
    args = [sys.executable, "-m", "grappe", "detect", "--store", str(store), "--level", "ze",
            "--format", fmt, "--out", str(out / f"command.{fmt}"),
            "--permutations", str(permutations), "--seed", str(seed)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"grappe detect --format {fmt} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Prepare the store, run library and commands interleaved, print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=4_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/grappe-bench-detect"))
    shared = os.environ.get("GRAPPE_SHARED_DATA")
    parser.add_argument("--ze", type=Path, default=(
        Path(shared) / "real" / DEFAULT_ZE.name if shared else DEFAULT_ZE))
    parser.add_argument("--permutations", type=int, default=999)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    out = args.cache / "command-outputs"
    if args.child is not None:
        print(json.dumps(library(args.child, out, args.permutations, args.seed)))
        return
    home = args.cache / "home"
    os.environ["GRAPPE_HOME"] = str(home)
    env = {**os.environ, "GRAPPE_HOME": str(home)}
    store = prepare(args.cache, args.rows, args.seed, args.ze)
    out.mkdir(parents=True, exist_ok=True)

    runs: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
    cpus: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
    calls: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        spawned = time.time()
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(store), "--cache", str(args.cache),
             "--permutations", str(args.permutations), "--seed", str(args.seed)],
            env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"library run failed:\n{done.stderr[-3000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        # interpreter start before the child's first line, the same for any Python process
        figures["startup"] = figures.pop("start") - spawned
        calls.append(figures)
        for fmt in FORMATS:
            wall, cpu = command(store, out, fmt, args.permutations, args.seed, env)
            runs[fmt].append(wall)
            cpus[fmt].append(cpu)

    call = statistics.median(c["detect"] for c in calls)
    summary: dict[str, Any] = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "load": os.getloadavg()[0]},
        "rows": args.rows, "repeat": args.repeat, "candidates": calls[0]["candidates"],
        "library": {key: statistics.median(c[key] for c in calls)
                    for key in ("startup", "imports", "detect", "detect_cpu",
                                *(f"write_{f}" for f in FORMATS))},
        "command": {fmt: statistics.median(runs[fmt]) for fmt in FORMATS},
    }
    summary["ratio"] = {fmt: summary["command"][fmt] / call for fmt in FORMATS}
    # CPU time: what a machine shared with other work changes least (wall time waits for it)
    call_cpu = summary["library"]["detect_cpu"]
    summary["command_cpu"] = {fmt: statistics.median(cpus[fmt]) for fmt in FORMATS}
    summary["ratio_cpu"] = {fmt: summary["command_cpu"][fmt] / call_cpu for fmt in FORMATS}
    lib = summary["library"]
    summary["script"] = {fmt: lib["startup"] + lib["imports"] + call + lib[f"write_{fmt}"]
                         for fmt in FORMATS}
    summary["identical"] = {
        fmt: (out / f"library.{fmt}").read_bytes() == (out / f"command.{fmt}").read_bytes()
        for fmt in BOUNDED
    }
    print(f"\n{args.rows:,} establishments, {summary['candidates']:,} candidates, "
          f"median of {args.repeat}; load average {summary['machine']['load']:.1f}")
    print(f"detect() call            {call:8.2f} s   (imports before it "
          f"{summary['library']['imports']:.2f} s)")
    for fmt in FORMATS:
        bound = f"bound {BOUND}x" if fmt in BOUNDED else "reported"
        same = (" same bytes as Candidates.write" if summary["identical"].get(fmt) else
                " DIFFERS from Candidates.write" if fmt in BOUNDED else "")
        print(f"grappe detect --format {fmt:<5}{summary['command'][fmt]:8.2f} s   "
              f"{summary['ratio'][fmt]:.2f}x the call ({bound}), "
              f"{summary['command'][fmt] / summary['script'][fmt]:.2f}x the library script "
              f"({summary['script'][fmt]:.2f} s); library write "
              f"{summary['library'][f'write_{fmt}']:.2f} s;{same}")
    print(f"CPU time (user + system, all threads): detect() call {call_cpu:.2f} s; "
          + "; ".join(f"{fmt} command {summary['command_cpu'][fmt]:.2f} s "
                      f"({summary['ratio_cpu'][fmt]:.2f}x)" for fmt in FORMATS))
    results = Path(__file__).resolve().parent / "results"
    results.mkdir(exist_ok=True)
    (results / "detect_command.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
