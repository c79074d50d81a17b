"""Start-up of the command line: `grappe … --help` beside the `--help` of a bare Typer app.

CONTRACTS bounds every `--help` of grappe to 3x the `--help` of a bare two-command Typer app,
measured side by side. Both run in fresh interpreters, interleaved, so that a loaded machine
slows both alike; the script prints the median wall time and the peak resident memory of each,
and the ratio to the bare app.

    python bench/bench_cli_startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BOUND = 3.0

BARE_APP = '''
import typer

app = typer.Typer()


@app.command()
def hello(name: str) -> None:
    """Say hello."""
    print(name)


@app.command()
def bye(name: str) -> None:
    """Say goodbye."""
    print(name)


app()
'''

#: The help pages measured: the root, one per group and one leaf per module.
HELPS = (
    (),
    ("fabric",),
    ("fabric", "import"),
    ("refdata", "naf"),
    ("detect",),
    ("indicators",),
    ("demo",),
    ("serve",),
    ("registry",),
    ("registry", "user-add"),
)


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of one run (the child's own rusage)."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(argv)} a échoué : {process.stderr.read().decode()}")  # type: ignore[union-attr]
    process.returncode = 0
    return seconds, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bare = Path(folder) / "bare.py"
        bare.write_text(BARE_APP, encoding="utf-8")
        runs: dict[str, list[tuple[float, float]]] = {"bare": []}
        for _ in range(args.repeat):
            runs["bare"].append(_run([sys.executable, str(bare), "--help"]))
            for words in HELPS:
                name = " ".join(("grappe", *words, "--help"))
                runs.setdefault(name, []).append(
                    _run([sys.executable, "-m", "grappe", *words, "--help"])
                )
                runs["bare"].append(_run([sys.executable, str(bare), "--help"]))
    base = statistics.median(s for s, _ in runs["bare"])
    print(f"{'commande':40} {'médiane s':>10} {'pic Mio':>8} {'ratio':>6}")
    worst = 0.0
    for name, values in runs.items():
        seconds = statistics.median(s for s, _ in values)
        peak = max(m for _, m in values)
        ratio = seconds / base
        if name != "bare":
            worst = max(worst, ratio)
        print(f"{name:40} {seconds:10.3f} {peak:8.0f} {ratio:5.1f}x")
    verdict = "tenue" if worst <= BOUND else "MANQUÉE"
    print(f"pire ratio : {worst:.1f}x (borne {BOUND:g}x : {verdict})")


if __name__ == "__main__":
    main()
