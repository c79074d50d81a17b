"""Who may do what in evaluation, per cluster organisation and per contract.

The rules build on the registry's (:mod:`grappe.registry.policy`):

* **Platform administrator**: everything, every cluster named.
* **Funder**: reads the indicators, scorecards, benchmarks, reports and contracts of the
  clusters it funds (a label it grants or a funding line from it, or an objectives contract
  it signed); creates and changes its own contracts, for clusters it funds; its portfolio
  evaluation covers them. It reads a contract signed by another funder only if it is that
  funder.
* **Manager**: reads everything of the clusters it manages (their contracts included), declares
  their values and self-assessment with evidence; never writes a contract (the funder does).
* **Member** (decision of issue 19): reads the scorecard and the yearly activity report of a
  cluster it currently belongs to — the marks are about the network its firm is part of —
  but neither the contracts (funding terms between the funder and the structure), nor the
  declarations, nor the benchmarks.
* **Public**: nothing.

Peers in a benchmark are named only for the administrator, and for a funder who funds both
the cluster and the peer; everybody else reads "Pair 1", "Pair 2"... Objects of another
tenant answer "introuvable" (404), as in the registry.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from grappe.errors import NotFoundError
from grappe.evaluation.models import ObjectivesContract
from grappe.evaluation.repository import ContractRepository
from grappe.registry.models import Role
from grappe.registry.policy import Access, Actor, cluster_access, deny, funded_cluster_ids


def funder_clusters(session: Session, funder_id: int) -> set[int]:
    """Clusters a funder funds: the registry's rule, plus those it signed a contract with."""
    return funded_cluster_ids(session, funder_id) | ContractRepository(session).clusters_contracted_by(
        funder_id
    )


def evaluation_access(session: Session, actor: Actor, cluster_id: int) -> Access:
    """The actor's access to a cluster's evaluation (registry access, contracts counted)."""
    access = cluster_access(session, actor, cluster_id)
    if (
        access < Access.READ
        and actor.role is Role.FUNDER
        and actor.funder_id is not None
        and cluster_id in ContractRepository(session).clusters_contracted_by(actor.funder_id)
    ):
        return Access.READ
    return access


def _require(session: Session, actor: Actor, cluster_id: int, need: Access, action: str) -> None:
    access = evaluation_access(session, actor, cluster_id)
    if access is Access.NONE:
        raise NotFoundError(f"structure {cluster_id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (structure {cluster_id})")


def require_scorecard(session: Session, actor: Actor, cluster_id: int) -> None:
    """Scorecard and activity report: members of the cluster, its managers, funders, admin."""
    _require(session, actor, cluster_id, Access.DIRECTORY, "consulter le tableau de bord")


def require_read(session: Session, actor: Actor, cluster_id: int, action: str) -> None:
    """Indicators, benchmarks, contracts, self-assessment: managers, funders, admin."""
    _require(session, actor, cluster_id, Access.READ, action)


def require_declare(session: Session, actor: Actor, cluster_id: int, action: str) -> None:
    """Declared values and self-assessment: the cluster's managers and the admin."""
    _require(session, actor, cluster_id, Access.MANAGE, action)


def require_contract_write(session: Session, actor: Actor, cluster_id: int, funder_id: int) -> None:
    """Creating or changing a contract: the admin, or the funder itself on a cluster it funds."""
    _require(session, actor, cluster_id, Access.READ, "établir un contrat d'objectifs")
    if actor.role is not Role.ADMIN and (actor.role is not Role.FUNDER or actor.funder_id != funder_id):
        raise deny(
            actor,
            f"établir un contrat d'objectifs (structure {cluster_id}) : seul le financeur signataire le peut",
        )


def contract_access(session: Session, actor: Actor, contract: ObjectivesContract) -> Access:
    """MANAGE for the admin and the signing funder, READ for the cluster's managers, else NONE."""
    if actor.role is Role.ADMIN:
        return Access.MANAGE
    if actor.role is Role.FUNDER:
        return Access.MANAGE if actor.funder_id == contract.funder_id else Access.NONE
    if actor.role is Role.MANAGER and contract.cluster_id in actor.managed:
        return Access.READ
    return Access.NONE


def require_contract(
    session: Session, actor: Actor, contract: ObjectivesContract, need: Access, action: str
) -> None:
    access = contract_access(session, actor, contract)
    if access is Access.NONE:
        raise NotFoundError(f"contrat d'objectifs {contract.id} introuvable")
    if access < need:
        raise deny(actor, f"{action} (contrat {contract.id})")


def contract_clusters(session: Session, actor: Actor) -> tuple[set[int] | None, int | None]:
    """Which contracts the actor lists: (clusters or None for all, funder or None for any)."""
    if actor.role is Role.ADMIN:
        return None, None
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        return None, actor.funder_id
    if actor.role is Role.MANAGER:
        return set(actor.managed), None
    raise deny(actor, "consulter les contrats d'objectifs")


def named_peers(session: Session, actor: Actor, cluster_id: int) -> set[int] | None:
    """Peers the actor may see named beside ``cluster_id`` (None: all of them)."""
    if actor.role is Role.ADMIN:
        return None
    funded = named_peers_all(session, actor)
    return funded if cluster_id in funded else set()


def named_peers_all(session: Session, actor: Actor) -> set[int]:
    """Clusters a non-administrator sees named among each other: a funder's funded ones."""
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        return funder_clusters(session, actor.funder_id)
    return set()


def portfolio_funder(actor: Actor, funder_id: int | None) -> int:
    """The funder whose portfolio the actor evaluates: its own, or any for the admin."""
    if actor.role is Role.FUNDER and actor.funder_id is not None:
        if funder_id is not None and funder_id != actor.funder_id:
            raise NotFoundError(f"financeur {funder_id} introuvable")
        return actor.funder_id
    if actor.role is Role.ADMIN and funder_id is not None:
        return funder_id
    if actor.role is Role.ADMIN:
        from grappe.errors import InputError

        raise InputError("précisez le financeur dont évaluer le portefeuille (--funder)")
    raise deny(actor, "évaluer un portefeuille de financeur")
