"""`grappe serve`: start the REST API (uvicorn)."""

from __future__ import annotations

from typing import Annotated

import typer

from grappe.errors import EngineError


def register(app: typer.Typer) -> None:
    """Add the `serve` command to the main app."""

    @app.command("serve", epilog="Exemple : grappe serve --host 0.0.0.0 --port 8000")
    def serve(
        host: Annotated[
            str, typer.Option("--host", help="Adresse d'écoute (ex. : 0.0.0.0).")
        ] = "127.0.0.1",
        port: Annotated[
            int, typer.Option("--port", help="Port d'écoute (ex. : 8080).", min=1, max=65535)
        ] = 8000,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                help="Processus serveurs (un par cœur ; chacun garde ses propres caches de lecture).",
                min=1,
            ),
        ] = 2,
    ) -> None:
        """Démarrer l'API REST (documentation OpenAPI sur /docs)."""
        try:
            import uvicorn
        except ImportError as exc:  # the server extra is optional
            raise EngineError("uvicorn absent : installez grappe[server]") from exc
        from grappe.registry import migrate
        from grappe.storage.sql import dispose_engines, get_engine

        # Migrate here, once, before the workers start: several workers upgrading a fresh
        # database at the same time would race on the schema.
        migrate.ensure_schema(get_engine())
        dispose_engines()
        # loop/http "auto" take uvloop and httptools when the server extra installed them.
        uvicorn.run(
            "grappe.api:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            loop="auto",
            http="auto",
            log_level="warning",
        )
