"""Credentials for the paid intensity APIs: from the environment or a config file, never code.

Environment (wins over the file)::

    ELECTRICITYMAPS_API_TOKEN      Electricity Maps ``auth-token``
    WATTTIME_USERNAME, WATTTIME_PASSWORD

Config file: ``$GRIDSHIFT_CARBON_CONFIG``, else ``~/.config/gridshift/carbon.toml``::

    [electricitymaps]
    token = "..."
    [watttime]
    username = "..."
    password = "..."

A file readable by group or others is refused (like ssh does with keys): credentials
there would be visible to other users. ``Secret`` hides its value from ``repr``/``str``
and logs; call ``reveal()`` only where a request header is built.
"""

from __future__ import annotations

import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Credentials", "CredentialsError", "Secret", "load_credentials"]

ENV_CONFIG = "GRIDSHIFT_CARBON_CONFIG"
DEFAULT_CONFIG = Path("~/.config/gridshift/carbon.toml")


class CredentialsError(ValueError):
    """A config file that cannot be used; the message names the file and the fix."""


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = str(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __reduce__(self):  # never pickled into caches or logs
        raise TypeError("Secret values cannot be pickled")


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    electricitymaps_token: Secret | None = None
    watttime_username: str | None = None
    watttime_password: Secret | None = None

    def secrets(self) -> tuple[str, ...]:
        """The raw secret strings, for ``redact``."""
        return tuple(s.reveal() for s in (self.electricitymaps_token, self.watttime_password) if s)


def _read_file(path: Path) -> dict:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if os.name == "posix" and mode & (stat.S_IRGRP | stat.S_IROTH):
        raise CredentialsError(f"{path}: readable by group or others (mode {stat.S_IMODE(mode):o})"
                               f"; run: chmod 600 {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsError(f"{path}: not valid TOML ({exc}); fix the file") from None


def load_credentials(env: Mapping[str, str] | None = None,
                     config_path: Path | None = None) -> Credentials:
    """Credentials from ``env`` (default ``os.environ``) and the config file; env wins."""
    env = os.environ if env is None else env
    path = config_path or Path(env.get(ENV_CONFIG) or DEFAULT_CONFIG).expanduser()
    data = _read_file(path)
    em = data.get("electricitymaps", {}) if isinstance(data, dict) else {}
    wt = data.get("watttime", {}) if isinstance(data, dict) else {}
    token = env.get("ELECTRICITYMAPS_API_TOKEN") or em.get("token")
    user = env.get("WATTTIME_USERNAME") or wt.get("username")
    password = env.get("WATTTIME_PASSWORD") or wt.get("password")
    return Credentials(electricitymaps_token=Secret(token) if token else None,
                       watttime_username=str(user) if user else None,
                       watttime_password=Secret(password) if password else None)
