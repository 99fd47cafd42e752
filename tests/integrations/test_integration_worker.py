"""The README's migration worker: an anyio task group draining a memory object stream."""

from __future__ import annotations

import time

import anyio
import pytest
from support.clients import client_options
from support.readme_examples import load

from authing_mfa import AsyncMfaClient, NotFoundError, RequestEvent, ResponseEvent
from authing_mfa.testing import run_server

TOTP_SECRET = "JBSWY3DPEHPK3PXP"
IMPORT_PATH = "/api/v2/mfa/totp/import"
USERS = [f"user{n}" for n in range(12)]
BACKENDS = ["asyncio", "trio"]


@pytest.fixture(scope="module")
def example():
    return load("worker")


@pytest.fixture
def users():
    return USERS


def run_migration(
    example, emulator, user_ids, *, backend="asyncio", cancel_after=None, concurrency=8, **options
):
    """Queue a job per user, run `migrate` until done (or cancelled), return the report."""
    report = example.MigrationReport()

    async def scenario():
        send, receive = anyio.create_memory_object_stream[example.MigrationJob](len(user_ids))
        for user_id in user_ids:
            send.send_nowait(example.MigrationJob(user_id, TOTP_SECRET))
        if cancel_after is None:
            send.close()  # the producer is done: the workers stop once the queue is empty
        async with AsyncMfaClient(**client_options(emulator, **options)) as mfa:
            with anyio.move_on_after(cancel_after if cancel_after is not None else 30):
                await example.migrate(mfa, receive, report, concurrency=concurrency)
        send.close()

    anyio.run(scenario, backend=backend)
    return report


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_job_is_imported(example, emulator, backend):
    """With the queue closed, the workers import every job and return, on asyncio and trio."""
    report = run_migration(example, emulator, USERS, backend=backend)
    assert sorted(report.done) == sorted(USERS)
    assert report.failed == {}
    assert report.not_started == []
    assert all(emulator.user(user_id)["mfaBound"]["OTP"] for user_id in USERS)


def test_concurrency_is_bounded(example, emulator):
    """No more imports are in flight at once than the concurrency asked for."""
    emulator.add_fault(path=IMPORT_PATH, delay=0.02, times=None)
    in_flight, most = 0, 0

    def on_request(event: RequestEvent) -> None:
        nonlocal in_flight, most
        if event.path == IMPORT_PATH:
            in_flight += 1
            most = max(most, in_flight)

    def on_response(event: ResponseEvent) -> None:
        nonlocal in_flight
        if event.request.path == IMPORT_PATH:
            in_flight -= 1

    report = run_migration(
        example, emulator, USERS, concurrency=3, on_request=on_request, on_response=on_response
    )
    assert len(report.done) == len(USERS)
    assert most == 3


def test_failed_jobs_are_reported_with_their_error(example, emulator):
    """A job whose import fails is reported under its user id, and the others still run."""
    report = run_migration(example, emulator, ["user0", "ghost", "user1"])
    assert sorted(report.done) == ["user0", "user1"]
    assert list(report.failed) == ["ghost"]
    assert isinstance(report.failed["ghost"], NotFoundError)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancelling_finishes_in_flight_jobs_and_reports_the_rest(example, emulator, backend):
    """On cancellation, imports already sent finish, queued jobs are reported, none is lost."""
    emulator.add_fault(path=IMPORT_PATH, delay=0.3, times=None)
    started = time.monotonic()
    report = run_migration(
        example, emulator, USERS, backend=backend, cancel_after=0.1, concurrency=2
    )
    assert time.monotonic() - started < 2
    assert len(report.done) == 2
    assert report.failed == {}
    assert sorted(report.done + report.not_started) == sorted(USERS)
    assert all(emulator.user(user_id)["mfaBound"]["OTP"] for user_id in report.done)
    assert not any(emulator.user(user_id)["mfaBound"]["OTP"] for user_id in report.not_started)


def test_main_reads_its_settings_from_the_environment(example, emulator, monkeypatch):
    """The README's main() migrates rows with a client configured by AUTHING_* variables."""
    with run_server(emulator) as server:
        monkeypatch.setenv("AUTHING_HOST", server.url)
        monkeypatch.setenv("AUTHING_USERPOOL_ID", emulator.user_pool_id)
        monkeypatch.setenv("AUTHING_USERPOOL_SECRET", emulator.secret)
        report = anyio.run(example.main, [(user_id, TOTP_SECRET) for user_id in USERS[:3]])
    assert sorted(report.done) == USERS[:3]
