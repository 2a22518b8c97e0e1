"""``gridshift release``: release deferred Pods and Jobs whose planned start has come.

With ``--db`` (or ``$GRIDSHIFT_DB``) each round also reconciles the serving-Pod
tally the webhook keeps in that store: rows of Pods that are gone (past
``--tally-grace``) or ended are dropped, live Pods whose row was lost are counted
again (app/release.py). Without a store the
tally is left alone.

Exit codes: 0 every due object released (or nothing due) and the tally, if any,
reconciled; 2 bad input (kubeconfig); 4 the store cannot be used; 5 the
Kubernetes API could not be reached, some releases failed, or the serving Pods
could not be listed (nothing is dropped then; retried on the next run; safe to
re-run: idempotent).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.exc import DBAPIError

from app.exits import fail as _fail
from app.release import TALLY_GRACE_S, TallyReport, api_clients, reconcile_tally, release_due
from app.store import Store, StoreError

EXIT_BAD_INPUT = 2
EXIT_STORE = 4
EXIT_KUBERNETES = 5

err = Console(stderr=True)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def tally_line(tally: TallyReport, *, dry_run: bool) -> str:
    if tally.drop is None:
        return f"serving tally: not reconciled ({tally.skipped}); nothing dropped"
    verb = "would drop" if dry_run else "dropped"
    line = (f"serving tally: {verb} {tally.dropped} row(s) ({len(tally.drop.gone)} of Pods "
            f"gone, {len(tally.drop.ended)} of Pods ended); {tally.listed} serving Pod(s) listed")
    if tally.drop.restored:
        line += (f"; {'would count' if dry_run else 'counted'} {len(tally.drop.restored)} live "
                 "Pod(s) again whose row the store had lost")
    return line


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
        db: Annotated[str | None, typer.Option(
            "--db", envvar="GRIDSHIFT_DB",
            help="Store URL of the webhook: reconcile its serving-Pod tally each round "
                 "(without it, the tally is left alone).")] = None,
        tally_grace: Annotated[float, typer.Option(
            "--tally-grace", min=60,
            help="Seconds a tally row stays without a listed Pod (a Pod just admitted may "
                 "not be listed yet).")] = TALLY_GRACE_S,
        loop: Annotated[bool, typer.Option("--loop", help="Keep releasing every --interval.")
                        ] = False,
        interval: Annotated[float, typer.Option(min=1)] = 60.0,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="List what is due; change nothing.")
                           ] = False,
    ) -> None:
        """Remove gridshift's scheduling gate / suspend at each object's planned start.

        With --db, also drop the webhook's serving-Pod tally rows of Pods that are gone
        or ended.
        """
        if kubeconfig is not None and not kubeconfig.is_file():
            raise _fail(f"--kubeconfig {kubeconfig}: file not found; fix: check the path",
                        EXIT_BAD_INPUT)
        try:
            store = Store(db) if db else None
        except StoreError as exc:
            raise _fail(str(exc), EXIT_STORE) from None
        out = Console()
        try:
            while True:
                code = _round(out, store, kubeconfig=kubeconfig, server=server,
                              namespace=namespace, dry_run=dry_run, grace_s=tally_grace,
                              loop=loop)
                if not loop:
                    if code:
                        raise typer.Exit(code)
                    return
                time.sleep(interval)
        finally:
            if store is not None:
                store.close()


def _round(out: Console, store: Store | None, *, kubeconfig: Path | None, server: str | None,
           namespace: str | None, dry_run: bool, grace_s: float, loop: bool) -> int:
    """One round: release, then reconcile the tally; the exit code it earns (0: all done)."""
    code = 0
    try:
        core, batch = api_clients(kubeconfig=kubeconfig, host=server)
        report = release_due(core, batch, namespace=namespace, dry_run=dry_run)
    except Exception as exc:  # noqa: BLE001 - config, connection, API errors alike
        message = f"Kubernetes API: {exc.__class__.__name__}: {_first_line(exc)}"
        if not loop:
            raise _fail(message, EXIT_KUBERNETES) from None
        err.print(f"gridshift: {message}", markup=False)
        return EXIT_KUBERNETES
    verb = "due" if dry_run else "released"
    for ref in report.released:
        out.print(f"{verb} {ref}", markup=False)
    out.print(f"{len(report.released)} {verb}, {len(report.waiting)} waiting, "
              f"{len(report.failed)} failed", markup=False)
    for line in report.failed:
        err.print(f"gridshift: release failed: {line}", markup=False)
    if report.failed:
        code = EXIT_KUBERNETES
    if store is None:
        return code
    try:
        tally = reconcile_tally(core, store, namespace=namespace, grace_s=grace_s,
                                dry_run=dry_run)
    except (DBAPIError, StoreError) as exc:
        err.print(f"gridshift: serving tally: store {store.url.split('@')[-1]}: "
                  f"{_first_line(exc)}; nothing dropped", markup=False, soft_wrap=True)
        return code or EXIT_STORE
    if tally.drop is None:
        err.print(f"gridshift: {tally_line(tally, dry_run=dry_run)}", markup=False,
                  soft_wrap=True)
        return code or EXIT_KUBERNETES
    out.print(tally_line(tally, dry_run=dry_run), markup=False, soft_wrap=True)
    return code
