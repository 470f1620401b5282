"""`p4dp serve`: the web application on settings.web_host:web_port (uvicorn)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The web application.", no_args_is_help=False)


@app.command("serve")
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default: settings "
                                    "web_host, 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port (default: settings web_port, 8000)."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the dashboards, the API (/api/v1) and the pages on one port."""
    import uvicorn

    from p4dp.settings import get_settings

    settings = get_settings()
    host, port = host or settings.web_host, port or settings.web_port
    typer.echo(f"P4DP : http://{host}:{port}/  (Ctrl+C pour arrêter)")
    uvicorn.run("p4dp.web.commands:make_app", factory=True, host=host, port=port,
                workers=workers, log_level="warning", proxy_headers=False)


def make_app():
    """The app as uvicorn's factory builds it (one per worker process)."""
    from p4dp.settings import get_settings
    from p4dp.web.app import create_app

    return create_app(get_settings())
