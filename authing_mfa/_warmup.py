"""What a client loads on first use, loaded in a thread from the moment it is built.

A cold client's first call would otherwise import aiohttp (about 100 ms), load the TLS
certificates (20 to 45 ms) and cattrs' converter (10 to 20 ms) on the event loop, and every
other task of that loop would wait: measured as the loop's longest stall during a first call
(``python -m benchmarks --only first_call``). So the client starts that work in a daemon
thread when it is built, and its first call waits for it off the loop, which keeps running
meanwhile: the thread shortens the interpreter's switch interval while it loads, so the loop
gets its turn within a millisecond or two. What is loaded already costs nothing: a client
that needs nothing new starts no thread.
"""

from __future__ import annotations

__all__ = ["WarmUp", "warm_up"]

import concurrent.futures
import contextlib
import importlib
import sys
import threading

from ._http import prepare_stack, stack_needs
from ._settings import Settings

# The interpreter's switch interval while the thread loads (see WarmUp._run).
_SWITCH_INTERVAL = 0.001
# What has been loaded in this process: a client needing only these starts no thread.
_loaded: set[tuple[str, bool]] = set()


def warm_up(settings: Settings) -> WarmUp | None:
    """Start loading, in a thread, what a client with *settings* needs; ``None`` if loaded."""
    needs = stack_needs(settings)
    return None if needs in _loaded else WarmUp(needs)


class WarmUp:
    """The loading one client started; `wait` returns when it is done.

    Safe to share between threads and event loops.
    """

    def __init__(self, needs: tuple[str, bool]) -> None:
        self._needs = needs
        self._done: concurrent.futures.Future[None] = concurrent.futures.Future()
        threading.Thread(target=self._run, name="authing-mfa-warm-up", daemon=True).start()

    def _run(self) -> None:
        # While this thread imports, an event loop waiting beside it gets the interpreter back
        # only every switch interval (5 ms by default): measured, the loop's longest stall
        # during a cold first call was 5.3 ms with the default and under 2 ms with 1 ms. So
        # the interval is shortened for this once-a-process moment (100 to 150 ms), then put
        # back as it was.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(min(interval, _SWITCH_INTERVAL))
        try:
            self._load()
        finally:
            sys.setswitchinterval(interval)
            self._done.set_result(None)

    def _load(self) -> None:
        # A failure here (an unreadable CA bundle, say) is met again on first use, and raised
        # there, where it belongs: not printed from a thread.
        with contextlib.suppress(Exception):
            prepare_stack(self._needs)
            from . import _converter  # noqa: F401, PLC0415 - imported for its cost, ahead of need

            # anyio loads its backend for a loop on first use in it: 40 ms for asyncio's.
            for library, backend in (("asyncio", "_asyncio"), ("trio", "_trio")):
                if library in sys.modules:
                    importlib.import_module(f"anyio._backends.{backend}")
            _loaded.add(self._needs)

    async def wait(self) -> None:
        """Return once the loading is done, without blocking the running event loop."""
        if self._done.done():
            return
        trio = sys.modules.get("trio")
        if trio is not None and trio.lowlevel.in_trio_run():
            await trio.to_thread.run_sync(self._done.result)
            return
        import asyncio  # noqa: PLC0415 - loaded: its loop is running

        # The future's completion wakes this loop from the thread: no thread of our own.
        await asyncio.wrap_future(self._done)
