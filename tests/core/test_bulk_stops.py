"""A bulk run stops at an error no other row can escape, after reporting the rows in flight."""

from __future__ import annotations

import pytest
from support.clients import client_options

from authing_mfa import AsyncMfaClient, AuthenticationError, MfaClient, PermissionDeniedError

KEY = "JBSWY3DPEHPK3PXP"


def rows(emulator, count):
    user_ids = emulator.add_users(f"user-{n}" for n in range(count))
    return ((user_id, KEY) for user_id in user_ids)


async def import_into(outcomes: list, options: dict, records, *, concurrency: int) -> None:
    """Run an async bulk import of *records*, keeping each outcome in *outcomes* as it comes."""
    async with (
        AsyncMfaClient(**options) as mfa,
        mfa.import_totp_many(records, concurrency=concurrency) as stream,
    ):
        async for outcome in stream:
            outcomes.append(outcome)  # noqa: PERF401 - kept up to the error


@pytest.mark.asyncio
async def test_a_refused_secret_stops_an_async_run_after_the_rows_in_flight(server, emulator):
    """2 000 rows with a wrong secret: a few token requests, the rows in flight, the error."""
    outcomes: list = []
    options = client_options(server, secret="wrong")
    with pytest.raises(AuthenticationError):
        await import_into(outcomes, options, rows(emulator, 2000), concurrency=8)
    assert 1 <= len(outcomes) <= 8
    assert all(isinstance(outcome.error, AuthenticationError) for outcome in outcomes)
    assert emulator.token_requests <= 8  # at most one per row in flight, not one per row
    assert all(emulator.user(f"user-{n}")["totp"] is None for n in range(2000))


def test_a_refused_secret_stops_a_blocking_run_too(server, emulator):
    """MfaClient's iterator raises the same error after the same few outcomes."""
    outcomes: list = []
    with (
        MfaClient(**client_options(server, secret="wrong")) as mfa,
        pytest.raises(AuthenticationError),
    ):
        outcomes.extend(mfa.import_totp_many(rows(emulator, 500), concurrency=4))
    assert 1 <= len(outcomes) <= 4
    assert emulator.token_requests <= 4


@pytest.mark.asyncio
async def test_a_permission_refusal_stops_the_run(server, emulator):
    """HTTP 403 (code 1001) on a row means the pool may not import: the run stops there."""
    emulator.add_fault(path="/api/v2/mfa/totp/import", status=403, times=None)
    outcomes: list = []
    with pytest.raises(PermissionDeniedError):
        await import_into(outcomes, client_options(server), rows(emulator, 300), concurrency=4)
    assert 1 <= len(outcomes) <= 4
    imports = [r for r in emulator.requests() if r["path"] == "/api/v2/mfa/totp/import"]
    assert len(imports) <= 4


@pytest.mark.asyncio
async def test_an_unknown_user_does_not_stop_the_run(server, emulator):
    """A row's own error (no such user) is reported and the others carry on."""
    records = [("nobody", KEY), *rows(emulator, 5)]
    outcomes: list = []
    await import_into(outcomes, client_options(server), records, concurrency=2)
    assert sorted(outcome.ok for outcome in outcomes) == [False] + [True] * 5
