"""Figures, the table `python -m bench` prints, and the JSON it writes."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypedDict

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Figure:
    """One measured figure, its target and the baseline measured in the same run.

    `ratio` is how much worse than the baseline the figure is (> 1 is slower or
    bigger), so every ratio reads the same way whatever the unit."""

    scenario: str
    engine: str
    figure: str
    value: float
    unit: str
    target: str = "—"
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    passed: bool | None = None
    note: str = ""


def slower(value: float, baseline: float) -> float:
    """The ratio for a rate (higher is better): baseline / value."""
    return baseline / value if value else float("inf")


def bigger(value: float, baseline: float) -> float:
    """The ratio for a cost (lower is better): value / baseline."""
    return value / baseline if baseline else float("inf")


class Judged(TypedDict):
    target: str
    passed: bool | None


def on_sqlite(engine: str, target: str, passed: bool) -> Judged:
    """`target` and `passed` for a figure whose target SPEC §10 sets on SQLite only:
    PostgreSQL's figure is shown beside it, not judged (the command path, which
    has targets of its own on PostgreSQL, does not use this)."""
    if engine == "sqlite":
        return {"target": target, "passed": passed}
    return {"target": f"({target} on SQLite)", "passed": None}


def machine() -> dict[str, str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == float("inf"):
        return "∞"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


def _verdict(passed: bool | None) -> str:
    return {True: "[green]pass[/]", False: "[red]FAIL[/]", None: "—"}[passed]


def table(figures: Sequence[Figure], title: str) -> Table:
    out = Table(title=title, show_lines=False)
    for column in ("scenario", "engine", "figure", "target", "baseline", "ratio", "pass/fail"):
        out.add_column(column, justify="right" if column in ("baseline", "ratio") else "left")
    for f in figures:
        value = f"{_number(f.value)} {f.unit}".strip()
        baseline = _number(f.baseline)
        if f.baseline is not None and f.baseline_label:
            baseline = f"{baseline} ({f.baseline_label})"
        ratio = "—" if f.ratio is None else f"{_number(f.ratio)}×"
        figure = f"{f.figure}: {value}"
        out.add_row(f.scenario, f.engine, figure, f.target, baseline, ratio, _verdict(f.passed))
    return out


def print_table(figures: Sequence[Figure], title: str) -> None:
    Console(width=200).print(table(figures, title))


def write_json(path: Path, figures: Sequence[Figure], **extra: object) -> None:
    body = {"machine": machine(), **extra, "figures": [asdict(f) for f in figures]}
    path.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
