"""The public API type-checks: mypy --strict on a file that uses it, pyright's completeness."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Each type checker takes seconds to start.
pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_mypy_strict_accepts_the_public_api_usage():
    """mypy --strict finds nothing wrong in tests/docs/typing_public_api.py."""
    api = pytest.importorskip("mypy.api")
    stdout, stderr, status = api.run(["--strict", str(HERE / "typing_public_api.py")])
    assert status == 0, stdout + stderr


def test_mypy_strict_rejects_a_wrong_promise(tmp_path):
    """The check has teeth: claiming get_status returns an int is an error."""
    api = pytest.importorskip("mypy.api")
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "from authing_mfa import MfaClient\n"
        "def f(client: MfaClient) -> None:\n"
        '    x: int = client.get_status("u")\n'
    )
    stdout, _, status = api.run(["--strict", str(wrong)])
    assert status == 1
    assert 'has type "MfaStatus"' in stdout


def _pyright() -> list[str]:
    """The command running pyright with this interpreter's environment, or skip."""
    pyright = shutil.which("pyright", path=str(Path(sys.executable).parent)) or shutil.which(
        "pyright"
    )
    if pyright is None:
        pytest.skip("pyright is not installed")
    try:
        subprocess.run([pyright, "--version"], check=True, capture_output=True, timeout=120)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        pytest.skip("pyright cannot run here (it needs node, fetched on first use)")
    return [pyright]


def test_pyright_verifytypes_finds_every_public_symbol_typed():
    """pyright --verifytypes scores the package 100 %, no exported symbol ambiguous."""
    command = _pyright()
    # pyright finds the installed package through the `python` first on PATH.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(  # noqa: S603
        [*command, "--verifytypes", "authing_mfa", "--ignoreexternal", "--outputjson"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
        check=False,
    )
    report = json.loads(result.stdout)["typeCompleteness"]
    incomplete = [
        symbol["name"]
        for symbol in report["symbols"]
        if symbol["isExported"] and (not symbol["isTypeKnown"] or symbol["isTypeAmbiguous"])
    ]
    assert report["packageRootDirectory"], "pyright did not find the installed package"
    assert incomplete == []
    assert report["completenessScore"] == 1
