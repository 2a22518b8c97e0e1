"""Fixtures shared by tests/app: one throw-away PostgreSQL cluster for the whole session.

PostgreSQL: the Debian server binaries (initdb, pg_ctl; /usr/lib/postgresql/<v>/bin)
run as the ``postgres`` user when the tests run as root, with the data directory
and socket directory under a fresh temp dir, listening on 127.0.0.1 on a free
port; each test gets its own database (``db_url``); the cluster is stopped and
removed at the end. Defined here, not in a test module, so every module under
tests/app shares the one server (a fixture imported into several modules starts
one per module). Without the binaries the PostgreSQL cases skip (a failure in CI,
tests/conftest.py).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text


def _pg_bindir() -> Path | None:
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_port():
    bindir = _pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (initdb, pg_ctl); "
                    "apt-get install -y postgresql")
    as_root = os.geteuid() == 0
    if as_root:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root but there is no 'postgres' user to run the server as; "
                        "apt-get install -y postgresql creates it")
    root = Path(tempfile.mkdtemp(prefix="gridshift-pg-"))
    sockdir = root / "sock"
    sockdir.mkdir()
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    if as_root:
        for p in (root, sockdir):
            shutil.chown(p, "postgres", "postgres")
    data, port = root / "data", free_port()
    subprocess.run(prefix + [str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                             "-A", "trust", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True)
    subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                             "-w", "-o", f"-k {sockdir} -h 127.0.0.1 -p {port} -F", "start"],
                   check=True, capture_output=True)
    try:
        yield port
    finally:
        subprocess.run(prefix + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                 "stop"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.real_component)])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'gridshift.db'}"
    return fresh_database(request.getfixturevalue("pg_port"), "t")


def fresh_database(port: int, prefix: str) -> str:
    """The URL of a new, empty database on the throw-away PostgreSQL server."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
