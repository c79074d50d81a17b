"""Web test kit: the application on a fresh database with the test world and a password per role.

A module of its own (not conftest) so that test files import it by a name no other test
folder uses.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
import sys
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

_KIT = Path(__file__).resolve().parents[1] / "registry"
sys.path.insert(0, str(_KIT))
dbkit = importlib.import_module("dbkit")
sys.path.insert(0, str(_KIT.parent / "detection"))
isolated_home = importlib.import_module("_candidates_fabric").isolated_home

with warnings.catch_warnings():
    # Starlette warns that its TestClient will move to httpx2; not our code, nothing to fix.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from fastapi import FastAPI  # noqa: E402

from grappe.api import create_app  # noqa: E402
from grappe.registry import LOCAL_ADMIN  # noqa: E402
from grappe.registry.accounts import service as accounts  # noqa: E402
from grappe.registry.accounts import signin  # noqa: E402
from grappe.registry.accounts.schemas import UserCreate  # noqa: E402
from grappe.registry.clusters import service as clusters  # noqa: E402
from grappe.registry.clusters.schemas import ClusterCreate, TerritoryRef  # noqa: E402
from grappe.registry.fees import service as fees  # noqa: E402
from grappe.registry.fees.schemas import FeeRuleIn, FeeScheduleIn  # noqa: E402
from grappe.registry.jobs import service as jobs  # noqa: E402
from grappe.registry.jobs.models import ACTIVE  # noqa: E402
from grappe.registry.jobs.schemas import JobOut  # noqa: E402
from grappe.storage.sql import session_scope  # noqa: E402

PASSWORD = "correct horse battery staple"
#: Public cluster organisations added to the world so that the directory has several pages.
EXTRA_CLUSTERS = 25
EMAILS = {
    "admin": "admin@grappe.fr",
    "manager": "m@meca.fr",
    "manager_other": "m@gran.fr",
    "funder": "f@datar.gouv.fr",
    "member": "u@dupont.fr",
}


@dataclass
class Web:
    """The application, a client speaking HTTPS to it, the world and its hidden cluster."""

    app: FastAPI
    world: object
    hidden: int  # a cluster organisation that is not public

    def client(self) -> TestClient:
        """A new browser-like client (its own cookies)."""
        return TestClient(self.app, base_url="https://testserver", raise_server_exceptions=False)


def build_web(db: object) -> Web:
    """Fill a fresh database and build the application on it."""
    with session_scope(db.engine, actor=LOCAL_ADMIN) as session:  # type: ignore[attr-defined]
        world = dbkit.build_world(session)
        admin = accounts.create_user(session, LOCAL_ADMIN, UserCreate(email=EMAILS["admin"], role="admin"))  # type: ignore[arg-type]
        hidden = clusters.create_cluster(
            session,
            LOCAL_ADMIN,
            ClusterCreate(
                name="Textile Nord confidentiel",
                public=False,
                territories=[TerritoryRef(level="departement", code="59")],  # type: ignore[arg-type]
            ),
        ).id
        for n in range(EXTRA_CLUSTERS):
            clusters.create_cluster(
                session,
                LOCAL_ADMIN,
                ClusterCreate(
                    name=f"Cluster Occitanie {n:02d}",
                    territories=[TerritoryRef(level="departement", code="31")],  # type: ignore[arg-type]
                    sectors=["62"],
                ),
            )
        ids = {"admin": admin.id} | {
            key: world.actors[key].user_id for key in EMAILS if key != "admin"  # type: ignore[attr-defined]
        }
        for user_id in ids.values():
            signin.set_password(session, LOCAL_ADMIN, user_id, PASSWORD)
    return Web(app=create_app(db.engine), world=world, hidden=hidden)  # type: ignore[attr-defined]


#: The year of the fee calls :func:`add_fee_calls` issues: long past due, so they are in the dunning list.
FEE_YEAR = 2024


def add_fee_calls(engine: object, clusters: list[int]) -> None:
    """A fee schedule of :data:`FEE_YEAR` (150 € a member) and its calls in each cluster."""
    with session_scope(engine, actor=LOCAL_ADMIN) as session:  # type: ignore[arg-type]
        for cluster in clusters:
            rules = [FeeRuleIn(membership_type="adherent", amount_eur=Decimal(150))]
            fees.set_schedule(session, LOCAL_ADMIN, cluster, FeeScheduleIn(year=FEE_YEAR, rules=rules))
            fees.issue_calls(session, LOCAL_ADMIN, cluster, FEE_YEAR, issued_on=dt.date(FEE_YEAR, 1, 10))


def csrf(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: TestClient, who: str, password: str = PASSWORD) -> object:
    """Sign a client in through the form; the response (a redirect when it worked)."""
    token = csrf(client.get("/connexion").text)
    return client.post(
        "/connexion",
        data={"email": EMAILS[who], "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def finished_job(engine: object, name: str, timeout: float = 180) -> JobOut:
    """The latest detection job of a name once it is no longer queued nor running (read in the database)."""
    deadline = time.monotonic() + timeout
    while True:
        with session_scope(engine, write=False) as session:  # type: ignore[arg-type]
            job = next(j for j in jobs.recent(session, LOCAL_ADMIN) if j.name == name)
        if job.status not in ACTIVE:
            return job
        assert time.monotonic() < deadline, f"the job {name!r} is still {job.status} after {timeout} s"
        time.sleep(0.2)


#: The saved detection run of the observatory's tests: the real URSSAF file of the Rouen
#: employment zone, communes x sous-classes.
RUN_NAME = "rouen-2022"
URSSAF_ROUEN = "urssaf_commune_ape_ze2815_rouen.csv"


def save_observatory_run(folder: Path, real_data: Path) -> Path:
    """Import the Rouen file and save its detection with ``grappe detect --save`` (cached).

    Returns the GRAPPE_HOME holding the saved run; tests copy its ``observatory`` folder.
    """
    from typer.testing import CliRunner

    from grappe.cli import app

    home = folder / "home"
    if (home / "observatory" / RUN_NAME).is_symlink():
        return home
    with isolated_home(home):
        store = str(folder / "store")
        runner = CliRunner()
        source = str(real_data / URSSAF_ROUEN)
        imported = runner.invoke(app, ["fabric", "import", source, "--format", "urssaf", "--store", store])
        assert imported.exit_code == 0, imported.output
        saved = runner.invoke(app, ["detect", "--store", store, "--level", "commune", "--permutations", "0",
                                    "--save", RUN_NAME])
        assert saved.exit_code == 0, saved.output
    return home
