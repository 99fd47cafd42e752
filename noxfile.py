"""The checks CI runs (see .ci/run), each in a fresh virtualenv: ``nox -s lint fast full``.

nox finds each Python by name (``python3.10``...) on PATH; with pyenv, put
``$(pyenv root)/versions/*/bin`` on PATH, as .ci/run does. A missing interpreter is an error,
never a skipped session.
"""

from __future__ import annotations

import nox

nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "fast", "full"]

OLDEST = "3.10"
NEWEST = "3.13"
SUPPORTED = [OLDEST, "3.11", "3.12", NEWEST]

# The whole suite must cover this share of the package's lines and branches.
COVERAGE = ["--cov=authing_mfa", "--cov-branch", "--cov-report=term", "--cov-fail-under=93"]


@nox.session(python=SUPPORTED)
def fast(session: nox.Session) -> None:
    """Run the suite without the tests marked slow."""
    session.install(".[test]")
    session.run("python", "-m", "pytest", "-m", "not slow", *session.posargs)


@nox.session(python=NEWEST)
def full(session: nox.Session) -> None:
    """Run the whole suite, measuring branch coverage, and fail below the bar."""
    session.install(".[test]")
    session.run("python", "-m", "pytest", *COVERAGE, *session.posargs)


@nox.session(python=OLDEST)
def lint(session: nox.Session) -> None:
    """Lint with ruff, check the formatting, type-check with mypy --strict, check the imports."""
    session.install(".[dev]")
    paths = ["authing_mfa", "tests", "benchmarks", "noxfile.py"]
    session.run("ruff", "check", *paths)
    session.run("ruff", "format", "--check", *paths)
    session.run("mypy")
    session.run("lint-imports")
