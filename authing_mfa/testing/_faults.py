"""Faults: the misbehaviour a test asks for, and the queue that hands them out.

A fault matches requests by method (any when not given) and by a glob on the raw path (still
percent-encoded, without the query), and applies to the next ``times`` of them. When several
faults match a request, the one added first applies.
"""

from __future__ import annotations

__all__ = [
    "ACTIONS",
    "Action",
    "Fault",
    "FaultMethods",
    "FaultQueue",
    "fault_from_json",
    "fault_to_json",
]

import fnmatch
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import attrs

Action = Literal["respond", "drop", "malformed"]
ACTIONS: frozenset[str] = frozenset({"respond", "drop", "malformed"})

_MIN_STATUS, _MAX_STATUS = 100, 599


def _upper_or_none(method: str | None) -> str | None:
    if method is None:
        return None
    if not isinstance(method, str) or not method:
        raise ValueError(f"method must be an HTTP method or None, not {method!r}")
    return method.upper()


def _check_path(_: object, __: object, path: str) -> None:
    if not isinstance(path, str):
        raise ValueError(f"path must be a glob string, not {path!r}")  # noqa: TRY004


def _check_times(_: object, __: object, times: int | None) -> None:
    if times is not None and (type(times) is not int or times < 1):
        raise ValueError(f"times must be a positive int or None, not {times!r}")


def _check_status(_: object, __: object, status: int | None) -> None:
    if status is not None and (type(status) is not int or not _MIN_STATUS <= status <= _MAX_STATUS):
        raise ValueError(f"status must be an HTTP status between 100 and 599, not {status!r}")


def _check_delay(_: object, __: object, delay: float) -> None:
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay < math.inf:
        raise ValueError(f"delay must be a finite number of seconds >= 0, not {delay!r}")


def _check_action(_: object, __: object, action: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {sorted(ACTIONS)}, not {action!r}")


def _check_retry_after(_: object, __: object, retry_after: float | str | None) -> None:
    if retry_after is not None and (
        isinstance(retry_after, bool) or not isinstance(retry_after, (int, float, str))
    ):
        raise ValueError(f"retry_after must be seconds or an HTTP date, not {retry_after!r}")


@attrs.frozen(kw_only=True)
class Fault:
    """How the emulator misbehaves for the next matching requests.

    Args:
        path: a glob (`fnmatch`, so ``*`` also matches ``/``) on the raw request path.
        method: the HTTP method to match; any method when ``None``.
        times: how many matching requests it applies to; ``None`` for every one, forever.
        status: with ``respond``, the HTTP status to answer: an nginx-style HTML page for 5xx,
            an Authing envelope ``{"code": status, ...}`` otherwise. ``None`` answers the
            request normally, which together with *delay* emulates a slow server.
        retry_after: the ``Retry-After`` header to send with ``respond``: seconds or a date.
        delay: seconds to wait before acting, ``drop`` and ``malformed`` included.
        action: ``respond``; ``drop``, closing the connection without sending a byte; or
            ``malformed``, answering HTTP 200 with a JSON body cut short.
    """

    path: str = attrs.field(default="*", validator=_check_path)
    method: str | None = attrs.field(default=None, converter=_upper_or_none)
    times: int | None = attrs.field(default=1, validator=_check_times)
    status: int | None = attrs.field(default=None, validator=_check_status)
    retry_after: float | str | None = attrs.field(default=None, validator=_check_retry_after)
    delay: float = attrs.field(default=0.0, validator=_check_delay)
    action: Action = attrs.field(default="respond", validator=_check_action)

    def __attrs_post_init__(self) -> None:
        if self.action != "respond" and (self.status is not None or self.retry_after is not None):
            raise ValueError(
                f"status and retry_after only apply to action 'respond', not {self.action!r}"
            )


class FaultMethods:
    """`add_fault`, written once for `Emulator` and `EmulatorControl`, over their `add_faults`."""

    def add_faults(self, faults: Iterable[Fault | Mapping[str, Any]]) -> object:
        """Queue several faults; all are checked before any is queued."""
        raise NotImplementedError

    def add_fault(
        self,
        *,
        path: str = "*",
        method: str | None = None,
        times: int | None = 1,
        status: int | None = None,
        retry_after: float | str | None = None,
        delay: float = 0.0,
        action: Action = "respond",
    ) -> Fault:
        """Misbehave for the next *times* requests matching *method* and *path*; see `Fault`.

        Raises:
            ValueError: an argument is out of range.
        """
        fault = Fault(
            path=path,
            method=method,
            times=times,
            status=status,
            retry_after=retry_after,
            delay=delay,
            action=action,
        )
        self.add_faults([fault])
        return fault


_JSON_NAMES = {
    "path": "path",
    "method": "method",
    "times": "times",
    "status": "status",
    "retryAfter": "retry_after",
    "delay": "delay",
    "action": "action",
}


def fault_from_json(data: object) -> Fault:
    """Build a `Fault` from the control API's camelCase object.

    Raises:
        ValueError: *data* is not an object, has an unknown key or a bad value.
    """
    if not isinstance(data, Mapping):
        # ValueError, not TypeError: the control API answers every malformed fault with 400.
        raise ValueError(f"a fault must be an object, not {type(data).__name__}")  # noqa: TRY004
    unknown = sorted(set(data) - set(_JSON_NAMES))
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(map(str, unknown))}")
    return Fault(**{_JSON_NAMES[key]: value for key, value in data.items()})


def fault_to_json(fault: Fault) -> dict[str, Any]:
    """Return the control API's camelCase object for *fault*."""
    return {key: getattr(fault, name) for key, name in _JSON_NAMES.items()}


@attrs.define
class _Pending:
    fault: Fault
    matches_path: re.Pattern[str]
    remaining: int | None


class FaultQueue:
    """The faults still to apply, oldest first.

    Not thread-safe by itself: `Emulator` calls it with its lock held.
    """

    def __init__(self) -> None:
        self._pending: list[_Pending] = []

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, fault: Fault) -> None:
        """Queue *fault* after those already waiting."""
        # Compiled once here, not on every request.
        pattern = re.compile(fnmatch.translate(fault.path))
        self._pending.append(_Pending(fault, pattern, fault.times))

    def clear(self) -> None:
        """Forget every fault."""
        self._pending.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Return the fault for this request, if any, counting it as applied once."""
        for index, pending in enumerate(self._pending):
            fault = pending.fault
            if fault.method not in (None, method) or not pending.matches_path.match(path):
                continue
            if pending.remaining is not None:
                pending.remaining -= 1
                if pending.remaining == 0:
                    del self._pending[index]
            return fault
        return None
