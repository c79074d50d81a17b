"""What users do with the cooperation network: analyse a cluster's network, or every organisation's.

The measures name organisations and reveal who works with whom, which a member sees only for
its own records: a cluster's network is read by its managers (and the platform administrator),
the network of every stored organisation by the administrator alone. The layers' ties come
from :mod:`grappe.cooperation.repository`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session

from grappe.cooperation import network, repository
from grappe.cooperation.repository import Layer
from grappe.registry.policy import Access, Actor, require_admin, require_cluster


def analyse_network(
    session: Session,
    actor: Actor,
    *,
    cluster_id: int | None,
    layers: Sequence[str] = network.LAYERS,
    start: dt.date | None = None,
    end: dt.date | None = None,
    seed: int = 0,
) -> network.NetworkAnalysis:
    """The network of a cluster (its members and the organisations they are tied to) or of all.

    Parameters
    ----------
    cluster_id
        The cluster organisation; None for every stored organisation (administrator only).
    layers
        Names among :data:`network.LAYERS`.
    start, end
        The period: a record counts when its own period meets it; without bounds every record
        counts, undated ones included (CONTRACTS, "network measures").

    Raises
    ------
    InputError
        An unknown layer, a period that ends before it starts.
    NotFoundError, PermissionDeniedError
        The cluster does not exist for the actor, or the actor does not manage it.
    """
    if cluster_id is None:
        require_admin(actor, "analyser le réseau de toutes les organisations")
    else:
        require_cluster(session, actor, cluster_id, Access.MANAGE, "analyser le réseau")
    chosen = network.chosen_layers(layers)
    network.check_period(start, end)
    scope = repository.Scope(cluster_id, start, end)
    ties = repository.network_ties(session, scope, [Layer(n) for n in chosen])
    nodes = repository.network_nodes(session, scope, ties)
    # the repository applied the period (a link counts when its own period meets it): the
    # graph takes every tie it returned
    graph = network.build_graph(
        pd.DataFrame(nodes, columns=list(network.NODE_COLUMNS)),
        pd.DataFrame(ties, columns=list(network.TIE_COLUMNS)),
        layers=chosen,
    )
    return network.analyse(graph, seed=seed)
