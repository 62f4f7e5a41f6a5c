"""The shared benchmark harness: time things, compare with a baseline, report.

An *area* is a function registered with ``@area("name")`` that takes a
``Context`` and calls ``report`` once per figure. Timings are medians of
several runs (these machines are shared and noisy); ours and the baseline
are run alternately so a burst of noise hits both.

    from .harness import Context, area, compare, report

    @area("feeds")
    def feeds(ctx: Context) -> None:
        ours, theirs = compare(render_ours, render_baseline, repeat=ctx.repeat(5))
        report("feeds.render", ours.median * 1000, theirs.median * 1000, "ms", goal=2.0,
               higher_is_better=False, ours=ours, theirs=theirs, params={"entries": 50})

A big fixture several areas need (the 200k-event log) is built once per run
with ``ctx.once(key, build)``.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO / "bench-results"

AREAS: dict[str, Callable[[Context], None]] = {}


def area(name: str) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register a benchmark area: ``python -m tests.benchmarks NAME`` runs it alone."""

    def register(fn: Callable[[Context], None]) -> Callable[[Context], None]:
        AREAS[name] = fn
        return fn

    return register


def log(message: str) -> None:
    """Progress for the person waiting (stderr, so stdout stays table + BENCH lines)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Context:
    """What an area is told about the run: quick or full, a scratch directory, fixtures shared by areas."""

    quick: bool
    workdir: Path
    shared: dict[Any, Any] = field(default_factory=dict)

    def once(self, key: Any, build: Callable[[], Any]) -> Any:
        """``build()``'s result, computed the first time any area of this run asks for ``key``."""
        if key not in self.shared:
            self.shared[key] = build()
        return self.shared[key]

    def size(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def repeat(self, full: int, quick: int = 3) -> int:
        return quick if self.quick else full


# --- timing ------------------------------------------------------------------


@dataclass
class Timing:
    """Wall-clock seconds of each run of one measurement."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """(max - min) / median: how noisy the runs were."""
        return (max(self.samples) - min(self.samples)) / self.median if self.median else 0.0


def _run_once(fn: Callable[..., Any], setup: Callable[[], Any] | None,
              teardown: Callable[[Any], None] | None) -> float:
    state = setup() if setup else None
    try:
        start = time.perf_counter()
        fn(state) if setup else fn()
        return time.perf_counter() - start
    finally:
        if teardown:
            teardown(state)


def measure(fn: Callable[..., Any], repeat: int = 5, *, setup: Callable[[], Any] | None = None,
            teardown: Callable[[Any], None] | None = None, warmup: int = 0) -> Timing:
    """Run ``fn`` ``repeat`` times (after ``warmup`` untimed runs) and keep every duration.

    ``setup()`` runs untimed before each run and its result is passed to
    ``fn``; ``teardown(result)`` runs untimed after it. ``.median`` is the figure.
    """
    for _ in range(warmup):
        _run_once(fn, setup, teardown)
    return Timing([_run_once(fn, setup, teardown) for _ in range(repeat)])


def compare(ours: Callable[..., Any], baseline: Callable[..., Any], repeat: int = 5, *,
            setup: Callable[[], Any] | None = None, teardown: Callable[[Any], None] | None = None,
            baseline_setup: Callable[[], Any] | None = None,
            baseline_teardown: Callable[[Any], None] | None = None, warmup: int = 0,
            label: str = "") -> tuple[Timing, Timing]:
    """Time ``ours`` and ``baseline`` alternately, ``repeat`` runs each; return both timings.

    The baseline uses ``setup``/``teardown`` too unless given its own.
    """
    b_setup = baseline_setup if baseline_setup is not None else setup
    b_teardown = baseline_teardown if baseline_teardown is not None else teardown
    for _ in range(warmup):
        _run_once(ours, setup, teardown)
        _run_once(baseline, b_setup, b_teardown)
    mine, theirs = Timing(), Timing()
    for i in range(repeat):
        # Alternate who goes first, so neither always runs on a warmer (or hotter) machine.
        order = ((mine, ours, setup, teardown), (theirs, baseline, b_setup, b_teardown))
        for timing, fn, s, t in order if i % 2 == 0 else reversed(order):
            timing.samples.append(_run_once(fn, s, t))
        if label:
            log(f"{label}: run {i + 1}/{repeat}: ours {mine.samples[-1]:.3f}s, baseline {theirs.samples[-1]:.3f}s")
    return mine, theirs


# --- reporting ---------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: float
    baseline: float
    unit: str
    goal: float
    higher_is_better: bool
    note: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        """Always ours / baseline; the goal's direction says which way is good."""
        return self.value / self.baseline if self.baseline else float("inf")

    @property
    def met(self) -> bool:
        return self.ratio >= self.goal if self.higher_is_better else self.ratio <= self.goal

    @property
    def goal_text(self) -> str:
        return f"{'>=' if self.higher_is_better else '<='}{self.goal:g}"

    def bench_line(self) -> str:
        return (f"BENCH {self.name} value={_num(self.value)} baseline={_num(self.baseline)} unit={self.unit} "
                f"ratio={self.ratio:.3f} goal={self.goal_text}")


FIGURES: list[Figure] = []


def _num(x: float) -> str:
    return f"{x:.1f}" if abs(x) >= 100 else f"{x:.4g}"


def report(name: str, value: float, baseline: float, unit: str, goal: float, higher_is_better: bool = True, *,
           ours: Timing | None = None, theirs: Timing | None = None, note: str = "",
           params: dict[str, Any] | None = None) -> Figure:
    """Record one figure: ours, the baseline's, and the goal for ours/baseline.

    ``higher_is_better``: True for throughputs (goal ``ratio >= goal``), False
    for latencies and costs (goal ``ratio <= goal``). The raw run durations of
    ``ours``/``theirs`` (seconds) go into the JSON for later scrutiny.
    """
    samples = {}
    if ours is not None:
        samples["ours_seconds"] = ours.samples
    if theirs is not None:
        samples["baseline_seconds"] = theirs.samples
    fig = Figure(name, value, baseline, unit, goal, higher_is_better, note, dict(params or {}), samples)
    FIGURES.append(fig)
    log(f"{fig.bench_line()}  [{'met' if fig.met else 'MISSED'}]")
    return fig


def print_table(figures: list[Figure]) -> None:
    rows = [("figure", "ours", "baseline", "unit", "ratio", "goal", "status", "runs/noise", "notes")]
    for f in figures:
        runs = len(f.samples.get("ours_seconds", []))
        noise = max((Timing(s).spread for s in f.samples.values() if s), default=0.0)
        rows.append((f.name, _num(f.value), _num(f.baseline), f.unit, f"{f.ratio:.3f}", f.goal_text,
                     "ok" if f.met else "MISSED", f"{runs}/±{noise / 2:.0%}" if runs else "", f.note))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1])
        if i == 0:
            print("  ".join("-" * w for w in widths) + "  " + "-" * 5)


def environment() -> dict[str, Any]:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "commit": commit,
    }


def write_json(figures: list[Figure], quick: bool) -> Path:
    """One file per figure, ``bench-results/<name>.json`` (quick runs go to bench-results/quick/)."""
    directory = RESULTS_DIR / "quick" if quick else RESULTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    env = environment()
    when = datetime.now(UTC).isoformat(timespec="seconds")
    for f in figures:
        payload = {
            "name": f.name, "value": f.value, "baseline": f.baseline, "unit": f.unit, "ratio": f.ratio,
            "goal": f.goal_text, "higher_is_better": f.higher_is_better, "met": f.met, "note": f.note,
            "params": f.params, "samples": f.samples, "quick": quick, "measured_at": when, "environment": env,
            "bench_line": f.bench_line(),
        }
        (directory / f"{f.name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return directory
