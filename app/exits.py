"""How every gridshift command ends on an error: one line on stderr and an exit code.

Codes shared by the commands (each command documents its own extra ones):
    2   bad input: the line names the input, the field and the fix
    70  internal error (a bug): never a traceback
"""

from __future__ import annotations

import typer
from rich.console import Console

EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 70

_err = Console(stderr=True)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """Print ``gridshift: message`` on stderr; return the Exit to raise."""
    _err.print(f"gridshift: {message}", markup=False, highlight=False, soft_wrap=True)
    return typer.Exit(code)
