"""Our predictions against published measured runs (shared/data/calibration_measurements.json).

Each run that a preset model, a device and a ``Workload`` (with the run's engine, and a
``Layout`` for tensor-parallel runs) can express is analyzed. ideal / measured is the
achieved fraction of our roofline (for decode about MBU, for prefill about MFU); the
expected time is what a user would be told: the operators' expected times plus the engine
profile's fixed cost per pass and, for a time-to-first-token, per request. Left out: the
13B GPT of kipply's blog (no preset, its shape is not in the entry) and the Databricks
MBU sentence (no workload). Pure; the measured figures are copied here with the id of
their entry. ``engine_fit.py`` fits the engine profiles on these runs.
"""

from __future__ import annotations

import dataclasses
import statistics
from dataclasses import dataclass
from typing import Any

from ..catalog.hardware_catalog import get_hardware
from ..catalog.model_catalog import get_model
from ..engine.analyze import analyze
from ..engine.timing import Roofs
from ..inputs.hardware import Hardware
from ..inputs.layout import Layout
from ..inputs.workload import Workload
from .published_runs import MI250X_GCD, RUNS, Run

__all__ = [
    "MI250X_GCD",
    "RUNS",
    "PublishedRow",
    "Run",
    "achieved_medians",
    "hardware_of",
    "median_abs_error",
    "predict",
    "published_rows",
    "render_published",
    "with_engine",
    "within",
]


def hardware_of(run: Run) -> Hardware:
    """The run's device: a preset, or one GCD of an MI250X (half the module's peaks)."""
    if run.hardware != MI250X_GCD:
        return get_hardware(run.hardware)
    module = get_hardware("mi250x")
    return dataclasses.replace(
        module,
        name="AMD MI250X, one GCD",
        id=MI250X_GCD,
        peak_flops_per_s={k: v / 2 for k, v in module.peak_flops_per_s.items()},
        bandwidth_bytes_per_s=1638.4e9,  # the entry's figure for one GCD
        memory_bytes=64e9,
    )


def with_engine(hw: Hardware, engine: str, profile: dict[str, Any] | None = None) -> Hardware:
    """``hw`` whose table defaults to ``engine`` (and, when given, uses ``profile`` for it),
    so that any analysis of it prices that engine."""
    table = hw.efficiency_table
    if table is None or "engines" not in table:
        return hw
    engines = table["engines"] if profile is None else table["engines"] | {engine: profile}
    return dataclasses.replace(
        hw, efficiency_table=table | {"engines": engines, "default_engine": engine}
    )


@dataclass(frozen=True)
class PublishedRow:
    run: Run
    ideal_s: float
    expected_s: float  # operators + the engine's fixed costs per pass (and per request)
    low_s: float = 0.0  # the range around expected_s (range factors of the table)
    high_s: float = 0.0

    @property
    def achieved(self) -> float:
        """ideal / measured: the fraction of our roofline the published run reached."""
        return self.ideal_s / self.run.measured_s

    @property
    def expected_error(self) -> float:
        return self.expected_s / self.run.measured_s - 1


def predict(run: Run, hw: Hardware | None = None) -> PublishedRow:
    """The run analyzed on ``hw`` (default: its own device with its engine's profile)."""
    hw = hw or with_engine(hardware_of(run), run.engine)
    w = Workload(**run.workload, engine=run.engine)
    layout = Layout(tensor=run.tensor) if run.tensor > 1 else None
    report = analyze(get_model(run.model), hw, w, layout)
    roofs = Roofs.of(hw, w.activation_dtype, run.engine)
    phase = report.phases[run.phase]
    metrics = report.metrics
    # The Report carries the engine's fixed costs: the per-pass one as a row of each phase,
    # the per-request one inside ttft_s, which a prefill-throughput run does not see.
    if run.phase == "decode":
        expected = metrics.tpot_s
    else:
        expected = metrics.ttft_s - (0.0 if run.first_token else metrics.request_overhead_s)
    low, high = roofs.range_factors(run.phase) or (1.0, 1.0)
    return PublishedRow(run, phase.time_s, expected, expected * low, expected * high)


def published_rows() -> list[PublishedRow]:
    return [predict(run) for run in RUNS]


def achieved_medians(rows: list[PublishedRow]) -> dict[str, float]:
    """Median achieved fraction of our roofline per phase."""
    return {
        phase: statistics.median(r.achieved for r in rows if r.run.phase == phase)
        for phase in ("decode", "prefill")
    }


def within(rows: list[PublishedRow], factor: float) -> float:
    """Fraction of rows whose expected time is within ×factor of the measured one."""
    return sum(1 / factor <= r.expected_s / r.run.measured_s <= factor for r in rows) / len(rows)


def median_abs_error(rows: list[PublishedRow]) -> float:
    return statistics.median(abs(r.expected_error) for r in rows)


def render_published(rows: list[PublishedRow]) -> str:
    lines = [
        "| run | engine | model | device | TP | phase | measured ms | ideal ms | achieved | expected ms | error |",
        "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.run.id} | {r.run.engine} | {r.run.model} | {r.run.hardware} | {r.run.tensor} "
            f"| {r.run.phase} | {r.run.measured_s * 1e3:.2f} | {r.ideal_s * 1e3:.2f} "
            f"| {r.achieved:.2f} | {r.expected_s * 1e3:.2f} | {r.expected_error:+.0%} |"
        )
    return "\n".join(lines)
