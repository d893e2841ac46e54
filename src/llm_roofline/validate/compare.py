"""Measured vs predicted: each timed point against the analysis of the same workload.

For every point, ``analyze`` runs on the same model, dtype, batch and length (flash
attention, logits for the last position) on the measured hardware profile, giving the
ideal roofline time (a lower bound), the calibrated expected time (the profile's
efficiency table) and, for reference, the expected time with the project's flat default
efficiencies on the same roofs. error = predicted / measured − 1.
"""

from __future__ import annotations

import dataclasses
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..engine.analyze import analyze
from ..inputs.hardware import DEFAULT_BANDWIDTH_EFFICIENCY, DEFAULT_COMPUTE_EFFICIENCY, Hardware
from ..inputs.model import Model
from ..inputs.workload import Workload
from .harness import Point, Timed

SCHEMA = "llm-roofline/validation/v1"


@dataclass(frozen=True)
class Row:
    model: str
    dtype: str
    phase: str
    batch: int
    tokens: int  # prefill: prompt length; decode: context (tokens cached)
    measured_s: float
    ideal_s: float
    calibrated_s: float
    flat_s: float  # flat default efficiencies on the same roofs
    runs: int = 0  # timed runs behind measured_s
    quiet_runs: int = 0  # of which ran with no other process beside them
    spread: float = 0.0  # (slowest − fastest) / median of the timed runs

    @property
    def ideal_error(self) -> float:
        return self.ideal_s / self.measured_s - 1

    @property
    def calibrated_error(self) -> float:
        return self.calibrated_s / self.measured_s - 1

    @property
    def flat_error(self) -> float:
        return self.flat_s / self.measured_s - 1


@dataclass(frozen=True)
class Summary:
    dtype: str
    phase: str
    points: int
    calibrated_median_abs_error: float
    calibrated_worst_abs_error: float
    flat_median_abs_error: float
    ideal_median_error: float
    ideal_never_above: bool


@dataclass(frozen=True)
class Validation:
    rows: tuple[Row, ...]
    summary: tuple[Summary, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        rows = [
            dataclasses.asdict(r)
            | {
                "ideal_error": r.ideal_error,
                "calibrated_error": r.calibrated_error,
                "flat_error": r.flat_error,
            }
            for r in self.rows
        ]
        return {
            "schema": SCHEMA,
            "meta": self.meta,
            "rows": rows,
            "summary": [dataclasses.asdict(s) for s in self.summary],
        }


def workload_for(point: Point) -> Workload:
    """The analysis workload of one timed point (its phase is read from the report)."""
    return Workload(
        batch_size=point.batch,
        prompt_len=max(1, point.tokens),
        context_len=point.tokens,
        output_len=0,
        weight_dtype=point.dtype,
        activation_dtype=point.dtype,
        kv_dtype=point.dtype,
        attention="flash",
        logits="last",
    )


def predict(m: Model, hw: Hardware, point: Point) -> tuple[float, float]:
    """(ideal, expected) seconds of the point's phase."""
    phase = analyze(m, hw, workload_for(point)).phases[point.phase]
    return phase.time_s, phase.expected_time_s


def flat_hardware(hw: Hardware) -> Hardware:
    """The same roofs without the table, at the project's default flat efficiencies."""
    return dataclasses.replace(
        hw,
        efficiency_table=None,
        compute_efficiency=DEFAULT_COMPUTE_EFFICIENCY,
        bandwidth_efficiency=DEFAULT_BANDWIDTH_EFFICIENCY,
    )


def compare(m: Model, hw: Hardware, timed: Sequence[Timed]) -> list[Row]:
    flat = flat_hardware(hw)
    rows = []
    for t in timed:
        p = t.point
        ideal, calibrated = predict(m, hw, p)
        _, flat_s = predict(m, flat, p)
        spread = (max(t.times_s) - min(t.times_s)) / t.measured_s if t.times_s else 0.0
        rows.append(
            Row(
                m.name,
                p.dtype,
                p.phase,
                p.batch,
                p.tokens,
                t.measured_s,
                ideal,
                calibrated,
                flat_s,
                len(t.times_s),
                t.quiet,
                spread,
            )
        )
    return rows


def summarize(rows: Sequence[Row]) -> tuple[Summary, ...]:
    """Per (dtype, phase): median and worst |calibrated error|, and the ideal's sign."""
    groups: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        groups.setdefault((r.dtype, r.phase), []).append(r)
    out = []
    for (dtype, phase), rs in groups.items():
        cal = [abs(r.calibrated_error) for r in rs]
        out.append(
            Summary(
                dtype=dtype,
                phase=phase,
                points=len(rs),
                calibrated_median_abs_error=statistics.median(cal),
                calibrated_worst_abs_error=max(cal),
                flat_median_abs_error=statistics.median(abs(r.flat_error) for r in rs),
                ideal_median_error=statistics.median(r.ideal_error for r in rs),
                ideal_never_above=all(r.ideal_s <= r.measured_s for r in rs),
            )
        )
    return tuple(out)


def validation(rows: Sequence[Row], meta: dict[str, Any]) -> Validation:
    return Validation(tuple(rows), summarize(rows), meta)


LOADED_SPREAD = 0.25  # a point's (slowest − fastest) / median run beyond which it is noisy
LOADED_SHARE = 0.25  # the share of noisy points from which the host counts as loaded


def host_load_warning(v: Validation) -> str | None:
    """A warning when the repeats of many points spread widely: a loaded host, whose noise
    the errors then carry (None when the runs agree, or too few points ran twice)."""
    rows = [r for r in v.rows if r.runs >= 2]
    noisy = [r for r in rows if r.spread > LOADED_SPREAD]
    if not rows or len(noisy) < LOADED_SHARE * len(rows):
        return None
    median = statistics.median(r.spread for r in rows)
    quiet = sum(r.quiet_runs for r in rows) / sum(r.runs for r in rows)
    return (
        f"the host looks loaded: the timed runs of {len(noisy)} of {len(rows)} points spread "
        f"by more than {LOADED_SPREAD:.0%} (median spread {median:.0%}; {quiet:.0%} of the "
        "runs had no other process beside them), so the errors mix the model's error with "
        "the machine's noise; rerun on a quiet machine, with more --repeats, or with "
        "--statistic min"
    )
