"""Peak memory of ``authing-mfa import-totp --dry-run`` over a 1 000 000-row file.

Run: ``python benchmarks/bulk_dry_run_memory.py [ROWS]``. It writes a CSV of ROWS rows (random
base32 keys, every tenth with a recovery code) to a temporary directory, runs the dry run in a
child process, and prints the child's peak resident set size, read with
``resource.getrusage(RUSAGE_CHILDREN)``. The target is under 100 MB for a million rows: rows are
read one at a time, and the only per-row state (the duplicate-id table) is 16 bytes a row.
"""

from __future__ import annotations

import base64
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_rows(path: Path, rows: int) -> None:
    with path.open("w") as file:
        file.write("userId,secret,recoveryCode\n")
        for n in range(rows):
            key = base64.b32encode(os.urandom(20)).decode()
            code = f"rc-{n:08d}" if n % 10 == 0 else ""
            file.write(f"user-{n:08d},{key},{code}\n")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "users.csv"
        started = time.perf_counter()
        write_rows(path, rows)
        print(
            f"wrote {rows} rows ({path.stat().st_size / 1e6:.0f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        started = time.perf_counter()
        result = subprocess.run(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "authing_mfa",
                "import-totp",
                "--from",
                str(path),
                "--dry-run",
                "--quiet",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(result.stdout.strip())
    print(f"exit code {result.returncode}, {elapsed:.1f} s, peak RSS {peak_kb / 1024:.1f} MiB")
    assert result.returncode == 0, result.stderr


if __name__ == "__main__":
    main()
