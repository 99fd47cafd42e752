"""`AsyncMfaClient`: the three management MFA operations, awaited."""

from __future__ import annotations

__all__ = ["AsyncMfaClient"]

from types import TracebackType
from typing import TYPE_CHECKING

from ._config import Settings
from ._converter import structure
from ._models import MfaStatus, MfaType, TotpAuthenticator
from ._retry import RetryPolicy
from ._transport import Transport
from ._validation import (
    check_mfa_type,
    check_optional_text,
    check_totp_secret,
    check_user_id,
    user_id_path_segment,
)

if TYPE_CHECKING:
    import httpx
    from typing_extensions import Self


class AsyncMfaClient:
    """Manage the MFA of an Authing user pool's users, from async code (asyncio or trio).

    ::

        async with AsyncMfaClient(user_pool_id="...", secret="...") as mfa:
            status = await mfa.get_status("USER_ID")

    Every argument is keyword-only; unset credentials and host come from the environment.

    Args:
        user_pool_id: the user pool's id; default ``$AUTHING_USERPOOL_ID``.
        secret: the user pool's secret, used to fetch management tokens; default
            ``$AUTHING_USERPOOL_SECRET``.
        host: the API's base URL; default ``$AUTHING_HOST``, else ``https://core.authing.cn``.
        access_token: a ready management token, sent instead of fetching one with *secret*;
            never refreshed, so a refused one raises `AuthenticationError`.
        app_id: sent as ``x-authing-app-id`` when given.
        tenant_id: sent as ``x-authing-app-tenant-id`` when given.
        lang: ``x-authing-lang``, the language of the server's messages (``zh-CN``, ``en-US``).
        timeout: seconds any network step of one attempt (connecting, sending, waiting for the
            answer) may stall before the attempt fails.
        total_timeout: seconds one call may take, all attempts and waits included: no wait
            or attempt starts that could not finish in time.
        max_retries: attempts after the first, for failures that may pass (see README).
        max_retry_wait: the longest ``Retry-After`` the client waits out; a longer one raises
            `RateLimitError` at once.
        wait_initial: bound of the first jittered backoff, in seconds; later ones double it...
        wait_max: ...up to this bound.
        limits: the connection pool's limits (default: 100 connections).
        transport: an httpx async transport to send through, the test seam
            (``authing_mfa.testing.Emulator().transport()``).
        http_client: your own `httpx.AsyncClient` to send through; it is used as is (its
            base URL and headers are ignored) and never closed by this client.

    Raises:
        InvalidArgumentError: a setting is missing (naming the argument and the variable)
            or out of range. Nothing is sent at construction.

    Lifetime and concurrency: build one client per user pool and keep it for the life of the
    application; every task of the event loop that first used it may share it, and a hundred
    concurrent calls on a cold client fetch one token between them. The connection pool is
    opened on first use and closed by `aclose` or ``async with``. A client belongs to the event
    loop it first ran in, as its `httpx.AsyncClient` does.
    """

    def __init__(
        self,
        *,
        user_pool_id: str | None = None,
        secret: str | None = None,
        host: str | None = None,
        access_token: str | None = None,
        app_id: str | None = None,
        tenant_id: str | None = None,
        lang: str = "zh-CN",
        timeout: float = 10.0,
        total_timeout: float = 60.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        wait_initial: float = 0.5,
        wait_max: float = 8.0,
        limits: httpx.Limits | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        settings = Settings.resolve(
            user_pool_id=user_pool_id,
            secret=secret,
            host=host,
            access_token=access_token,
            app_id=app_id,
            tenant_id=tenant_id,
            lang=lang,
            timeout=timeout,
            total_timeout=total_timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            limits=limits,
        )
        retry = RetryPolicy(
            max_retries=settings.max_retries,
            timeout=settings.timeout,
            total_timeout=settings.total_timeout,
            max_retry_wait=settings.max_retry_wait,
            wait_initial=wait_initial,
            wait_max=wait_max,
        )
        self._settings = settings
        self._transport = Transport(
            settings, retry=retry, transport=transport, http_client=http_client
        )

    def __repr__(self) -> str:
        return (
            f"<AsyncMfaClient user_pool_id={self._settings.user_pool_id!r} "
            f"host={self._settings.host!r}>"
        )

    async def get_status(self, user_id: str) -> MfaStatus:
        """Return which MFA factors *user_id* has bound.

        Calls ``GET /api/v2/users/{user_id}/mfa-bound`` (the JS SDK's ``getStatus``).

        Raises:
            InvalidArgumentError: *user_id* is empty, not a str, or holds control characters.
            NotFoundError: no such user in this pool.
            ApiError, TransportError, ResponseValidationError: see the README's error table.
        """
        segment = user_id_path_segment(user_id)
        data = await self._transport.request("GET", f"/api/v2/users/{segment}/mfa-bound")
        return structure(data, MfaStatus)

    async def unassociate_mfa(self, user_id: str, mfa_type: MfaType | str) -> bool:
        """Unbind the factor *mfa_type* from *user_id*; return True once the server confirms.

        Unbinding `MfaType.OTP` also deletes the user's TOTP key. Calls
        ``DELETE /api/v2/users/{user_id}/mfa-bound?type=...`` (the JS SDK's ``unAssociateMfa``).

        Args:
            user_id: the user's id.
            mfa_type: an `MfaType`, or its name in any case (``"otp"``, ``"FACE"``).

        Raises:
            InvalidArgumentError: a bad *user_id*, or *mfa_type* is not a factor the API knows.
            NotFoundError: no such user in this pool.
        """
        segment = user_id_path_segment(user_id)
        factor = check_mfa_type(mfa_type)
        await self._transport.request(
            "DELETE", f"/api/v2/users/{segment}/mfa-bound", params={"type": factor.value}
        )
        return True

    async def import_totp(
        self,
        user_id: str,
        secret: str,
        *,
        recovery_code: str | None = None,
        validate_secret: bool = True,
    ) -> TotpAuthenticator:
        """Give *user_id* the TOTP key *secret*, switching TOTP MFA on for them at once.

        Re-importing replaces the user's key, so the call is safe to retry. Calls
        ``POST /api/v2/mfa/totp/import`` (the JS SDK's ``importTotp``).

        Args:
            user_id: the user's id.
            secret: the key, RFC 4648 base32 (spaces and lower case are normalised).
            recovery_code: the user's recovery code from the old system; Authing makes one up
                when it is left out.
            validate_secret: check that *secret* is base32 before sending (the default).
                Authing stores any string, and a key that is not base32 locks its user out;
                pass False only for keys you have checked yourself.

        Returns:
            The authenticator as Authing stored it.

        Raises:
            InvalidArgumentError: a bad *user_id*, an empty or non-base32 *secret*, or an
                empty *recovery_code*; nothing is sent.
            NotFoundError: no such user in this pool.
        """
        body: dict[str, object] = {
            "userId": check_user_id(user_id),
            "secret": check_totp_secret(secret, validate=validate_secret),
        }
        if (code := check_optional_text(recovery_code, "recovery_code")) is not None:
            body["recoveryCode"] = code
        data = await self._transport.request("POST", "/api/v2/mfa/totp/import", json=body)
        return structure(data, TotpAuthenticator)

    async def aclose(self) -> None:
        """Close the connection pool (not a caller-supplied ``http_client``). Idempotent."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
