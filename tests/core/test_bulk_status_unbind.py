"""get_status_many and unassociate_mfa_many: the bulk contract, for audits and incidents."""

from __future__ import annotations

import pytest
from support.clients import client_options

from authing_mfa import (
    AsyncMfaClient,
    InvalidArgumentError,
    MfaClient,
    MfaStatus,
    MfaType,
    NotFoundError,
    Outcome,
    UnbindRecord,
)

KEY = "JBSWY3DPEHPK3PXP"


def pool(emulator, count, *, with_otp_every=3):
    """*count* users; every *with_otp_every*-th has a TOTP key; return their ids."""
    user_ids = emulator.add_users(f"user-{n:05d}" for n in range(count))
    for n, user_id in enumerate(user_ids):
        if n % with_otp_every == 0:
            emulator._state.import_totp(user_id, KEY, None)
    return user_ids


@pytest.mark.slow
@pytest.mark.asyncio
async def test_a_status_report_under_faults_matches_the_pool_exactly(server, emulator):
    """2 000 users, with 503s, dropped connections and an unknown id: every outcome is right."""
    user_ids = pool(emulator, 2000)
    emulator.add_fault(path="/api/v2/users/*", status=503, times=40)
    emulator.add_fault(path="/api/v2/users/*", action="drop", times=20)
    async with (
        AsyncMfaClient(**client_options(server, max_retries=5)) as mfa,
        mfa.get_status_many([*user_ids, "nobody"], concurrency=32) as outcomes,
    ):
        seen = {outcome.index: outcome async for outcome in outcomes}
    assert sorted(seen) == list(range(2001))
    for index, user_id in enumerate(user_ids):
        outcome = seen[index]
        assert outcome.record == user_id
        assert outcome.result == MfaStatus(emulator.user(user_id)["mfaBound"])
    assert isinstance(seen[2000].error, NotFoundError)


@pytest.mark.asyncio
async def test_unbinding_bare_ids_removes_the_factor_from_exactly_those_users(server, emulator):
    user_ids = pool(emulator, 60, with_otp_every=1)
    leaked = user_ids[::2]
    async with (
        AsyncMfaClient(**client_options(server)) as mfa,
        mfa.unassociate_mfa_many(iter(leaked), mfa_type="otp", concurrency=8) as outcomes,
    ):
        results = [outcome async for outcome in outcomes]
    assert all(outcome.ok and outcome.result is True for outcome in results)
    assert {outcome.record for outcome in results} == {UnbindRecord(u, MfaType.OTP) for u in leaked}
    for user_id in user_ids:
        assert emulator.user(user_id)["mfaBound"]["OTP"] is (user_id not in leaked)


@pytest.mark.asyncio
async def test_unbind_pairs_carry_their_own_factor_and_a_bad_one_fails_only_its_row(
    server, emulator
):
    user_ids = pool(emulator, 3, with_otp_every=1)
    records = [(user_ids[0], "OTP"), UnbindRecord(user_ids[1], MfaType.FACE), (user_ids[2], "x")]
    async with (
        AsyncMfaClient(**client_options(server)) as mfa,
        mfa.unassociate_mfa_many(records) as outcomes,
    ):
        results = {outcome.index: outcome async for outcome in outcomes}
    assert results[0].ok
    assert results[1].ok
    assert isinstance(results[2].error, InvalidArgumentError)
    assert [emulator.user(u)["mfaBound"]["OTP"] for u in user_ids] == [False, True, True]


@pytest.mark.asyncio
async def test_a_bare_user_id_without_a_factor_is_a_programming_error(server, emulator):
    user_ids = pool(emulator, 2)
    async with AsyncMfaClient(**client_options(server)) as mfa:
        with pytest.raises(TypeError, match="needs the call's mfa_type"):
            async with mfa.unassociate_mfa_many(user_ids) as outcomes:
                [outcome async for outcome in outcomes]


def test_a_bad_call_wide_factor_is_refused_at_once(server, emulator):
    with MfaClient(**client_options(server)) as mfa, pytest.raises(InvalidArgumentError):
        mfa.unassociate_mfa_many(["u1"], mfa_type="webauthn")


def test_the_blocking_client_has_both_bulk_calls(server, emulator):
    user_ids = pool(emulator, 30, with_otp_every=2)
    with MfaClient(**client_options(server)) as mfa:
        statuses = list(mfa.get_status_many(iter(user_ids), concurrency=4))
        unbound = list(mfa.unassociate_mfa_many(user_ids, mfa_type=MfaType.OTP))
        after = list(mfa.get_status_many(user_ids))
    assert all(isinstance(outcome, Outcome) for outcome in statuses)
    assert sum(outcome.result.otp for outcome in statuses) == 15
    assert len(unbound) == 30
    assert not any(outcome.result.otp for outcome in after)


def test_a_status_run_reads_a_generator_lazily(server, emulator):
    """Items are read only as workers free up: at most concurrency ahead of the outcomes."""
    user_ids = pool(emulator, 200)
    read = 0

    def source():
        nonlocal read
        for user_id in user_ids:
            read += 1
            yield user_id

    with MfaClient(**client_options(server)) as mfa:
        outcomes = mfa.get_status_many(source(), concurrency=4)
        next(outcomes)
        assert read <= 1 + 4 + 4  # one done, four in flight, four buffered outcomes
        outcomes.close()
