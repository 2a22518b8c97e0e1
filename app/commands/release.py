"""``gridshift release``: release deferred Pods and Jobs whose planned start has come.

Exit codes: 0 every due object released (or nothing due); 2 bad input
(kubeconfig); 5 the Kubernetes API could not be reached or some releases
failed (they are retried on the next run; safe to re-run: idempotent).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.exits import fail as _fail
from app.release import api_clients, release_due

EXIT_BAD_INPUT = 2
EXIT_KUBERNETES = 5

err = Console(stderr=True)




def register(app: typer.Typer) -> None:
    @app.command()
    def release(
        kubeconfig: Annotated[Path | None, typer.Option(
            help="Kubeconfig file (default: in-cluster service account, else ~/.kube/config).")
        ] = None,
        server: Annotated[str | None, typer.Option(
            help="Kubernetes API URL without auth (e.g. kubectl proxy at http://127.0.0.1:8001).")
        ] = None,
        namespace: Annotated[str | None, typer.Option(help="Only this namespace.")] = None,
        loop: Annotated[bool, typer.Option("--loop", help="Keep releasing every --interval.")
                        ] = False,
        interval: Annotated[float, typer.Option(min=1)] = 60.0,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="List what is due; change nothing.")
                           ] = False,
    ) -> None:
        """Remove gridshift's scheduling gate / suspend at each object's planned start."""
        if kubeconfig is not None and not kubeconfig.is_file():
            raise _fail(f"--kubeconfig {kubeconfig}: file not found; fix: check the path",
                        EXIT_BAD_INPUT)
        out = Console()
        while True:
            try:
                core, batch = api_clients(kubeconfig=kubeconfig, host=server)
                report = release_due(core, batch, namespace=namespace, dry_run=dry_run)
            except Exception as exc:  # noqa: BLE001 - config, connection, API errors alike
                message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                if not loop:
                    raise _fail(f"Kubernetes API: {exc.__class__.__name__}: {message}",
                                EXIT_KUBERNETES) from None
                err.print(f"gridshift: Kubernetes API: {exc.__class__.__name__}: {message}",
                          markup=False)
            else:
                verb = "due" if dry_run else "released"
                for ref in report.released:
                    out.print(f"{verb} {ref}", markup=False)
                out.print(f"{len(report.released)} {verb}, {len(report.waiting)} waiting, "
                          f"{len(report.failed)} failed", markup=False)
                for line in report.failed:
                    err.print(f"gridshift: release failed: {line}", markup=False)
                if not loop and report.failed:
                    raise typer.Exit(EXIT_KUBERNETES)
            if not loop:
                return
            time.sleep(interval)
