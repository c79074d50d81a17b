"""The web application: server-rendered French pages (English on request) beside the REST API.

:func:`mount` adds its pages, its static files and the security headers to the API's app;
each domain adds its pages as a router of its own package (``web/<domain>/routes.py``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from grappe.web import security

STATIC = Path(__file__).resolve().parent / "static"


def mount(app: FastAPI) -> None:
    """Serve the web application on ``app`` (created with ``docs_url=None``: /docs is ours)."""
    from grappe.web import errors, site
    from grappe.web.accounts import account as account_page
    from grappe.web.accounts import routes as accounts_routes
    from grappe.web.admin import routes as admin_routes
    from grappe.web.calls import routes as calls_routes
    from grappe.web.cooperation import routes as cooperation_routes
    from grappe.web.evaluation import routes as evaluation_routes
    from grappe.web.funder import routes as funder_routes
    from grappe.web.manage import contacts, governance, letters, prospects
    from grappe.web.manage import routes as manage_routes
    from grappe.web.meetings import routes as meetings_routes
    from grappe.web.member import routes as member_routes
    from grappe.web.observatory import routes as observatory_routes
    from grappe.web.partners import routes as partners_routes
    from grappe.web.registry import routes as registry_routes

    app.add_middleware(security.SecurityHeaders)
    errors.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = (
        site.router,
        registry_routes.router,
        accounts_routes.router,
        account_page.router,
        observatory_routes.router,
        manage_routes.router,
        meetings_routes.router,
        partners_routes.router,
        cooperation_routes.router,
        admin_routes.router,
        contacts.router,
        governance.router,
        letters.router,
        prospects.router,
        member_routes.router,
        funder_routes.router,
        calls_routes.router,
        evaluation_routes.router,
    )
    for router in routers:
        app.include_router(router)
