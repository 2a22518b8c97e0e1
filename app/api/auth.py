"""Bearer-token auth for ``/v1``: one shared token, compared in constant time.

The token comes from ``--token-file`` or ``$GRIDSHIFT_API_TOKEN`` (serve.py);
``gridshift serve --no-auth`` is the only way to run /v1 without one.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path
from typing import Annotated

from fastapi import HTTPException, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.errors import InputError

TOKEN_ENV = "GRIDSHIFT_API_TOKEN"
_scheme = HTTPBearer(auto_error=False, description="`Authorization: Bearer <token>`")


def read_token(token_file: Path | None) -> str | None:
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(str(token_file), f"cannot read the API token ({exc.strerror})",
                             fix="give a readable file holding the token") from None
        if not token:
            raise InputError(str(token_file), "the API token file is empty",
                             fix="write the token into it")
        return token
    return os.environ.get(TOKEN_ENV) or None


def bearer(state):
    async def check(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                           Security(_scheme)]) -> None:
        if state.api_token is None:
            return
        if credentials is None or not hmac.compare_digest(
                credentials.credentials.encode(), state.api_token.encode()):
            raise HTTPException(401, "missing or wrong bearer token; fix: send "
                                     "'Authorization: Bearer <token>'",
                                headers={"WWW-Authenticate": "Bearer"})

    return check
