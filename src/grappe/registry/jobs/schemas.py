"""What the pages read of a detection job."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict

from grappe.registry.jobs.models import JobStatus


class JobOut(BaseModel):
    """A detection job as it stands; ``status`` says ``interrupted`` as soon as its process is silent."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    store: str
    level: str
    sectors: str
    permutations: int
    status: JobStatus
    started_by: str
    restart_of: int | None
    queued_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime
    worker_host: str
    worker_pid: int
    candidates: int | None
    result: str | None
    message: str | None

    @property
    def restartable(self) -> bool:
        """Whether the job may be started again (it ended without its result)."""
        return self.status in {JobStatus.FAILED, JobStatus.INTERRUPTED}
