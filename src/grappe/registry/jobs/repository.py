"""All SQL of the detection jobs: the claim, the heartbeat, the end, the sweep of abandoned jobs.

The steps after the insert are bulk statements, not ORM changes: the audit log records who
started a job (the insert), not each heartbeat of the process that runs it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from grappe.registry.jobs.models import ACTIVE, DetectionJob, JobStatus


def get(session: Session, job_id: int) -> DetectionJob | None:
    """A job by id."""
    return session.get(DetectionJob, job_id)


def recent(session: Session, limit: int) -> list[DetectionJob]:
    """The most recently queued jobs, the latest first."""
    query = select(DetectionJob).order_by(DetectionJob.queued_at.desc(), DetectionJob.id.desc()).limit(limit)
    return list(session.scalars(query))


def count(session: Session) -> int:
    """How many jobs were ever started."""
    return session.scalar(select(func.count()).select_from(DetectionJob)) or 0


def interrupt_silent(session: Session, silent_since: dt.datetime, now: dt.datetime, message: str) -> int:
    """Mark ``interrupted`` every active job whose process has not beaten since ``silent_since``."""
    statement = (
        update(DetectionJob)
        .where(DetectionJob.status.in_(ACTIVE), DetectionJob.heartbeat_at < silent_since)
        .values(status=JobStatus.INTERRUPTED, finished_at=now, message=message)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined]


def _owned(job_id: int, token: str, status: JobStatus) -> Any:
    return (
        update(DetectionJob)
        .where(DetectionJob.id == job_id, DetectionJob.worker_token == token, DetectionJob.status == status)
        .execution_options(synchronize_session=False)
    )


def claim(session: Session, job_id: int, token: str, now: dt.datetime) -> bool:
    """Queued -> running, for the process that queued the job only; whether it was still queued."""
    result = session.execute(
        _owned(job_id, token, JobStatus.QUEUED).values(
            status=JobStatus.RUNNING, started_at=now, heartbeat_at=now
        )
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def finish(session: Session, job_id: int, token: str, now: dt.datetime, **outcome: object) -> bool:
    """Running -> done or failed (``outcome`` holds the status and what it found); whether the job
    was still running for this process (an interrupted one stays interrupted)."""
    result = session.execute(_owned(job_id, token, JobStatus.RUNNING).values(finished_at=now, **outcome))
    return result.rowcount == 1  # type: ignore[attr-defined]


def beat(session: Session, token: str, now: dt.datetime) -> int:
    """Renew the heartbeat of every active job of a process; how many it holds."""
    statement = (
        update(DetectionJob)
        .where(DetectionJob.worker_token == token, DetectionJob.status.in_(ACTIVE))
        .values(heartbeat_at=now)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).rowcount  # type: ignore[attr-defined]
