"""``gridshift dashboard``: the Streamlit dashboard on a store, or on the demo.

    gridshift dashboard [--db URL] [--host 127.0.0.1] [--port 8501]
                        [--carbon-trace ZONE=PATH]... [--load-history FILE]

Without ``--db`` it shows ``$GRIDSHIFT_DB`` when that store holds plans, else the demo
(the bundled fleet and workloads, planned on first start; no network). It runs
``streamlit run app/dashboard/streamlit_app.py`` headless, passing the choices on in
environment variables (app/dashboard/env.py).

Exit codes: 2 bad input (trace spec, history file); 4 the store given with --db cannot be
opened; otherwise streamlit's own (the process becomes streamlit once the inputs check out).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.carbon_io import parse_traces
from app.dashboard import env as dashboard_env
from app.errors import InputError
from app.exits import fail as _fail
from app.store import Store, StoreError

EXIT_STORE = 4
ENTRY = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"


def streamlit_command(*, host: str, port: int) -> list[str]:
    """``streamlit run`` on the entry script, headless, nothing sent anywhere."""
    return [sys.executable, "-m", "streamlit", "run", str(ENTRY),
            "--server.address", host, "--server.port", str(port),
            "--server.headless", "true", "--server.fileWatcherType", "none",
            "--server.runOnSave", "false", "--browser.gatherUsageStats", "false",
            "--global.developmentMode", "false", "--client.toolbarMode", "minimal",
            "--theme.base", "light"]


def environment(*, db: str | None, carbon_trace: list[str], load_history: Path | None,
                base: dict[str, str] | None = None) -> dict[str, str]:
    """The dashboard's environment; raises InputError / StoreError on bad choices."""
    env = dict(os.environ if base is None else base)
    if db:
        Store(db).close()  # opens (and creates or upgrades) the schema: fail here, not in a page
        env[dashboard_env.DB] = db
    if carbon_trace:
        parse_traces(carbon_trace)
        env[dashboard_env.CARBON_TRACES] = os.pathsep.join(carbon_trace)
    if load_history is not None:
        if not load_history.is_file():
            raise InputError("--load-history", f"{load_history}: file not found",
                             fix="give a CSV/Parquet with unique_id, ds, y")
        env[dashboard_env.LOAD_HISTORY] = str(load_history.resolve())
    return env


def register(app: typer.Typer) -> None:
    @app.command()
    def dashboard(
        db: Annotated[str | None, typer.Option(
            "--db", help="Store URL (sqlite:///gridshift.db, postgresql+psycopg://...). Default: "
                         "$GRIDSHIFT_DB if it holds plans, else the demo.")] = None,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8501,
        carbon_trace: Annotated[list[str] | None, typer.Option(
            "--carbon-trace", help="ZONE=PATH of an hourly intensity trace: actuals for the "
                                   "Carbon page's forecast-vs-actual; repeatable.")] = None,
        load_history: Annotated[Path | None, typer.Option(
            help="GPUs in use by unplanned work (unique_id '<cluster>/<accelerator>', ds, y): "
                 "forecast on the Capacity page.")] = None,
        solve_time_limit: Annotated[float, typer.Option(
            "--solve-time-limit", min=0.5, max=120,
            help="Seconds per re-solve and per Pareto point on the Trade-offs page.")] = 5.0,
    ) -> None:
        """Open the dashboard: footprint, plan timeline, carbon, capacity, trade-offs, teams."""
        try:
            env = environment(db=db, carbon_trace=carbon_trace or [], load_history=load_history)
            env[dashboard_env.SOLVE_S] = str(solve_time_limit)
        except InputError as exc:
            raise _fail(str(exc)) from None
        except StoreError as exc:
            raise _fail(str(exc).splitlines()[0], EXIT_STORE) from None
        what = db.split("@")[-1] if db else "$GRIDSHIFT_DB or the demo"
        Console(stderr=True).print(f"gridshift dashboard on http://{host}:{port} ({what}); "
                                   "Ctrl-C stops it", markup=False, highlight=False)
        sys.stdout.flush()
        sys.stderr.flush()
        # streamlit takes this process over: signals (Ctrl-C, SIGTERM from a supervisor)
        # reach it directly and its exit code is the command's
        os.execve(sys.executable, streamlit_command(host=host, port=port), env)
