"""Detection jobs in the database: the claim across processes, the heartbeat, interruption, restart, audit,
and revision 0014 up and down."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import dbkit
import pytest
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from grappe.errors import ConflictError, InputError
from grappe.registry import LOCAL_ADMIN, migrate
from grappe.registry.jobs import service
from grappe.registry.jobs.models import DetectionJob, JobStatus
from grappe.registry.models import AuditEntry
from grappe.storage.sql import session_scope


def _start(engine: Engine, worker: service.Worker, store: Path, name: str, permutations: int = 0) -> int:
    parameters = service.check(str(store), "ze", "section", name, str(permutations))
    with session_scope(engine, actor=LOCAL_ADMIN) as session:
        return service.start(session, LOCAL_ADMIN, parameters, worker).id


def _status(engine: Engine, job_id: int) -> JobStatus:
    with session_scope(engine, write=False) as session:
        found = session.scalar(select(DetectionJob.status).where(DetectionJob.id == job_id))
    assert found is not None
    return JobStatus(found)


def _silence(engine: Engine, job_id: int) -> None:
    """The process of the job stops beating (it died): its last beat is older than the silence."""
    long_ago = dt.datetime.now(dt.UTC) - 2 * service.SILENCE
    with session_scope(engine) as session:
        session.execute(update(DetectionJob).where(DetectionJob.id == job_id).values(heartbeat_at=long_ago))


def test_one_active_job_per_name_and_per_parameters_across_processes(
    fresh: dbkit.Database, tmp_path: Path
) -> None:
    other = fresh.twin()
    one, two = service.new_worker(), service.new_worker()
    try:
        first = _start(fresh.engine, one, tmp_path, "run")
        with pytest.raises(ConflictError, match="de ce nom"):
            _start(other, two, tmp_path, "run", permutations=99)
        with pytest.raises(ConflictError, match="mêmes magasin"):
            _start(other, two, tmp_path, "autre")
        # once the first one ends, the same run may be claimed again
        with session_scope(other) as session:
            assert service.claim(session, first, two) is None  # not the other process's job
        with session_scope(fresh.engine) as session:
            claimed = service.claim(session, first, one)
            assert claimed is not None
            assert claimed.status is JobStatus.RUNNING
            assert service.fail(session, first, one, "magasin illisible")
        again = _start(other, two, tmp_path, "run")
        with session_scope(other, write=False) as session:
            listed = service.recent(session, LOCAL_ADMIN)
        assert [(j.id, j.status, j.message) for j in listed] == [
            (again, JobStatus.QUEUED, None),
            (first, JobStatus.FAILED, "magasin illisible"),
        ]
        assert listed[1].started_by == LOCAL_ADMIN.label
        assert listed[1].restartable
    finally:
        other.dispose()


def test_two_processes_asking_at_the_same_moment_start_the_run_once(
    fresh: dbkit.Database, tmp_path: Path
) -> None:
    """The second claim waits for the first transaction, then is refused by the database."""
    other = fresh.twin()
    parameters = service.check(str(tmp_path), "ze", "section", "run", "0")
    held = threading.Event()
    outcome: list[BaseException | None] = []

    def second() -> None:
        held.wait()
        try:
            with session_scope(other, actor=LOCAL_ADMIN) as session:
                service.start(session, LOCAL_ADMIN, parameters, service.new_worker())
        except BaseException as exc:  # reported to the test's thread
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with session_scope(fresh.engine, actor=LOCAL_ADMIN) as session:
            service.start(session, LOCAL_ADMIN, parameters, service.new_worker())
            held.set()
            thread.join(timeout=1)
            assert thread.is_alive()  # waiting for the first transaction
        thread.join(timeout=60)
        assert len(outcome) == 1, outcome
        assert isinstance(outcome[0], ConflictError), outcome
        with session_scope(other, write=False) as session:
            assert len(service.recent(session, LOCAL_ADMIN)) == 1
    finally:
        thread.join(timeout=60)
        other.dispose()


def test_a_job_whose_process_died_is_interrupted_and_can_be_restarted(
    fresh: dbkit.Database, tmp_path: Path
) -> None:
    other = fresh.twin()
    dead, alive = service.new_worker(), service.new_worker()
    try:
        lost = _start(fresh.engine, dead, tmp_path, "run")
        with session_scope(fresh.engine) as session:
            assert service.claim(session, lost, dead) is not None
        kept = _start(fresh.engine, alive, tmp_path, "vivante", permutations=5)
        _silence(fresh.engine, lost)
        _silence(fresh.engine, kept)
        with session_scope(other) as session:
            assert service.beat(session, alive) == 1  # the living process beats: its job stays
        with session_scope(other, write=False) as session:
            seen = {j.id: j for j in service.recent(session, LOCAL_ADMIN)}
        assert seen[lost].status is JobStatus.INTERRUPTED
        assert seen[lost].message == service.INTERRUPTED
        assert seen[kept].status is JobStatus.QUEUED
        # read as interrupted at once, written so by the next start
        assert _status(fresh.engine, lost) is JobStatus.RUNNING
        with (
            session_scope(other) as session,
            pytest.raises(ConflictError, match="ni en échec ni interrompue"),
        ):
            service.restart(session, LOCAL_ADMIN, kept, alive)
        with session_scope(other, actor=LOCAL_ADMIN) as session:
            restarted = service.restart(session, LOCAL_ADMIN, lost, alive)
        assert restarted.restart_of == lost
        assert restarted.status is JobStatus.QUEUED
        assert _status(fresh.engine, lost) is JobStatus.INTERRUPTED
        # the dead process, were it only slow, may no longer end the job it lost
        with session_scope(fresh.engine) as session:
            assert not service.fail(session, lost, dead, "trop tard")
        assert _status(fresh.engine, lost) is JobStatus.INTERRUPTED
        with session_scope(fresh.engine, write=False) as session:
            starts = session.scalars(
                select(AuditEntry.entity_id).where(
                    AuditEntry.entity == "detection_jobs", AuditEntry.action == "create"
                )
            ).all()
            actors = set(
                session.scalars(select(AuditEntry.actor).where(AuditEntry.entity == "detection_jobs"))
            )
        assert sorted(int(i) for i in starts) == sorted([lost, kept, restarted.id])
        assert actors == {LOCAL_ADMIN.label}  # starts only: no heartbeat, claim or end in the log
    finally:
        other.dispose()


def test_restart_checks_the_parameters_again(fresh: dbkit.Database, tmp_path: Path) -> None:
    store = tmp_path / "magasin"
    store.mkdir()
    worker = service.new_worker()
    job = _start(fresh.engine, worker, store, "run")
    _silence(fresh.engine, job)
    store.rmdir()
    with session_scope(fresh.engine) as session, pytest.raises(InputError, match="dossier introuvable"):
        service.restart(session, LOCAL_ADMIN, job, worker)


@pytest.mark.parametrize("backend", dbkit.BACKENDS)
def test_revision_0014_up_and_down(backend: str, tmp_path: Path) -> None:
    db = dbkit.new_database(backend, tmp_path, migrated=False)
    insert = text(
        "INSERT INTO detection_jobs (name, store, level, sectors, permutations, status, started_by, "
        "queued_at, heartbeat_at, worker_host, worker_pid, worker_token) VALUES "
        "(:name, '/s', 'ze', 'section', :draws, :status, 'user:1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
        "'h', 1, 't')"
    )
    try:
        migrate.upgrade(db.engine, "0013")
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (email, role, active, created_at) "
                    "VALUES ('a@x.fr', 'admin', true, CURRENT_TIMESTAMP)"
                )
            )
        assert migrate.upgrade(db.engine, "0014") == "0014"
        with db.engine.begin() as conn:
            conn.execute(insert, {"name": "a", "draws": 0, "status": "done"})
            conn.execute(insert, {"name": "a", "draws": 0, "status": "running"})
            for name, draws, status in (("a", 1, "queued"), ("b", 0, "queued"), ("c", 2, "lost")):
                with pytest.raises(IntegrityError), conn.begin_nested():
                    conn.execute(insert, {"name": name, "draws": draws, "status": status})
        assert migrate.downgrade(db.engine, "0013") == "0013"
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT email FROM users")).scalars().all() == ["a@x.fr"]
        assert "detection_jobs" not in inspect(db.engine).get_table_names()
        assert migrate.upgrade(db.engine) == migrate.head_revision()
    finally:
        db.drop()
