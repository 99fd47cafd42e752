"""A fake Authing for the unit tests: constants, answers in Authing's shapes, request helpers."""

from __future__ import annotations

import json
from typing import Any

import httpx
import respx

from authing_mfa.testing import Emulator

HOST = "https://core.authing.cn"
POOL_ID = "5cce4aa83ed9f97b4dfd95f0"
POOL_SECRET = "pool-secret-never-shown"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.token-never-shown.sig"
TOTP_SECRET = "JBSWY3DPEHPK3PXP"
RECOVERY_CODE = "8477-a1a6-662c-a750-bbb4-72a9"

AUTHENTICATOR = {
    "userId": "61de786b31d27307c7ce66c3",
    "enable": True,
    "secret": TOTP_SECRET,
    "authenticatorType": "totp",
    "recoveryCode": RECOVERY_CODE,
    "createdAt": "2022-01-13T07:57:54.073Z",
    "updatedAt": "2022-01-13T07:57:54.073Z",
    "id": "61dfdb82b3f67714c88cc855",
    "source": "SELF",
}


def token_answer(token: str = TOKEN, lifetime: int = 86400 * 14) -> httpx.Response:
    """The `accessToken` query's answer, as Authing sends it."""
    iat = 1_700_000_000
    return httpx.Response(
        200,
        json={"data": {"accessToken": {"accessToken": token, "exp": iat + lifetime, "iat": iat}}},
    )


def envelope(
    data: Any = None,
    *,
    code: int = 200,
    message: str = "ok",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A REST answer in Authing's envelope."""
    return httpx.Response(
        status, json={"code": code, "message": message, "data": data}, headers=headers
    )


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def rest_calls(api: respx.Router) -> list[httpx.Request]:
    """Every request *api* saw except token requests."""
    return [call.request for call in api.calls if call.request.url.path != "/graphql/v2"]


class ClosingProbe(httpx.AsyncBaseTransport):
    """The emulator's transport, noting whether the client that owns it closed it."""

    def __init__(self, emulator: Emulator) -> None:
        self._inner = emulator.transport()
        self.closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        self.closed = True
        await self._inner.aclose()
