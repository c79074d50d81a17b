"""Pages of the site as a whole: home and the API documentation (Swagger UI served locally)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from grappe.registry.clusters import service as clusters
from grappe.web import render
from grappe.web.unit import as_page, show, unit

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
@as_page
def home(request: Request) -> Response:
    """What grappe is, with the directory's key figures."""
    with unit(request) as (session, visitor):
        figures = clusters.platform_figures(session)
    return show(request, visitor, "home.html", {"figures": figures, "today": dt.date.today()})


@router.get("/docs", response_class=HTMLResponse)
def docs(request: Request) -> Response:
    """Swagger UI on /openapi.json, every file from this server."""
    return render.page(request, "docs.html", {"account": None})
