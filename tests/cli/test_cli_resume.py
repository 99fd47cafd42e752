"""A migration killed with SIGKILL mid-way and resumed imports every row exactly once."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from authing_mfa._cli import main

ROWS = 1000


def _journal_rows(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the line the kill cut short
        if "line" in entry:
            rows.append(entry)
    return rows


@pytest.mark.slow
def test_a_run_killed_and_resumed_imports_every_row_exactly_once(
    spawned_server, tmp_path, monkeypatch
):
    """After SIGKILL and --resume, each user holds its row's key and has one imported line."""
    keys = {f"user-{n:04d}": base64.b32encode(os.urandom(10)).decode() for n in range(ROWS)}
    source = tmp_path / "users.csv"
    source.write_text("userId,secret\n" + "".join(f"{u},{k}\n" for u, k in keys.items()))
    spawned_server.control.add_users(list(keys))
    env = {
        **os.environ,
        "AUTHING_HOST": spawned_server.url,
        "AUTHING_USERPOOL_ID": spawned_server.user_pool_id,
        "AUTHING_USERPOOL_SECRET": spawned_server.secret,
    }
    journal = tmp_path / "users.csv.journal.jsonl"
    command = [sys.executable, "-m", "authing_mfa", "import-totp", "--from", str(source)]
    with subprocess.Popen(  # noqa: S603
        [*command, "--concurrency", "8", "--rate-limit", "250", "--quiet"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as first:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if journal.exists() and len(_journal_rows(journal)) >= ROWS // 5:
                break
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
    killed_at = len(_journal_rows(journal))
    assert ROWS // 5 <= killed_at < ROWS

    for name in ("AUTHING_HOST", "AUTHING_USERPOOL_ID", "AUTHING_USERPOOL_SECRET"):
        monkeypatch.setenv(name, env[name])
    code = main(["import-totp", "--from", str(source), "--resume", "--quiet"])

    assert code == 0
    imported = Counter(e["line"] for e in _journal_rows(journal) if e["outcome"] == "imported")
    assert sorted(imported) == list(range(2, ROWS + 2))
    assert set(imported.values()) == {1}
    for user_id, key in keys.items():
        assert spawned_server.control.user(user_id)["totp"]["secret"] == key
