"""`import_totp_many`: one outcome per record, bounded and paced work, clean early exits."""

from __future__ import annotations

import asyncio
import itertools
import time

import anyio
import pytest
from support.clients import client_options

from authing_mfa import (
    AsyncMfaClient,
    ImportOutcome,
    InvalidArgumentError,
    MfaClient,
    TotpRecord,
)

KEY = "JBSWY3DPEHPK3PXP"
IMPORT_PATH = "/api/v2/mfa/totp/import"
USERS = [f"u{n}" for n in range(40)]


@pytest.fixture
def users():
    return USERS


@pytest.fixture
def make_client(emulator):
    """Clients of the emulator in process: here the emulator, not respx, stands in for Authing."""
    return lambda **overrides: AsyncMfaClient(**client_options(emulator, **overrides))


async def _collect(client, records, **options) -> list[ImportOutcome]:
    async with client, client.import_totp_many(records, **options) as outcomes:
        return [outcome async for outcome in outcomes]


def _imports(emulator) -> list[dict]:
    return [r for r in emulator.requests() if r["path"] == IMPORT_PATH]


@pytest.mark.asyncio
async def test_every_record_gets_exactly_one_outcome(make_client, emulator):
    """Records given as TotpRecord, tuple and mapping each end in one successful outcome."""
    records = [
        TotpRecord("u0", KEY),
        ("u1", KEY),
        ("u2", KEY, "rc-1"),
        {"userId": "u3", "secret": KEY},
    ]
    outcomes = await _collect(make_client(), records)
    assert sorted(o.index for o in outcomes) == [0, 1, 2, 3]
    assert all(o.ok and o.authenticator is not None for o in outcomes)
    assert emulator.user("u2")["totp"]["recoveryCode"] == "rc-1"


@pytest.mark.asyncio
async def test_an_async_iterable_is_accepted(make_client, emulator):
    """An async generator of records is read and imported like a list."""

    async def rows():
        for user_id in USERS[:5]:
            yield TotpRecord(user_id, KEY)

    outcomes = await _collect(make_client(), rows())
    assert sorted(o.record.user_id for o in outcomes if o.ok) == USERS[:5]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (TotpRecord("", KEY), "user_id must not be empty"),
        (TotpRecord("u0", "not base32!"), "secret is not base32"),
        (TotpRecord("u0", KEY, ""), "recovery_code must not be empty"),
        (TotpRecord("u0", f"otpauth://totp/x?secret={KEY}&digits=8"), "digits=8"),
        (TotpRecord("u0", f"otpauth://totp/x?secret={KEY}&algorithm=SHA256"), "algorithm=SHA256"),
        (TotpRecord("u0", f"otpauth://totp/x?secret={KEY}&period=60"), "period=60"),
        (TotpRecord("u0", f"otpauth://hotp/x?secret={KEY}"), "only totp keys"),
        (TotpRecord("u0", "otpauth://totp/x?issuer=a"), "without a secret"),
    ],
)
@pytest.mark.asyncio
async def test_a_bad_row_is_reported_with_its_reason_and_not_sent(
    make_client, emulator, record, reason
):
    """A row refused before sending ends with InvalidArgumentError naming why, and no request."""
    [outcome] = await _collect(make_client(), [record])
    assert isinstance(outcome.error, InvalidArgumentError)
    assert reason in str(outcome.error)
    assert KEY not in str(outcome.error)
    assert _imports(emulator) == []


@pytest.mark.asyncio
async def test_an_otpauth_uri_imports_its_secret_parameter(make_client, emulator):
    """The secret parameter of a SHA1/6/30 otpauth URI is the key Authing receives."""
    uri = f"otpauth://totp/Acme:alice?secret={KEY.lower()}&issuer=Acme&algorithm=SHA1&digits=6&period=30"
    [outcome] = await _collect(make_client(), [("u0", uri)])
    assert outcome.ok
    assert emulator.user("u0")["totp"]["secret"] == KEY


