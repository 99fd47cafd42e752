"""The benchmark harness runs end to end in quick mode: a smoke test, not a timed test.

It checks that ``python -m benchmarks --quick`` exits 0 and reports every scenario of the table
with its ratio, so the harness cannot rot unnoticed. It asserts no speed whatsoever: the
numbers depend on the machine, and missed targets are the harness's to mark, not CI's to fail.
"""

import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

# (scenario, contender) of every row the README's table has: each has a baseline and a ratio.
EXPECTED_ROWS = [
    ("async_c1", "aiohttp.ClientSession"),
    ("async_c1", "AsyncMfaClient"),
    ("async_c1", "httpx.AsyncClient (reference)"),
    ("async_c32", "aiohttp.ClientSession"),
    ("async_c32", "AsyncMfaClient"),
    ("async_c32", "httpx.AsyncClient (reference)"),
    ("sync_1", "httpx.Client"),
    ("sync_1", "MfaClient"),
    ("sync_requests", "requests.Session"),
    ("sync_requests", "MfaClient"),
    ("sync_16", "httpx.Client"),
    ("sync_16", "MfaClient"),
    ("cpu_mock", "httpx.AsyncClient + MockTransport"),
    ("cpu_mock", "AsyncMfaClient"),
    ("first_call", "no client (the loop's own lag)"),
    ("first_call", "AsyncMfaClient, http"),
    ("first_call", "AsyncMfaClient, https"),
    ("first_call", "raw aiohttp, http (reference)"),
    ("first_call", "raw aiohttp, https (reference)"),
    ("bulk_import", "raw aiohttp loop, 32 tasks"),
    ("bulk_import", "import_totp_many(concurrency=32)"),
    ("bulk_import", "raw httpx loop, 32 tasks (reference)"),
    ("bulk_status", "raw aiohttp loop, 32 tasks"),
    ("bulk_status", "get_status_many(concurrency=32)"),
    ("bulk_unbind", "raw aiohttp loop, 32 tasks"),
    ("bulk_unbind", 'unassociate_mfa_many(mfa_type="otp", concurrency=32)'),
    ("import_time", "import httpx"),
    ("import_time", "import authing_mfa"),
]
BULK = ("bulk_import", "bulk_status", "bulk_unbind")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """Run the quick benchmarks once for this module; return (exit status, output, JSON)."""
    path = tmp_path_factory.mktemp("bench") / "quick.json"
    done = subprocess.run(  # noqa: S603 - our interpreter and our package
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    document = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return done.returncode, done.stdout + done.stderr, document


@pytest.mark.slow
def test_quick_mode_exits_zero_and_writes_the_json(quick_run):
    status, output, document = quick_run
    assert status == 0, output
    assert document is not None, output
    assert document["run"]["mode"] == "quick"


@pytest.mark.slow
@pytest.mark.parametrize(("scenario", "contender"), EXPECTED_ROWS)
def test_every_row_has_a_median_a_spread_and_a_ratio(quick_run, scenario, contender):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    rows = [
        row
        for row in document["rows"]
        if row["scenario"] == scenario and row["contender"] == contender
    ]
    assert len(rows) == 1, f"no row {scenario} / {contender}"
    row = rows[0]
    assert row["repetitions"] >= 5
    assert row["min"] <= row["median"] <= row["max"]
    assert isinstance(row["ratio"], float)
    assert isinstance(row["baseline"], str)


@pytest.mark.slow
def test_the_cold_client_row_counts_token_requests(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    (row,) = [row for row in document["rows"] if row["scenario"] == "cold_client"]
    assert row["repetitions"] >= 5
    assert row["unit"] == "token requests"
    assert all(isinstance(sample, (int, float)) for sample in row["samples"])
    assert isinstance(row["met"], bool)


@pytest.mark.slow
def test_rows_with_a_target_say_whether_it_was_met(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    targeted = [row for row in document["rows"] if row["target"] is not None]
    assert {row["scenario"] for row in targeted} == {
        "async_c1",
        "async_c32",
        "sync_1",
        "sync_requests",
        "sync_16",
        "cpu_mock",
        "cold_client",
        "first_call",
        "bulk_import",
        "bulk_status",
        "bulk_unbind",
        "import_time",
    }
    assert all(isinstance(row["met"], bool) for row in targeted)


@pytest.mark.slow
def test_the_async_and_bulk_scenarios_divide_by_raw_aiohttp(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    baselines = {
        row["scenario"]: row["baseline"]
        for row in document["rows"]
        if row["scenario"] in {"async_c1", "async_c32", *BULK}
    }
    assert baselines == {
        "async_c1": "aiohttp.ClientSession",
        "async_c32": "aiohttp.ClientSession",
        **dict.fromkeys(BULK, "raw aiohttp loop, 32 tasks"),
    }


@pytest.mark.slow
@pytest.mark.parametrize("scenario", BULK)
def test_every_bulk_row_reports_its_peak_memory(quick_run, scenario):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    rows = [row for row in document["rows"] if row["scenario"] == scenario]
    assert len(rows) >= 2
    for row in rows:
        assert row["unit"] == "rows/s"
        assert row["notes"]["peak_RSS_MiB"] > 0


@pytest.mark.slow
def test_the_first_call_rows_hold_an_absolute_target_in_ms(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    rows = {row["contender"]: row for row in document["rows"] if row["scenario"] == "first_call"}
    for name in ("AsyncMfaClient, http", "AsyncMfaClient, https"):
        assert rows[name]["unit"] == "ms stall"
        assert rows[name]["target"] == "≤ 5 ms"
        assert rows[name]["met"] is (rows[name]["median"] <= 5.0)
        assert rows[name]["notes"]["first_call_ms_median"] > 0
    assert rows["no client (the loop's own lag)"]["target"] is None


@pytest.mark.slow
def test_every_contender_sent_the_same_headers(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    sent = document["run"]["headers_sent"]
    assert len(sent) == 6
    assert document["run"]["headers_agree"] is True
    assert all("authorization" in headers for headers in sent.values())


@pytest.mark.slow
def test_the_machine_is_recorded(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    machine = document["machine"]
    assert machine["cpu_count"] >= 1
    assert machine["python"]
    for package in ("httpx", "anyio", "aiohttp", "authing-mfa"):
        assert machine["packages"][package]


@pytest.mark.slow
def test_the_responder_reported_its_own_cost(quick_run):
    document = quick_run[2]
    assert document is not None, quick_run[1]
    costs = [row["server_us_per_request"] for row in document["rows"]]
    assert any(cost is not None and cost > 0 for cost in costs)


@pytest.fixture(scope="module")
def responder():
    from benchmarks._responder import Responder

    with Responder() as running:
        yield running


def _exchange(url, chunks, expect):
    """Send *chunks* on one connection, a pause between them; read until *expect* answers."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
            time.sleep(0.02)
        received = b""
        while received.count(b"HTTP/1.1 ") < expect or not received.endswith((b"}", b"]")):
            data = sock.recv(65536)
            if not data:
                break
            received += data
    return received


def test_the_responder_answers_pipelined_requests_in_order_with_split_bodies(responder):
    body = b'{"userId":"u","secret":"JBSWY3DPEHPK3PXP"}'
    stream = (
        b"POST /api/v2/mfa/totp/import HTTP/1.1\r\nHost: x\r\nContent-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
        + b"GET /api/v2/users/u1/mfa-bound HTTP/1.1\r\nHost: x\r\n\r\n"
        + b"POST /graphql/v2 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}"
    )
    before = responder.stats()
    # Cut inside the first head, inside the first body, and between two requests.
    received = _exchange(responder.url, [stream[:20], stream[20:90], stream[90:]], expect=3)
    answers = received.split(b"HTTP/1.1 ")[1:]
    assert [answer[:3] for answer in answers] == [b"200", b"200", b"200"]
    assert "添加 TOTP".encode() in answers[0]
    assert b'"OTP":true' in answers[1]
    assert b'"accessToken"' in answers[2]
    after = responder.stats()
    assert after["requests"] - before["requests"] == 3
    assert after["tokenRequests"] - before["tokenRequests"] == 1
    assert after["cpuSeconds"] >= before["cpuSeconds"]


def test_the_responder_refuses_a_chunked_body_rather_than_misread_the_stream(responder):
    received = _exchange(
        responder.url,
        [b"POST /api/v2/mfa/totp/import HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}"],
        expect=1,
    )
    assert received.startswith(b"HTTP/1.1 400")
    assert b"connection: close" in received


def test_the_responder_answers_an_unbind_for_any_user(responder):
    received = _exchange(
        responder.url,
        [b"DELETE /api/v2/users/anyone-42/mfa-bound?type=OTP HTTP/1.1\r\nHost: x\r\n\r\n"],
        expect=1,
    )
    assert received.startswith(b"HTTP/1.1 200")
    body = json.loads(received.partition(b"\r\n\r\n")[2])
    assert body == {"code": 200, "message": "解绑成功", "data": None}


def test_the_responder_serves_tls_with_a_certificate_its_ca_signed(responder):
    assert responder.tls_url.startswith("https://127.0.0.1:")
    context = ssl.create_default_context(cafile=responder.ca_file)
    answer = httpx.get(responder.tls_url + "/api/v2/users/u/mfa-bound", verify=context)
    assert answer.json()["data"] == {"FACE": False, "OTP": True}
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(responder.tls_url + "/api/v2/users/u/mfa-bound")


@pytest.mark.slow
def test_profile_prints_where_an_sdk_call_spends_its_time():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--profile", "async_c1", "--top", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "AsyncMfaClient.get_status" in done.stdout
    assert "Top functions by cumulative time" in done.stdout
    assert "authing_mfa's functions by own time:" in done.stdout
    assert "*authing_mfa/_pipeline.py" in done.stdout


def test_the_responder_remembers_the_last_request_headers(responder):
    _exchange(
        responder.url,
        [b"GET /api/v2/users/u/mfa-bound HTTP/1.1\r\nHost: x\r\nX-Authing-Lang: en-US\r\n\r\n"],
        expect=1,
    )
    assert responder.last_headers()["x-authing-lang"] == "en-US"
