"""Ctrl-C in tests: SIGINT that works wherever the suite runs, and never a wait without end.

A shell that starts the suite in the background (``nohup``, or ``&`` without job control) makes
it ignore SIGINT, and every child it starts inherits that: a test sending SIGINT would then see
nothing happen, and one waiting for a child to stop on it would wait forever.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def sigint_raises() -> Iterator[None]:
    """Within the block, SIGINT raises KeyboardInterrupt here, as in an interactive process.

    A child started within the block begins with SIGINT's default action (exec resets a
    handled signal, not an ignored one), so Python gives it its KeyboardInterrupt too. Skips
    the test off the main thread, where no handler can be installed.
    """
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("a SIGINT handler can be installed only from the main thread")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous is None else previous)


def interrupt(process: subprocess.Popen[str], *, timeout: float) -> int:
    """Send SIGINT to *process* and return its exit status once it has ended.

    A child still running *timeout* seconds later is killed, and the test fails.
    """
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        pytest.fail(f"the child was still running {timeout} s after SIGINT, and was killed")
