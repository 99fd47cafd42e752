"""How every command ends: its exit code, and the message for a usage or configuration error.

Exit codes: 0 success, 1 some work failed, 2 usage or configuration errors.
"""

from __future__ import annotations

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "cli_message"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """A problem with the command line or its files: exit code 2."""


def cli_message(exc: Exception) -> str:
    """Return a settings error's message, naming the command's flags and variables."""
    text = str(exc)
    if text.startswith("credentials are required"):
        return (
            "the user pool secret is required: set AUTHING_USERPOOL_SECRET "
            "(it is never taken from a flag, which would show in the process list)"
        )
    return text.replace("pass user_pool_id=...", "pass --user-pool-id")
