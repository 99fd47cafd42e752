"""What the request pipeline needs from an HTTP stack: `HttpStack`, and its `Reply`."""

from __future__ import annotations

__all__ = ["HttpStack", "Reply"]

from collections.abc import Mapping
from typing import Protocol


class Reply(Protocol):
    """A whole HTTP answer; `httpx.Response` is one."""

    @property
    def status_code(self) -> int:
        """The HTTP status."""

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers, looked up case-insensitively."""

    @property
    def content(self) -> bytes:
        """The whole body."""

    @property
    def reason_phrase(self) -> str:
        """The status line's reason."""

    @property
    def is_redirect(self) -> bool:
        """Whether the status is a redirect with a Location."""


class HttpStack(Protocol):
    """One HTTP stack, sending requests for one client.

    It gets the URL already percent-encoded and sends it as is, never follows a redirect,
    and raises only our `TransportError`s.
    """

    async def send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        timeout: float,
    ) -> Reply:
        """Send a request and read its whole answer within *timeout* per network step.

        Raises:
            ConnectionError, TimeoutError, TransportError: no usable answer arrived.
        """

    async def aclose(self) -> None:
        """Release the connections this stack opened (not a caller-supplied client's)."""
