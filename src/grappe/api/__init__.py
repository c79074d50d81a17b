"""The REST API of grappe (FastAPI): thin endpoints over the domain services."""

from grappe.api.app import create_app

__all__ = ["create_app"]
