"""An unbind killed with SIGKILL mid-way and resumed unbinds every listed user, and nobody else."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from authing_mfa import MfaClient
from authing_mfa._cli import main

ROWS = 1000
BYSTANDERS = 50
CONCURRENCY = 8


def _unbound_lines(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the line the kill cut short
        if entry.get("outcome") == "unbound":
            rows.append(entry)
    return rows


def _deleted(control) -> Counter[str]:
    """How many unbind requests the emulator received, by user id."""
    return Counter(r["path"].split("/")[4] for r in control.requests() if r["method"] == "DELETE")


@pytest.mark.slow
def test_an_unbind_killed_and_resumed_touches_every_listed_user_once_and_nobody_else(
    spawned_server, tmp_path, monkeypatch
):
    """After SIGKILL and --resume: OTP off every listed user, each sent at most twice (only
    those in flight at the kill), each journaled unbound once; bystanders keep theirs."""
    control = spawned_server.control
    rng = random.Random(7)  # noqa: S311 - test data
    listed = [f"leaked-{n:04d}" for n in range(ROWS)]
    bystanders = [f"safe-{n:03d}" for n in range(BYSTANDERS)]
    control.add_users(listed + bystanders)
    with MfaClient(
        host=spawned_server.url,
        user_pool_id=spawned_server.user_pool_id,
        secret=spawned_server.secret,
    ) as mfa:
        keys = ((u, base64.b32encode(rng.randbytes(10)).decode()) for u in listed + bystanders)
        assert all(outcome.ok for outcome in mfa.import_totp_many(keys, concurrency=32))
    control.clear_requests()
    source = tmp_path / "leaked.csv"
    source.write_text("userId\n" + "".join(f"{u}\n" for u in listed))
    journal = tmp_path / "leaked.csv.unbind-otp.journal.jsonl"
    env = {
        **os.environ,
        "AUTHING_HOST": spawned_server.url,
        "AUTHING_USERPOOL_ID": spawned_server.user_pool_id,
        "AUTHING_USERPOOL_SECRET": spawned_server.secret,
    }
    command = ["unbind", "--from", str(source), "--type", "OTP", "--yes", "--quiet"]
    with subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "authing_mfa", *command),
            *("--concurrency", str(CONCURRENCY), "--rate-limit", "250"),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as first:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if journal.exists() and len(_unbound_lines(journal)) >= ROWS // 5:
                break
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    journaled = {entry["userId"] for entry in _unbound_lines(journal)}
    assert ROWS // 5 <= len(journaled) < ROWS
    sent_first = _deleted(control)
    control.clear_requests()

    for name in ("AUTHING_HOST", "AUTHING_USERPOOL_ID", "AUTHING_USERPOOL_SECRET"):
        monkeypatch.setenv(name, env[name])
    assert main([*command, "--resume"]) == 0
    sent_again = _deleted(control)

    assert set(sent_first.values()) == {1}
    assert set(sent_again.values()) == {1}
    assert journaled <= set(sent_first)
    assert set(sent_again) == set(listed) - journaled  # nothing journaled is sent again
    # Sent in the first run but not journaled: the rows in flight at the kill, requests out
    # or outcomes waiting in the bulk engine's hand-off, at most one each per worker.
    in_flight = set(sent_first) - journaled
    assert len(in_flight) <= 2 * CONCURRENCY
    assert set(sent_first) | set(sent_again) == set(listed)  # never a user not in the file
    unbound = Counter(entry["userId"] for entry in _unbound_lines(journal))
    assert sorted(unbound) == sorted(listed)
    assert set(unbound.values()) == {1}
    for user_id in listed:
        assert control.user(user_id)["mfaBound"]["OTP"] is False
    for user_id in bystanders:
        assert control.user(user_id)["mfaBound"]["OTP"] is True
