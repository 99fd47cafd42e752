"""The emulator's ASGI app: Authing's three MFA routes, the token query, and the control API.

Behaviour follows the protocol Authing's official SDKs speak; where the real server's behaviour
is unknown, the choice is stated where it is made. Every answer carries a unique
``x-request-id``, except the HTML pages a gateway answers 5xx faults with (a gateway does not
know Authing's request ids).

Routing works on the raw path (``raw_path``, still percent-encoded), split on ``/`` before a
segment is decoded, exactly once: ``a%2Fb`` is the user id ``a/b`` and ``%252F`` is ``%2F``,
as on a real server.
"""

from __future__ import annotations

__all__ = ["EmulatorApp"]

import http
import json
import secrets
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote_to_bytes

import anyio

from . import _control_api as control_api
from ._asgi import DropConnection, Receive, Scope, Send
from ._journal import RecordedRequest

if TYPE_CHECKING:
    from ._emulator import Emulator
    from ._faults import Fault

_JSON = b"application/json; charset=utf-8"
_HTML = b"text/html"
_CONTROL_PREFIX = b"/__emulator__"
_TOKEN_PATH = b"/graphql/v2"
_IMPORT_PATH = b"/api/v2/mfa/totp/import"
_USERS_PREFIX = (b"", b"api", b"v2", b"users")
_MFA_TYPES = frozenset({"SMS", "EMAIL", "OTP", "FACE", "FINGERPRINT", "TOTP"})

NOT_LOGGED_IN = (2020, "尚未登录，无权限访问此请求")  # noqa: RUF001 - the server's own words
NO_SUCH_POOL = (2224, "用户池不存在")
NO_SUCH_USER = (2004, "用户不存在")

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


def _mfa_bound_user(raw_path: bytes) -> bytes | None:
    """Return the raw user id segment of ``/api/v2/users/{userId}/mfa-bound``, else ``None``."""
    segments = raw_path.split(b"/")
    if len(segments) == 6 and segments[4] and segments[5] == b"mfa-bound":  # noqa: PLR2004
        return segments[4] if tuple(segments[:4]) == _USERS_PREFIX else None
    return None


