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
    from grappe.web import site
    from grappe.web.accounts import routes as accounts_routes
    from grappe.web.evaluation import routes as evaluation_routes
    from grappe.web.manage import routes as manage_routes
    from grappe.web.observatory import routes as observatory_routes
    from grappe.web.registry import routes as registry_routes

    app.add_middleware(security.SecurityHeaders)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    routers = (site.router, registry_routes.router, accounts_routes.router, observatory_routes.router)
    for router in (*routers, manage_routes.router, evaluation_routes.router):
        app.include_router(router)
