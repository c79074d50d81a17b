"""Detection jobs: check and claim a run, follow it, end it, restart an interrupted one.

Inserting the job is the claim: partial unique indexes allow one active (queued or running)
job per save name and per set of analysis parameters, so two server processes asked for the
same run at the same moment start it once. The process that queued a job runs it and renews
its heartbeat every :data:`HEARTBEAT_SECONDS`; a job whose heartbeat is older than
:data:`SILENCE` belongs to a process that died (or was restarted): it reads as
``interrupted`` at once and is written so by the next start, which may then run it again.
A heartbeat, rather than checking the owner's pid, works across hosts and containers, where
a pid says nothing (pid 1 in every container) and another host's processes cannot be seen.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from grappe.detection import runs
from grappe.detection.levels import CLUSTER_LEVEL, SECTOR_LEVELS, TERRITORY_LEVELS
from grappe.errors import ConflictError, InputError, NotFoundError
from grappe.kit.unit import flush
from grappe.registry import policy
from grappe.registry.jobs import repository
from grappe.registry.jobs.models import ACTIVE, MESSAGE_MAX, STORE_MAX, DetectionJob, JobStatus
from grappe.registry.jobs.schemas import JobOut

#: The sector levels a run may be asked for from the page.
SECTOR_CHOICES = (*SECTOR_LEVELS, CLUSTER_LEVEL)
#: The most permutations of the Gi* test a run from the page may ask (the default is the library's).
MAX_PERMUTATIONS = 9999
#: Jobs the page lists (the most recent).
SHOWN = 20
#: How often the process that holds a job renews its heartbeat.
HEARTBEAT_SECONDS = 10
#: A job whose heartbeat is older than this lost its process: six beats missed, so a loaded
#: server (a detection holds the CPU) is not taken for a dead one.
SILENCE = dt.timedelta(seconds=6 * HEARTBEAT_SECONDS)
#: What an interrupted job says.
INTERRUPTED = "le processus du serveur qui l'exécutait ne donne plus signe de vie (arrêté ou redémarré)"
_SAME_NAME = "une détection de ce nom est déjà en attente ou en cours"
_SAME_PARAMETERS = "une détection de mêmes magasin, niveaux et permutations est déjà en attente ou en cours"
# PostgreSQL names the index that refused the row, SQLite its columns.
_REFUSALS = {
    "uq_detection_jobs_active_name": _SAME_NAME,
    "detection_jobs.name": _SAME_NAME,
    "uq_detection_jobs_active_parameters": _SAME_PARAMETERS,
    "detection_jobs.store": _SAME_PARAMETERS,
}


@dataclass(frozen=True)
class Worker:
    """A server process that runs jobs: its host and pid (shown), a token drawn at its start (owned)."""

    host: str
    pid: int
    token: str


def new_worker() -> Worker:
    """The identity of a new runner of this process."""
    return Worker(host=socket.gethostname()[:255], pid=os.getpid(), token=secrets.token_hex(16))


@dataclass(frozen=True)
class Parameters:
    """The checked parameters of a run."""

    name: str
    store: str
    level: str
    sectors: str
    permutations: int


def check(store: str, level: str, sectors: str, name: str, permutations: str) -> Parameters:
    """The parameters of a run, checked (each refusal names the field).

    Raises
    ------
    InputError
        A wrong parameter.
    """
    runs.check_name(name)
    if not permutations.strip().isdigit() or int(permutations) > MAX_PERMUTATIONS:
        raise InputError(f"permutations {permutations!r} : attendu un entier de 0 à {MAX_PERMUTATIONS}")
    if level not in TERRITORY_LEVELS:
        raise InputError(f"niveau de territoire {level!r} : attendu {', '.join(TERRITORY_LEVELS)}")
    if sectors not in SECTOR_CHOICES:
        raise InputError(f"niveau de secteur {sectors!r} : attendu {', '.join(SECTOR_CHOICES)}")
    folder = Path(store.strip()).expanduser()
    if len(str(folder)) > STORE_MAX:
        raise InputError(f"magasin : chemin de plus de {STORE_MAX} caractères")
    if not store.strip() or not folder.is_absolute() or not folder.is_dir():
        raise InputError(f"magasin {store!r} : dossier introuvable (chemin absolu d'un magasin de grappe)")
    return Parameters(name, str(folder), level, sectors, int(permutations))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _view(job: DetectionJob, now: dt.datetime) -> JobOut:
    out = JobOut.model_validate(job)
    if out.status in ACTIVE and out.heartbeat_at < now - SILENCE:
        return out.model_copy(update={"status": JobStatus.INTERRUPTED, "message": INTERRUPTED})
    return out


def _queue(
    session: Session, actor: policy.Actor, parameters: Parameters, worker: Worker, restart_of: int | None
) -> JobOut:
    now = _now()
    repository.interrupt_silent(session, now - SILENCE, now, INTERRUPTED)
    job = DetectionJob(
        name=parameters.name,
        store=parameters.store,
        level=parameters.level,
        sectors=parameters.sectors,
        permutations=parameters.permutations,
        status=JobStatus.QUEUED,
        started_by=actor.label,
        user_id=actor.user_id,
        restart_of=restart_of,
        queued_at=now,
        heartbeat_at=now,
        worker_host=worker.host,
        worker_pid=worker.pid,
        worker_token=worker.token,
    )
    session.add(job)
    flush(session, _REFUSALS)
    return _view(job, now)


def start(session: Session, actor: policy.Actor, parameters: Parameters, worker: Worker) -> JobOut:
    """Claim a run for ``worker`` (queued: the worker runs it once the unit is committed).

    Raises
    ------
    PermissionDeniedError
        The actor is not the platform administrator.
    ConflictError
        A job of that name, or of those parameters, is queued or running.
    """
    policy.require_admin(actor, "lancer une détection")
    return _queue(session, actor, parameters, worker, None)


def restart(session: Session, actor: policy.Actor, job_id: int, worker: Worker) -> JobOut:
    """Claim again the run of a failed or interrupted job, as a new job that names it.

    Raises
    ------
    NotFoundError
        No such job.
    ConflictError
        The job is queued, running or done.
    InputError
        Its parameters no longer hold (the store was removed).
    """
    policy.require_admin(actor, "relancer une détection")
    job = repository.get(session, job_id)
    if job is None:
        raise NotFoundError(f"aucune détection n° {job_id}")
    if not _view(job, _now()).restartable:
        raise ConflictError(f"la détection n° {job_id} n'est ni en échec ni interrompue : rien à relancer")
    parameters = check(job.store, job.level, job.sectors, job.name, str(job.permutations))
    return _queue(session, actor, parameters, worker, job.id)


def recent(session: Session, actor: policy.Actor) -> list[JobOut]:
    """The :data:`SHOWN` most recent jobs of every process, the latest first."""
    policy.require_admin(actor, "suivre les détections")
    now = _now()
    return [_view(job, now) for job in repository.recent(session, SHOWN)]


def count(session: Session, actor: policy.Actor) -> int:
    """How many jobs were ever started."""
    policy.require_admin(actor, "suivre les détections")
    return repository.count(session)


def claim(session: Session, job_id: int, worker: Worker) -> JobOut | None:
    """Mark a queued job of ``worker`` running; None when it is no longer queued (interrupted)."""
    if not repository.claim(session, job_id, worker.token, _now()):
        return None
    job = repository.get(session, job_id)
    assert job is not None  # just updated
    return JobOut.model_validate(job)


def beat(session: Session, worker: Worker) -> int:
    """Renew the heartbeat of the worker's active jobs; how many it holds."""
    return repository.beat(session, worker.token, _now())


def succeed(session: Session, job: JobOut, worker: Worker, candidates: int) -> bool:
    """The run is saved under its name (the observatory lists it); whether the job was the worker's."""
    return repository.finish(
        session, job.id, worker.token, _now(), status=JobStatus.DONE, candidates=candidates, result=job.name
    )


def fail(session: Session, job_id: int, worker: Worker, message: str) -> bool:
    """The run failed, for the French reason given; whether the job was still the worker's."""
    return repository.finish(
        session, job_id, worker.token, _now(), status=JobStatus.FAILED, message=message[:MESSAGE_MAX]
    )
