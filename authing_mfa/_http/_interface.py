"""What the request pipeline needs from an HTTP stack: `HttpStack`, and its `Reply`."""

from __future__ import annotations

__all__ = ["HttpStack", "Reply"]

from collections.abc import Mapping
from typing import Protocol


class Reply(Protocol):
    """A whole HTTP answer, read by the rules every stack shares (`_answer.Answer`).

    Its status is a final one (200-599), its headers are looked up in lower case with a
    repeated header's values joined by ``", "``, and its content is decoded.
    """

    @property
    def status_code(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers, by lower-case name."""

    @property
    def content(self) -> bytes:
        """The whole body."""

    @property
    def reason_phrase(self) -> str:
        """The status line's reason."""


class HttpStack(Protocol):
    """One HTTP stack, sending requests for one client.

    It gets the URL already percent-encoded and sends it as is, never follows a redirect,
    never resends a request by itself, and raises only our `TransportError`s, never chained
    to a library's exception (see `_failures` for which one when).
    """

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        budget: float,
    ) -> Reply:
        """Send a request and read its whole answer within *budget* seconds.

        *budget* is what remains of the call's ``total_timeout``. Each network step may also
        stall no longer than the client's ``timeout`` (the smaller of the two), and an answer
        that keeps arriving, a byte at a time, still ends at *budget*.

        Raises:
            TimeoutError: a network step stalled longer than ``timeout``, or the exchange
                was not over within *budget*.
            ConnectionError: the connection failed, or the answer breaks HTTP (`_answer`).
            TransportError: the request could not be sent as built.
        """

    async def aclose(self) -> None:
        """Release the connections this stack opened (not a caller-supplied client's)."""
