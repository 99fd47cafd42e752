"""on_request and on_response: a record of every HTTP request, never its headers or body."""

from __future__ import annotations

import anyio
import attrs
import httpx
import pytest
from support.fakes import AUTHENTICATOR, POOL_SECRET, RECOVERY_CODE, TOKEN, TOTP_SECRET, envelope

from authing_mfa import (
    ConnectionError,  # noqa: A004 - ours
    InvalidArgumentError,
    RequestEvent,
    ResponseEvent,
)

STATUS_PATH = "/api/v2/users/u1/mfa-bound"


class Recorder:
    """Both hooks, keeping what they received in order."""

    def __init__(self) -> None:
        self.events: list[RequestEvent | ResponseEvent] = []

    def on_request(self, event: RequestEvent) -> None:
        self.events.append(event)

    def on_response(self, event: ResponseEvent) -> None:
        self.events.append(event)

    @property
    def responses(self) -> list[ResponseEvent]:
        return [event for event in self.events if isinstance(event, ResponseEvent)]

    def hooks(self) -> dict[str, object]:
        return {"on_request": self.on_request, "on_response": self.on_response}


@pytest.mark.asyncio
async def test_each_request_is_reported_before_and_after(api, make_client):
    """The token request and the call are each reported, request then response, in order."""
    api.get(STATUS_PATH).mock(return_value=envelope({"OTP": True}))
    recorder = Recorder()
    async with make_client(**recorder.hooks()) as mfa:
        await mfa.get_status("u1")
    kinds = [(type(event).__name__, getattr(event, "path", None)) for event in recorder.events]
    assert kinds == [
        ("RequestEvent", "/graphql/v2"),
        ("ResponseEvent", None),
        ("RequestEvent", STATUS_PATH),
        ("ResponseEvent", None),
    ]


@pytest.mark.asyncio
async def test_the_response_record_carries_the_request_record_itself(api, make_client):
    """ResponseEvent.request is the very object on_request received, to key a span on."""
    api.get(STATUS_PATH).mock(return_value=envelope({"OTP": True}))
    recorder = Recorder()
    async with make_client(**recorder.hooks()) as mfa:
        await mfa.get_status("u1")
    assert recorder.events[3].request is recorder.events[2]
    assert recorder.events[1].request is recorder.events[0]


@pytest.mark.asyncio
async def test_the_response_record_has_status_elapsed_and_request_id(api, make_client):
    """on_response sees the HTTP status, a positive elapsed time and the x-request-id."""
    api.get(STATUS_PATH).mock(
        return_value=envelope({"OTP": True}, headers={"x-request-id": "req-42"})
    )
    recorder = Recorder()
    async with make_client(**recorder.hooks()) as mfa:
        await mfa.get_status("u1")
    answer = recorder.responses[-1]
    assert (answer.status, answer.request_id, answer.error) == (200, "req-42", None)
    assert answer.elapsed > 0
    assert (answer.request.method, answer.request.attempt) == ("GET", 1)


@pytest.mark.asyncio
async def test_retries_are_reported_with_their_attempt(api, make_client):
    """A 503 then a success are two responses, attempts 1 and 2."""
    api.get(STATUS_PATH).mock(
        side_effect=[httpx.Response(503, text="busy"), envelope({"OTP": True})]
    )
    recorder = Recorder()
    async with make_client(**recorder.hooks()) as mfa:
        await mfa.get_status("u1")
    calls = [event for event in recorder.responses if event.request.path == STATUS_PATH]
    assert [(event.request.attempt, event.status) for event in calls] == [(1, 503), (2, 200)]


@pytest.mark.asyncio
async def test_a_failed_exchange_is_reported_with_its_error(api, make_client):
    """A dropped connection is reported with no status and the ConnectionError raised."""
    api.get(STATUS_PATH).mock(side_effect=httpx.ConnectError("refused"))
    recorder = Recorder()
    async with make_client(max_retries=0, **recorder.hooks()) as mfa:
        with pytest.raises(ConnectionError) as raised:
            await mfa.get_status("u1")
    failed = recorder.responses[-1]
    assert failed.status is None
    assert failed.error is raised.value


@pytest.mark.asyncio
async def test_a_cancelled_exchange_is_reported(api, make_client):
    """A call cancelled mid-request still ends its request's record, with the cancellation."""

    async def stall(request):
        await anyio.sleep(10)

    api.get(STATUS_PATH).mock(side_effect=stall)
    recorder = Recorder()
    async with make_client(**recorder.hooks()) as mfa:
        with anyio.move_on_after(0.05):
            await mfa.get_status("u1")
    cancelled = recorder.responses[-1]
    assert cancelled.request.path == STATUS_PATH
    assert cancelled.status is None
    assert isinstance(cancelled.error, BaseException)


@pytest.mark.asyncio
async def test_records_hold_no_headers_bodies_or_secrets(api, make_client):
    """The records' fields are exactly the documented ones, and none shows the secret or token."""
    api.post("/api/v2/mfa/totp/import").mock(return_value=envelope(AUTHENTICATOR))
    recorder = Recorder()
    async with make_client(**recorder.hooks()) as mfa:
        await mfa.import_totp("u1", TOTP_SECRET, recovery_code=RECOVERY_CODE)
    assert {field.name for field in attrs.fields(RequestEvent)} == {"method", "path", "attempt"}
    assert {field.name for field in attrs.fields(ResponseEvent)} == {
        "request",
        "status",
        "elapsed",
        "request_id",
        "error",
    }
    shown = repr(recorder.events)
    for secret in (POOL_SECRET, TOKEN, TOTP_SECRET, RECOVERY_CODE):
        assert secret not in shown


@pytest.mark.asyncio
async def test_an_exception_in_a_hook_fails_the_call(api, make_client):
    """A hook that raises makes the call raise it; nothing is swallowed."""

    def broken(event: RequestEvent) -> None:
        raise LookupError("metrics backend gone")

    async with make_client(on_request=broken) as mfa:
        with pytest.raises(LookupError):
            await mfa.get_status("u1")


@pytest.mark.parametrize("argument", ["on_request", "on_response"])
def test_a_hook_that_is_not_callable_is_refused(make_client, argument):
    """A hook that cannot be called fails at construction, naming the argument."""
    with pytest.raises(InvalidArgumentError, match=argument):
        make_client(**{argument: "print"})


def test_without_hooks_the_send_path_is_the_plain_one(make_client):
    """Without hooks a request goes straight to the stack; with hooks, through the observer."""
    from authing_mfa._pipeline import _LoopPart

    sent = object()

    class Stack:
        def send(self, *request):  # noqa: ARG002 - the request is not looked at
            return sent

    part = _LoopPart(Stack(), None)
    plain = make_client()._ops.pipeline
    assert plain._send(part, "t", "GET", "/p", "https://h/p", None, 1.0) is sent
    hooked = make_client(on_response=print)._ops.pipeline
    observed = hooked._send(part, "t", "GET", "/p", "https://h/p", None, 1.0)
    assert observed is not sent
    observed.close()  # never awaited: a coroutine of the observer


def test_the_blocking_client_passes_its_hooks_on(api, make_sync_client):
    """MfaClient's hooks are called, from its event-loop thread, for its calls."""
    api.get(STATUS_PATH).mock(return_value=envelope({"OTP": True}))
    recorder = Recorder()
    make_sync_client(**recorder.hooks()).get_status("u1")
    assert [event.status for event in recorder.responses] == [200, 200]
