"""What went wrong with a request, as our `TransportError`s, by one rule on every stack.

Each stack sorts its library's exceptions into one of the *kinds* below and `transport_error`
builds our exception for it:

- ``timeout``: a network step took longer than the client's ``timeout``, or the exchange
  longer than what was left of ``total_timeout`` (`OverBudget`) -> `TimeoutError`;
- ``connection``: the connection could not be opened or was lost, or the server broke HTTP
  (a malformed status line or header, a bad ``Content-Length``, a truncated or badly chunked
  body, a content coding that does not decode: see `_answer`) -> `ConnectionError`, retried;
- ``unsendable``: the request could not be sent as built (a URL or header the library
  refuses, a scheme it does not speak), and anything else a library raised ->
  `TransportError`, not retried.

The exception is built from a description, never chained to the library's: those hold the
request, whose headers carry the management token (aiohttp's ``request_info``, httpx's
``request``). Stacks raise it outside their ``except`` block, so ``__context__`` stays empty
too.
"""

from __future__ import annotations

__all__ = [
    "MAX_URL_LENGTH",
    "Kind",
    "OverBudget",
    "Unsendable",
    "check_request",
    "kind_of",
    "transport_error",
]

import builtins
import re
from collections.abc import Mapping, Sequence
from typing import Literal

from authing_mfa._errors import ConnectionError, TimeoutError, TransportError  # noqa: A004

from ._answer import ProtocolViolation

Kind = Literal["timeout", "connection", "unsendable"]

# httpx refuses longer URLs; aiohttp would send them, so both refuse.
MAX_URL_LENGTH = 65_536

_CLASSES: dict[Kind, type[TransportError]] = {
    "timeout": TimeoutError,
    "connection": ConnectionError,
    "unsendable": TransportError,
}
_MAX_DETAIL = 200
_QUOTE = re.compile(r"\n|\\n|\bb'|\bb\"|bytearray\(")
_MAX_PATH = 120


class OverBudget(builtins.TimeoutError):
    """The answer was still arriving when the call's time ran out: *budget* seconds."""

    def __init__(self, budget: float) -> None:
        budget = max(budget, 0.0)  # a request sent with no time left has none
        super().__init__(f"the exchange outlasted the {budget:.3g} s it had")
        self.budget = budget


class Unsendable(Exception):  # noqa: N818 - internal, raised as our TransportError
    """The request cannot be sent as built; the message says why, never quoting a value."""


def check_request(url: str, headers: Mapping[str, str]) -> None:
    """Refuse what one stack would send and the other would not.

    Raises:
        Unsendable: the URL is too long, or a header value is not printable ASCII (httpx
            refuses non-ASCII values, aiohttp sends them as UTF-8; both refuse line breaks).
    """
    if len(url) > MAX_URL_LENGTH:
        raise Unsendable(f"the URL is {len(url)} characters long, over {MAX_URL_LENGTH}")
    values = "".join(headers.values())  # one check for all, the usual case
    if values.isascii() and values.isprintable():
        return
    for name, value in headers.items():
        if not (value.isascii() and value.isprintable()):
            raise Unsendable(f"the {name} header is not printable ASCII")


def kind_of(exc: Exception, kinds: Sequence[tuple[tuple[type[BaseException], ...], Kind]]) -> Kind:
    """Return the first of a stack's *kinds* whose classes *exc* is one of, else unsendable."""
    if isinstance(exc, ProtocolViolation):
        return "connection"
    for classes, kind in kinds:
        if isinstance(exc, classes):
            return kind
    return "unsendable"


def transport_error(
    kind: Kind, exc: BaseException, method: str, url: str, timeout: float
) -> TransportError:
    """Build our exception of *kind* for *exc*, raised while sending a request.

    The message names the request (method and path, cut to a readable length), what
    happened, and the library's exception class and message; a path and a library message
    never hold the token or the pool secret, which travel in headers and bodies only.
    """
    where = f"{method} {_path_of(url)}"
    if isinstance(exc, ProtocolViolation):
        message = f"{where}: the answer cannot be read: {exc}"
    elif isinstance(exc, Unsendable):
        message = f"{where}: the request could not be sent: {exc}"
    elif isinstance(exc, OverBudget):
        message = (
            f"{where}: the answer was not over within the {exc.budget:.3g} s left of the "
            "call's total_timeout"
        )
    elif kind == "timeout":
        message = f"{where}: no answer within {timeout:.3g} s ({_qualified(exc)})"
    elif kind == "connection":
        message = f"{where}: {_qualified(exc)}: {_detail(exc)}"
    else:
        message = f"{where}: the request could not be sent ({_qualified(exc)}: {_detail(exc)})"
    return _CLASSES[kind](message)


def _qualified(exc: BaseException) -> str:
    module = type(exc).__module__.partition(".")[0]
    return f"{module}.{type(exc).__name__}" if module != "builtins" else type(exc).__name__


def _detail(exc: BaseException) -> str:
    """Return the library's message, up to where it starts quoting what came over the wire."""
    message = getattr(exc, "message", None)  # aiohttp's parser errors: without the URL
    try:
        text = message if isinstance(message, str) else str(exc)
    except Exception:  # noqa: BLE001 - a str that fails tells nothing
        text = ""
    # Parsers quote the bytes they choked on, and what followed them: a token answer's body,
    # say. Those are cut, whether quoted as bytes or on the lines after.
    text = _QUOTE.split(text, maxsplit=1)[0]
    text = " ".join(text.split()).rstrip(" :") or "no detail"
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


def _path_of(url: str) -> str:
    start = url.find("/", url.find("://") + 3)
    path = url[start:] if start >= 0 else "/"
    if len(path) > _MAX_PATH:
        path = f"{path[:_MAX_PATH]}... ({len(path)} characters)"
    return path
