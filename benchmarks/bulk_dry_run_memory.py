"""Peak memory of a million-row bulk run, with nothing sent: the rows must stream, not pile up.

Run: ``python -m benchmarks.bulk_dry_run_memory [ROWS]`` (default 1 000 000; about two minutes
on a 2-core machine). Four measurements, each in a fresh interpreter that reports its own peak
resident set size (``VmHWM``, see `benchmarks._memory`) against a target of 100 MiB:

- ``authing-mfa import-totp --from FILE --dry-run`` over a CSV of ROWS rows (random base32
  keys, every tenth with a recovery code) written to a temporary directory: the command line
  reads, checks and reports every row and sends nothing. The only per-row state it keeps (the
  duplicate-id table, `authing_mfa._cli._intmap`) is 24 to 48 bytes a row, 1.5 times that
  while it grows.
- ``authing-mfa status --from FILE --dry-run`` and ``authing-mfa unbind --from FILE --type OTP
  --dry-run`` over a file of ROWS user ids, one a line: the same reading, checks and table.
- ``AsyncMfaClient.get_status_many(ids, concurrency=64)`` reading a generator of ROWS user
  ids that the client refuses before sending (each ends in a tab, a control character), so
  that no request reaches the network while every id still goes through the bulk engine: a
  task, a concurrency slot and an `Outcome` each, consumed and dropped one by one. The engine's
  memory must stay flat however long the input; the per-row cost of a call that does reach a
  server is the ``bulk_status`` scenario's (``python -m benchmarks``), measured on 10 000 users.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._memory import current_rss_kib, peak_rss_kib

TARGET_MIB = 100
_NOWHERE = "http://127.0.0.1:9"  # the discard port: never contacted, every id is refused first


def write_rows(path: Path, rows: int) -> None:
    """Write a CSV of *rows* TOTP keys for ``import-totp --from``."""
    with path.open("w") as file:
        file.write("userId,secret,recoveryCode\n")
        for n in range(rows):
            key = base64.b32encode(os.urandom(20)).decode()
            code = f"rc-{n:08d}" if n % 10 == 0 else ""
            file.write(f"user-{n:08d},{key},{code}\n")


def write_ids(path: Path, rows: int) -> None:
    """Write *rows* user ids, one a line, for ``status --from`` and ``unbind --from``."""
    with path.open("w") as file:
        file.writelines(f"user-{n:08d}\n" for n in range(rows))


# The command line's dry runs, by the child's KIND; each reads the file its ARG names.
_CLI = {
    "cli": ["import-totp"],
    "status-cli": ["status"],
    "unbind-cli": ["unbind", "--type", "OTP"],
}


def _child_cli(command: list[str], path: str) -> dict[str, Any]:
    from authing_mfa._cli import main  # noqa: PLC0415 - the ``authing-mfa`` entry point

    before = current_rss_kib()
    code = main([*command, "--from", path, "--dry-run", "--quiet"])
    return {"exit": code, "rss_before_kib": before}


def _refused_ids(rows: int) -> Iterator[str]:
    for n in range(rows):
        yield f"user-{n:08d}\t"


def _child_status(rows: int) -> dict[str, Any]:
    from authing_mfa import AsyncMfaClient, InvalidArgumentError  # noqa: PLC0415

    async def run() -> dict[str, Any]:
        refused = 0
        async with AsyncMfaClient(user_pool_id="p", secret="s", host=_NOWHERE) as mfa:
            before = current_rss_kib()
            async with mfa.get_status_many(_refused_ids(rows), concurrency=64) as outcomes:
                async for outcome in outcomes:
                    refused += isinstance(outcome.error, InvalidArgumentError)
        return {"exit": 0 if refused == rows else 1, "rss_before_kib": before, "rows": refused}

    return asyncio.run(run())


def _run_child(*args: str) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "benchmarks.bulk_dry_run_memory", "--child", *args],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise SystemExit(f"the child {args!r} failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = time.perf_counter() - started
    return result


def _report(what: str, result: dict[str, Any]) -> bool:
    peak = result["peak_rss_kib"] / 1024
    met = peak < TARGET_MIB and result["exit"] == 0
    print(
        f"{what}: exit {result['exit']}, {result['seconds']:.1f} s, peak RSS {peak:.1f} MiB "
        f"(at the start {result['rss_before_kib'] / 1024:.1f}); target < {TARGET_MIB} MiB: "
        f"{'met' if met else 'MISSED'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    """Measure both runs and print their peaks; exit 1 if one missed the target."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk_dry_run_memory")
    parser.add_argument("rows", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, value = args.child
        result = _child_cli(_CLI[kind], value) if kind in _CLI else _child_status(int(value))
        result["peak_rss_kib"] = peak_rss_kib()
        print(json.dumps(result))
        return 0
    rows = args.rows
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "users.csv"
        started = time.perf_counter()
        write_rows(path, rows)
        print(
            f"wrote {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        ok = _report(
            f"authing-mfa import-totp --dry-run, {rows:,} rows", _run_child("cli", str(path))
        )
        path.unlink()
        ids = path.with_suffix(".txt")
        write_ids(ids, rows)
        for kind in ("status-cli", "unbind-cli"):
            what = f"authing-mfa {' '.join(_CLI[kind])} --from --dry-run, {rows:,} ids"
            ok &= _report(what, _run_child(kind, str(ids)))
    ok &= _report(
        f"get_status_many, {rows:,} ids refused before sending", _run_child("status", str(rows))
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
