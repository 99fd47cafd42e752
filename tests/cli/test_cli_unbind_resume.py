"""An unbind killed with SIGKILL mid-way and resumed unbinds every listed user, and nobody else."""

from __future__ import annotations

import base64
import random
from collections import Counter
from pathlib import Path

import pytest
from support.clients import client_options
from support.runs import journal_entries, kill_when

from authing_mfa import MfaClient
from authing_mfa._cli import main

ROWS = 1000
BYSTANDERS = 50
CONCURRENCY = 8


def _unbound_lines(path: Path) -> list[dict]:
    return [entry for entry in journal_entries(path) if entry.get("outcome") == "unbound"]


def _deleted(control) -> Counter[str]:
    """How many unbind requests the emulator received, by user id."""
    return Counter(r["path"].split("/")[4] for r in control.requests() if r["method"] == "DELETE")


@pytest.mark.slow
def test_an_unbind_killed_and_resumed_touches_every_listed_user_once_and_nobody_else(
    spawned_env, tmp_path
):
    """After SIGKILL and --resume: OTP off every listed user, each sent at most twice (only
    those in flight at the kill), each journaled unbound once; bystanders keep theirs."""
    control = spawned_env.control
    rng = random.Random(7)  # noqa: S311 - test data
    listed = [f"leaked-{n:04d}" for n in range(ROWS)]
    bystanders = [f"safe-{n:03d}" for n in range(BYSTANDERS)]
    control.add_users(listed + bystanders)
    with MfaClient(**client_options(spawned_env)) as mfa:
        keys = ((u, base64.b32encode(rng.randbytes(10)).decode()) for u in listed + bystanders)
        assert all(outcome.ok for outcome in mfa.import_totp_many(keys, concurrency=32))
    control.clear_requests()
    source = tmp_path / "leaked.csv"
    source.write_text("userId\n" + "".join(f"{u}\n" for u in listed))
    journal = tmp_path / "leaked.csv.unbind-otp.journal.jsonl"
    command = ["unbind", "--from", str(source), "--type", "OTP", "--yes", "--quiet"]
    kill_when(
        [*command, "--concurrency", str(CONCURRENCY), "--rate-limit", "250"],
        lambda: journal.exists() and len(_unbound_lines(journal)) >= ROWS // 5,
    )
    journaled = {entry["userId"] for entry in _unbound_lines(journal)}
    assert ROWS // 5 <= len(journaled) < ROWS
    sent_first = _deleted(control)
    control.clear_requests()

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
