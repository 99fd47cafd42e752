"""Request and response hooks: what a client tells your metrics or tracing about each exchange.

A client built with ``on_request`` or ``on_response`` calls them around every HTTP request it
sends (each attempt, replays and token requests included) with a small frozen record. The
records hold the method, the path, the attempt, the status, the time taken and the request
id, and never headers or bodies: those carry the pool secret, the token and TOTP keys.

A client built without hooks never builds a record; its send path is the one it had before
hooks existed.
"""

from __future__ import annotations

__all__ = ["Hooks", "RequestEvent", "ResponseEvent", "current_attempt"]

import contextvars
from collections.abc import Callable

import attrs

from ._errors import InvalidArgumentError

# The attempt of the call running in this task, set by the pipeline only when hooks exist,
# so a token request a call triggers is reported with that call's attempt.
current_attempt: contextvars.ContextVar[int] = contextvars.ContextVar(
    "authing_mfa_attempt", default=1
)


@attrs.frozen(eq=False)
class RequestEvent:
    """One HTTP request a client is about to send, as ``on_request`` receives it.

    Records compare and hash by identity, so the record `ResponseEvent.request` carries is a
    key under which a tracer can keep the span it opened in ``on_request``.

    Attributes:
        method: the HTTP method, upper case (``"GET"``).
        path: the path as sent, percent-encoded, without the query
            (``"/api/v2/users/u1/mfa-bound"``, ``"/graphql/v2"`` for a token request). It
            holds the user id: label metrics with `method`, not with this.
        attempt: which attempt of the call this request belongs to: 1 for the first, 2 for
            the first retry... A replay after a refused token, and a token request the
            call triggers, carry the attempt they happen in.
    """

    method: str
    path: str
    attempt: int


@attrs.frozen(eq=False)
class ResponseEvent:
    """How one HTTP request ended, as ``on_response`` receives it.

    Attributes:
        request: the record ``on_request`` received for this request (the same object).
        status: the HTTP status of the answer, or ``None`` when none arrived. Authing answers
            most business errors with 200; the call raises them after this hook has run.
        elapsed: seconds from sending the request to having read the whole answer, or to
            the failure.
        request_id: the id the server gave the request (``x-request-id``), when it sent one.
        error: when no answer arrived, what ended the request: a `TransportError`, or the
            cancellation of the call; ``None`` otherwise.
    """

    request: RequestEvent
    status: int | None
    elapsed: float
    request_id: str | None
    error: BaseException | None = None


@attrs.frozen
class Hooks:
    """The hooks one client was built with; built only when at least one is given."""

    on_request: Callable[[RequestEvent], object] | None
    on_response: Callable[[ResponseEvent], object] | None

    @classmethod
    def resolve(
        cls,
        on_request: Callable[[RequestEvent], object] | None,
        on_response: Callable[[ResponseEvent], object] | None,
    ) -> Hooks | None:
        """Return the hooks, or ``None`` when neither is given.

        Raises:
            InvalidArgumentError: a hook is neither ``None`` nor callable.
        """
        for name, hook in (("on_request", on_request), ("on_response", on_response)):
            if hook is not None and not callable(hook):
                raise InvalidArgumentError(
                    f"{name} must be a callable or None, not {type(hook).__name__}"
                )
        if on_request is None and on_response is None:
            return None
        return cls(on_request, on_response)
