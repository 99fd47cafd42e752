"""The migration at scale: 10 000 rows through the CLI, against a spawned emulator misbehaving."""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path

import pytest

from authing_mfa._cli import main

ROWS = 10_000
IMPORT_PATH = "/api/v2/mfa/totp/import"


def _fault_schedule(count: int) -> list[dict[str, object]]:
    """One fault in every 20 import requests: 503s, dropped connections and 429s in turn."""
    kinds = [
        {"status": 503},
        {"action": "drop"},
        {"status": 429, "retryAfter": 0.02},
    ]
    schedule: list[dict[str, object]] = []
    for n in range(count):
        schedule.append({"path": IMPORT_PATH, "times": 19})  # answered normally
        schedule.append({"path": IMPORT_PATH, "times": 1, **kinds[n % len(kinds)]})
    return schedule


@pytest.mark.slow
def test_ten_thousand_rows_with_five_percent_faults_end_imported_or_reported(
    spawned_env, tmp_path: Path, capsys
):
    """All 10 000 rows end in the journal, and the emulator holds exactly the imported keys."""
    rng = random.Random(4)  # noqa: S311 - test data, not cryptography
    user_ids = [f"user-{n:05d}" for n in range(ROWS)]
    keys = {user_id: base64.b32encode(rng.randbytes(10)).decode() for user_id in user_ids}
    source = tmp_path / "users.csv"
    source.write_text(
        "userId,secret,recoveryCode\n" + "".join(f"{u},{keys[u]},\n" for u in user_ids)
    )
    spawned_env.control.add_users(user_ids)
    spawned_env.control.add_faults(_fault_schedule(ROWS // 20))

    code = main(
        [
            *("import-totp", "--from", str(source), "--concurrency", "32", "--quiet"),
            *("--max-retries", "4", "--retry-wait", "0.01"),
        ]
    )

    lines = (tmp_path / "users.csv.journal.jsonl").read_text().splitlines()
    journal = [json.loads(line) for line in lines]
    rows = [entry for entry in journal if "line" in entry]
    assert sorted(entry["line"] for entry in rows) == list(range(2, ROWS + 2))
    imported = {entry["userId"] for entry in rows if entry["outcome"] == "imported"}
    failed = {entry["userId"] for entry in rows if entry["outcome"] != "imported"}
    assert code == (1 if failed else 0)
    requests = spawned_env.control.requests()
    faulted = sum(1 for r in requests if r["path"] == IMPORT_PATH) - len(imported)
    assert faulted >= ROWS // 20  # every queued fault was met, so every row was retried through
    sample = rng.sample(sorted(imported), 300) + sorted(failed)
    for user_id in sample:
        state = spawned_env.control.user(user_id)
        if user_id in imported:
            assert state["totp"]["secret"] == keys[user_id]
        else:
            assert state["totp"] is None
    assert "users.csv.journal.jsonl" in capsys.readouterr().out
