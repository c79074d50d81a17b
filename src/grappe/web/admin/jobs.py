"""Detection runs started from the administrator's page, one at a time in a background thread.

A run found by :func:`grappe.detection.candidates.detect` is kept with
:func:`grappe.detection.runs.save` (what ``grappe detect --save NAME`` does), so the
observatory lists it once done. The jobs and their status live in the memory of the server
process that started them: the page shows the runs of its process, the observatory every
saved run.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from grappe.detection import runs
from grappe.detection.levels import CLUSTER_LEVEL, SECTOR_LEVELS, TERRITORY_LEVELS
from grappe.errors import ConflictError, GrappeError, InputError

#: The sector levels a run may be asked for from the page.
SECTOR_CHOICES = (*SECTOR_LEVELS, CLUSTER_LEVEL)
#: The most permutations of the Gi* test a run from the page may ask (the default is the library's).
MAX_PERMUTATIONS = 9999
#: Jobs remembered for the page (the oldest finished ones are forgotten first).
KEPT = 20


@dataclass(frozen=True)
class Job:
    """A detection run asked from the page: its parameters and where it stands."""

    name: str
    store: str
    level: str
    sectors: str
    permutations: int
    started_at: dt.datetime
    status: str = "running"  # running, done, failed
    finished_at: dt.datetime | None = None
    candidates: int | None = None
    message: str | None = None


@dataclass
class _Board:
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[str, Job] = field(default_factory=dict)
    executor: ThreadPoolExecutor | None = None


_board = _Board()


def check(store: str, level: str, sectors: str, name: str, permutations: str) -> tuple[Path, int]:
    """The parameters of a run, checked (each refusal names the field); the store's folder and
    the number of permutations."""
    runs.check_name(name)
    if not permutations.strip().isdigit() or int(permutations) > MAX_PERMUTATIONS:
        raise InputError(f"permutations {permutations!r} : attendu un entier de 0 à {MAX_PERMUTATIONS}")
    if level not in TERRITORY_LEVELS:
        raise InputError(f"niveau de territoire {level!r} : attendu {', '.join(TERRITORY_LEVELS)}")
    if sectors not in SECTOR_CHOICES:
        raise InputError(f"niveau de secteur {sectors!r} : attendu {', '.join(SECTOR_CHOICES)}")
    folder = Path(store.strip()).expanduser()
    if not store.strip() or not folder.is_absolute() or not folder.is_dir():
        raise InputError(f"magasin {store!r} : dossier introuvable (chemin absolu d'un magasin de grappe)")
    return folder, int(permutations)


def start(store: str, level: str, sectors: str, name: str, permutations: str, home: Path) -> Job:
    """Check the parameters and queue the run; its job (running until the thread ends it).

    Raises
    ------
    InputError
        A wrong parameter.
    ConflictError
        A run of that name is already running.
    """
    folder, draws = check(store, level, sectors, name, permutations)
    job = Job(
        name=name,
        store=str(folder),
        level=level,
        sectors=sectors,
        permutations=draws,
        started_at=dt.datetime.now(dt.UTC),
    )
    with _board.lock:
        current = _board.jobs.get(name)
        if current is not None and current.status == "running":
            raise ConflictError(f"la détection {name!r} est déjà en cours")
        _board.jobs[name] = job
        finished = [j for j in _board.jobs.values() if j.status != "running"]
        for old in sorted(finished, key=lambda j: j.started_at)[: max(0, len(_board.jobs) - KEPT)]:
            del _board.jobs[old.name]
        if _board.executor is None:
            _board.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grappe-detection")
        _board.executor.submit(_run, job, home)
    return job


def _finish(job: Job, **changes: object) -> None:
    with _board.lock:
        _board.jobs[job.name] = replace(job, finished_at=dt.datetime.now(dt.UTC), **changes)  # type: ignore[arg-type]


def _run(job: Job, home: Path) -> None:
    from grappe.detection.candidates import detect

    try:
        found = detect(Path(job.store), level=job.level, sectors=job.sectors, permutations=job.permutations)
        runs.save(found, job.name, store=job.store, sectors=job.sectors, home=home)
    except GrappeError as exc:
        _finish(job, status="failed", message=str(exc))
    except Exception as exc:  # the page says it failed: a thread has nobody else to tell
        _finish(job, status="failed", message=f"erreur inattendue : {type(exc).__name__}: {exc}")
    else:
        _finish(job, status="done", candidates=len(found))


def jobs() -> list[Job]:
    """The runs started from this process, the most recent first."""
    with _board.lock:
        return sorted(_board.jobs.values(), key=lambda j: j.started_at, reverse=True)


def wait(name: str, timeout: float) -> Job | None:
    """The job of a name once it is no longer running, or as it stands after ``timeout`` seconds."""
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=timeout)
    while True:
        with _board.lock:
            job = _board.jobs.get(name)
        if job is None or job.status != "running" or dt.datetime.now(dt.UTC) >= deadline:
            return job
        threading.Event().wait(0.1)