def _segment(raw: bytes) -> str | None:
    """Decode one path segment, once; ``None`` if it is not UTF-8."""
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        return None


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
    """The ASGI 3 app serving one `Emulator`'s state.

    It holds no state of its own, so it may be served by several servers at once.
    """

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator

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
            answer = self._control(method, raw_path, body)
        else:
            fault = self._emulator._arrive(  # noqa: SLF001 - the app is the emulator's own
                RecordedRequest(method, raw_path, query, headers, body)
            )
            if fault is None:
                answer = self._api(method, raw_path, query, headers, body)
            else:
                answer = await self._faulted(fault, method, raw_path, query, headers, body)
            if not answer.from_gateway:
                answer.headers.append((b"x-request-id", secrets.token_hex(12).encode("ascii")))

        answer.headers.append((b"content-length", str(len(answer.body)).encode("ascii")))
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _faulted(
        self,
        fault: Fault,
        method: str,
        raw_path: bytes,
        query: bytes,
        headers: _Headers,
        body: bytes,
    ) -> _Answer:
        if fault.delay:
            await anyio.sleep(fault.delay)
        if fault.action == "drop":
            raise DropConnection
        if fault.action == "malformed":
            return _Answer(200, _MALFORMED)
        if fault.status is None:
            answer = self._api(method, raw_path, query, headers, body)
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

    # The API ---------------------------------------------------------------------------------

    def _api(
        self, method: str, raw_path: bytes, query: bytes, headers: _Headers, body: bytes
    ) -> _Answer:
        user_segment = None
        if raw_path in (_TOKEN_PATH, _IMPORT_PATH):
            allowed: tuple[str, ...] = ("POST",)
        elif (user_segment := _mfa_bound_user(raw_path)) is not None:
            allowed = ("GET", "DELETE")
        else:
            return _not_found(method, raw_path)
        if method not in allowed:
            return _method_not_allowed(", ".join(allowed))
        if raw_path == _TOKEN_PATH:
            return self._token(body)
        refusal = self._refusal(headers)
        if refusal is not None:
            return refusal
        if user_segment is None:
            return self._import(body)
        return self._user_route(method, user_segment, query)

    def _refusal(self, headers: _Headers) -> _Answer | None:
        """Return the answer refusing this REST call's credentials, or ``None`` if they are good.

        The ``x-authing-userpool-id`` header is checked first, as it names the pool the call
        is for: a missing or different id names a pool this emulator does not host, so the
        answer is 2224 "user pool not found", as for an unknown pool id on the token query.
        Then the token: missing, malformed, forged, expired or revoked, it is 2020.
        """
        pool_id = authorization = None
        for name, value in headers:
            if name == b"x-authing-userpool-id":
                pool_id = value
            elif name == b"authorization":
                authorization = value
        if pool_id is None or pool_id.decode("latin-1") != self._emulator.user_pool_id:
            return _envelope(*NO_SUCH_POOL)
        if authorization is None:
            return _envelope(*NOT_LOGGED_IN)
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not self._emulator._accepts_token(token.strip()):  # noqa: SLF001
            return _envelope(*NOT_LOGGED_IN)
        return None

    def _token(self, body: bytes) -> _Answer:
        request = _parse_json(body)
        variables = request.get("variables") if isinstance(request, dict) else None
        query = request.get("query") if isinstance(request, dict) else None
        if (
            not isinstance(query, str)
            or "accessToken" not in query
            or not isinstance(variables, dict)
        ):
            return _graphql_error(400, "请求必须是带 variables 的 accessToken 查询", status=400)
        user_pool_id, secret = variables.get("userPoolId"), variables.get("secret")
        if not isinstance(user_pool_id, str) or not isinstance(secret, str):
            return _graphql_error(400, "userPoolId 和 secret 必须是字符串", status=400)
        # The answer for a wrong secret is not documented; 1001, "no permission",
        # keeps it apart from an unknown pool, 2224, which is documented.
        error = self._emulator._credentials_error(user_pool_id, secret)  # noqa: SLF001
        if error is not None:
            return _graphql_error(*error)
        token, exp, iat = self._emulator._issue_token()  # noqa: SLF001
        return _json(200, {"data": {"accessToken": {"accessToken": token, "exp": exp, "iat": iat}}})

    def _user_route(self, method: str, user_segment: bytes, query: bytes) -> _Answer:
        user_id = _segment(user_segment)
        if user_id is None:
            return _bad_parameter("userId 不是合法的 UTF-8")
        return self._status(user_id) if method == "GET" else self._unbind(user_id, query)

    def _status(self, user_id: str) -> _Answer:
        bound = self._emulator._mfa_bound(user_id)  # noqa: SLF001
        if bound is None:
            return _envelope(*NO_SUCH_USER)
        return _envelope(200, "查询成功", bound)

    def _unbind(self, user_id: str, query: bytes) -> _Answer:
        types = parse_qs(query.decode("latin-1")).get("type")
        factor = types[0] if types else None
        if factor not in _MFA_TYPES:
            return _bad_parameter(f"type 必须是 {', '.join(sorted(_MFA_TYPES))} 之一")
        if not self._emulator._unbind(user_id, factor):  # noqa: SLF001
            return _envelope(*NO_SUCH_USER)
        return _envelope(200, "解绑成功")

    def _import(self, body: bytes) -> _Answer:
        request = _parse_json(body)
        if not isinstance(request, dict):
            return _bad_parameter("请求体必须是 JSON 对象")
        user_id, secret = request.get("userId"), request.get("secret")
        recovery_code = request.get("recoveryCode")
        if not isinstance(user_id, str) or not user_id:
            return _bad_parameter("userId 不能为空")
        # Like the real server, no check that the secret is base32.
        if not isinstance(secret, str) or not secret:
            return _bad_parameter("secret 不能为空")
        if recovery_code is not None and not isinstance(recovery_code, str):
            return _bad_parameter("recoveryCode 必须是字符串")
        record = self._emulator._import_totp(user_id, secret, recovery_code or None)  # noqa: SLF001
        if record is None:
            return _envelope(*NO_SUCH_USER)
        return _envelope(200, "添加 TOTP 验证器成功", record)

    # The control API -------------------------------------------------------------------------

    def _control(self, method: str, raw_path: bytes, body: bytes) -> _Answer:
        status, value, allowed = control_api.answer(
            self._emulator, method, raw_path[len(_CONTROL_PREFIX) :], body
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
