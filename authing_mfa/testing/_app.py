"""The emulator's ASGI app: Authing's three MFA routes, the token query, and the control API.

Behaviour follows the protocol Authing's official SDKs speak (`authing_mfa._protocol`); where
the real server's behaviour is unknown, the choice is stated where it is made. Every answer
carries a unique ``x-request-id``, except the HTML pages a gateway answers 5xx faults with (a
gateway does not know Authing's request ids).

Routing works on the raw path (``raw_path``, still percent-encoded), split on ``/`` before a
segment is decoded, exactly once: ``a%2Fb`` is the user id ``a/b`` and ``%252F`` is ``%2F``,
as on a real server. Each route is a row of `_ROUTES`: its handler per method, and whether it
needs the pool's header and a live token.
"""

from __future__ import annotations

__all__ = ["EmulatorApp"]

import http
import json
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote_to_bytes

import anyio
import attrs

from authing_mfa._protocol import (
    IMPORT_TOTP_PATH,
    MFA_TYPES,
    POOL_NOT_FOUND,
    SUCCESS,
    TOKEN_PATH,
    TOKEN_REFUSED,
    USER_NOT_FOUND,
)

from . import _control_routes as control_routes
from ._asgi import DropConnection, Receive, Scope, Send
from ._request_log import RecordedRequest

if TYPE_CHECKING:
    from ._control_routes import Controllable
    from ._faults import Fault
    from ._pool import PoolState

_JSON = b"application/json; charset=utf-8"
_HTML = b"text/html"
_CONTROL_PREFIX = b"/__emulator__"
_USERS_PREFIX = (b"", b"api", b"v2", b"users")

NOT_LOGGED_IN = (TOKEN_REFUSED, "尚未登录，无权限访问此请求")  # noqa: RUF001 - the server's own words
NO_SUCH_POOL = (POOL_NOT_FOUND, "用户池不存在")
NO_SUCH_USER = (USER_NOT_FOUND, "用户不存在")

# A fault's "malformed" body: the start of a real answer, cut off mid-value.
_MALFORMED = '{"code":200,"message":"查询成功","data":{"FACE":fal'.encode()

_Headers = list[tuple[bytes, bytes]]


class _Answer:
    """A response to send: status, headers, body."""

    __slots__ = ("body", "from_gateway", "headers", "status")

    def __init__(self, status: int, body: bytes, content_type: bytes = _JSON) -> None:
        self.status = status
        self.body = body
        self.headers: _Headers = [(b"content-type", content_type)]
        self.from_gateway = False


@attrs.frozen
class _Request:
    """What a route handler needs of one API request."""

    method: str
    raw_path: bytes
    query: bytes
    headers: _Headers
    body: bytes
    user_segment: bytes | None  # the raw {userId} segment of the mfa-bound route


_Handler = Callable[["PoolState", _Request], _Answer]


@attrs.frozen
class _Route:
    """One route: a handler per method, and whether it needs the pool's header and a token."""

    handlers: dict[str, _Handler]
    authorized: bool = True


