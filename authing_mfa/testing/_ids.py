"""The identifiers and timestamps the emulator makes up, shaped like Authing's own."""

from __future__ import annotations

__all__ = ["iso_millis", "new_object_id", "new_recovery_code", "new_secret"]

import os
import secrets
import struct
import time
from datetime import datetime, timezone


def new_object_id() -> str:
    """Return a fresh 24-hex-digit id like the MongoDB ObjectIds Authing uses for every record.

    As in an ObjectId, the first four bytes are the creation time, so ids sort roughly by age.
    """
    return struct.pack(">I", int(time.time()) & 0xFFFFFFFF).hex() + os.urandom(8).hex()


def new_secret() -> str:
    """Return a fresh user pool secret: 32 hex digits, as Authing's console shows them."""
    return secrets.token_hex(16)


def new_recovery_code() -> str:
    """Return a fresh recovery code in Authing's style, ``8477-a1a6-662c-a750-bbb4-72a9``."""
    digits = secrets.token_hex(12)
    return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def iso_millis(millis: int) -> str:
    """Format a Unix time in milliseconds as Authing does: ISO 8601, UTC, ``.mmmZ``."""
    seconds, remainder = divmod(millis, 1000)
    when = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{remainder:03d}Z"
