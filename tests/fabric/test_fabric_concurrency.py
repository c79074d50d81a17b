"""The fabric store under concurrent processes: readers together, readers during an import,
imports that wait for each other, bounded waits with a French message and no server path."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fabrickit import sirene_row, write_csv

from grappe.fabric import FabricStore

_TIMEOUT = 180  # seconds: a bound on every child process, far above what they need

# Each reader waits for a common start time, then opens the store and reads its summary
# `rounds` times (or, with a stop file, until that file exists), so that the readers
# overlap for certain; it prints the number of sources seen each time, and its errors
# instead of failing at the first.
READER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from grappe.fabric import FabricStore

    store, start, rounds = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    stop = Path(sys.argv[4]) if len(sys.argv) > 4 else None
    time.sleep(max(0.0, start - time.time()))
    seen, errors = [], []
    for done in range(rounds):
        if stop is not None and stop.exists() and done:
            break
        try:
            seen.append(len(FabricStore.open(store).info().sources))
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    print(seen)
    print(errors)
""")


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONWARNINGS": "ignore", **extra}


def _store_with_one_source(tmp_path: Path) -> FabricStore:
    store = FabricStore.open(tmp_path / "store")
    store.import_files([write_csv(tmp_path / "first.csv", [sirene_row(i) for i in range(5)])])
    return store


def _readers(script: Path, store: Path, n: int, rounds: int, delay: float,
             stop: Path | None = None) -> list[subprocess.Popen[str]]:
    start = time.time() + delay
    extra = [str(stop)] if stop is not None else []
    return [subprocess.Popen([sys.executable, str(script), str(store), str(start), str(rounds),
                              *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env())
            for _ in range(n)]


def _results(readers: list[subprocess.Popen[str]]) -> list[tuple[list[int], list[str]]]:
    results = []
    for reader in readers:
        out, err = reader.communicate(timeout=_TIMEOUT)
        assert reader.returncode == 0, err
        seen, errors = out.strip().splitlines()[-2:]
        results.append((json.loads(seen), eval(errors)))  # the repr of a list of str
    return results


def test_concurrent_readers_all_succeed(tmp_path: Path) -> None:
    store = _store_with_one_source(tmp_path)
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    results = _results(_readers(script, store.path, n=4, rounds=10, delay=3.0))
    assert [errors for _seen, errors in results] == [[]] * 4
    assert all(seen == [1] * 10 for seen, _errors in results)


def test_concurrent_info_commands_all_succeed(tmp_path: Path) -> None:
    """Four `grappe fabric info --format json` at once: every one answers (the loop of
    many rounds is the library test above; a CLI process starts in seconds)."""
    store = _store_with_one_source(tmp_path)
    command = [sys.executable, "-m", "grappe", "fabric", "info", "--store", str(store.path),
               "--format", "json"]
    outputs = []
    for _ in range(1):
        runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=_env()) for _ in range(4)]
        for run in runs:
            out, err = run.communicate(timeout=_TIMEOUT)
            assert run.returncode == 0, err
            outputs.append(json.loads(out))
    assert all(o == outputs[0] for o in outputs)
    assert outputs[0]["rows_by_kind"]["establishments"] == 5


