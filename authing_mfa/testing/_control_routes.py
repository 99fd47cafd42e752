"""The control API's routes, under ``/__emulator__``: what each does to an `Emulator`.

Each route maps to the `Emulator` method of the same meaning (the `Controllable` protocol);
this module only translates JSON. A malformed request is answered HTTP 400
``{"error": "..."}``.
"""

from __future__ import annotations

__all__ = ["Controllable", "answer"]

import json
from collections.abc import Callable, Iterable
from typing import Any, Protocol
from urllib.parse import unquote_to_bytes


class Controllable(Protocol):
    """The `Emulator` methods the control API calls."""

    def add_users(self, user_ids: Iterable[str]) -> list[str]: ...
    def create_users(self, count: int) -> list[str]: ...
    def user(self, user_id: str) -> dict[str, Any] | None: ...
    def add_faults(self, faults: Iterable[Any]) -> object: ...
    def clear_faults(self) -> None: ...
    def revoke_tokens(self) -> int: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def clear_requests(self) -> None: ...
    def stats(self) -> dict[str, int]: ...
    def reset(self) -> None: ...


_Result = tuple[int, Any]
_Handler = Callable[[Controllable, bytes], _Result]


def _body(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body) if body else {}
    except ValueError:
        request = None
    if not isinstance(request, dict):
        raise ValueError("the body must be a JSON object")  # noqa: TRY004 - answered as 400
    return request


def _add_users(emulator: Controllable, body: bytes) -> _Result:
    request = _body(body)
    if "count" in request:
        return 200, {"userIds": emulator.create_users(request["count"])}
    user_ids = request.get("userIds")
    if not isinstance(user_ids, list):
        raise ValueError("give userIds, a list of ids, or count, a number")  # noqa: TRY004
    return 200, {"userIds": emulator.add_users(user_ids)}


def _add_faults(emulator: Controllable, body: bytes) -> _Result:
    faults = _body(body).get("faults")
    if not isinstance(faults, list):
        raise ValueError("give faults, a list of fault objects")  # noqa: TRY004
    emulator.add_faults(faults)
    return 200, {"added": len(faults)}


def _clear_faults(emulator: Controllable, _: bytes) -> _Result:
    emulator.clear_faults()
    return 200, {}


def _revoke(emulator: Controllable, _: bytes) -> _Result:
    return 200, {"revoked": emulator.revoke_tokens()}


def _requests(emulator: Controllable, _: bytes) -> _Result:
    return 200, {"requests": emulator.requests()}


def _clear_requests(emulator: Controllable, _: bytes) -> _Result:
    emulator.clear_requests()
    return 200, {}


def _stats(emulator: Controllable, _: bytes) -> _Result:
    return 200, emulator.stats()


def _reset(emulator: Controllable, _: bytes) -> _Result:
    emulator.reset()
    return 200, {}


_ROUTES: dict[bytes, dict[str, _Handler]] = {
    b"/users": {"POST": _add_users},
    b"/faults": {"POST": _add_faults, "DELETE": _clear_faults},
    b"/tokens/revoke": {"POST": _revoke},
    b"/requests": {"GET": _requests, "DELETE": _clear_requests},
    b"/stats": {"GET": _stats},
    b"/reset": {"POST": _reset},
}
_USER_PREFIX = b"/users/"


def _user(emulator: Controllable, raw_user_id: bytes) -> _Result:
    try:
        user = emulator.user(unquote_to_bytes(raw_user_id).decode("utf-8"))
    except UnicodeDecodeError:
        user = None
    return (404, {"error": "no such user"}) if user is None else (200, user)


def answer(
    emulator: Controllable, method: str, route: bytes, body: bytes
) -> tuple[int, Any, str | None]:
    """Run one control request; return its status, JSON body and, for 405, the allowed methods.

    Args:
        emulator: the state to act on.
        method: the HTTP method.
        route: the raw path after ``/__emulator__``.
        body: the request body.
    """
    if route.startswith(_USER_PREFIX):
        methods: dict[str, _Handler] = {"GET": lambda e, _: _user(e, route[len(_USER_PREFIX) :])}
    elif (found := _ROUTES.get(route)) is not None:
        methods = found
    else:
        return (
            404,
            {"error": f"no control route {method} /__emulator__{route.decode('latin-1')}"},
            None,
        )
    handler = methods.get(method)
    if handler is None:
        return 405, {"error": "method not allowed"}, ", ".join(methods)
    try:
        status, value = handler(emulator, body)
    except ValueError as error:
        return 400, {"error": str(error)}, None
    return status, value, None
