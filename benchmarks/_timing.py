"""Repetitions, interleaved, and the statistics the report shows.

Every scenario hands `interleave` (or `ainterleave`) one callable per contender; each call is
one repetition and returns the measured value. The contenders take turns (A B C, A B C, ...)
rather than running back to back (A A A, B B B), so a burst of load on a shared machine, or a
CPU slowly changing its clock, spreads over all of them instead of tilting one ratio. One
unrecorded warm-up round first fills connection pools, token caches and the CPU's caches.

When a `Responder` is given, its CPU time and request count are read before and after every
repetition (outside the timed region), so each contender also gets the server's own cost per
request that it caused: the number that shows whether the server hid the clients' cost.
"""

from __future__ import annotations

import statistics
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from ._responder import Responder


@dataclass
class Measured:
    """The recorded repetitions of one contender, and the server's cost it caused."""

    samples: list[float] = field(default_factory=list)
    server_cpu: float = 0.0
    server_requests: int = 0

    @property
    def server_us_per_request(self) -> float | None:
        """The responder's CPU time per request during this contender's repetitions, in µs."""
        if not self.server_requests:
            return None
        return self.server_cpu / self.server_requests * 1e6


@dataclass(frozen=True)
class Summary:
    """Median and spread of some samples: what one row of the table shows."""

    median: float
    minimum: float
    maximum: float
    q1: float
    q3: float
    n: int

    @classmethod
    def of(cls, samples: list[float]) -> Summary:
        """Summarise *samples* (at least one)."""
        if len(samples) >= 2:
            q1, _, q3 = statistics.quantiles(samples, n=4, method="inclusive")
        else:
            q1 = q3 = samples[0]
        return cls(
            median=statistics.median(samples),
            minimum=min(samples),
            maximum=max(samples),
            q1=q1,
            q3=q3,
            n=len(samples),
        )


class _Meter:
    """Reads the responder's counters around one repetition."""

    def __init__(self, responder: Responder | None) -> None:
        self._responder = responder
        self._before: Mapping[str, float] | None = None

    def start(self) -> None:
        if self._responder is not None:
            self._before = self._responder.stats()

    def stop(self, into: Measured) -> None:
        if self._responder is None or self._before is None:
            return
        after = self._responder.stats()
        into.server_cpu += after["cpuSeconds"] - self._before["cpuSeconds"]
        into.server_requests += int(after["requests"] - self._before["requests"])


def interleave(
    runs: Mapping[str, Callable[[], float]],
    repetitions: int,
    *,
    responder: Responder | None = None,
    warmup: Mapping[str, Callable[[], object]] | None = None,
) -> dict[str, Measured]:
    """Run each contender's repetition in turn, *repetitions* times, after one warm-up round.

    Args:
        runs: contender name -> one repetition, returning the measured value.
        repetitions: recorded rounds.
        responder: whose CPU cost per request to attribute to each contender.
        warmup: contender name -> a cheaper warm-up call; by default one unrecorded
            repetition of *runs* itself.
    """
    for name, run in runs.items():
        (warmup or runs).get(name, run)()
    results = {name: Measured() for name in runs}
    meter = _Meter(responder)
    for _ in range(repetitions):
        for name, run in runs.items():
            meter.start()
            value = run()
            meter.stop(results[name])
            results[name].samples.append(value)
    return results


async def ainterleave(
    runs: Mapping[str, Callable[[], Awaitable[float]]],
    repetitions: int,
    *,
    responder: Responder | None = None,
    warmup: Mapping[str, Callable[[], Awaitable[object]]] | None = None,
) -> dict[str, Measured]:
    """`interleave` for coroutines, run in the caller's event loop.

    The responder's counters are read with a short blocking request between repetitions,
    when nothing else runs in the loop.
    """
    for name, run in runs.items():
        await (warmup or runs).get(name, run)()
    results = {name: Measured() for name in runs}
    meter = _Meter(responder)
    for _ in range(repetitions):
        for name, run in runs.items():
            meter.start()
            value = await run()
            meter.stop(results[name])
            results[name].samples.append(value)
    return results
