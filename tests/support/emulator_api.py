"""Talking to the emulator as a raw HTTP client: its pool, its answers, and an API helper."""

from __future__ import annotations

from typing import Any

import attrs
import httpx

from authing_mfa.testing import Emulator

POOL_ID = "5cce4aa83ed9f97b4dfd95f0"
SECRET = "pool-secret-0123456789abcdef"
TOKEN_QUERY = (
    "query accessToken($userPoolId: String!, $secret: String!) "
    "{ accessToken(userPoolId: $userPoolId, secret: $secret) { accessToken exp iat } }"
)
NOT_LOGGED_IN = {"code": 2020, "message": "尚未登录，无权限访问此请求", "data": None}
NO_SUCH_USER = {"code": 2004, "message": "用户不存在", "data": None}
NO_SUCH_POOL = {"code": 2224, "message": "用户池不存在", "data": None}


def token_body(user_pool_id: str = POOL_ID, secret: str = SECRET) -> dict[str, Any]:
    return {"query": TOKEN_QUERY, "variables": {"userPoolId": user_pool_id, "secret": secret}}


@attrs.define
class Api:
    """An httpx client on one emulator, with the few steps every test needs."""

    emulator: Emulator
    client: httpx.AsyncClient
    mode: str

    async def token(self) -> str:
        response = await self.client.post("/graphql/v2", json=token_body())
        return str(response.json()["data"]["accessToken"]["accessToken"])

    async def headers(self, token: str | None = None) -> dict[str, str]:
        token = await self.token() if token is None else token
        return {"authorization": f"Bearer {token}", "x-authing-userpool-id": POOL_ID}

    async def get_status(self, raw_user_id: str, token: str | None = None) -> httpx.Response:
        return await self.client.get(
            f"/api/v2/users/{raw_user_id}/mfa-bound", headers=await self.headers(token)
        )

    async def import_totp(self, body: Any, token: str | None = None) -> httpx.Response:
        return await self.client.post(
            "/api/v2/mfa/totp/import", json=body, headers=await self.headers(token)
        )

    async def unbind(self, raw_user_id: str, query: str = "type=OTP") -> httpx.Response:
        return await self.client.delete(
            f"/api/v2/users/{raw_user_id}/mfa-bound?{query}", headers=await self.headers()
        )
