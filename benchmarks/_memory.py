"""Resident memory of this process, read from ``/proc/self/status`` where there is one.

Shared by the children that measure a contender's peak memory (`_bulk_child`, `_first_call`)
and by ``bulk_dry_run_memory.py``.
"""

from __future__ import annotations

import resource


def _status_kib(field: str) -> int | None:
    """Read a ``/proc/self/status`` field in KiB (Linux), or None elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def current_rss_kib() -> int:
    """This process's resident memory now, in KiB (0 where it cannot be read)."""
    return _status_kib("VmRSS") or 0


def peak_rss_kib() -> int:
    """This process's peak resident memory, in KiB.

    ``VmHWM`` where there is one: ``ru_maxrss`` of RUSAGE_SELF survives ``execve``, so in a
    child it reports the parent's peak when that is higher (the harness's, here).
    """
    peak = _status_kib("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
