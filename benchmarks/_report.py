"""Rows, targets, the Markdown table and the JSON file: everything about showing results.

A scenario produces `Row`s: one per contender, the baseline's first. A row's ratio is its
median over the baseline's median, both measured in the same run, so the ratio travels
between machines where absolute times do not. A target is printed, checked and marked, never
enforced: the harness exits 0 whatever the numbers say.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._timing import Measured, Summary

_PACKAGES = ("authing-mfa", "httpx", "httpcore", "anyio", "aiohttp", "requests", "uvloop")


@dataclass(frozen=True)
class Target:
    """What a row should achieve against its baseline (or alone, for ``exactly``).

    ``kind`` is one of ``ratio_at_most`` (time per call), ``ratio_at_least`` (throughput),
    ``delta_at_most`` (median minus the baseline's median, in the row's unit), ``at_most``
    (the median itself, in *unit*, whatever the baseline) and ``exactly`` (every sample equals
    the value).
    """

    kind: str
    value: float
    unit: str = "µs"

    def describe(self) -> str:
        """The target as the table prints it."""
        if self.kind == "ratio_at_most":
            return f"≤ {self.value:.2f}x"
        if self.kind == "ratio_at_least":
            return f"≥ {self.value:.2f}x"
        if self.kind == "delta_at_most":
            return f"≤ +{self.value:g} {self.unit}"
        if self.kind == "at_most":
            return f"≤ {self.value:g} {self.unit}"
        return f"= {self.value:g} every time"

    def met(self, row: Row, baseline: Summary | None) -> bool:
        """Whether *row* meets the target."""
        if self.kind == "exactly":
            return all(sample == self.value for sample in row.samples)
        if self.kind == "at_most":
            return row.summary.median <= self.value
        if baseline is None or row.ratio is None:
            return False
        if self.kind == "ratio_at_most":
            return row.ratio <= self.value
        if self.kind == "ratio_at_least":
            return row.ratio >= self.value
        return row.summary.median - baseline.median <= self.value


@dataclass
class Row:
    """One contender in one scenario, as the table and the JSON show it."""

    scenario: str
    title: str
    contender: str
    unit: str
    samples: list[float]
    baseline: str | None = None
    target: Target | None = None
    server_us_per_request: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    ratio: float | None = None
    met: bool | None = None

    @property
    def summary(self) -> Summary:
        """Median and spread of the samples."""
        return Summary.of(self.samples)


def rows_for(
    scenario: str,
    title: str,
    unit: str,
    measured: dict[str, Measured],
    *,
    baseline: str | None,
    targets: dict[str, Target | None],
    notes: dict[str, dict[str, Any]] | None = None,
) -> list[Row]:
    """Build a scenario's rows from its measurements: ratios against *baseline*, targets met.

    Args:
        scenario: the scenario's id (``--only`` takes it).
        title: what the table calls it.
        unit: the samples' unit; ``calls/s`` and ``rows/s`` are better higher, the rest lower.
        measured: contender -> its repetitions, the baseline among them.
        baseline: the contender the others are divided by, or None.
        targets: contender -> its target; contenders not named are reference rows.
        notes: contender -> extra values for the notes column and the JSON.
    """
    base_summary = Summary.of(measured[baseline].samples) if baseline else None
    rows = []
    for name, result in measured.items():
        row = Row(
            scenario=scenario,
            title=title,
            contender=name,
            unit=unit,
            samples=list(result.samples),
            baseline=baseline,
            target=targets.get(name),
            server_us_per_request=result.server_us_per_request,
            notes=(notes or {}).get(name, {}),
        )
        if base_summary is not None and base_summary.median:
            row.ratio = row.summary.median / base_summary.median
        if row.target is not None:
            row.met = row.target.met(row, base_summary)
        rows.append(row)
    return rows


def machine() -> dict[str, Any]:
    """Describe the machine and the software versions the numbers were measured with."""
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "packages": {name: _version(name) for name in _PACKAGES},
    }


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.processor() or None
    for line in text.splitlines():
        if line.lower().startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or None


def _number(value: float, unit: str) -> str:
    if unit in {"calls/s", "rows/s"}:
        return f"{value:,.0f}"
    if unit == "token requests":
        return f"{value:g}"
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _notes(row: Row) -> str:
    parts = []
    for key, value in row.notes.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else str(value)
        parts.append(f"{key.replace('_', ' ')} {shown}")
    return "; ".join(parts)


def markdown(rows: Sequence[Row]) -> str:
    """Render the rows as a Markdown table."""
    lines = [
        (
            "| scenario | contender | median | spread (min..max) | ratio | target | met? "
            "| server µs/req | notes |"
        ),
        "|---|---|---:|---:|---:|---|---|---:|---|",
    ]
    for row in rows:
        summary = row.summary
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}x"
        if row.contender == row.baseline:
            ratio += " (baseline)"
        target = row.target.describe() if row.target else ""
        met = "" if row.met is None else ("yes" if row.met else "**NO**")
        server = "" if row.server_us_per_request is None else f"{row.server_us_per_request:.0f}"
        lines.append(
            f"| {row.title} | {row.contender} | {_number(summary.median, row.unit)} {row.unit} "
            f"| {_number(summary.minimum, row.unit)}..{_number(summary.maximum, row.unit)} "
            f"| {ratio} | {target} | {met} | {server} | {_notes(row)} |"
        )
    return "\n".join(lines)


def to_json(rows: Sequence[Row], run: dict[str, Any]) -> dict[str, Any]:
    """Return the JSON document: the run's settings, the machine, and every row."""
    return {
        "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, "-m", "benchmarks", *sys.argv[1:]]),
        "run": run,
        "machine": machine(),
        "rows": [
            {
                "scenario": row.scenario,
                "title": row.title,
                "contender": row.contender,
                "unit": row.unit,
                "median": row.summary.median,
                "min": row.summary.minimum,
                "max": row.summary.maximum,
                "q1": row.summary.q1,
                "q3": row.summary.q3,
                "repetitions": row.summary.n,
                "samples": row.samples,
                "baseline": row.baseline,
                "ratio": row.ratio,
                "target": row.target.describe() if row.target else None,
                "met": row.met,
                "server_us_per_request": row.server_us_per_request,
                "notes": row.notes,
            }
            for row in rows
        ],
    }


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write *document* to *path*, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
