"""`gridshift dashboard`: checks its inputs before starting streamlit, headless on loopback."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from app.commands import dashboard
from app.dashboard import env

runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()
    dashboard.register(app)

    @app.callback()
    def main() -> None:  # keeps 'dashboard' a subcommand, as in app/cli.py
        """gridshift"""

    return app


def test_help_names_the_options():
    result = runner.invoke(_app(), ["dashboard", "--help"])
    assert result.exit_code == 0
    for option in ("--db", "--port", "--host", "--carbon-trace", "--load-history"):
        assert option in result.output


def test_a_bad_trace_spec_is_one_line_and_exit_2():
    result = runner.invoke(_app(), ["dashboard", "--carbon-trace", "GB"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "ZONE=PATH" in result.output


def test_a_missing_history_file_is_exit_2(tmp_path):
    result = runner.invoke(_app(), ["dashboard", "--load-history", str(tmp_path / "no.csv")])
    assert result.exit_code == 2 and "--load-history" in result.output


def test_an_unusable_store_is_exit_4_before_anything_starts():
    result = runner.invoke(_app(), ["dashboard", "--db",
                                    "postgresql+psycopg://nobody@127.0.0.1:1/none"])
    assert result.exit_code == 4
    assert result.output.strip().count("\n") == 0


def test_the_choices_reach_the_dashboard_in_its_environment(tmp_path):
    history = tmp_path / "usage.csv"
    history.write_text("unique_id,ds,y\n")
    trace = tmp_path / "gb.csv"
    trace.write_text("x\n")
    url = f"sqlite:///{tmp_path / 'g.db'}"
    out = dashboard.environment(db=url, carbon_trace=[f"GB={trace}"], load_history=history,
                                base={})
    assert out == {env.DB: url, env.CARBON_TRACES: f"GB={trace}",
                   env.LOAD_HISTORY: str(history.resolve())}


def test_streamlit_runs_headless_on_the_address_given_and_sends_nothing():
    cmd = dashboard.streamlit_command(host="127.0.0.1", port=8765)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and cmd[4].endswith("streamlit_app.py")
    flags = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert flags["--server.address"] == "127.0.0.1" and flags["--server.port"] == "8765"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
