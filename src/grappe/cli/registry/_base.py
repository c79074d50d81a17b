"""What every `grappe registry` command shares: the Typer group and the registry's lazy modules.

The registry's modules are imported on first use (see :class:`grappe.cli._operational.Lazy`),
so that `--help` stays light; the acting user, the unit of work and the tables are those of
every operational group (:mod:`grappe.cli._operational`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from grappe.cli._operational import ActingOption, Lazy, act_as

if TYPE_CHECKING:
    from grappe.registry import migrate, prospects
    from grappe.registry.accounts import service as accounts
    from grappe.registry.accounts import signin
    from grappe.registry.accounts.schemas import UserCreate
    from grappe.registry.clusters import service as clusters
    from grappe.registry.clusters.schemas import ClusterCreate, LabelIn
    from grappe.registry.fees import figures, letters, schedule_files
    from grappe.registry.fees import service as fees
    from grappe.registry.fees.schemas import PaymentIn, WaiveIn
    from grappe.registry.invitations import service as invitations
    from grappe.registry.invitations.schemas import InvitationCreate
    from grappe.registry.memberships import files
    from grappe.registry.memberships import service as memberships
    from grappe.registry.memberships.schemas import MemberLeave
    from grappe.registry.models import FeeStatus, InvitationStatus
    from grappe.registry.organisations import service as organisations
    from grappe.registry.organisations.schemas import ContactIn, ContactUpdate
    from grappe.storage.sql import get_engine
else:
    migrate, prospects = Lazy("grappe.registry.migrate"), Lazy("grappe.registry.prospects")
    accounts, signin = Lazy("grappe.registry.accounts.service"), Lazy("grappe.registry.accounts.signin")
    clusters = Lazy("grappe.registry.clusters.service")
    fees, figures = Lazy("grappe.registry.fees.service"), Lazy("grappe.registry.fees.figures")
    invitations = Lazy("grappe.registry.invitations.service")
    files, memberships = (Lazy(f"grappe.registry.memberships.{name}") for name in ("files", "service"))
    organisations = Lazy("grappe.registry.organisations.service")
    ContactIn, ContactUpdate = (
        Lazy("grappe.registry.organisations.schemas", n) for n in ("ContactIn", "ContactUpdate")
    )
    MemberLeave = Lazy("grappe.registry.memberships.schemas", "MemberLeave")
    get_engine = Lazy("grappe.storage.sql", "get_engine")
    InvitationStatus, FeeStatus = (
        Lazy("grappe.registry.models", n) for n in ("InvitationStatus", "FeeStatus")
    )
    UserCreate = Lazy("grappe.registry.accounts.schemas", "UserCreate")
    ClusterCreate, LabelIn = (
        Lazy("grappe.registry.clusters.schemas", n) for n in ("ClusterCreate", "LabelIn")
    )
    PaymentIn, WaiveIn = (Lazy("grappe.registry.fees.schemas", n) for n in ("PaymentIn", "WaiveIn"))
    letters, schedule_files = (
        Lazy(f"grappe.registry.fees.{name}") for name in ("letters", "schedule_files")
    )
    InvitationCreate = Lazy("grappe.registry.invitations.schemas", "InvitationCreate")

#: The values of ``grappe.registry.models.Role`` (tests/test_cli_help.py checks they agree):
#: written here so that the help does not load the registry's models.
ROLES = ("admin", "funder", "manager", "member", "public", "reviewer")

app = typer.Typer(
    help="Registre des structures d'animation : adhérents, cotisations, annuaire, prospects.",
    epilog="Exemple : grappe registry --as chargee@meca.fr list",
    no_args_is_help=True,
)


@app.callback()
def _options(acting: ActingOption = None) -> None:
    act_as(acting)
