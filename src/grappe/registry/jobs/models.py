"""The table of the detection jobs: parameters, author, status, and the process that runs each."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from grappe.detection.runs import NAME_MAX
from grappe.storage.sql import Base, UtcDateTime, check_in


class JobStatus(StrEnum):
    """Where a job stands: queued and running are active, the others final."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


#: The statuses of a job some process still owes work to.
ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
_ACTIVE_SQL = "status IN ('queued', 'running')"

#: Bounds of the columns (the service checks them with French messages).
STORE_MAX = 500  # a PostgreSQL B-tree entry holds at most 2,704 bytes: 500 characters fit in UTF-8
LEVEL_MAX = 40
MESSAGE_MAX = 2000


class DetectionJob(Base):
    """A detection run asked from the page.

    At most one active job per save name and one per set of analysis parameters (partial unique
    indexes): inserting the job is the claim, so two server processes cannot start the same run.
    The process that runs it is named by ``worker_host``, ``worker_pid`` and ``worker_token``
    (random per process, so a restarted process that reuses a pid owns nothing of its
    predecessor); it renews ``heartbeat_at`` while the job is active.
    """

    __tablename__ = "detection_jobs"
    __table_args__ = (
        check_in("status", JobStatus, "status"),
        Index(
            "uq_detection_jobs_active_name",
            "name",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index(
            "uq_detection_jobs_active_parameters",
            "store",
            "level",
            "sectors",
            "permutations",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        Index(None, "worker_token", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    store: Mapped[str] = mapped_column(String(STORE_MAX))
    level: Mapped[str] = mapped_column(String(LEVEL_MAX))
    sectors: Mapped[str] = mapped_column(String(LEVEL_MAX))
    permutations: Mapped[int] = mapped_column(Integer)
    status: Mapped[JobStatus] = mapped_column(String(12))
    started_by: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    restart_of: Mapped[int | None] = mapped_column(ForeignKey("detection_jobs.id", ondelete="SET NULL"))
    queued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    started_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime())
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UtcDateTime())
    worker_host: Mapped[str] = mapped_column(String(255))
    worker_pid: Mapped[int] = mapped_column(Integer)
    worker_token: Mapped[str] = mapped_column(String(32))
    candidates: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[str | None] = mapped_column(String(NAME_MAX))
    message: Mapped[str | None] = mapped_column(String(MESSAGE_MAX))