@pytest.mark.asyncio
async def test_a_failed_row_does_not_stop_the_others(make_client, emulator):
    """An unknown user fails alone; the records around it are imported."""
    outcomes = await _collect(make_client(), [("u0", KEY), ("nobody", KEY), ("u1", KEY)])
    failed = [o.record.user_id for o in outcomes if not o.ok]
    assert failed == ["nobody"]
    assert sum(o.ok for o in outcomes) == 2


@pytest.mark.asyncio
async def test_in_flight_records_never_exceed_concurrency(make_client, emulator):
    """With concurrency 3, no more than three import requests are open at once."""
    emulator.add_fault(path=IMPORT_PATH, delay=0.02, times=None)
    open_now, most = 0, 0

    def on_request(event):
        nonlocal open_now, most
        if event.path == IMPORT_PATH:
            open_now += 1
            most = max(most, open_now)

    def on_response(event):
        nonlocal open_now
        if event.request.path == IMPORT_PATH:
            open_now -= 1

    client = make_client(on_request=on_request, on_response=on_response)
    outcomes = await _collect(client, [(u, KEY) for u in USERS[:12]], concurrency=3)
    assert len(outcomes) == 12
    assert most == 3


@pytest.mark.asyncio
async def test_the_input_is_read_only_as_workers_free_up(make_client):
    """An endless input is read no further than the slots and the outcome buffer allow."""
    pulled = 0

    def endless():
        nonlocal pulled
        for n in itertools.count():
            pulled += 1
            yield (USERS[n % len(USERS)], KEY)

    async with (
        make_client() as client,
        client.import_totp_many(endless(), concurrency=4) as outcomes,
    ):
        async for outcome in outcomes:
            if outcome.index == 20:
                break
    assert pulled <= 20 + 4 + 4 + 2


@pytest.mark.asyncio
async def test_the_rate_limit_spaces_every_request(make_client, emulator):
    """At 50 requests per second, 11 imports take at least 0.2 s whatever the concurrency."""
    client = make_client()
    async with client:
        await client.get_status("u0")  # fetch the token first: it is not rate limited
        started = time.monotonic()
        async with client.import_totp_many(
            [(u, KEY) for u in USERS[:11]], concurrency=8, rate_limit=50
        ) as outcomes:
            assert all([o.ok async for o in outcomes])
    assert time.monotonic() - started >= 0.2 - 0.01


@pytest.mark.asyncio
async def test_a_429_with_retry_after_pauses_every_worker(make_client, emulator):
    """After a 429 asking for 0.3 s, no worker sends anything until the 0.3 s have passed."""
    emulator.add_fault(path=IMPORT_PATH, status=429, retry_after=0.3)
    sent: list[float] = []
    limited_at: list[float] = []

    def on_request(event):
        if event.path == IMPORT_PATH:
            sent.append(time.monotonic())

    def on_response(event):
        if event.status == 429:
            limited_at.append(time.monotonic())

    client = make_client(on_request=on_request, on_response=on_response)
    outcomes = await _collect(client, [(u, KEY) for u in USERS[:8]], concurrency=4)
    assert all(o.ok for o in outcomes)
    [limited] = limited_at
    assert [t for t in sent if limited < t < limited + 0.29] == []


@pytest.mark.asyncio
async def test_leaving_early_cancels_in_flight_work_and_leaves_no_task(make_client, emulator):
    """Breaking out after the first outcome returns at once and leaves no task behind."""
    emulator.add_fault(path=IMPORT_PATH, delay=5, times=None)
    emulator.add_fault(path=IMPORT_PATH, times=1)  # never reached: the delay applies first
    client = make_client()
    records = [("nobody-has-this-id", KEY)] + [(u, KEY) for u in USERS[:8]]
    started = time.monotonic()
    async with client:
        async with client.import_totp_many([("", KEY), *records], concurrency=4) as outcomes:
            async for outcome in outcomes:
                assert not outcome.ok  # the empty id, refused without a request
                break
        assert time.monotonic() - started < 2
        await asyncio.sleep(0)
        assert asyncio.all_tasks() == {asyncio.current_task()}


