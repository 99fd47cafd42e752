"""Type-only checks of the public API: `mypy --strict tests/typing_public_api.py` must accept it.

Never run, only type-checked (tests/test_typing.py does it). Each annotated assignment states
a type the public API promises; a change that breaks one fails the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import httpx

from authing_mfa import (
    ApiError,
    AsyncMfaClient,
    AuthingMfaError,
    ImportOutcome,
    InvalidArgumentError,
    MfaClient,
    MfaStatus,
    MfaType,
    Outcome,
    RateLimitError,
    RequestEvent,
    ResponseEvent,
    TotpAuthenticator,
    TotpRecord,
    TransportError,
    UnbindRecord,
    __version__,
)
from authing_mfa.testing import Emulator, run_server


def on_request(event: RequestEvent) -> None:
    method: str = event.method
    path: str = event.path
    attempt: int = event.attempt
    del method, path, attempt


def on_response(event: ResponseEvent) -> None:
    request: RequestEvent = event.request
    status: int | None = event.status
    elapsed: float = event.elapsed
    request_id: str | None = event.request_id
    error: BaseException | None = event.error
    del request, status, elapsed, request_id, error


async def async_client(emulator: Emulator) -> None:
    async with AsyncMfaClient(
        user_pool_id=emulator.user_pool_id,
        secret=emulator.secret,
        transport=emulator.transport(),
        limits=httpx.Limits(max_connections=10),
        timeout=5,
        total_timeout=30.0,
        max_retries=1,
        on_request=on_request,
        on_response=lambda event: [event.status],  # a hook may return anything
    ) as client:
        same: AsyncMfaClient = client
        status: MfaStatus = await same.get_status("u")
        otp: bool = status.otp
        face: bool = status.face
        factors: Mapping[str, bool] = status.factors
        sms: bool = status.is_bound(MfaType.SMS) or status.is_bound("sms")
        unbound: bool = await client.unassociate_mfa("u", MfaType.OTP)
        unbound = await client.unassociate_mfa("u", "face")
        totp: TotpAuthenticator = await client.import_totp(
            "u", "JBSWY3DPEHPK3PXP", recovery_code=None, validate_secret=True
        )
        created: datetime = totp.created_at
        recovery: str | None = totp.recovery_code
        del otp, face, factors, sms, unbound, created, recovery
        async with client.get_status_many(["u1", "u2"], concurrency=2) as statuses:
            async for read in statuses:
                index: int = read.index
                user_id: str = read.record
                found: MfaStatus | None = read.result
                del index, user_id, found
        async with client.unassociate_mfa_many(
            ["u1", ("u2", MfaType.FACE), UnbindRecord("u3", "otp")], mfa_type="otp"
        ) as unbinds:
            async for unbind in unbinds:
                record: UnbindRecord = unbind.record
                done: bool | None = unbind.result
                del record, done
        async with client.import_totp_many([TotpRecord("u", "JBSWY3DPEHPK3PXP")]) as imports:
            async for imported in imports:
                outcome: ImportOutcome = imported
                stored: TotpAuthenticator | None = outcome.authenticator
                generic: Outcome[TotpRecord, TotpAuthenticator] = outcome
                del stored, generic
    await client.aclose()


def sync_client(url: str) -> None:
    with MfaClient(user_pool_id="p", secret="s", host=url, on_response=on_response) as client:
        same: MfaClient = client
        status: MfaStatus = same.get_status("u")
        unbound: bool = client.unassociate_mfa("u", "otp")
        totp: TotpAuthenticator = client.import_totp("u", "JBSWY3DPEHPK3PXP")
        report: list[Outcome[str, MfaStatus]] = list(client.get_status_many(iter(["u"])))
        unbinds: list[Outcome[UnbindRecord, bool]] = list(
            client.unassociate_mfa_many(["u"], mfa_type=MfaType.OTP, rate_limit=5)
        )
        del status, unbound, totp, report, unbinds
    client.close()


def errors() -> None:
    try:
        sync_client("http://127.0.0.1:1")
    except RateLimitError as exc:
        wait: float | None = exc.retry_after
        del wait
    except ApiError as exc:
        code: int = exc.code
        http_status: int = exc.http_status
        request_id: str | None = exc.request_id
        message: str = exc.message
        del code, http_status, request_id, message
    except (TransportError, InvalidArgumentError) as exc:
        root: AuthingMfaError = exc
        value_error: ValueError | TransportError = exc
        del root, value_error


def emulator_on_loopback() -> None:
    emulator = Emulator(users=["alice"])
    with run_server(emulator) as server:
        url: str = server.url
        sync_client(url)


version: str = __version__
factor: MfaType = MfaType("OTP")
