"""`grappe serve`: start the REST API (uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from grappe.errors import EngineError


def register(app: typer.Typer) -> None:
    """Add the `serve` command to the main app."""

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option("--host", help="Adresse d'écoute.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port.", min=1, max=65535)] = 8000,
        workers: Annotated[int, typer.Option("--workers", help="Processus.", min=1)] = 1,
    ) -> None:
        """Démarrer l'API REST (documentation OpenAPI sur /docs)."""
        try:
            import uvicorn
        except ImportError as exc:  # the server extra is optional
            raise EngineError("uvicorn absent : installez grappe[server]") from exc
        uvicorn.run(
            "grappe.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
        )