def test_readers_succeed_while_an_import_commits(tmp_path: Path) -> None:
    store = _store_with_one_source(tmp_path)
    big = write_csv(tmp_path / "big.csv", [sirene_row(i) for i in range(10, 10_010)])
    script = tmp_path / "reader.py"
    script.write_text(READER, encoding="utf-8")
    stop = tmp_path / "stop"
    readers = _readers(script, store.path, n=2, rounds=2_000, delay=0.0, stop=stop)
    time.sleep(1.0)  # the readers are reading before the import starts
    importing = subprocess.run(
        [sys.executable, "-m", "grappe", "fabric", "import", str(big), "--store",
         str(store.path)], capture_output=True, text=True, timeout=_TIMEOUT, env=_env(),
        check=False)
    time.sleep(1.0)  # and go on reading after its commit
    stop.touch()
    assert importing.returncode == 0, importing.stderr
    results = _results(readers)
    assert [errors for _seen, errors in results] == [[], []]
    for seen, _errors in results:
        assert set(seen) == {1, 2}, seen  # each reader saw the store before and after
        assert seen == sorted(seen)  # once a reader saw the import, it never loses it
    assert len(store.sources()) == 2


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from grappe.fabric import FabricStore

    store, start, file = Path(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
    time.sleep(max(0.0, start - time.time()))
    (report,) = FabricStore.open(store).import_files([file])
    print(report.rows_stored)
""")


def test_imports_at_once_wait_for_each_other_and_all_succeed(tmp_path: Path) -> None:
    store = FabricStore.open(tmp_path / "store")
    files = [write_csv(tmp_path / f"part{k}.csv",
                       [sirene_row(i) for i in range(k * 2_000, k * 2_000 + 2_000)])
             for k in range(3)]
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    start = time.time() + 3.0  # every writer has started Python and imported grappe by then
    runs = [subprocess.Popen([sys.executable, str(script), str(store.path), str(start), str(f)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=_env())
            for f in files]
    for run in runs:
        out, err = run.communicate(timeout=_TIMEOUT)
        assert run.returncode == 0, err
        assert out.split() == ["2000"]
    info = store.info()
    assert sorted(Path(s["path"]).name for s in info.sources) == [
        "part0.csv", "part1.csv", "part2.csv"]
    assert info.rows_by_kind["establishments"] == 6_000


@contextmanager
def _held(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path``, as another process's import would."""
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _one_error_line(stderr: str, tmp_path: Path) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Erreur :")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert str(tmp_path) not in stderr  # no server path
    return lines[0]


def test_an_import_waits_for_another_then_gives_up_with_a_clear_message(
        tmp_path: Path) -> None:
    store = _store_with_one_source(tmp_path)
    second = write_csv(tmp_path / "second.csv", [sirene_row(i) for i in range(10, 20)])
    command = [sys.executable, "-m", "grappe", "fabric", "import", str(second), "--store",
               str(store.path)]
    with _held(store.path / ".import.lock"):
        started = time.monotonic()
        refused = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT,
                                 env=_env(GRAPPE_FABRIC_LOCK_TIMEOUT="1.5"), check=False)
        waited = time.monotonic() - started
    assert refused.returncode == 2, refused.stderr
    assert waited >= 1.5
    line = _one_error_line(refused.stderr, tmp_path)
    assert "un autre import y écrit depuis plus de 1.5 s" in line
    assert "GRAPPE_FABRIC_LOCK_TIMEOUT" in line
    assert len(store.sources()) == 1
    # the lock released, the same command goes through
    done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT,
                          env=_env(GRAPPE_FABRIC_LOCK_TIMEOUT="1.5"), check=False)
    assert done.returncode == 0, done.stderr
    assert len(store.sources()) == 2


def test_a_reader_waits_for_a_commit_with_a_bound(tmp_path: Path) -> None:
    store = _store_with_one_source(tmp_path)
    command = [sys.executable, "-m", "grappe", "fabric", "info", "--store", str(store.path)]
    with _held(store.path / ".lock"):
        refused = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT,
                                 env=_env(GRAPPE_FABRIC_LOCK_TIMEOUT="1"), check=False)
    assert refused.returncode == 2
    assert "catalogue dure depuis plus de 1 s" in _one_error_line(refused.stderr, tmp_path)


def test_a_damaged_catalogue_is_reported_without_its_path(tmp_path: Path) -> None:
    store = _store_with_one_source(tmp_path)
    (store.path / "catalogue.duckdb").write_bytes(b"not a duckdb file at all" * 500)
    done = subprocess.run(
        [sys.executable, "-m", "grappe", "fabric", "info", "--store", str(store.path)],
        capture_output=True, text=True, timeout=_TIMEOUT, env=_env(), check=False)
    assert done.returncode == 2
    assert "catalogue du magasin illisible" in _one_error_line(done.stderr, tmp_path)
