"""The API's routers, one per domain, in the order the app includes them."""

from __future__ import annotations

from fastapi import APIRouter

from grappe.api import (
    accounts,
    actions,
    calls,
    clusters,
    cooperation,
    evaluation,
    fees,
    invitations,
    meetings,
    memberships,
    organisations,
    partners,
    prospects,
)

# Accounts last on purpose: the property test of the API sends its requests as the
# administrator, and revoking that token first would leave the operations after it untried.
ROUTERS: tuple[APIRouter, ...] = (
    clusters.router,
    prospects.router,
    memberships.router,
    organisations.router,
    invitations.router,
    fees.router,
    cooperation.router,
    actions.router,
    meetings.router,
    partners.router,
    calls.router,
    evaluation.router,
    accounts.router,
)
