"""Progress of a bulk import: a bar on a terminal, plain periodic lines elsewhere, or nothing.

The bar is redrawn in place with a carriage return and ANSI erase-line, at most ten times a second;
without a terminal (a log file, CI) a plain line is written every few seconds instead, so a
log neither fills with carriage returns nor stays silent for an hour.
"""

from __future__ import annotations

__all__ = ["Progress"]

import time
from typing import Literal, TextIO

Mode = Literal["bar", "lines", "off"]

_BAR_WIDTH = 24
_ERASE_LINE = "\r\x1b[2K"


class Progress:
    """Counts finished rows and shows them: done of *total*, rate, ETA, failures so far.

    Args:
        total: the rows expected (an estimate is fine; the bar never goes past full), or
            ``None`` when unknown (a pipe): then the count and rate show, without a bar.
        out: where to draw, normally standard error.
        mode: ``"bar"`` (a terminal), ``"lines"`` or ``"off"``; see `for_stream`.
        interval: seconds between plain lines.
    """

    def __init__(
        self, total: int | None, out: TextIO, mode: Mode, *, interval: float = 5.0
    ) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self._out = out
        self._mode = mode
        self._interval = 0.1 if mode == "bar" else interval
        self._started = time.monotonic()
        self._last_shown = self._started
        self._drawn = False

    @classmethod
    def for_stream(cls, total: int | None, out: TextIO, *, quiet: bool) -> Progress:
        """Return a bar if *out* is a terminal, plain lines if not, nothing when *quiet*."""
        mode: Mode = "off" if quiet else "bar" if out.isatty() else "lines"
        return cls(total, out, mode)

    def add(self, *, failed: bool = False) -> None:
        """Count one finished row, and show progress if it is time to."""
        self.done += 1
        self.failed += failed
        if self._mode == "off":
            return
        now = time.monotonic()
        if now - self._last_shown >= self._interval:
            self._last_shown = now
            self._show(now)

    def clear(self) -> None:
        """Erase the bar, before other output is written to the same terminal."""
        if self._drawn:
            self._out.write(_ERASE_LINE)
            self._out.flush()
            self._drawn = False

    def finish(self) -> None:
        """Show the final counts and end the line."""
        if self._mode == "off":
            return
        self._show(time.monotonic())
        if self._mode == "bar":
            self._out.write("\n")
            self._drawn = False
        self._out.flush()

    def _show(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        rate = self.done / elapsed
        if self.total is None:
            text = f"{self.done} rows, {rate:.0f} rows/s  failed {self.failed}"
            if self._mode == "bar":
                self._out.write(f"{_ERASE_LINE}{text}")
                self._drawn = True
            else:
                self._out.write(f"progress: {text}\n")
            self._out.flush()
            return
        left = max(self.total - self.done, 0)
        eta = _duration(left / rate) if rate > 0 else "?"
        counts = f"{self.done}/{self.total}"
        percent = min(100, self.done * 100 // self.total) if self.total else 100
        tail = f"{rate:.0f} rows/s  ETA {eta}  failed {self.failed}"
        if self._mode == "bar":
            filled = _BAR_WIDTH * percent // 100
            bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
            self._out.write(f"{_ERASE_LINE}[{bar}] {counts} {percent:3d}%  {tail}")
            self._drawn = True
        else:
            self._out.write(f"progress: {counts} rows ({percent}%), {tail}\n")
        self._out.flush()


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"
