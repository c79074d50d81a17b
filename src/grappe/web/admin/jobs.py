"""The runner of the detection jobs started from the administrator's page: a background thread
of the server process, and a heartbeat while it holds jobs.

The jobs live in the database (:mod:`grappe.registry.jobs.service`): every server process
lists them all, the insert of a job claims its run, and a job whose process died reads as
interrupted once its heartbeat is stale. A run found by
:func:`grappe.detection.candidates.detect` is kept with :func:`grappe.detection.runs.save`
(what ``grappe detect --save NAME`` does), so the observatory lists it once done.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import Engine

from grappe.detection import runs
from grappe.errors import GrappeError
from grappe.registry.jobs import service
from grappe.storage.sql import session_scope

_log = logging.getLogger(__name__)


class Runner:
    """Runs the jobs queued by one application, one at a time, and beats for them.

    Each application (each server process) has its own runner, hence its own worker identity:
    two applications on one database behave as two processes.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.worker = service.new_worker()
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grappe-detection")
        self._heart: threading.Thread | None = None

    def submit(self, job_id: int, home: Path) -> None:
        """Run a job queued (and committed) for this runner's worker."""
        with self._lock:
            self._held.add(job_id)
            if self._heart is None:
                self._heart = threading.Thread(
                    target=self._beat, name="grappe-detection-heartbeat", daemon=True
                )
                self._heart.start()
        self._executor.submit(self._run, job_id, home)

    def _run(self, job_id: int, home: Path) -> None:
        from grappe.detection.candidates import detect

        try:
            with session_scope(self.engine) as session:
                job = service.claim(session, job_id, self.worker)
            if job is None:  # interrupted while it waited
                return
            failure: str | None = None
            try:
                found = detect(
                    Path(job.store), level=job.level, sectors=job.sectors, permutations=job.permutations
                )
                runs.save(found, job.name, store=job.store, sectors=job.sectors, home=home)
            except GrappeError as exc:
                failure = str(exc)
            except Exception as exc:  # the page says it failed: a thread has nobody else to tell
                failure = f"erreur inattendue : {type(exc).__name__}: {exc}"
            with session_scope(self.engine) as session:
                if failure is None:
                    service.succeed(session, job, self.worker, len(found))
                else:
                    service.fail(session, job.id, self.worker, failure)
        except Exception:
            # The database refused the claim or the end: the job stops beating and reads as
            # interrupted after the silence, so it can be restarted.
            _log.exception("détection n° %s : état non enregistré", job_id)
        finally:
            with self._lock:
                self._held.discard(job_id)

    def _beat(self) -> None:
        while True:
            time.sleep(service.HEARTBEAT_SECONDS)
            with self._lock:
                if not self._held:
                    self._heart = None
                    return
            try:
                with session_scope(self.engine) as session:
                    service.beat(session, self.worker)
            except Exception:  # a missed beat is retried; only a silence of many beats interrupts
                _log.exception("battement des détections non enregistré")


_runners_lock = threading.Lock()


def runner_of(state: object, engine: Engine) -> Runner:
    """The runner of an application (``app.state``), created at its first job."""
    with _runners_lock:
        runner: Runner | None = getattr(state, "detection_runner", None)
        if runner is None:
            runner = Runner(engine)
            state.detection_runner = runner  # type: ignore[attr-defined]
        return runner