@pytest.mark.asyncio
async def test_iterating_without_entering_raises_a_helpful_error(make_client):
    """`async for` on the stream without `async with` names the form to use."""
    stream = make_client().import_totp_many([("u0", KEY)])
    with pytest.raises(RuntimeError, match="async with"):
        await stream.__anext__()


@pytest.mark.asyncio
async def test_an_error_of_the_input_is_raised_after_the_rows_before_it(make_client):
    """An input that raises ends the iteration with its exception, after the rows it gave."""

    def rows():
        yield ("u0", KEY)
        raise OSError("disk gone")

    seen = []

    async def consume():
        async with make_client() as client, client.import_totp_many(rows()) as outcomes:
            async for outcome in outcomes:
                seen.append(outcome.record.user_id)  # noqa: PERF401 - kept as the error hits

    with pytest.raises(OSError, match="disk gone"):
        await consume()
    assert seen == ["u0"]


@pytest.mark.asyncio
async def test_an_item_that_is_not_a_record_raises_type_error(make_client):
    """A record of an unknown shape is a programming error, raised as TypeError."""
    with pytest.raises(TypeError, match="not int"):
        await _collect(make_client(), [42])


@pytest.mark.parametrize(
    ("concurrency", "rate_limit"), [(0, None), (True, None), (1, 0), (1, -1.0)]
)
def test_bad_pacing_is_refused_at_once(make_client, concurrency, rate_limit):
    """concurrency below 1 or a rate limit that is not positive raises InvalidArgumentError."""
    with pytest.raises(InvalidArgumentError):
        make_client().import_totp_many([], concurrency=concurrency, rate_limit=rate_limit)


def test_the_record_repr_hides_the_key_and_recovery_code():
    """TotpRecord's repr shows the user id only."""
    assert repr(TotpRecord("u0", KEY, "rc-secret")) == "TotpRecord(user_id='u0')"


def test_the_blocking_client_yields_every_outcome(emulator):
    """MfaClient.import_totp_many yields one outcome per record, in the caller's thread."""
    with MfaClient(**client_options(emulator)) as mfa:
        outcomes = list(mfa.import_totp_many((u, KEY) for u in USERS))
    assert sorted(o.record.user_id for o in outcomes if o.ok) == sorted(USERS)


def test_closing_the_blocking_iterator_stops_the_work(emulator):
    """Breaking out of the blocking iteration cancels the rest: no more imports reach the server."""
    emulator.add_fault(path=IMPORT_PATH, delay=0.05, times=None)
    with MfaClient(**client_options(emulator)) as mfa:
        for _outcome in mfa.import_totp_many(((u, KEY) for u in USERS), concurrency=2):
            break
        after_break = len(_imports(emulator))
        time.sleep(0.2)
        assert len(_imports(emulator)) == after_break < len(USERS)


def test_the_async_stream_runs_under_trio(emulator):
    """The bulk import needs no asyncio: it runs under trio too."""

    async def main():
        client = AsyncMfaClient(**client_options(emulator))
        return await _collect(client, [(u, KEY) for u in USERS[:5]])

    outcomes = anyio.run(main, backend="trio")
    assert all(o.ok for o in outcomes)


@pytest.mark.asyncio
async def test_retries_log_no_key(make_client, emulator, caplog):
    """The retry log lines of a bulk import name no key and no recovery code."""
    emulator.add_fault(path=IMPORT_PATH, status=503, times=3)
    caplog.set_level("INFO", logger="authing_mfa")
    outcomes = await _collect(make_client(), [(u, KEY, "rc-never-logged") for u in USERS[:4]])
    assert all(o.ok for o in outcomes)
    assert "retrying" in caplog.text
    assert KEY not in caplog.text
    assert "rc-never-logged" not in caplog.text
    assert KEY not in repr(outcomes)