def _json(status: int, value: object) -> _Answer:
    return _Answer(status, json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def _envelope(code: int, message: str, data: object = None, *, status: int = 200) -> _Answer:
    return _json(status, {"code": code, "message": message, "data": data})


def _bad_parameter(message: str) -> _Answer:
    # The real server's HTTP status for a bad parameter is not documented; Authing's API docs
    # say some endpoints answer HTTP 400 with the envelope, so the emulator does, and clients must
    # read the envelope's code whatever the status.
    return _envelope(400, message, status=400)


def _graphql_error(code: int, message: str, *, status: int = 200) -> _Answer:
    return _json(
        status,
        {
            "errors": [
                {
                    "message": {"code": code, "message": message},
                    "extensions": {"code": "INTERNAL_SERVER_ERROR"},
                }
            ],
            "data": None,
        },
    )


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _gateway_page(status: int) -> _Answer:
    title = f"{status} {_reason(status)}"
    page = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    answer = _Answer(status, page.encode("ascii"), _HTML)
    answer.from_gateway = True
    return answer


def _not_found(method: str, raw_path: bytes) -> _Answer:
    # Express's wording, which Authing's API server runs on.
    return _envelope(404, f"Cannot {method} {raw_path.decode('latin-1')}", status=404)


def _method_not_allowed(allowed: str) -> _Answer:
    answer = _envelope(405, "Method Not Allowed", status=405)
    answer.headers.append((b"allow", allowed.encode("ascii")))
    return answer


def _parse_json(body: bytes) -> Any:  # noqa: ANN401 - any JSON value
    try:
        return json.loads(body)
    except ValueError:
        return None


def _segment(raw: bytes) -> str | None:
    """Decode one path segment, once; ``None`` if it is not UTF-8."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


# The routes ---------------------------------------------------------------------------------


def _token(state: PoolState, request: _Request) -> _Answer:
    query = _parse_json(request.body)
    variables = query.get("variables") if isinstance(query, dict) else None
    text = query.get("query") if isinstance(query, dict) else None
    if not isinstance(text, str) or "accessToken" not in text or not isinstance(variables, dict):
        return _graphql_error(400, "请求必须是带 variables 的 accessToken 查询", status=400)
    user_pool_id, secret = variables.get("userPoolId"), variables.get("secret")
    if not isinstance(user_pool_id, str) or not isinstance(secret, str):
        return _graphql_error(400, "userPoolId 和 secret 必须是字符串", status=400)
    error = state.credentials_error(user_pool_id, secret)
    if error is not None:
        return _graphql_error(*error)
    token, exp, iat = state.issue_token()
    return _json(200, {"data": {"accessToken": {"accessToken": token, "exp": exp, "iat": iat}}})


def _user_id(request: _Request) -> str | _Answer:
    assert request.user_segment is not None  # noqa: S101 - routed by its user segment
    user_id = _segment(request.user_segment)
    return _bad_parameter("userId 不是合法的 UTF-8") if user_id is None else user_id


def _status(state: PoolState, request: _Request) -> _Answer:
    user_id = _user_id(request)
    if isinstance(user_id, _Answer):
        return user_id
    bound = state.mfa_bound(user_id)
    if bound is None:
        return _envelope(*NO_SUCH_USER)
    return _envelope(SUCCESS, "查询成功", bound)


def _unbind(state: PoolState, request: _Request) -> _Answer:
    user_id = _user_id(request)
    if isinstance(user_id, _Answer):
        return user_id
    types = parse_qs(request.query.decode("latin-1")).get("type")
    factor = types[0] if types else None
    if factor not in MFA_TYPES:
        return _bad_parameter(f"type 必须是 {', '.join(sorted(MFA_TYPES))} 之一")
    if not state.unbind(user_id, factor):
        return _envelope(*NO_SUCH_USER)
    return _envelope(SUCCESS, "解绑成功")


def _import(state: PoolState, request: _Request) -> _Answer:
    body = _parse_json(request.body)
    if not isinstance(body, dict):
        return _bad_parameter("请求体必须是 JSON 对象")
    user_id, secret = body.get("userId"), body.get("secret")
    recovery_code = body.get("recoveryCode")
    if not isinstance(user_id, str) or not user_id:
        return _bad_parameter("userId 不能为空")
    # Like the real server, no check that the secret is base32.
    if not isinstance(secret, str) or not secret:
        return _bad_parameter("secret 不能为空")
    if recovery_code is not None and not isinstance(recovery_code, str):
        return _bad_parameter("recoveryCode 必须是字符串")
    record = state.import_totp(user_id, secret, recovery_code or None)
    if record is None:
        return _envelope(*NO_SUCH_USER)
    return _envelope(SUCCESS, "添加 TOTP 验证器成功", record)


_TOKEN_ROUTE = _Route({"POST": _token}, authorized=False)
_IMPORT_ROUTE = _Route({"POST": _import})
_MFA_BOUND_ROUTE = _Route({"GET": _status, "DELETE": _unbind})
_ROUTES: dict[bytes, _Route] = {
    TOKEN_PATH.encode("ascii"): _TOKEN_ROUTE,
    IMPORT_TOTP_PATH.encode("ascii"): _IMPORT_ROUTE,
}


def _route(raw_path: bytes) -> tuple[_Route, bytes | None] | None:
    """Return the route for *raw_path* and its raw user id segment, or ``None``."""
    route = _ROUTES.get(raw_path)
    if route is not None:
        return route, None
    # /api/v2/users/{userId}/mfa-bound
    segments = raw_path.split(b"/")
    if (
        len(segments) == 6  # noqa: PLR2004
        and segments[4]
        and segments[5] == b"mfa-bound"
        and tuple(segments[:4]) == _USERS_PREFIX
    ):
        return _MFA_BOUND_ROUTE, segments[4]
    return None


def _refusal(state: PoolState, headers: _Headers) -> _Answer | None:
    """Return the answer refusing this REST call's credentials, or ``None`` if they are good.

    The ``x-authing-userpool-id`` header is checked first, as it names the pool the call is
    for: a missing or different id names a pool this emulator does not host, so the answer is
    2224 "user pool not found", as for an unknown pool id on the token query. Then the token:
    missing, malformed, forged, expired or revoked, it is 2020.
    """
    pool_id = authorization = None
    for name, value in headers:
        if name == b"x-authing-userpool-id":
            pool_id = value
        elif name == b"authorization":
            authorization = value
    if pool_id is None or pool_id.decode("latin-1") != state.user_pool_id:
        return _envelope(*NO_SUCH_POOL)
    if authorization is None:
        return _envelope(*NOT_LOGGED_IN)
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not state.accepts_token(token.strip()):
        return _envelope(*NOT_LOGGED_IN)
    return None


def _api(state: PoolState, request: _Request) -> _Answer:
    found = _route(request.raw_path)
    if found is None:
        return _not_found(request.method, request.raw_path)
    route, user_segment = found
    handler = route.handlers.get(request.method)
    if handler is None:
        return _method_not_allowed(", ".join(route.handlers))
    if route.authorized and (refusal := _refusal(state, request.headers)) is not None:
        return refusal
    return handler(state, attrs.evolve(request, user_segment=user_segment))


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect: the client has gone
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class EmulatorApp:
    """The ASGI 3 app serving one pool's state, and the control API driving it.

    Args:
        state: the pool the API routes serve.
        control: what the control API's routes call (the `Emulator` owning *state*).

    It holds no state of its own, so it may be served by several servers at once.
    """

    def __init__(self, state: PoolState, *, control: Controllable) -> None:
        self._state = state
        self._control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope (``http``; ``lifespan`` is acknowledged)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the emulator serves HTTP only, not {scope['type']!r}")
        body = await _read_body(receive)
        raw_path: bytes | None = scope.get("raw_path")
        if raw_path is None:  # optional in ASGI; every server the emulator runs on sets it
            raw_path = scope["path"].encode("utf-8")
        # httpx's own ASGITransport puts the query into raw_path; tolerate it.
        raw_path, _, query = raw_path.partition(b"?")
        query = scope.get("query_string") or query
        method: str = scope["method"]
        headers: _Headers = scope["headers"]

        if raw_path == _CONTROL_PREFIX or raw_path.startswith(_CONTROL_PREFIX + b"/"):
            answer = self._control_answer(method, raw_path, body)
        else:
            request = _Request(method, raw_path, query, headers, body, None)
            fault = self._state.arrive(RecordedRequest(method, raw_path, query, headers, body))
            if fault is None:
                answer = _api(self._state, request)
            else:
                answer = await self._faulted(fault, request)
            if not answer.from_gateway:
                answer.headers.append((b"x-request-id", secrets.token_hex(12).encode("ascii")))

        answer.headers.append((b"content-length", str(len(answer.body)).encode("ascii")))
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _faulted(self, fault: Fault, request: _Request) -> _Answer:
        if fault.delay:
            await anyio.sleep(fault.delay)
        if fault.action == "drop":
            raise DropConnection
        if fault.action == "malformed":
            return _Answer(200, _MALFORMED)
        if fault.status is None:
            answer = _api(self._state, request)
        elif fault.status >= 500:  # noqa: PLR2004
            answer = _gateway_page(fault.status)
        else:
            answer = _envelope(fault.status, _reason(fault.status), status=fault.status)
        if fault.retry_after is not None:
            retry_after = fault.retry_after
            if isinstance(retry_after, float) and retry_after.is_integer():
                retry_after = int(retry_after)
            answer.headers.append((b"retry-after", str(retry_after).encode("latin-1")))
        return answer

    def _control_answer(self, method: str, raw_path: bytes, body: bytes) -> _Answer:
        status, value, allowed = control_routes.answer(
            self._control, method, raw_path[len(_CONTROL_PREFIX) :], body
        )
        answer = _json(status, value)
        if allowed is not None:
            answer.headers.append((b"allow", allowed.encode("ascii")))
        return answer

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
