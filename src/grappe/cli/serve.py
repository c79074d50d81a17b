"""`grappe serve`: start the web application and the REST API (uvicorn)."""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Annotated

import typer

from grappe.errors import EngineError, InputError


def listening_url(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is reached on loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        if ipaddress.ip_address(shown).version == 6:
            shown = f"[{shown}]"
    except ValueError:
        pass  # a host name
    return f"http://{shown}:{port}/"


def check_port_free(host: str, port: int) -> None:
    """Refuse, in French, a port another program listens on (before the workers start)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "port déjà utilisé" if exc.errno == errno.EADDRINUSE else "adresse non disponible ici"
            raise InputError(
                f"--port {port} : impossible d'écouter sur {host} ({reason}) ; choisissez un autre port"
            ) from exc


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
        """Démarrer l'application web et l'API REST (documentation OpenAPI sur /docs)."""
        try:
            import uvicorn
        except ImportError as exc:  # the server extra is optional
            raise EngineError("uvicorn absent : installez grappe[server]") from exc
        from grappe.cli._console import console
        from grappe.registry import migrate
        from grappe.storage.sql import dispose_engines, get_engine

        # Migrate here, once, before the workers start: several workers upgrading a fresh
        # database at the same time would race on the schema.
        check_port_free(host, port)
        migrate.ensure_schema(get_engine())
        dispose_engines()
        console.print(
            f"grappe écoute sur {listening_url(host, port)} (Ctrl-C pour arrêter)", highlight=False
        )
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
        # uvicorn has stopped its workers (Ctrl-C or SIGTERM) and returned: a clean stop
        console.print("grappe arrêté.", highlight=False)
