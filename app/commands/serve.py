"""``gridshift serve``: admission webhooks and the /v1 API over HTTPS.

Exit codes: 0 stopped cleanly; 2 bad input (fleet, config, TLS files, token);
4 the store cannot be opened (URL, server down, permissions).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.api.auth import TOKEN_ENV, read_token
from app.api.config import load_settings
from app.api.server import bind, create_app, uvicorn_server
from app.api.state import ServerState
from app.errors import InputError
from app.exits import fail as _fail
from app.inputs import check_fleet_prices, load_fleet
from app.store import Store, StoreError
from pricing.catalog import CatalogError, load_catalog

EXIT_BAD_INPUT = 2
EXIT_STORE = 4





def register(app: typer.Typer) -> None:
    @app.command()
    def serve(
        fleet: Annotated[Path, typer.Option("--fleet", help="Fleet YAML file the plans use.")],
        db: Annotated[str | None, typer.Option(
            "--db", help="Store URL (default $GRIDSHIFT_DB, else sqlite:///gridshift.db).")] = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",
        port: Annotated[int, typer.Option(min=0, max=65535)] = 8443,
        tls_cert: Annotated[Path | None, typer.Option(
            "--tls-cert", help="PEM server certificate (the API server requires HTTPS).")] = None,
        tls_key: Annotated[Path | None, typer.Option("--tls-key", help="PEM private key.")] = None,
        config: Annotated[Path | None, typer.Option(
            "--config", help="Webhook settings YAML (opt-in namespaces, budgets, labels).")] = None,
        catalog: Annotated[Path | None, typer.Option(help="Offer catalog CSV.")] = None,
        token_file: Annotated[Path | None, typer.Option(
            "--token-file", help=f"File with the /v1 bearer token (default ${TOKEN_ENV}).")] = None,
        no_auth: Annotated[bool, typer.Option(
            "--no-auth", help="Serve /v1 without a token (local use only).")] = False,
        refresh_interval: Annotated[float, typer.Option(
            "--refresh-interval", min=0.5, help="Seconds between plan reloads.")] = 15.0,
        release_interval: Annotated[float, typer.Option(
            "--release-interval", min=0, help="Run the releaser every N s (0: off).")] = 0.0,
        kubeconfig: Annotated[Path | None, typer.Option(
            help="Kubeconfig for the releaser (default: in-cluster).")] = None,
        log_level: Annotated[str, typer.Option("--log-level")] = "info",
    ) -> None:
        """Serve /mutate and /validate (AdmissionReview v1) and the /v1 API."""
        logging.basicConfig(level=log_level.upper(), stream=sys.stderr,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        if (tls_cert is None) != (tls_key is None):
            raise _fail("--tls-cert and --tls-key go together; give both or neither",
                        EXIT_BAD_INPUT)
        for path in (tls_cert, tls_key):
            if path is not None and not path.is_file():
                raise _fail(f"{path}: file not found; fix: check the TLS file path",
                            EXIT_BAD_INPUT)
        try:
            fleet_ = load_fleet(fleet)
            catalog_ = load_catalog(catalog)
            check_fleet_prices(fleet, fleet_, catalog_)
            settings = load_settings(config)
            token = read_token(token_file)
        except (InputError, CatalogError) as exc:
            raise _fail(str(exc), EXIT_BAD_INPUT) from None
        if token is None and not no_auth:
            raise _fail(f"no API token: set ${TOKEN_ENV} or --token-file (or --no-auth for "
                        "local use)", EXIT_BAD_INPUT)
        try:
            store = Store(db)
        except StoreError as exc:
            raise _fail(str(exc), EXIT_STORE) from None
        state = ServerState(store=store, fleet=fleet_, catalog=catalog_, settings=settings,
                            api_token=token)
        release = None
        if release_interval > 0:
            from app.release import api_clients, reconcile_tally, release_due

            def release() -> None:
                core, batch = api_clients(kubeconfig=kubeconfig)
                report = release_due(core, batch)
                for outcome, refs in (("released", report.released),
                                      ("failed", report.failed)):
                    for ref in refs:
                        state.metrics.releases.labels(ref.split("/")[0], outcome).inc()
                tally = reconcile_tally(core, state.store)  # logs what it drops or skips
                if tally.drop is not None:
                    state.metrics.tally_dropped.labels("gone").inc(len(tally.drop.gone))
                    state.metrics.tally_dropped.labels("ended").inc(len(tally.drop.ended))
                    state.metrics.tally_restored.inc(len(tally.drop.restored))

        app_ = create_app(state, refresh_interval_s=refresh_interval, release=release,
                          release_interval_s=release_interval or 60.0)
        try:
            sock = bind(host, port)
        except OSError as exc:
            raise _fail(f"--host {host} --port {port}: cannot listen ({exc.strerror})",
                        EXIT_BAD_INPUT) from None
        scheme = "https" if tls_cert else "http"
        Console().print(f"gridshift serving on {scheme}://{host}:{sock.getsockname()[1]} "
                        f"(store {store.url.split('@')[-1]})", markup=False)
        uvicorn_server(app_, tls_cert=tls_cert, tls_key=tls_key,
                       log_level=log_level).run(sockets=[sock])
