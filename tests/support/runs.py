"""A bulk run of the command seen from outside: what its journal holds; a run killed part way."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def journal_entries(path: Path) -> list[dict[str, Any]]:
    """Return the lines of a journal or failures file that are whole JSON, in order.

    A line that is not, the last one a kill cut short, is passed over.
    """
    found = []
    for text in path.read_text().splitlines():
        try:
            entry = json.loads(text)
        except ValueError:
            continue
        found.append(entry)
    return found


def journal_rows(path: Path) -> list[dict[str, Any]]:
    """Return the `journal_entries` that speak of one row of the input, naming its ``line``."""
    return [entry for entry in journal_entries(path) if "line" in entry]


def kill_when(args: Sequence[str], done: Callable[[], bool], *, timeout: float = 30) -> None:
    """Run ``python -m authing_mfa *args*`` and kill it with SIGKILL once *done()* is true.

    The command runs in a process of its own, with this one's environment (the AUTHING_*
    variables naming its server) and its output discarded; *done* is asked every 20 ms, and
    the process is killed after *timeout* seconds whatever it says.
    """
    with subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "authing_mfa", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as command:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not done():
            time.sleep(0.02)
        command.send_signal(signal.SIGKILL)
